"""Scenario files: loading with file:line:key errors, checks against a statement, the shipped
ones, and workflows run against the reference device."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.engine import RunContext, run
from conformance.errors import InputError
from conformance.scenario import load_scenario
from conformance.scenario.check import check_against
from conformance.statement import load_statement
from conformance.suite import build_plan, default_scenarios, scenarios_for

from tests.conftest import DATA, ROOT, STATEMENTS, target_for

SCENARIOS = ROOT / "scenarios"


def test_shipped_families_load_and_give_the_run_order():
    assert [s.id for s in default_scenarios()] == ["negotiation", "secure-transport", "services", "dicomweb", "load"]


@pytest.mark.parametrize("path", sorted((SCENARIOS / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_example_scenarios_are_valid(path):
    assert load_scenario(path).steps


def test_a_broken_scenario_names_file_line_and_key():
    with pytest.raises(InputError) as info:
        load_scenario(DATA / "scenarios" / "broken-kind.yaml")
    problems = {p.key: p for p in info.value.problems}
    assert problems["steps[1].find.expcet"].line == 9
    assert "did you mean expect?" in problems["steps[1].find.expcet"].message


def test_a_step_with_two_kinds_is_refused(tmp_path):
    text = (DATA / "scenarios" / "broken-kind.yaml").read_text().replace("expcet", "expect")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    [p] = info.value.problems
    assert p.line == 5 and "exactly one of" in p.message and "echo, store" in p.message


def test_check_against_a_statement_flags_undeclared_services():
    sc = load_scenario(SCENARIOS / "examples" / "ct-modality-workflow.yaml")
    problems = check_against(sc, load_statement(STATEMENTS / "dcmtk-dcmqrscp.yaml"))
    assert {p.key for p in problems} == {"steps[0].worklist", "steps[1].store.synthesize.sop_class",
                                         "steps[2].commitment"}
    assert all(p.line for p in problems)
    assert check_against(sc, load_statement(DATA / "statements" / "orthanc-worklists-subset.yaml")) == []


def test_cli_scenario_check_exit_codes():
    runner = CliRunner()
    assert runner.invoke(cli, ["scenario", "check", str(SCENARIOS / "examples" / "move-to-harness.yaml")]).exit_code == 0
    bad = runner.invoke(cli, ["scenario", "check", str(DATA / "scenarios" / "broken-kind.yaml")])
    assert bad.exit_code == 2 and "broken-kind.yaml:9:" in bad.output
    mismatch = runner.invoke(cli, ["scenario", "check", str(SCENARIOS / "examples" / "ct-modality-workflow.yaml"),
                                   "--statement", str(STATEMENTS / "dcmtk-storescp.yaml")])
    assert mismatch.exit_code == 2 and "does not declare" in mismatch.output


def test_move_workflow_against_the_reference_device(start_reference, reference_statement):
    """A -> B -> C with the reference device as B and the harness as C."""
    device = start_reference()          # knows the harness as a move destination (harness_port)
    scenarios = scenarios_for([SCENARIOS / "examples" / "move-to-harness.yaml"])
    steps = build_plan(reference_statement, ["move-to-harness/"], scenarios)
    results = run(RunContext(reference_statement, target_for(device)), steps)
    assert [(s.id, s.outcome) for s in results.steps] == [
        ("move-to-harness/store", "pass"), ("move-to-harness/find", "pass"), ("move-to-harness/move", "pass")]
    assert results.step("move-to-harness/move").observations[0]["arrived"] == 2


def test_wrong_expectations_fail_with_clear_findings(start_reference, reference_statement):
    device = start_reference()
    scenarios = scenarios_for([DATA / "scenarios" / "wrong-expectations.yaml"])
    results = run(RunContext(reference_statement, target_for(device)),
                  build_plan(reference_statement, ["wrong-expectations/"], scenarios))
    outcome = {s.id: s.outcome for s in results.steps}
    assert outcome == {"wrong-expectations/store": "pass", "wrong-expectations/find-missing": "fail",
                       "wrong-expectations/find-wrong-status": "fail"}
    missing = results.step("wrong-expectations/find-missing").findings[0]
    assert missing.code == "scenario.expectation-failed" and "expected matches 1, got 0" in missing.message
    status = results.step("wrong-expectations/find-wrong-status").findings[0]
    assert "expected status 0xA700" in status.message and "0x0000" in status.message


def test_a_step_whose_variable_was_never_saved_ends_as_error(start_reference, reference_statement, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("format: conformance-scenario/1\nid: orphan\nname: uses an unset variable\nsteps:\n"
                    "  - id: find\n    find: {level: STUDY, keys: {StudyInstanceUID: '${nowhere}'}}\n")
    device = start_reference()
    results = run(RunContext(reference_statement, target_for(device)),
                  build_plan(reference_statement, ["orphan/"], scenarios_for([path])))
    [step] = results.steps
    assert step.outcome == "error" and "${nowhere}" in step.message


def test_ct_modality_workflow_against_the_reference_device(start_reference, reference_statement):
    """Worklist (the shipped items), store in JPEG Lossless, commitment, find by accession."""
    device = start_reference()
    scenarios = scenarios_for([SCENARIOS / "examples" / "ct-modality-workflow.yaml"])
    assert check_against(scenarios[-1], reference_statement) == []
    results = run(RunContext(reference_statement, target_for(device)),
                  build_plan(reference_statement, ["ct-modality-workflow/"], scenarios))
    assert {s.id.split("/")[1]: s.outcome for s in results.steps} == {
        "worklist": "pass", "store": "pass", "commitment": "pass", "find-by-accession": "pass"}, \
        [(s.id, s.message, [f.message for f in s.findings]) for s in results.steps]
    stored = [ds for ds in device.received if ds.AccessionNumber == "REF-ACC-CT1"]
    assert len(stored) == 3 and {str(ds.PatientID) for ds in stored} == {"REF-PAT-1"}


@pytest.mark.parametrize("mode, outcome", [("abort", "fail"), ("close", "fail")])
def test_a_scenario_request_the_device_aborts_fails_the_claim(reference_statement, tmp_path, mode, outcome):
    """The scenario kinds run on the wire stack and judge an unanswered request by the verdict
    rules (families/verdict.py): an A-ABORT or a closed connection after an accepted context
    is a failure naming the claim (PS3.8 9.3.8), never "could not test"."""
    from conformance.negotiation.target import Target, Timeouts
    from tests.wire.test_outcome import peer

    path = tmp_path / "s.yaml"
    path.write_text("format: conformance-scenario/1\nid: refused\nname: a find the device aborts\nsteps:\n"
                    "  - id: find\n    find: {level: STUDY, keys: {StudyInstanceUID: ''}}\n")
    with peer(mode) as acceptor:
        target = Target("127.0.0.1", acceptor.port, "ANY", reference_statement.harness.ae_title,
                        timeouts=Timeouts(connect=2, acse=2, dimse=5, network=5))
        results = run(RunContext(reference_statement, target),
                      build_plan(reference_statement, ["refused/"], scenarios_for([path])))
    [step] = results.steps
    assert step.outcome == outcome, step.message
    assert "C-FIND" in step.message and "claimed" in step.message
    assert ("aborted the association" if mode == "abort" else "closed the connection") in step.message


def test_store_then_get_and_mpps_on_the_wire_stack(start_reference, reference_statement, tmp_path):
    """The ``get`` kind (C-STORE sub-operations answered on the same association, PS3.4 C.4.3,
    SCP role by role selection, PS3.7 D.3.3.4) and the MPPS kinds on the harness's own stack."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "format: conformance-scenario/1\nid: storeget\nname: store then get\nsteps:\n"
        "  - id: store\n    store:\n      synthesize: {sop_class: CTImageStorage, count: 2}\n"
        "      save: {study: StudyInstanceUID}\n      expect: {status: success}\n"
        "  - id: get\n    get:\n      level: STUDY\n      keys: {StudyInstanceUID: '${study}'}\n"
        "      expect: {status: success, completed: 2, arrived: 2}\n"
        "  - id: pps\n    mpps_create:\n      expect: {status: success}\n      save: {pps: SOPInstanceUID}\n"
        "  - id: done\n    mpps_set:\n      instance: '${pps}'\n      status: COMPLETED\n"
        "      expect: {status: success}\n")
    device = start_reference()
    results = run(RunContext(reference_statement, target_for(device)),
                  build_plan(reference_statement, ["storeget/"], scenarios_for([path])))
    assert [(s.outcome, s.message) for s in results.steps] == [
        ("pass", "stored 2 instance(s)"), ("pass", "C-GET: 2 instance(s) arrived"),
        *[(s.outcome, s.message) for s in results.steps[2:]]]
    assert [s.outcome for s in results.steps[2:]] == ["pass", "pass"], [s.message for s in results.steps]


def test_a_commitment_report_on_the_requesting_association_reaches_the_scenario(reference_statement, tmp_path):
    """PS3.4 J.3.3: the device may send the N-EVENT-REPORT on the association of the N-ACTION;
    the scenario's commitment step waits with that association open and takes it."""
    from conformance.negotiation.target import Target, Timeouts
    from conformance.wire import dimse
    from conformance.wire.acceptor import Acceptor, Limits
    from tests.wire.test_scu import _Committer

    class StoreAndCommit(_Committer):
        def handle(self, msg):
            if msg.command.field == dimse.C_STORE_RQ:
                self.respond(msg, dimse.C_STORE_RSP, 0x0000)
                return True
            return super().handle(msg)

    path = tmp_path / "s.yaml"
    path.write_text(
        "format: conformance-scenario/1\nid: samecommit\nname: report on the same association\nsteps:\n"
        "  - id: store\n    store:\n      synthesize: {sop_class: CTImageStorage, count: 1}\n"
        "  - id: commit\n    commitment:\n      wait: 5\n      expect: {status: success, committed: 0}\n")
    acceptor = Acceptor(limits=Limits(acse_timeout=2, idle_timeout=10))
    acceptor.association = StoreAndCommit
    with acceptor:
        target = Target("127.0.0.1", acceptor.port, "ANY", reference_statement.harness.ae_title,
                        timeouts=Timeouts(connect=2, acse=2, dimse=5, network=5))
        results = run(RunContext(reference_statement, target),
                      build_plan(reference_statement, ["samecommit/"], scenarios_for([path])))
    assert [(s.outcome, s.message) for s in results.steps] == [
        ("pass", "stored 1 instance(s)"), ("pass", "report: 0 committed, 0 failed")]

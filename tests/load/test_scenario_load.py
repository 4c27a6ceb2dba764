"""The ``load`` step kind of a site scenario: checked with file:line:key when loaded, run by the
same code as the family's ``load/c-store`` (against DCMTK storescp), reported alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from conformance.engine import RunContext, run
from conformance.engine.results import RunResults
from conformance.errors import InputError
from conformance.negotiation.target import Target
from conformance.reporting.view import build_view
from conformance.reporting.writers import render_html
from conformance.scenario.check import check_against
from conformance.scenario.loader import load_scenario
from conformance.statement import load_statement
from conformance.suite import build_plan
from conformance.testing import StoreSCP

ROOT = Path(__file__).resolve().parents[2]
STORESCP = ROOT / "statements" / "dcmtk-storescp.yaml"

HEAD = """format: conformance-scenario/1
id: rush
name: Peak load
steps:
  - id: echo
    echo: {}
"""


def _scenario(tmp_path: Path, load: str) -> Path:
    """A scenario whose second step is ``load:`` followed by *load* (indented lines)."""
    path = tmp_path / "rush.yaml"
    path.write_text(HEAD + "  - id: ct-rush\n    load:\n" + load)
    return path


@pytest.fixture(scope="module")
def storescp() -> Iterator[StoreSCP]:
    """storescp forking one process per association, so associations run at once."""
    with StoreSCP("STORESCP", accept_all_transfer_syntaxes=True, extra_args=["--fork"]) as peer:
        yield peer


def _run(path: Path, peer: StoreSCP) -> RunResults:
    st = load_statement(STORESCP)
    sc = load_scenario(path)
    assert check_against(sc, st) == []
    target = Target(peer.host, peer.port, called_ae=st.network.ae_titles[0],
                    calling_ae=st.harness.ae_title)
    return run(RunContext(st, target), build_plan(st, ["rush"], scenarios=[sc]))


def _obs(results: RunResults, step_id: str = "rush/ct-rush") -> dict:
    (step,) = [s for s in results.steps if s.id == step_id]
    return next(o for o in step.observations if o.get("kind") == "load")


@pytest.mark.peer
def test_a_scenario_load_step_stores_the_declared_count_on_storescp(storescp, tmp_path):
    before = {p.name for p in storescp.output_dir.iterdir()}
    path = _scenario(tmp_path, "      associations: 3\n      instances_per_association: 7\n"
                               "      sop_classes: [CTImageStorage]\n"
                               "      transfer_syntaxes: [ExplicitVRLittleEndian]\n"
                               "      targets: {error_rate: 0}\n")
    results = _run(path, storescp)
    assert [s.outcome for s in results.steps] == ["pass", "pass"], results.steps[1].message
    o = _obs(results)
    written = [p for p in storescp.output_dir.iterdir() if p.name not in before]
    assert o["accepted"] == 3 and o["attempted"] == 21 and o["succeeded"] == 21
    assert len(written) == 21
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in written]
    assert len({h.SOPInstanceUID for h in headers}) == 21
    assert {h.SOPClassUID for h in headers} == {"1.2.840.10008.5.1.4.1.1.2"}
    assert {h.PatientID for h in headers} == {o["left_on_device"]["patient_id"]}
    assert o["left_on_device"]["instances"] == {"CTImageStorage": 21}
    page = render_html(build_view(results))
    assert "Storage load" in page and "rush/ct-rush" in page and "<svg" in page


@pytest.mark.peer
def test_a_scenario_load_step_fails_when_a_target_is_above_what_storescp_achieves(
        storescp, tmp_path):
    path = _scenario(tmp_path, "      associations: 2\n      instances_per_association: 5\n"
                               "      targets: {throughput: 10000000, p95_latency_ms: 0.001}\n")
    results = _run(path, storescp)
    step = results.steps[1]
    assert step.outcome == "fail", step.message
    assert {f.code for f in step.findings} == {"load.throughput-below-target",
                                               "load.latency-above-target"}
    assert _obs(results)["succeeded"] == 10  # the device stored them; it was too slow


@pytest.mark.parametrize(("load", "line", "key", "words"), [
    ("      associations: 2\n      instances_per_associaton: 5\n", 10, "steps[1].load",
     "instances_per_association"),
    ("      associations: 0\n      instances_per_association: 5\n", 9,
     "steps[1].load.associations", "minimum"),
    ("      associations: 2\n      instances_per_association: 5\n"
     "      sop_classes: [CTImageStorag]\n", 11, "steps[1].load.sop_classes[0]",
     "did you mean CTImageStorage"),
    ("      associations: 2\n      instances_per_association: 5\n"
     "      transfer_syntaxes: [1.2.840.10008.01]\n", 11,
     "steps[1].load.transfer_syntaxes[0]", "not a valid UID"),
    ("      associations: 2\n      instances_per_association: 5\n"
     "      targets: {p95: 10}\n", 11, "steps[1].load.targets", "p95_latency_ms"),
])
def test_a_bad_load_step_is_named_by_file_line_and_key(tmp_path, load, line, key, words):
    path = _scenario(tmp_path, load)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    problem = next((p for p in exc.value.problems if words in p.message), None)
    assert problem is not None, exc.value.problems
    assert (problem.file, problem.line) == (str(path), line), problem
    assert problem.key is not None and problem.key.startswith(key), problem
    assert words in problem.message, problem


def test_check_against_flags_a_load_of_an_undeclared_sop_class(tmp_path):
    path = _scenario(tmp_path, "      associations: 1\n      instances_per_association: 1\n"
                               "      sop_classes: ['1.2.826.0.1.3680043.9.9999.1']\n")
    (problem,) = check_against(load_scenario(path), load_statement(STORESCP))
    assert problem.line == 7 and problem.key == "steps[1].load.sop_classes"
    assert "does not declare" in problem.message


def test_the_shipped_example_is_valid_and_declares_its_targets():
    sc = load_scenario(ROOT / "scenarios" / "examples" / "peak-load.yaml")
    (step,) = [s for s in sc.steps if s.kind == "load"]
    assert step.spec["associations"] == 4 and step.spec["targets"]["error_rate"] == 0
    assert check_against(sc, load_statement(STORESCP)) == []


@pytest.mark.peer
def test_the_shipped_example_runs_from_the_cli_into_the_report(storescp, tmp_path):
    """``conformance run ... --scenarios scenarios/examples/peak-load.yaml -k peak-load``: the
    step passes on storescp (4 x 50 instances) and the report shows its load section."""
    from click.testing import CliRunner

    from conformance.cli.main import cli

    r = CliRunner().invoke(cli, ["run", str(STORESCP), "--port", str(storescp.port),
                                 "--scenarios", str(ROOT / "scenarios" / "examples" / "peak-load.yaml"),
                                 "-k", "peak-load", "--out", str(tmp_path / "out"), "-q"])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "out" / "report.html").read_text()
    assert "peak-load/ct-rush" in page and "200 CTImageStorage instance(s)" in page


def test_a_name_from_a_variable_that_is_unknown_is_an_error_before_any_association(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("format: conformance-scenario/1\nid: v\nname: V\nvariables: {cls: CTImageStorag}\n"
                    "steps:\n  - id: l\n    load:\n      associations: 1\n"
                    "      instances_per_association: 1\n      sop_classes: ['${cls}']\n")
    st = load_statement(STORESCP)
    sc = load_scenario(path)  # a ${variable} is checked when the step runs
    # port 9 on loopback: nothing is contacted, the step stops first
    results = run(RunContext(st, Target("127.0.0.1", 9, "STORESCP")),
                  build_plan(st, ["v"], scenarios=[sc]))
    (step,) = results.steps
    assert step.outcome == "error" and "unknown or repeated" in step.message

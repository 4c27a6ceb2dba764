"""The services family against the built-in reference device, with each deviation it can fake.

MPPS has no real peer on these machines (no Debian package provides an MPPS SCP): its
checks run against the reference device only, here.
"""

from __future__ import annotations

import time

from conformance.exitcodes import ExitCode
from conformance.reference import Misbehaviour
from conformance.statement.model import Role

from tests.conftest import target_for
from tests.services.conftest import (QUICK, by_outcome, describe, finding_codes, run_services,
                                     services_plan, with_services)

CT = "CTImageStorage"


def quick_target(device):
    return target_for(device, **vars(QUICK))


def test_a_device_true_to_its_statement_passes_every_services_step(start_reference, reference_statement):
    results = run_services(reference_statement, quick_target(start_reference()))
    assert results.counts()["pass"] == len(results.steps), describe(results)
    ids = {s.id for s in results.steps}
    for expected in ("storage/store/CTImageStorage/JPEGLosslessSV1", "storage/store/CTImageStorage/JPEG2000Lossless",
                     "storage/store/MRImageStorage/RLELossless", "storage/store/CTImageStorage/JPEGLSLossless",
                     "storage/store/CTImageStorage/DeflatedExplicitVRLittleEndian",
                     "storage/round-trip/CTImageStorage", "storage/character-set/ISO_IR_192",
                     "query/StudyRoot/STUDY/wildcard", "query/PatientRoot/PATIENT/case-insensitive-pn",
                     "query/StudyRoot/cancel", "retrieve/move/StudyRoot/STUDY", "retrieve/get/StudyRoot/STUDY",
                     "retrieve/move/unknown-destination", "mpps/completed", "mpps/discontinued",
                     "commitment/request"):
        assert expected in ids
    round_trips = [o for s in results.steps for o in s.observations if o.get("kind") == "round-trip"]
    assert round_trips and all(o["intact"] for o in round_trips)
    assert results.exit_code() is ExitCode.OK


def test_a_failing_store_status_fails_each_declared_pair(start_reference, reference_statement):
    device = start_reference(Misbehaviour(store_status=0xA700))
    results = run_services(reference_statement, quick_target(device), [f"storage/store/{CT}/"])
    declared = reference_statement.capability("1.2.840.10008.5.1.4.1.1.2", Role.SCP).transfer_syntaxes
    assert len(by_outcome(results, "fail")) == len(declared) == len(results.steps)
    assert {c for _s, c in finding_codes(results)} == {"storage.store-failed"}
    finding = results.findings()[0][1]
    assert finding.details["status"] == 0xA700 and "Table B.2-1" in finding.reference


def test_a_coercion_warning_status_is_a_warning_not_a_failure(start_reference, reference_statement):
    device = start_reference(Misbehaviour(store_status=0xB000))
    results = run_services(reference_statement, quick_target(device), [f"storage/store/{CT}/ExplicitVRLittleEndian"])
    assert by_outcome(results, "pass") == {f"storage/store/{CT}/ExplicitVRLittleEndian"}
    assert finding_codes(results, "warning") == {(f"storage/store/{CT}/ExplicitVRLittleEndian", "storage.coercion")}


def test_dropped_private_attributes_are_flagged_unless_declared(start_reference, reference_statement):
    device = start_reference(Misbehaviour(drop_private=True))
    patterns = [f"storage/store/{CT}/ExplicitVRLittleEndian", f"storage/round-trip/{CT}"]
    results = run_services(reference_statement, quick_target(device), patterns)
    assert by_outcome(results, "fail") == {f"storage/round-trip/{CT}"}, describe(results)
    dropped = {(f.code, f.tag) for _s, f in results.findings()}
    assert dropped == {("storage.private-attribute-dropped", "(0019,0010)"),
                       ("storage.private-attribute-dropped", "(0019,1010)")}
    declared = with_services(reference_statement, storage={"private_attributes": "discarded"})
    results = run_services(declared, quick_target(device), patterns)
    assert results.counts()["fail"] == 0, describe(results)


def test_coerced_attributes_are_flagged_naming_the_tag_unless_declared(start_reference, reference_statement):
    device = start_reference(Misbehaviour(coerce=(("StudyID", "COERCED"),)))
    patterns = [f"storage/store/{CT}/ExplicitVRLittleEndian", f"storage/round-trip/{CT}"]
    results = run_services(reference_statement, quick_target(device), patterns)
    changed = [f for _s, f in results.findings() if f.code == "storage.attribute-changed"]
    assert [f.tag for f in changed] == ["(0020,0010)"] and "COERCED" in changed[0].message
    declared = with_services(reference_statement, storage={"coerced_attributes": (0x00200010,)})
    results = run_services(declared, quick_target(device), patterns)
    assert results.counts()["fail"] == 0
    assert {c for _s, c in finding_codes(results)} == {"storage.attribute-coerced"}


def test_a_matching_kind_the_device_lacks_is_flagged_for_each_model(start_reference, reference_statement):
    device = start_reference(Misbehaviour(no_wildcard=True))
    results = run_services(reference_statement, quick_target(device), ["query/"])
    assert by_outcome(results, "fail") == {"query/PatientRoot/STUDY/wildcard", "query/StudyRoot/STUDY/wildcard"}
    assert {c for _s, c in finding_codes(results, "error")} == {"find.match-missing"}


def test_a_device_that_drops_the_association_mid_move_ends_that_step_as_error(start_reference, reference_statement):
    device = start_reference(Misbehaviour(abort_during_move=True))
    start = time.monotonic()
    results = run_services(reference_statement, quick_target(device), ["retrieve/move/StudyRoot/STUDY"])
    step = results.steps[0]
    assert step.outcome == "error" and "aborted" in step.message, describe(results)
    assert time.monotonic() - start < QUICK.dimse + QUICK.acse + 10   # no hang: well under the step limit


def test_unknown_move_destination_other_failure_is_a_warning(start_reference, reference_statement):
    device = start_reference(Misbehaviour(move_unknown_status=0xC000))
    results = run_services(reference_statement, quick_target(device), ["retrieve/move/unknown-destination"])
    assert results.steps[0].outcome == "pass"
    assert finding_codes(results, "warning") == {("retrieve/move/unknown-destination",
                                                  "retrieve.move-unknown-destination-status")}
    results = run_services(reference_statement, quick_target(start_reference()), ["retrieve/move/unknown-destination"])
    assert results.findings() == [] and results.steps[0].outcome == "pass"


def test_mpps_update_after_completed_is_flagged(start_reference, reference_statement):
    device = start_reference(Misbehaviour(mpps_update_after_end=True))
    results = run_services(reference_statement, quick_target(device), ["mpps/"])
    assert by_outcome(results, "fail") == {"mpps/completed", "mpps/discontinued"}
    assert {c for _s, c in finding_codes(results, "error")} == {"mpps.update-after-end-accepted"}
    assert by_outcome(results, "pass") == {"mpps/create-not-in-progress"}


def test_missing_commitment_report_and_wrong_association_claim_are_flagged(start_reference, reference_statement):
    quiet = with_services(reference_statement, storage_commitment={"report_within": 1.0})
    results = run_services(quiet, quick_target(start_reference(Misbehaviour(commitment_no_report=True))),
                           ["commitment/"])
    assert finding_codes(results, "error") == {("commitment/request", "commitment.no-report")}
    same = with_services(reference_statement, storage_commitment={"report_association": "same"})
    results = run_services(same, quick_target(start_reference()), ["commitment/"])
    assert ("commitment/request", "commitment.report-association") in finding_codes(results, "error")


def test_move_and_commitment_without_a_harness_port_are_skipped_not_passed(start_reference, reference_statement):
    device = start_reference()
    target = target_for(device, **vars(QUICK))
    from dataclasses import replace
    results = run_services(reference_statement, replace(target, harness_port=None),
                           ["retrieve/move/StudyRoot/STUDY", "commitment/"])
    assert by_outcome(results, "skipped") == {"retrieve/move/StudyRoot/STUDY", "commitment/request"}
    assert all("--harness-port" in s.message for s in results.steps)


def test_a_harness_port_another_program_holds_is_a_set_up_problem_naming_the_port(
        start_reference, reference_statement):
    """The harness cannot listen for the C-MOVE sub-operations or the commitment report: the
    site's set-up problem (outcome setup and its exit code), naming the port and the
    option that changes it; never "harness error" and never a failure of the device."""
    import socket
    from dataclasses import replace
    device = start_reference()
    target = target_for(device, **vars(QUICK))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        results = run_services(reference_statement, replace(target, harness_port=port),
                               ["retrieve/move/StudyRoot/STUDY", "commitment/"])
    assert by_outcome(results, "setup") == {"retrieve/move/StudyRoot/STUDY", "commitment/request"}, \
        describe(results)
    for step in results.steps:
        assert f"port {port}" in step.message and "--harness-port" in step.message, step.message
    assert results.exit_code() is ExitCode.SETUP_PROBLEM


def test_a_syntax_without_encoder_is_skipped_never_passed(start_reference, reference_statement, tmp_path):
    from conformance.statement import load_statement
    src = open(reference_statement.file, encoding="utf-8").read()
    path = tmp_path / "mpeg.yaml"
    path.write_text(src.replace("lossless: [JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, RLELossless]",
                                "lossless: [JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, RLELossless, MPEG2MPML]"))
    statement = load_statement(path)
    device = start_reference(statement=statement)
    results = run_services(statement, quick_target(device), [f"storage/store/{CT}/MPEG2MPML"])
    step = results.steps[0]
    assert step.outcome == "skipped" and step.message.startswith("not tested: no encoder")


def test_plan_ids_are_stable_and_grouped(reference_statement):
    ids = [s.id for s in services_plan(reference_statement)]
    assert len(ids) == len(set(ids))
    firsts = [i.split("/")[0] for i in ids]
    assert firsts == sorted(firsts, key=["storage", "query", "retrieve", "worklist", "mpps", "commitment"].index)


def test_the_report_has_a_services_section_a_purchaser_can_read(start_reference, reference_statement, tmp_path):
    from conformance.reporting import write_reports

    device = start_reference(Misbehaviour(drop_private=True))
    results = run_services(reference_statement, quick_target(device),
                           ["storage/store/CTImageStorage/", "storage/round-trip/CTImageStorage", "mpps/completed"])
    html = write_reports(results, tmp_path)["html"].read_text()
    assert "Services: what the device does with data" in html
    assert ("Store CT Image Storage in JPEG 2000 Image Compression (Lossless Only): declared, works, "
            "data changed") in html
    assert "Modality performed procedure step" in html and "mpps/completed" in html
    clean = run_services(reference_statement, quick_target(start_reference()),
                         ["storage/store/CTImageStorage/JPEG2000Lossless", "storage/round-trip/CTImageStorage"])
    html = write_reports(clean, tmp_path / "clean")["html"].read_text()
    assert ("Store CT Image Storage in JPEG 2000 Image Compression (Lossless Only): declared, works, "
            "data intact") in html


def test_round_trip_by_c_move_when_the_device_has_no_c_get(start_reference, reference_statement):
    from dataclasses import replace

    get = {"1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3"}
    no_get = replace(reference_statement, transfer_capabilities=tuple(
        c for c in reference_statement.transfer_capabilities if c.sop_class not in get))
    device = start_reference(statement=no_get)
    results = run_services(no_get, quick_target(device),
                           [f"storage/store/{CT}/", f"storage/round-trip/{CT}"])
    step = results.step(f"storage/round-trip/{CT}")
    assert step.outcome == "pass" and "C-MOVE" in step.message, describe(results)
    assert len([o for o in step.observations if o.get("kind") == "round-trip" and o["intact"]]) == 7

"""DCMTK findscu, movescu and getscu query and retrieve from the harness' local store;
findscu -W queries its worklist; MPPS N-CREATE/N-SET from a pynetdicom SCU (no Debian
package has an MPPS SCU)."""

from __future__ import annotations

import json

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE

from conformance.services.worklist import load_items
from conformance.services.mpps import create_attributes, final_attributes
from conformance.statement import load_statement
from conformance.testing import free_port
from tests.listen.conftest import HARNESS_AE, WRONG, finish, run_tool, step_codes

MPPS = "1.2.840.10008.3.1.2.3.3"


@pytest.fixture(scope="module")
def qr_statement():
    return load_statement(WRONG / "listen-dcmtk-qr-scu.yaml")


def _qr(tool: str, port: int, *args: str) -> None:
    done = run_tool(tool, "-S", "-aet", "QRSCU", "-aec", HARNESS_AE, *args, "127.0.0.1", str(port))
    assert done.returncode == 0, done.stderr


def test_find_move_get_over_the_local_store(listening, qr_statement, study_files, tmp_path):
    study = str(dcmread(study_files[0]).StudyInstanceUID)
    move_port = free_port()
    session = listening(qr_statement, preload=study_files[0].parent, expect_associations=3,
                        destinations={"QRSCU": ("127.0.0.1", move_port)})
    key = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study}"]
    _qr("findscu", session.port, *key, "-k", "PatientID")
    (tmp_path / "moved").mkdir()
    (tmp_path / "got").mkdir()
    _qr("movescu", session.port, "-aem", "QRSCU", "--port", str(move_port), "-od", str(tmp_path / "moved"), *key)
    _qr("getscu", session.port, "-od", str(tmp_path / "got"), *key)
    results = finish(session)
    assert results.exit_code() == 0, step_codes(results)
    find = next(s for s in results.steps if s.id.startswith("listen/find/"))
    assert find.observations[0]["matches"] == 1 and find.observations[0]["level"] == "STUDY"
    move = next(s for s in results.steps if s.id.startswith("listen/move/"))
    get = next(s for s in results.steps if s.id.startswith("listen/get/"))
    for step in (move, get):
        assert step.observations[0]["completed"] == len(study_files), step.message
    wanted = {str(dcmread(f).SOPInstanceUID) for f in study_files}
    for folder in ("moved", "got"):
        assert {str(dcmread(p).SOPInstanceUID) for p in (tmp_path / folder).iterdir()} == wanted


def test_unknown_move_destination_and_bad_level_are_reported(listening, qr_statement, study_files, tmp_path):
    session = listening(qr_statement, preload=study_files[0].parent, expect_associations=2)
    done = run_tool("movescu", "-S", "-aet", "QRSCU", "-aec", HARNESS_AE, "-aem", "NOWHERE",
                    "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=1.2.3", "127.0.0.1", str(session.port))
    assert "movedestinationunknown" in (done.stdout + done.stderr).lower()
    run_tool("findscu", "-S", "-aet", "QRSCU", "-aec", HARNESS_AE, "-k", "QueryRetrieveLevel=SERIES",
             "-k", "SeriesInstanceUID", "127.0.0.1", str(session.port))
    results = finish(session)
    move = next(s for s in results.steps if s.id.startswith("listen/move/"))
    assert move.observations[0]["status"] == "0xA801"
    find = next(s for s in results.steps if s.id.startswith("listen/find/"))
    assert {f.code for f in find.findings} == {"listen.query-unique-key"}   # SERIES without StudyInstanceUID


WORKLIST = """\
- PatientName: DOE^JANE
  PatientID: P1
  AccessionNumber: A1
  StudyInstanceUID: 1.2.826.0.1.3680043.10.1375.99.1
  RequestedProcedureID: RP1
  ScheduledProcedureStepSequence:
    - {Modality: CT, ScheduledStationAETitle: CT1, ScheduledProcedureStepStartDate: "20260101",
       ScheduledProcedureStepStartTime: "0900", ScheduledProcedureStepID: SPS1}
- PatientName: ROE^RICHARD
  PatientID: P2
  AccessionNumber: A2
  StudyInstanceUID: 1.2.826.0.1.3680043.10.1375.99.2
  RequestedProcedureID: RP2
  ScheduledProcedureStepSequence:
    - {Modality: MR, ScheduledStationAETitle: MR1, ScheduledProcedureStepStartDate: "20260101",
       ScheduledProcedureStepStartTime: "1000", ScheduledProcedureStepID: SPS2}
"""


def _worklist_statement(tmp_path, keys: list[str]):
    text = f"""format: conformance-statement/1
identity: {{manufacturer: OFFIS, model: findscu -W, software_version: "3.6.7"}}
network: {{ae_titles: [MODALITY], max_pdu_receive: 16384}}
harness: {{ae_title: {HARNESS_AE}}}
transfer_capabilities:
  - sop_classes: [ModalityWorklistInformationModelFind]
    role: SCU
    transfer_syntaxes: [ExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian]
services:
  worklist: {{matching_keys: {json.dumps(keys)}}}
"""
    path = tmp_path / f"wl-{len(keys)}.yaml"
    path.write_text(text)
    return load_statement(path)


@pytest.mark.parametrize("keys, wrong", [(["Modality", "ScheduledStationAETitle"], False), (["PatientID"], True)])
def test_worklist_query_from_findscu(listening, tmp_path, keys, wrong):
    (tmp_path / "wl.yaml").write_text(WORKLIST)
    session = listening(_worklist_statement(tmp_path, keys), worklist_items=load_items(tmp_path / "wl.yaml"),
                        expect_associations=1, validate=False)
    done = run_tool("findscu", "-W", "-aet", "MODALITY", "-aec", HARNESS_AE,
                    "-k", "ScheduledProcedureStepSequence[0].Modality=CT",
                    "-k", "ScheduledProcedureStepSequence[0].ScheduledStationAETitle=CT1",
                    "-k", "PatientName", "-k", "AccessionNumber", "127.0.0.1", str(session.port))
    assert done.returncode == 0, done.stderr
    assert "DOE^JANE" in done.stderr + done.stdout and "ROE^RICHARD" not in done.stderr + done.stdout
    results = finish(session)
    step = next(s for s in results.steps if s.id.startswith("listen/worklist/"))
    assert step.observations[0]["items"] == 1
    assert step.observations[0]["matching_keys"] == ["ScheduledStationAETitle", "Modality"]
    codes = {f.code for f in step.findings}
    assert codes == ({"listen.worklist-undeclared-key"} if wrong else set())


def _mpps_statement(tmp_path):
    path = tmp_path / "mpps.yaml"
    path.write_text(f"""format: conformance-statement/1
identity: {{manufacturer: pynetdicom, model: MPPS SCU, software_version: "3"}}
network: {{ae_titles: [MODALITY]}}
harness: {{ae_title: {HARNESS_AE}}}
transfer_capabilities:
  - sop_classes: [ModalityPerformedProcedureStep]
    role: SCU
    transfer_syntaxes: [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
""")
    return load_statement(path)


def test_mpps_create_and_set_checked_against_f72(listening, tmp_path):
    session = listening(_mpps_statement(tmp_path), expect_associations=1, validate=False)
    ae = AE(ae_title="MODALITY")
    ae.add_requested_context(MPPS)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", session.port, ae_title=HARNESS_AE)
    assert assoc.is_established
    try:
        good = create_attributes("P1", "DOE^JANE", str(generate_uid()), "MODALITY")
        good_uid, bad_uid = str(generate_uid()), str(generate_uid())
        status, _ = assoc.send_n_create(good, MPPS, good_uid)
        assert status.Status == 0x0000
        bad = create_attributes("P1", "DOE^JANE", str(generate_uid()), "MODALITY")
        del bad.Modality                                      # type 1 at N-CREATE
        bad.PerformedProcedureStepStatus = "COMPLETED"        # shall be IN PROGRESS
        assoc.send_n_create(bad, MPPS, bad_uid)
        incomplete = Dataset()
        incomplete.PerformedProcedureStepStatus = "COMPLETED"   # no end date/time, no series
        assoc.send_n_set(incomplete, MPPS, good_uid)
        status, _ = assoc.send_n_set(final_attributes("COMPLETED", str(generate_uid()), HARNESS_AE), MPPS, good_uid)
        assert status.Status == 0x0110                         # refused after COMPLETED (F.7.2.2.2)
    finally:
        assoc.release()
    results = finish(session)
    codes = step_codes(results, "error")
    assert not results.step(f"listen/mpps/{good_uid}/create").findings
    assert {c for s, c in codes if s == f"listen/mpps/{bad_uid}/create"} == {"listen.mpps-missing",
                                                                            "listen.mpps-create-status"}
    # end date/time and series were created empty (type 2 then), type 1 once COMPLETED
    assert {c for s, c in codes if s == f"listen/mpps/{good_uid}/set-1"} == {"listen.mpps-empty",
                                                                            "listen.mpps-no-series"}
    assert {c for s, c in codes if s == f"listen/mpps/{good_uid}/set-2"} == {"listen.mpps-set-after-end"}

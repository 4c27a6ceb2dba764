"""Evidence of a listen session: every received instance is kept (a re-sent UID gets its own
file and a finding), every instance gets its own step however malformed its UID, and steps
name the instance by patient, study, series and SOP class as well as UID."""

from __future__ import annotations

from pydicom import dcmread

from conformance.negotiation.association import ProposedContext as Proposal
from conformance.negotiation.target import Target, Timeouts
from conformance.services import wire
from tests.listen.conftest import CT, HARNESS_AE, finish

EXPLICIT = "1.2.840.10008.1.2.1"


def _target(port: int) -> Target:
    return Target("127.0.0.1", port, HARNESS_AE, "STORESCU", Timeouts(connect=5, acse=5, dimse=5))


def test_a_resent_uid_is_kept_in_its_own_file_with_a_finding(listening, storescu_statement, study_files):
    session = listening(storescu_statement, expect_associations=1)
    ds = dcmread(study_files[1])
    uid = str(ds.SOPInstanceUID)
    data = study_files[1].read_bytes()
    body = data[144 + int.from_bytes(data[140:144], "little"):]   # the data set after the meta group (PS3.10 7.1)
    outcome, assoc = wire.open_association(_target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert assoc is not None, outcome.describe()
    try:
        first = assoc.send_c_store(Proposal(CT, (EXPLICIT,)), CT, uid, body, 1)
        second = assoc.send_c_store(Proposal(CT, (EXPLICIT,)), CT, uid, body, 2)
    finally:
        assoc.release()
    assert first.status == second.status == 0
    results = finish(session)
    files = sorted(p.name for p in (session.config.out / "instances").glob("*.dcm"))
    assert files == [f"{uid}.2.dcm", f"{uid}.dcm"]                 # the first copy is not overwritten
    again = results.step(f"listen/instance/{uid}/2")
    assert again is not None
    resent = [f for f in again.findings if f.code == "listen.instance-resent"]
    assert resent and f"{uid}.2.dcm" in resent[0].message and str(ds.PatientID) in resent[0].message
    first_step = results.step(f"listen/instance/{uid}")
    obs = first_step.observations[0]
    assert obs["patient_id"] == str(ds.PatientID) and obs["study_uid"] == str(ds.StudyInstanceUID)
    assert obs["series_uid"] == str(ds.SeriesInstanceUID) and obs["sop_class_name"] == "CT Image Storage"
    assert f"patient {ds.PatientID}" in first_step.message and uid in first_step.message


def test_every_malformed_uid_gets_its_own_step(listening, storescu_statement, study_files):
    session = listening(storescu_statement, expect_associations=1)
    data = study_files[1].read_bytes()[132:]
    outcome, assoc = wire.open_association(_target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert assoc is not None, outcome.describe()
    try:
        for n, bad in enumerate(("../../etc/evil", "1.02.3", "not a uid"), start=1):
            assert assoc.send_c_store(Proposal(CT, (EXPLICIT,)), CT, bad, data, n).status == 0xC000
    finally:
        assoc.release()
    results = finish(session)
    ids = [s.id for s in results.steps if s.id.startswith("listen/instance/")]
    assert ids == ["listen/instance/invalid-uid", "listen/instance/invalid-uid/2", "listen/instance/invalid-uid/3"]
    assert all(any(f.code == "listen.invalid-sop-instance-uid" for f in results.step(i).findings) for i in ids)

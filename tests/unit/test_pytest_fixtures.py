"""The fixtures the pytest plugin offers vendors, used as a vendor would."""

from __future__ import annotations

from conformance.reference import Misbehaviour

from tests.conftest import STATEMENTS


def test_vendor_fixtures_start_a_device_and_run_the_harness(dicom_reference_device, dicom_run):
    statement = STATEMENTS / "reference-device.yaml"
    device = dicom_reference_device(statement, Misbehaviour(ignore_called_ae=True))
    results = dicom_run(statement, "127.0.0.1", device.port, patterns=["negotiation/called-ae-title"])
    [(step, finding)] = results.findings()
    assert step.id == "negotiation/called-ae-title" and finding.code == "negotiation.called-ae-not-checked"


def test_vendor_fixtures_association_scp_and_scenarios(dicom_reference_device, dicom_association, dicom_harness_scp,
                                                       dicom_run, tmp_path):
    """A vendor's own test: C-MOVE by hand to a harness SCP, and a scenario run through dicom_run."""
    from pydicom.dataset import Dataset
    statement = STATEMENTS / "reference-device.yaml"
    scp = dicom_harness_scp("CONFORMANCE")
    device = dicom_reference_device(statement)
    device.destinations["CONFORMANCE"] = ("127.0.0.1", scp.port)
    scenario = STATEMENTS.parent / "scenarios" / "examples" / "move-to-harness.yaml"
    results = dicom_run(statement, "127.0.0.1", device.port, patterns=["move-to-harness/store"], scenarios=[scenario])
    assert [s.outcome for s in results.steps] == ["pass"]
    outcome, assoc = dicom_association("127.0.0.1", device.port, "REFERENCE",
                                       [("1.2.840.10008.5.1.4.1.2.2.2", ["1.2.840.10008.1.2"])])
    assert assoc is not None
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = str(device.received[0].StudyInstanceUID)
    statuses = [int(s.Status) for s, _ in assoc.send_c_move(query, "CONFORMANCE", "1.2.840.10008.5.1.4.1.2.2.2")]
    assert statuses[-1] == 0x0000
    assert scp.wait_received(2, 10) == 2

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

"""The example scenarios against real peers: the CT modality workflow against Orthanc with its
worklist plugin, and C-MOVE A -> B -> C with dcmqrscp moving to the harness."""

from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from conformance.engine import RunContext, run
from conformance.negotiation.target import Target
from conformance.statement import load_statement
from conformance.suite import build_plan, scenarios_for
from conformance.testing.peers import Orthanc

from tests.conftest import DATA, ROOT, STATEMENTS
from tests.interop.conftest import HARNESS_AE

EXAMPLES = ROOT / "scenarios" / "examples"
ORTHANC_MWL = DATA / "statements" / "orthanc-worklists-subset.yaml"


def worklist_item(accession: str) -> Dataset:
    """A scheduled CT exam for station CT1 (PS3.4 K.6.1.2.2 return keys)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "DOE^JANE", "PAT-0042", "19700101", "F"
    ds.AccessionNumber, ds.StudyInstanceUID = accession, generate_uid()
    ds.RequestedProcedureID, ds.RequestedProcedureDescription = "RP-1", "CT chest"
    sps = Dataset()
    sps.Modality, sps.ScheduledStationAETitle = "CT", "CT1"
    sps.ScheduledProcedureStepStartDate, sps.ScheduledProcedureStepStartTime = "20261126", "090000"
    sps.ScheduledProcedureStepID, sps.ScheduledProcedureStepDescription = "SPS-1", "CT chest"
    sps.ScheduledPerformingPhysicianName = ""
    ds.ScheduledProcedureStepSequence = [sps]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.31"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    return ds


@pytest.fixture(scope="module")
def orthanc_mwl(harness_port: int) -> Iterator[Orthanc]:
    with Orthanc("ORTHANC", harness_ae_title=HARNESS_AE, harness_port=harness_port, worklists=True) as peer:
        worklist_item("ACC-CT-0001").save_as(peer.worklist_dir / "ct.wl", enforce_file_format=True)
        yield peer


def test_ct_modality_workflow_against_orthanc_with_worklists(orthanc_mwl, harness_port):
    st = load_statement(ORTHANC_MWL)
    target = Target(orthanc_mwl.host, orthanc_mwl.port, "ORTHANC", HARNESS_AE, harness_port=harness_port)
    steps = build_plan(st, ["ct-modality-workflow/"], scenarios_for([EXAMPLES / "ct-modality-workflow.yaml"]))
    results = run(RunContext(st, target), steps)
    assert [(s.id.split("/")[1], s.outcome) for s in results.steps] == [
        ("worklist", "pass"), ("store", "pass"), ("commitment", "pass"), ("find-by-accession", "pass")], \
        [(s.id, s.message, [f.message for f in s.findings]) for s in results.steps]
    assert results.step("ct-modality-workflow/commitment").observations[0]["committed"] == 3


def test_move_to_harness_with_dcmqrscp(dcmqrscp, harness_port):
    st = load_statement(STATEMENTS / "dcmtk-dcmqrscp.yaml")
    target = Target(dcmqrscp.host, dcmqrscp.port, "DCMQRSCP", HARNESS_AE, harness_port=harness_port)
    steps = build_plan(st, ["move-to-harness/"], scenarios_for([EXAMPLES / "move-to-harness.yaml"]))
    results = run(RunContext(st, target), steps)
    assert {s.id: s.outcome for s in results.steps} == {
        "move-to-harness/store": "pass", "move-to-harness/find": "pass", "move-to-harness/move": "pass"}, \
        [(s.id, s.message, [f.message for f in s.findings]) for s in results.steps]
    assert results.step("move-to-harness/move").observations[0]["arrived"] == 2


def test_a_wrong_scenario_fails_against_orthanc_via_the_cli(orthanc, harness_port, tmp_path):
    result = subprocess.run([sys.executable, "-m", "conformance", "run", str(STATEMENTS / "orthanc-1.10.yaml"),
                             "--port", str(orthanc.port), "--harness-port", str(harness_port),
                             "--scenarios", str(DATA / "scenarios" / "wrong-expectations.yaml"),
                             "-k", "wrong-expectations/", "--out", str(tmp_path), "-q"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout
    assert "expected matches 1, got 0" in result.stdout
    assert "expected status 0xA700" in result.stdout

"""Orthanc 1.10 as the SCU, driven through its REST API with the harness registered in its
DicomModalities: echo, store, query, move (to itself) and storage commitment, whose
N-EVENT-REPORT the harness sends back on a new association and Orthanc records."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from pydicom import dcmread

from conformance.engine.results import RunResults
from conformance.exitcodes import ExitCode
from conformance.statement import load_statement
from conformance.testing import Orthanc, free_port
from tests.listen.conftest import HARNESS_AE, SHIPPED, WRONG, step_codes


def _rest(base: str, path: str, body: Any = None) -> Any:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"null")


def _drive(statement_file, listening, study_files) -> tuple[RunResults, dict, list[str]]:
    """Everything Orthanc does as SCU towards the harness, then the session's results."""
    statement = load_statement(statement_file)
    port = free_port()
    with Orthanc("ORTHANC", harness_ae_title=HARNESS_AE, harness_port=port) as orthanc:
        session = listening(statement, port=port, destinations={"ORTHANC": ("127.0.0.1", orthanc.port)})
        url = orthanc.http_url
        ids = [_rest(url, "/instances", f.read_bytes())["ID"] for f in study_files]
        _rest(url, "/modalities/harness/echo", {})
        stored = _rest(url, "/modalities/harness/store", {"Resources": ids, "Synchronous": True})
        assert stored["InstancesCount"] == len(study_files) and stored["FailedInstancesCount"] == 0
        query = _rest(url, "/modalities/harness/query", {"Level": "Study", "Query": {"StudyInstanceUID": ""}})
        assert len(_rest(url, query["Path"] + "/answers")) == 1
        study = str(dcmread(study_files[0]).StudyInstanceUID)
        _rest(url, "/modalities/harness/move", {"Level": "Study", "Resources": [{"StudyInstanceUID": study}],
                                                 "TargetAet": "ORTHANC", "Synchronous": True})
        refs = [{"SOPClassUID": str(dcmread(f).SOPClassUID), "SOPInstanceUID": str(dcmread(f).SOPInstanceUID)}
                for f in study_files[:2]]
        refs.append({"SOPClassUID": refs[0]["SOPClassUID"], "SOPInstanceUID": "1.2.826.0.1.3680043.10.1375.77"})
        job = _rest(url, "/modalities/harness/storage-commitment", {"DicomInstances": refs})
        report: dict = {}
        for _ in range(100):                 # Orthanc records the report when it arrives
            report = _rest(url, job["Path"])
            if report.get("Status") != "Pending":
                break
            time.sleep(0.1)
        results = session.stop("Orthanc done")
    return results, report, [r["SOPInstanceUID"] for r in refs]


def test_shipped_orthanc_scu_statement_passes(listening, study_files):
    results, report, refs = _drive(SHIPPED / "orthanc-1.10-scu.yaml", listening, study_files)
    errors = step_codes(results, "error")
    # The one expected finding: the commitment request names an instance Orthanc never sent.
    commit = next(s for s in results.steps if s.id.startswith("listen/commitment/"))
    assert errors == {(commit.id, "listen.commitment-unknown-instance")}
    assert not step_codes(results, "warning")
    assert commit.observations[0]["committed"] == 2 and commit.observations[0]["failed"] == 1
    assert commit.observations[0]["report_status"] == "0x0000"
    # Orthanc's reaction: it recorded exactly the harness' answer.
    assert report["Status"] == "Failure"
    assert {s["SOPInstanceUID"] for s in report["Success"]} == set(refs[:2])
    assert [f["SOPInstanceUID"] for f in report["Failures"]] == refs[2:]
    move = next(s for s in results.steps if s.id.startswith("listen/move/"))
    assert move.observations[0]["completed"] == len(study_files)
    kinds = {s.id.split("/")[1] for s in results.steps}
    assert {"association", "proposed", "instance", "find", "move", "commitment", "session"} <= kinds
    assert results.counts()["error"] == 0


def test_wrong_orthanc_scu_statement_is_flagged_claim_by_claim(listening, study_files):
    results, _report, _refs = _drive(WRONG / "listen-orthanc-scu-wrong.yaml", listening, study_files)
    errors = {code for _s, code in step_codes(results, "error")}
    assert errors == {"listen.implementation-version-name", "listen.commitment-unknown-instance"}
    assoc_steps = [s for s in results.steps if s.id.startswith("listen/association/")]
    assert all(any(f.code == "listen.implementation-version-name" for f in s.findings) for s in assoc_steps)
    warnings = step_codes(results, "warning")
    assert ("listen/proposed/ModalityWorklistInformationModelFind/ExplicitVRLittleEndian",
            "listen.undeclared-sop-class") in warnings
    assert ("listen/proposed/CTImageStorage/ImplicitVRLittleEndian", "listen.undeclared-transfer-syntax") in warnings
    assert {code for _s, code in warnings} == {"listen.undeclared-sop-class", "listen.undeclared-transfer-syntax"}
    not_seen = results.step("listen/not-observed/StorageCommitmentPushModel")
    assert not_seen.outcome == "skipped" and "JPEGBaseline8Bit" in not_seen.message
    assert results.exit_code() is ExitCode.DEVIATION


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """REST calls go to loopback only, never through a proxy from the environment."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)

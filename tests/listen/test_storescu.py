"""DCMTK storescu as the modality: the shipped statement passes, a wrong one is flagged claim
by claim, and the harness' deliberate misbehaviour is recorded with storescu's reaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pydicom import dcmread

from conformance.exitcodes import ExitCode
from conformance.listen.misbehaviour import parse
from conformance.statement import load_statement
from conformance.testing import free_port
from tests.listen.conftest import HARNESS_AE, ROOT, SHIPPED, WRONG, finish, run_tool, step_codes, wait_banner


def _send(port: int, files: list[Path], *extra: str, called: str = HARNESS_AE) -> subprocess.CompletedProcess:
    return run_tool("storescu", "-aec", called, *extra, "127.0.0.1", str(port), *map(str, files))


def test_shipped_storescu_statement_passes_through_the_cli(tmp_path, study_files):
    """The real entry point: `conformance listen` waits, storescu sends, exit 0, SCU matrix."""
    port = free_port()
    out = tmp_path / "report"
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "listen", str(SHIPPED / "dcmtk-storescu.yaml"), "--port", str(port),
         "--expect", str(len(study_files)), "--timeout", "60", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = wait_banner(proc, "listening as AE")
        assert f"listening as AE {HARNESS_AE} on 127.0.0.1:{port}" in banner, banner
        sent = _send(port, study_files)
        assert sent.returncode == 0, sent.stderr
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == ExitCode.OK, stderr
    assert "received #4" in stderr
    results = json.loads((out / "results.json").read_text())
    assert results["verdict"] == "conforms"
    assert results["matrix"]["role"] == "SCU"
    ct_row = next(r for r in results["matrix"]["rows"] if r["keyword"] == "CTImageStorage")
    assert ct_row["cells"]["ExplicitVRLittleEndian"] == "ok"
    html = (out / "report.html").read_text()
    assert "Compatibility matrix (SCU role)" in html and "declared, not observed" in html
    stored = sorted(p.name for p in (out / "instances").iterdir())
    assert stored == sorted(f"{dcmread(f).SOPInstanceUID}.dcm" for f in study_files)


def test_wrong_storescu_statement_is_flagged_claim_by_claim(listening, study_files):
    statement = load_statement(WRONG / "listen-storescu-wrong.yaml")
    session = listening(statement, expect_instances=len(study_files))
    sent = _send(session.port, study_files, called="CONFORMANCE")
    assert sent.returncode == 0, sent.stderr
    results = finish(session)
    first_uid = dcmread(study_files[0]).SOPInstanceUID
    assert step_codes(results, "error") == {
        ("listen/association/1", "listen.calling-ae-title"),
        ("listen/association/1", "listen.called-ae-title"),
        ("listen/association/1", "listen.max-pdu"),
        ("listen/association/1", "listen.implementation-class-uid"),
        (f"listen/instance/{first_uid}", "private.vr-mismatch"),
    }
    warnings = step_codes(results, "warning")
    assert {code for _s, code in warnings} == {"listen.undeclared-sop-class", "listen.undeclared-transfer-syntax"}
    assert ("listen/proposed/CTImageStorage/ImplicitVRLittleEndian", "listen.undeclared-transfer-syntax") in warnings
    assert ("listen/proposed/RTPlanStorage/ExplicitVRLittleEndian", "listen.undeclared-sop-class") in warnings
    assert not results.step("listen/proposed/CTImageStorage/ExplicitVRLittleEndian").findings
    not_seen = results.step("listen/not-observed/CTImageStorage")
    assert not_seen.outcome == "skipped" and "JPEG2000Lossless" in not_seen.message
    assert results.exit_code() is ExitCode.DEVIATION


def test_failure_status_is_recorded_with_the_devices_reaction(listening, storescu_statement, study_files):
    mis = parse(["store-status=0xA700"])
    session = listening(storescu_statement, misbehaviour=mis, expect_associations=1)
    sent = _send(session.port, study_files)
    results = finish(session)
    instances = [s for s in results.steps if s.id.startswith("listen/instance/")]
    # storescu's reaction: it stops at the first refused instance, releases, and fails.
    assert len(instances) == 1
    assert instances[0].observations[0]["status"] == "0xA700" and "not kept" in instances[0].message
    assert not list((session.config.out / "instances").glob("*.dcm"))
    step = results.step("listen/misbehaviour/store-status")
    assert step.outcome == "pass"
    assert step.observations[0]["failed"] == 1 and step.observations[0]["retried"] == 0
    assert step.observations[0]["association_ends"] == {"released": 1}
    assert sent.returncode != 0


def test_rejected_context_and_abort_are_recorded(listening, storescu_statement, study_files):
    mis = parse(["reject=CTImageStorage"])
    session = listening(storescu_statement, misbehaviour=mis, expect_associations=1)
    sent = _send(session.port, study_files)
    results = finish(session)
    kept = {s.observations[0]["sop_class"] for s in results.steps if s.id.startswith("listen/instance/")}
    # storescu's reaction: the first file is a CT with no context left: it aborts, sends nothing.
    assert kept == set()
    assert results.step("listen/misbehaviour/reject").observations[0]["rejected_contexts"] == 2
    assert results.step("listen/association/1").observations[0]["end"] == "aborted-by-device"
    assert "no presentation context" in sent.stderr.lower()

    session = listening(storescu_statement, misbehaviour=parse(["abort-after=1"]), expect_associations=1)
    sent = _send(session.port, study_files)
    results = finish(session)
    assoc = results.step("listen/association/1")
    assert assoc.observations[0]["end"] == "aborted-by-harness"
    assert len([s for s in results.steps if s.id.startswith("listen/instance/")]) == 1
    assert results.step("listen/misbehaviour/abort-after").outcome == "pass"
    assert sent.returncode != 0 and "aborted" in sent.stderr.lower()


def test_answer_later_than_the_devices_timeout(listening, storescu_statement, study_files):
    """storescu with a 1 s DIMSE timeout; the harness answers after 3 s: storescu gives up."""
    session = listening(storescu_statement, misbehaviour=parse(["delay=3"]), expect_associations=1)
    sent = _send(session.port, study_files[:2], "-td", "1")
    results = finish(session)
    end = results.step("listen/association/1").observations[0]["end"]
    assert end in ("aborted-by-device", "closed-without-release")
    assert results.step("listen/misbehaviour/delay").outcome == "pass"
    assert sent.returncode != 0 and "timeout" in sent.stderr.lower()


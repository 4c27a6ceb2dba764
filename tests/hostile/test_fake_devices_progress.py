"""Progress survives a kill: a run killed (SIGKILL) in the middle of the storage batch keeps
the C-STOREs that had finished (each is recorded as it finishes), and ``conformance report``
renders them as passed, not "not run"."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.hostile.devices import FakeDevice, Peer
from conformance.wire import dimse
from conformance.wire.pdu import AssociateAccept, ContextAnswer, encode_associate_ac

STATEMENT = """\
format: conformance-statement/1
identity:
  manufacturer: Conformance harness tests
  model: Storage fake device
  software_version: "1"
  statement_version: "1"
  dicom_edition: 2024c
  description: A fake device that stores two instances and then stops answering.
network:
  ae_titles: [FAKE]
  checks_called_ae_title: false
  checks_calling_ae_title: false
harness:
  ae_title: CONFORMANCE
transfer_capabilities:
  - sop_classes: [CTImageStorage, MRImageStorage, SecondaryCaptureImageStorage, ComputedRadiographyImageStorage]
    role: SCP
    transfer_syntaxes: [ImplicitVRLittleEndian]
"""


def _stores_two_then_hangs(peer: Peer) -> None:
    rq = peer.read_rq()
    ac = AssociateAccept(rq.called_ae, rq.calling_ae, max_pdu=16384, implementation_class_uid="1.2.3.4")
    ac.contexts = [ContextAnswer(c.id, 0, c.transfer_syntaxes[0]) for c in rq.contexts]
    peer.send(encode_associate_ac(ac))
    stored = 0
    while (got := peer.read_message()) is not None:
        cid, cmd, _data = got
        if cmd.field == dimse.C_STORE_RQ and stored == 2:
            peer.hold()
            return
        stored += cmd.field == dimse.C_STORE_RQ
        peer.answer(cid, cmd, _data)


def _stored_steps(results: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("kind") == "step-finished" and event["step_id"].startswith("storage/"):
            out[event["step_id"]] = event["outcome"]
    return out


def test_storage_steps_done_before_a_kill_are_kept(tmp_path) -> None:
    statement = tmp_path / "storage.yaml"
    statement.write_text(STATEMENT)
    out = tmp_path / "report"
    with FakeDevice(_stores_two_then_hangs) as device:
        proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", str(statement), "--port", str(device.port),
                                 "--out", str(out), "--quiet", "-k", "storage", "--dimse-timeout", "30"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                if (out / "results.jsonl").exists() and len(_stored_steps(out / "results.jsonl")) >= 2:
                    break
                time.sleep(0.1)
            assert proc.poll() is None, "the run ended before it could be killed in the storage batch"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    steps = _stored_steps(out / "results.jsonl")
    assert sorted(steps.values()) == ["pass", "pass"], steps
    report = subprocess.run([sys.executable, "-m", "conformance", "report", str(out / "results.jsonl"),
                             "--out", str(tmp_path / "again")], capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in report.stderr
    data = json.loads((tmp_path / "again" / "results.json").read_text(encoding="utf-8"))
    assert "pass" in json.dumps(data)
    assert sum(1 for s in steps if s in json.dumps(data)) == 2

"""``listen``'s acceptor cannot be starved (issue 16, item 2): clients dripping one byte at a
time are cut at the absolute ARTIM / PDU deadline, one peer address cannot hold every slot,
accept errors (EMFILE) are survived and make the session incomplete, an over-size C-STORE is
answered 0xA700 and leaves no file, a C-STORE cut by abort, reset or release leaves no
``.part`` file, and a second SIGTERM while stopping keeps the final record and the reports."""

from __future__ import annotations

import errno
import json
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from conformance.engine.model import Outcome
from conformance.exitcodes import ExitCode
from conformance.listen.server import Limits
from conformance.wire import requestor as wire
from conformance.wire.contexts import ProposedContext as Proposal
from tests.hostile import acceptor_clients
from tests.hostile.acceptor_clients import (
    ABORT,
    A_RELEASE_RP,
    CT,
    EXPLICIT,
    RELEASE_RQ,
    ROOT,
    associate,
    c_store_start,
    closed_within,
    findings,
    finish,
    read_pdu,
    request,
    storescu,
    target,
)

listening = acceptor_clients.listening


def _drip(port: int, data: bytes, every: float, cut: list[float], start: threading.Event) -> None:
    """Send *data* one byte per *every* seconds; note when the harness closes the socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        start.wait(5)
        began = time.monotonic()
        for byte in data:
            try:
                sock.sendall(bytes([byte]))
                ready = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) if _readable(sock, every) else None
            except OSError:          # a reset: the harness closed with our bytes unread, a cut too
                break
            if ready == b"":
                break
        cut.append(time.monotonic() - began)


def _readable(sock: socket.socket, wait: float) -> bool:
    import select
    return bool(select.select([sock], [], [], wait)[0])


def test_clients_dripping_the_request_are_cut_at_the_artim_deadline(listening):
    """Six clients each sending the A-ASSOCIATE-RQ one byte per 0.1 s (it would take about
    30 s) with 3 slots and a 1 s ARTIM timer: each is cut at about 1 s, not reset per byte,
    and a well-behaved client then gets its association."""
    session = listening(limits=Limits(max_associations=3, acse_timeout=1.0), expect_associations=1)
    cuts: list[float] = []
    go = threading.Event()
    clients = [threading.Thread(target=_drip, args=(session.port, request(session.port), 0.1, cuts, go))
               for _ in range(6)]
    for c in clients:
        c.start()
    go.set()
    for c in clients:
        c.join(15)
    assert len(cuts) == 6 and max(cuts) < 4.0, cuts
    outcome, assoc = wire.open_association(target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert assoc is not None, outcome.describe()
    assoc.release()
    results = finish(session)
    dropped = [f for f in findings(results) if f.code == "listen.no-associate-request"]
    assert dropped and "within 1 s" in dropped[0].message


def test_a_pdu_dripped_inside_an_association_is_cut_at_its_deadline(listening):
    session = listening(limits=Limits(idle_timeout=1.0), expect_associations=1)
    sock = associate(session.port)
    began = time.monotonic()
    pdu = c_store_start(str(generate_uid()), b"\x00" * 64)
    for byte in pdu[:40]:                    # one byte per 0.1 s: never a whole PDU in 1 s
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        if _readable(sock, 0.1):
            break
    waited = closed_within(sock, 5) + (time.monotonic() - began)
    sock.close()
    assert waited < 4.5
    results = finish(session)
    assert any(f.code == "listen.association-idle" for f in findings(results))
    assert not list((session.config.out / "instances").glob(".incoming-*"))


def test_one_peer_address_cannot_hold_every_slot(listening):
    session = listening(limits=Limits(max_associations=10, max_per_peer=2, acse_timeout=5), expect_associations=3)
    held = [associate(session.port) for _ in range(2)]
    outcome, extra = wire.open_association(target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert extra is None
    assert (outcome.reject_result, outcome.reject_source, outcome.reject_reason) == (2, 3, 2)  # PS3.8 Table 9-21
    for sock in held:
        sock.sendall(RELEASE_RQ)
        assert read_pdu(sock)[0] == A_RELEASE_RP
        sock.close()
    results = finish(session)
    limit = [f for f in findings(results) if f.code == "listen.association-limit"]
    assert limit and "from 127.0.0.1" in limit[0].message and "local-limit-exceeded" in limit[0].message


class _FailingAccepts:
    """The listening socket, whose next *n* accept() calls fail with EMFILE."""

    def __init__(self, sock: socket.socket, n: int) -> None:
        self.sock, self.n = sock, n

    def accept(self):  # noqa: ANN201 - the socket's signature
        if self.n > 0:
            self.n -= 1
            time.sleep(0.01)
            raise OSError(errno.EMFILE, "Too many open files")
        return self.sock.accept()

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.sock, name)


def test_accept_errors_are_survived_reported_and_never_conform(listening, tmp_path):
    session = listening(expect_instances=1)
    listener = session.listener
    listener._sock = _FailingAccepts(listener._sock, 4)   # type: ignore[assignment]
    time.sleep(0.4)                                      # the accept in progress (0.2 s timeout) ends
    sent = storescu(session.port, tmp_path)              # accepted after the errors: the loop lived
    assert sent.returncode == 0, sent.stderr
    results = finish(session)
    step = results.step("listen/session")
    assert step.outcome == Outcome.ERROR.value
    assert any(f.code == "listen.accept-failed" and "EMFILE" in f.message for f in step.findings)
    assert results.exit_code() == ExitCode.COULD_NOT_TEST, [(s.id, s.outcome, s.message) for s in results.steps
                                                            if s.outcome != "pass"]


def _cli(out: Path, *args: str, nofile: int | None = None) -> subprocess.Popen[str]:
    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return subprocess.Popen([sys.executable, "-m", "conformance", "listen",
                             str(ROOT / "statements" / "dcmtk-storescu.yaml"), "--out", str(out),
                             "--no-validate", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=limit)


def _port_of(proc: subprocess.Popen[str]) -> int:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "listening as AE" in line:
            return int(line.split(" on ", 1)[1].split(" ", 1)[0].rsplit(":", 1)[1])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"listen did not start: {proc.communicate(timeout=10)}")


def test_emfile_in_a_real_process_is_survived(tmp_path):
    """`conformance listen` with 24 file descriptors: 40 silent connections exhaust them
    (EMFILE in accept); once they are closed, DCMTK storescu still stores, and the session ends
    incomplete (exit 3) with the accept failure reported, never CONFORMS."""
    proc = _cli(tmp_path / "out", "--acse-timeout", "5", "--max-associations", "200", "--max-per-peer", "200",
                "--expect", "1", "--timeout", "40", nofile=24)
    try:
        port = _port_of(proc)
        conns = []
        for _ in range(40):
            try:
                conns.append(socket.create_connection(("127.0.0.1", port), timeout=1))
            except OSError:
                break                                  # the backlog is full: accepting has failed
        time.sleep(0.5)
        for c in conns:
            c.close()
        time.sleep(0.5)
        sent = storescu(port, tmp_path)
        assert sent.returncode == 0, sent.stderr
        proc.wait(40)
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate(timeout=10)
    assert "Traceback" not in err
    assert proc.returncode == ExitCode.COULD_NOT_TEST, err
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    codes = {r["finding"]["code"] for r in records if r.get("kind") == "finding"}
    assert "listen.accept-failed" in codes


def test_an_over_size_c_store_is_answered_out_of_resources_and_not_kept(listening):
    session = listening(limits=Limits(max_store=4096), expect_associations=1)
    outcome, assoc = wire.open_association(target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert assoc is not None, outcome.describe()
    try:
        big = assoc.send_c_store(Proposal(CT, (EXPLICIT,)), CT, str(generate_uid()), b"\x00" * 40000, 1)
        small = assoc.send_c_store(Proposal(CT, (EXPLICIT,)), CT, str(generate_uid()), b"\x00" * 100, 2)
    finally:
        assoc.release()
    assert big.status == 0xA700 and small.status == 0x0000          # the association stayed in step
    results = finish(session)
    folder = session.config.out / "instances"
    assert len(list(folder.glob("*.dcm"))) == 1 and not list(folder.glob(".incoming-*"))
    over = [s for s in results.steps if any(f.code == "listen.store-too-large" for f in s.findings)]
    assert len(over) == 1 and over[0].outcome == Outcome.ERROR.value    # could not test it: never CONFORMS


@pytest.mark.parametrize("cut", ["abort", "reset", "release"])
def test_a_c_store_cut_off_leaves_no_partial_file(listening, cut):
    session = listening(expect_associations=1)
    sock = associate(session.port)
    sock.sendall(c_store_start(str(generate_uid()), b"\x00" * 2000))
    folder = session.config.out / "instances"
    deadline = time.monotonic() + 5
    while not list(folder.glob(".incoming-*")) and time.monotonic() < deadline:
        time.sleep(0.02)                                 # the partial file exists ...
    assert list(folder.glob(".incoming-*"))
    if cut == "abort":
        sock.sendall(ABORT)
    elif cut == "release":
        sock.sendall(RELEASE_RQ)
        assert read_pdu(sock)[0] == A_RELEASE_RP
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # RST on close
    sock.close()
    results = finish(session)
    assert not list(folder.glob(".incoming-*")) and not list(folder.glob("*.dcm"))       # ... and is gone
    if cut == "release":
        assert any(f.code == "listen.release-in-message" for f in findings(results))


def test_a_second_sigterm_while_stopping_keeps_the_final_record_and_the_reports(tmp_path):
    out = tmp_path / "out"
    proc = _cli(out, "--timeout", "60")
    try:
        port = _port_of(proc)
        held = associate(port)                  # stopping waits for it (grace): time for more signals
        first = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        stopping = time.monotonic() - first
        held.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate(timeout=10)
    assert "Traceback" not in err
    lines = (out / "results.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["kind"] == "run-finished" and last["aborted"], last          # the final record ...
    assert (out / "report.html").is_file() and (out / "results.json").is_file()   # ... and the reports
    assert stopping > 0.6, stopping           # the later signals came while it was stopping


def test_the_store_size_cap_with_dcmtk_storescu(tmp_path):
    """The CLI option with a real client: storescu's instance (about 1 kB) over a 512-byte cap is answered 0xA700,
    nothing is kept, the session cannot conform (exit 3)."""
    proc = _cli(tmp_path / "out", "--max-store-size", "512", "--expect-associations", "1", "--timeout", "30")
    try:
        port = _port_of(proc)
        sent = storescu(port, tmp_path)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sent.returncode != 0                          # storescu saw the failure status
    assert "Traceback" not in err and proc.returncode == ExitCode.COULD_NOT_TEST, err
    records = (tmp_path / "out" / "results.jsonl").read_text()
    assert '"status": "0xA700"' in records and "listen.store-too-large" in records
    assert not [p for p in (tmp_path / "out" / "instances").iterdir()]


@pytest.mark.parametrize("bad", ["12X", "0", "-5M", "M"])
def test_a_bad_store_size_is_an_input_error(tmp_path, bad):
    done = subprocess.run([sys.executable, "-m", "conformance", "listen", str(ROOT / "statements" / "dcmtk-storescu.yaml"),
                           "--out", str(tmp_path), "--max-store-size", bad, "--timeout", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == ExitCode.BAD_INPUT and "--max-store-size" in done.stderr and "Traceback" not in done.stderr

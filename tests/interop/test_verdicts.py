"""Verdicts on devices and set-ups the harness was not built with (issue 11).

- An Orthanc whose DicomModalities entry forbids C-GET and storage commitment for the
  harness (Orthanc 1.10 per-modality permissions): it accepts the presentation contexts and
  aborts each request. A statement claiming those services fails naming each claim; a
  truthful statement (``services.refused``) passes, with ``--strict`` too; discover -> run
  passes unchanged.
- Site set-up mistakes: an Orthanc that knows the harness under another AE title, or at
  another port: the steps end as ``setup`` (exit 4) with what to configure, never as a
  device failure.
- A device that drops the connection under a large proposal: discover retries with smaller
  ones and reports the size that broke it.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.engine import RunContext, run
from conformance.engine.model import RunOptions
from conformance.engine.results import RunResults
from conformance.exitcodes import ExitCode
from conformance.negotiation.target import Target, Timeouts
from conformance.statement import Statement, load_statement
from conformance.suite import build_plan
from conformance.testing import (
    Orthanc, free_port, orthanc_knowing_harness_as, restricted_orthanc,
)

from tests.interop.conftest import HARNESS_AE, SHIPPED

pytestmark = pytest.mark.peer

QUICK = Timeouts(connect=3, acse=5, dimse=5, network=20, liveness=3)
ORTHANC = SHIPPED / "orthanc-1.10.yaml"
REFUSED = """  refused:
    - {sop_class: PatientRootQueryRetrieveInformationModelGet, how: abort}
    - {sop_class: StudyRootQueryRetrieveInformationModelGet, how: abort}
    - {sop_class: StorageCommitmentPushModel, how: abort}
"""
#: The services touched by the restriction, and a round trip (which C-GET would carry).
AFFECTED = ("storage/store/CTImageStorage/ExplicitVRLittleEndian", "storage/round-trip/CTImageStorage",
            "query/StudyRoot/STUDY/unique-key", "retrieve/get/", "retrieve/move/StudyRoot/STUDY",
            "commitment/")


@pytest.fixture(scope="module")
def harness_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def restricted(harness_port: int) -> Iterator[Orthanc]:
    with restricted_orthanc(HARNESS_AE, harness_port) as peer:
        yield peer


@pytest.fixture
def truthful(tmp_path: Path) -> Path:
    """The shipped Orthanc statement plus services.refused for what the restriction forbids."""
    path = tmp_path / "orthanc-restricted.yaml"
    head, sep, tail = ORTHANC.read_text().partition("\ndicomweb:")   # the services section ends there
    path.write_text(head + "\n" + REFUSED + sep + tail)
    return path


def run_on(st: Statement, peer: Orthanc, port: int, patterns: tuple[str, ...], *, strict: bool = False,
           calling_ae: str = HARNESS_AE) -> RunResults:
    target = Target(peer.host, peer.port, called_ae="ORTHANC", calling_ae=calling_ae,
                    harness_port=port, timeouts=QUICK)
    return run(RunContext(st, target, RunOptions(strict=strict)), build_plan(st, patterns))


def outcomes(results: RunResults) -> dict[str, str]:
    return {s.id: s.outcome or "not run" for s in results.steps}


def conformance(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_false_c_get_and_commitment_claims_fail_naming_the_claim(restricted, harness_port):
    results = run_on(load_statement(ORTHANC), restricted, harness_port, AFFECTED)
    got = outcomes(results)
    gets = [s for s in got if s.startswith("retrieve/get/")]
    assert gets and all(got[s] == "fail" for s in gets), got
    assert got["commitment/request"] == "fail", got
    for step in results.steps:
        if step.outcome == "fail":
            assert "claimed; the device" in step.message and "after the" in step.message, step.message
            assert "as expected" not in step.message
            codes = {f.code for f in step.findings}
            assert codes == {"service.aborted", "service.abort-instead-of-status"}, codes
    first = results.step("retrieve/get/StudyRoot/STUDY")
    assert first is not None and first.message.startswith("C-GET (StudyRootQueryRetrieveInformationModelGet) claimed")
    assert results.step("commitment/request").message.startswith("N-ACTION (StorageCommitmentPushModel) claimed")
    # The working C-MOVE still carries the data round trip and the move steps.
    assert got["storage/round-trip/CTImageStorage"] == "pass", results.step("storage/round-trip/CTImageStorage")
    assert got["retrieve/move/StudyRoot/STUDY"] == "pass"
    assert "to 'CONFORMANCE'" in results.step("retrieve/move/StudyRoot/STUDY").message
    assert results.exit_code() is ExitCode.DEVIATION


def test_truthful_statement_of_the_restricted_device_passes_strict(restricted, harness_port, truthful):
    st = load_statement(truthful)
    results = run_on(st, restricted, harness_port, AFFECTED, strict=True)
    got = outcomes(results)
    assert set(got.values()) == {"pass"}, got
    assert {"retrieve/get/PatientRoot/refused", "retrieve/get/StudyRoot/refused", "commitment/refused"} <= set(got)
    assert results.exit_code() is ExitCode.OK
    # The same with the command line, --strict.
    ran = conformance("run", str(truthful), "--port", str(restricted.port), "--harness-port", str(harness_port),
                      "--strict", "-q", "--out", str(truthful.parent / "report"), *sum((["-k", p] for p in AFFECTED), []))
    assert ran.returncode == 0, ran.stdout[-3000:]


def test_declared_refusal_of_a_service_the_device_performs_fails(harness_port, truthful):
    with Orthanc("ORTHANC", harness_ae_title=HARNESS_AE, harness_port=harness_port) as plain:
        results = run_on(load_statement(truthful), plain, harness_port, ("retrieve/get/", "commitment/"))
    got = outcomes(results)
    assert got["retrieve/get/StudyRoot/refused"] == "fail" and got["commitment/refused"] == "fail", got
    codes = {f.code for s in results.steps for f in s.findings}
    assert "service.refused-but-performed" in codes


def test_false_unknown_destination_claim_fails_naming_the_claim(restricted, harness_port, tmp_path):
    claim = tmp_path / "a801.yaml"
    claim.write_text(ORTHANC.read_text().replace('unknown_destination_status: "C000"',
                                                 'unknown_destination_status: "A801"'))
    results = run_on(load_statement(claim), restricted, harness_port, ("retrieve/move/unknown-destination",))
    step = results.step("retrieve/move/unknown-destination")
    assert step is not None and step.outcome == "fail"
    [finding] = [f for f in step.findings if f.severity.value == "error"]
    assert finding.code == "retrieve.move-unknown-destination-claim"
    assert "NO-SUCH-AE" in finding.message and "A801" in finding.message


def test_discover_then_run_unchanged_passes_on_the_restricted_device(harness_port, tmp_path):
    with restricted_orthanc(HARNESS_AE, harness_port) as fresh:
        _discover_then_run(fresh, harness_port, tmp_path)


def _discover_then_run(restricted: Orthanc, harness_port: int, tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    found = conformance("discover", "--port", str(restricted.port), "--called-ae", "ORTHANC",
                        "--calling-ae", HARNESS_AE, "--out", str(draft))
    assert found.returncode == 0, found.stderr
    st = load_statement(draft)
    refused = {r.sop_class for r in st.services.refused}
    assert refused == {"1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3", "1.2.840.10008.1.20.1"}
    ran = conformance("run", str(draft), "--port", str(restricted.port), "--harness-port", str(harness_port),
                      "-q", "--out", str(tmp_path / "report"), "-k", "negotiation/verification",
                      "-k", "query/StudyRoot/STUDY/unique-key", "-k", "query/StudyRoot/STUDY/single-value",
                      "-k", "query/StudyRoot/STUDY/wildcard", "-k", "retrieve/", "-k", "commitment/")
    assert ran.returncode == 0, ran.stdout[-3000:]
    diff = conformance("diff", str(ORTHANC), "--port", str(restricted.port), "--format", "json")
    assert diff.returncode == 1, diff.stdout[-3000:]
    claims = {d["claim"]: d for d in json.loads(diff.stdout) if d["severity"] == "error"}
    assert set(claims) == {"SCP PatientRootQueryRetrieveInformationModelGet service",
                           "SCP StudyRootQueryRetrieveInformationModelGet service",
                           "SCP StorageCommitmentPushModel service"}, claims
    assert all(d["observed"].startswith("refused: ") for d in claims.values())


def test_unknown_calling_ae_is_a_set_up_problem(harness_port):
    with orthanc_knowing_harness_as("SOMEONE-ELSE", harness_port) as peer:
        results = run_on(load_statement(ORTHANC), peer, harness_port,
                         ("negotiation/verification", "query/StudyRoot/STUDY/unique-key",
                          "retrieve/get/StudyRoot/STUDY", "commitment/"))
    got = outcomes(results)
    assert got["negotiation/verification"] == "pass"           # C-ECHO works for any AE title
    for sid in ("query/StudyRoot/STUDY/unique-key", "retrieve/get/StudyRoot/STUDY", "commitment/request"):
        assert got[sid] == "setup", (sid, results.step(sid).message)
        message = results.step(sid).message
        assert "calling AE title 'CONFORMANCE'" in message and "Add the harness" in message
    assert not [f for s in results.steps for f in s.findings if f.severity.value == "error"]
    assert results.exit_code() is ExitCode.SETUP_PROBLEM


def test_wrong_harness_port_is_a_set_up_problem(harness_port):
    elsewhere = free_port()
    with orthanc_knowing_harness_as(HARNESS_AE, elsewhere) as peer:
        results = run_on(load_statement(ORTHANC), peer, harness_port,
                         ("query/StudyRoot/STUDY/unique-key", "retrieve/move/StudyRoot/STUDY"))
    got = outcomes(results)
    assert got["query/StudyRoot/STUDY/unique-key"] == "pass"
    move = results.step("retrieve/move/StudyRoot/STUDY")
    assert move.outcome == "setup", move.message
    assert "never opened the C-MOVE sub-association" in move.message and str(harness_port) in move.message
    assert results.exit_code() is ExitCode.SETUP_PROBLEM


# --- a device that drops large proposals ----------------------------------------------

class ContextLimitProxy:
    """A loopback TCP proxy in front of a real peer that closes the connection when an
    A-ASSOCIATE-RQ proposes more than *limit* presentation contexts (PS3.8 9.3.2: items of
    type 20H), and otherwise forwards both ways."""

    def __init__(self, upstream: tuple[str, int], limit: int) -> None:
        self.upstream, self.limit = upstream, limit
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ContextLimitProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise OSError("closed")
            out += chunk
        return out

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(10)
        try:
            head = self._read(client, 6)
            body = self._read(client, struct.unpack(">I", head[2:])[0])
            pos, contexts = 68, 0
            while pos + 4 <= len(body):
                kind, length = body[pos], struct.unpack(">H", body[pos + 2:pos + 4])[0]
                contexts += kind == 0x20
                pos += 4 + length
            if head[0] == 0x01 and contexts > self.limit:
                self.dropped += 1
                client.close()
                return
            upstream = socket.create_connection(self.upstream, timeout=10)
            upstream.sendall(head + body)
        except OSError:
            client.close()
            return
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_discover_retries_smaller_proposals_and_reports_the_size_that_broke(restricted, tmp_path):
    with ContextLimitProxy((restricted.host, restricted.port), limit=64) as proxy:
        draft = tmp_path / "draft.yaml"
        found = conformance("discover", "--port", str(proxy.port), "--called-ae", "ORTHANC",
                            "--out", str(draft), "--acse-timeout", "3")
        assert found.returncode == 0, found.stderr
        assert proxy.dropped >= 1
        dropped = re.search(r"dropped an association proposing (\d+) presentation contexts", found.stderr)
        assert dropped is not None, found.stderr
        assert 64 < int(dropped.group(1)) <= 128
        text = draft.read_text()
        assert "# finding: the device dropped an association proposing" in text
        assert "CTImageStorage" in text
        with_small = conformance("discover", "--port", str(proxy.port), "--called-ae", "ORTHANC",
                                 "--packing", "32", "--out", str(tmp_path / "small.yaml"))
        assert with_small.returncode == 0 and "dropped" not in with_small.stderr


def test_echo_refused_for_the_harness_but_answered_for_another_ae_title_is_a_set_up_problem(harness_port):
    from conformance.families.setup import SECOND_CALLING_AE
    with orthanc_knowing_harness_as(SECOND_CALLING_AE, harness_port,
                                    config={"DicomAlwaysAllowEcho": False}) as peer:
        results = run_on(load_statement(ORTHANC), peer, harness_port, ("negotiation/verification",))
    step = results.step("negotiation/verification")
    assert step.outcome == "setup", step.message
    assert f"C-ECHO from {SECOND_CALLING_AE!r} is answered, from 'CONFORMANCE' not" in step.message
    assert results.exit_code() is ExitCode.SETUP_PROBLEM

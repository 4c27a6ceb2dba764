"""Safety bounds of the harness SCP (file names, loopback, association limit, idle and ARTIM
timeouts), the pure negotiation checks, input errors and exit codes of the CLI."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from pydicom import dcmread

from conformance.errors import InputError
from conformance.exitcodes import ExitCode
from conformance.listen.misbehaviour import parse
from conformance.listen.negotiate import answer, check_request
from conformance.listen.server import Limits
from conformance.listen.store import safe_uid
from conformance.wire import requestor as wire
from conformance.wire.contexts import ProposedContext as Proposal
from conformance.wire.identity import MAX_PDU_RECEIVE
from conformance.wire.pdu import ASSOCIATE_RQ, AssociateRequest, decode
from conformance.wire.pdu import RequestedContext as ProposedContext
from conformance.wire.target import Target, Timeouts
from tests.listen.conftest import CT, HARNESS_AE, ROOT, SHIPPED, finish

EXPLICIT = "1.2.840.10008.1.2.1"


def _target(port: int, calling: str = "STORESCU") -> Target:
    return Target("127.0.0.1", port, HARNESS_AE, calling, Timeouts(connect=5, acse=5, dimse=5))


def test_a_path_like_sop_instance_uid_is_refused_and_never_a_file_name(listening, storescu_statement, study_files):
    session = listening(storescu_statement, expect_associations=1)
    outcome, assoc = wire.open_association(_target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert assoc is not None, outcome.describe()
    data = study_files[1].read_bytes()[132:]          # any bytes: the UID check comes first
    try:
        rsp = assoc.send_c_store(Proposal(CT, (EXPLICIT,)), CT, "../../etc/evil", data, 1)
    finally:
        assoc.release()
    assert rsp.status == 0xC000
    results = finish(session)
    out = session.config.out
    assert not list(out.rglob("*evil*")) and not list((out / "instances").glob("*.dcm"))
    bad = results.step("listen/instance/invalid-uid")          # nothing path-like in step ids either
    assert any(f.code == "listen.invalid-sop-instance-uid" for f in bad.findings)
    assert not list((out / "instances").glob(".incoming-*"))


def test_association_limit_and_idle_timeout_are_bounded_and_reported(listening, storescu_statement):
    session = listening(storescu_statement, limits=Limits(max_associations=1, acse_timeout=5, idle_timeout=0.5),
                        expect_associations=2)
    assert session.listener._sock.getsockname()[0] == "127.0.0.1"     # loopback by default
    _outcome, held = wire.open_association(_target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert held is not None
    second, extra = wire.open_association(_target(session.port), [Proposal(CT, (EXPLICIT,))])
    assert extra is None and second.reject_result == 2 and second.reject_reason == 2   # transient, local limit
    results = finish(session)      # the held association is aborted by the idle timeout
    codes = {f.code for s in results.steps for f in s.findings}
    assert {"listen.association-limit", "listen.association-idle"} <= codes
    assert results.step("listen/session").observations[0]["max_associations"] == 1
    held.abort()


def test_a_silent_connection_is_dropped_after_the_artim_timeout(listening, storescu_statement):
    session = listening(storescu_statement, limits=Limits(acse_timeout=0.5), expect_associations=1)
    with socket.create_connection(("127.0.0.1", session.port), timeout=5) as sock:
        sock.settimeout(5)
        assert sock.recv(16) == b""          # closed by the harness, not held open
    results = finish(session)
    assert any(f.code == "listen.no-associate-request" for s in results.steps for f in s.findings)


def _request(**kw) -> AssociateRequest:
    base = dict(protocol_version=1, called_ae=HARNESS_AE, calling_ae="STORESCU",
                application_context="1.2.840.10008.3.1.1.1",
                contexts=[ProposedContext(1, CT, [EXPLICIT])], max_pdu=16384,
                implementation_class_uid="1.2.276.0.7230010.3.0.3.6.7",
                implementation_version_name="OFFIS_DCMTK_367")
    base.update(kw)
    return AssociateRequest(**base)


def test_request_checks_are_pure_and_name_each_claim(storescu_statement):
    assert check_request(_request(), storescu_statement, HARNESS_AE) == []
    bad = _request(calling_ae="X", called_ae="Y", max_pdu=0, protocol_version=0,
                   contexts=[ProposedContext(2, CT, [EXPLICIT]), ProposedContext(2, CT, [])],
                   implementation_class_uid=None, roles={CT: (0, 1)})
    codes = {f.code for f in check_request(bad, storescu_statement, HARNESS_AE)}
    assert codes == {"listen.calling-ae-title", "listen.called-ae-title", "listen.max-pdu",
                     "listen.protocol-version", "listen.context-ids", "listen.context-malformed",
                     "listen.implementation-class-uid", "listen.no-implementation-class-uid",
                     "listen.undeclared-role-selection"}


def test_answer_accepts_what_it_serves_and_rejects_on_purpose():
    req = _request(contexts=[ProposedContext(1, CT, ["1.2.840.10008.1.2.4.50", EXPLICIT]),
                             ProposedContext(3, "1.2.3.4.5", [EXPLICIT]),
                             ProposedContext(5, "1.2.840.10008.5.1.4.31", ["1.2.840.10008.1.2.4.50"])])
    ans = answer(req)
    assert [(c.result, c.transfer_syntax) for c in ans.contexts] == [
        (0, "1.2.840.10008.1.2.4.50"), (3, ""), (4, "")]      # storage keeps any syntax; MWL must decode
    rejecting = answer(req, parse(["reject=CTImageStorage/JPEGBaseline8Bit"]))
    assert (rejecting.contexts[0].result, rejecting.contexts[0].transfer_syntax) == (0, EXPLICIT)
    assert answer(req, parse(["reject=CTImageStorage"])).contexts[0].result == 3


def test_associate_rq_round_trip_through_the_requestor_encoder():
    raw = wire.associate_rq(_target(104), [Proposal(CT, (EXPLICIT,), scu_role=False, scp_role=True)])
    req = decode(ASSOCIATE_RQ, raw[6:])
    assert isinstance(req, AssociateRequest) and not req.problems
    assert (req.calling_ae, req.called_ae, req.max_pdu) == ("STORESCU", HARNESS_AE, MAX_PDU_RECEIVE)
    assert req.contexts[0].abstract_syntax == CT and req.roles == {CT: (0, 1)}


@pytest.mark.parametrize("value, ok", [("1.2.840.10008.1", True), ("../x", False), ("1.02.3", False),
                                       ("1." + "2" * 70, False), ("", False), ("1.2.3/4", False)])
def test_safe_uid(value, ok):
    assert safe_uid(value) is ok


@pytest.mark.parametrize("bad", ["reject", "reject=NoSuchClass", "store-status=zz", "delay=-1", "sing=1"])
def test_misbehaviour_input_errors(bad):
    with pytest.raises(InputError):
        parse([bad])


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", "listen", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_cli_exit_codes(tmp_path):
    nothing = _cli(str(SHIPPED / "dcmtk-storescu.yaml"), "--timeout", "0.5", "--out", str(tmp_path / "a"), "-q")
    assert nothing.returncode == ExitCode.COULD_NOT_TEST, nothing.stderr
    bad = _cli(str(SHIPPED / "dcmtk-storescu.yaml"), "--misbehave", "reject=CTImageStorag", "--out", str(tmp_path))
    assert bad.returncode == ExitCode.BAD_INPUT and "did you mean CTImageStorage" in bad.stderr
    missing = _cli(str(tmp_path / "none.yaml"), "--out", str(tmp_path))
    assert missing.returncode == ExitCode.BAD_INPUT


def test_report_from_the_jsonl_matches_the_live_one(listening, storescu_statement, study_files):
    """The recorder gets the same events as live: `conformance report` re-renders the session."""
    from conformance.engine.recorder import JsonlRecorder
    from conformance.engine.results import read_jsonl
    from conformance.listen import ListenConfig, ListenSession
    from tests.listen.conftest import run_tool
    out = study_files[0].parent.parent / "jsonl-check"
    session = ListenSession(ListenConfig(storescu_statement, out, expect_instances=1, timeout=30),
                            [JsonlRecorder(out / "results.jsonl")]).start()
    run_tool("storescu", "-aec", HARNESS_AE, "127.0.0.1", str(session.port), str(study_files[1]))
    live = finish(session)
    again = read_jsonl(out / "results.jsonl")
    assert [(s.id, s.title, s.outcome) for s in again.steps] == [(s.id, s.title, s.outcome) for s in live.steps]
    assert again.exit_code() == live.exit_code() == 0
    uid = dcmread(study_files[1]).SOPInstanceUID
    assert again.step(f"listen/instance/{uid}").title == "CT Image Storage instance received"


def test_ctrl_c_ends_the_session_with_its_reports(tmp_path):
    import select
    import signal
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "listen", str(SHIPPED / "dcmtk-storescu.yaml"),
                             "--out", str(tmp_path), "--timeout", "60"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready, _w, _x = select.select([proc.stderr], [], [], 30)
        assert ready and "listening as AE" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == ExitCode.COULD_NOT_TEST, err
    assert (tmp_path / "report.html").exists()
    assert json.loads((tmp_path / "results.json").read_text())["aborted"] == "interrupted by the user"

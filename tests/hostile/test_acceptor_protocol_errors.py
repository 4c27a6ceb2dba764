"""The calling device's protocol errors are findings of ``listen`` (issue 16, item 3, acceptor
side), each with its PS3.8 / PS3.7 reference and what the device sent, and the session's
verdict shows them (DEVIATES, exit 1): a malformed A-ASSOCIATE-RQ, another PDU instead of it,
a PDV running past its PDU, data on a presentation context never proposed or not accepted, an
A-RELEASE-RQ inside a message. An item of unknown type is skipped (PS3.8 9.3.1), a warning.
Raw bytes on loopback; the baseline (the same client without the error) conforms."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys

import pytest
from pydicom.uid import generate_uid

from conformance.exitcodes import ExitCode
from conformance.wire.pdu import RequestedContext, encode_associate_rq, fragment
from tests.hostile import acceptor_clients
from tests.hostile.acceptor_clients import (
    A_ABORT,
    A_RELEASE_RP,
    CT,
    EXPLICIT,
    RELEASE_RQ,
    ROOT,
    associate,
    c_echo_command,
    c_store_command,
    c_store_start,
    dcmtk_request,
    findings,
    finish,
    pdv_pdu,
    read_pdu,
)

listening = acceptor_clients.listening
GOOD = encode_associate_rq(dcmtk_request())


def _with_item(rq: bytes, item_type: int, payload: bytes) -> bytes:
    """*rq* with one more item at its end, the PDU length fixed."""
    body = rq[6:] + struct.pack(">BBH", item_type, 0, len(payload)) + payload
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def _longer_last_item(rq: bytes) -> bytes:
    """*rq* whose user information item (the last) claims 8 bytes more than there are."""
    pos = rq.rindex(b"\x50\x00")          # user information item (0x50)
    length = struct.unpack_from(">H", rq, pos + 2)[0]
    return rq[:pos + 2] + struct.pack(">H", length + 8) + rq[pos + 4:]


def _verdict(session) -> tuple[list, ExitCode]:
    results = finish(session)
    return findings(results), results.exit_code()


def test_the_baseline_client_conforms(listening):
    session = listening(expect_associations=1)
    sock = associate(session.port, raw=GOOD)
    sock.sendall(RELEASE_RQ)
    assert read_pdu(sock)[0] == A_RELEASE_RP
    sock.close()
    found, code = _verdict(session)
    assert code == ExitCode.OK, found


@pytest.mark.parametrize("raw, problem", [
    (encode_associate_rq(dcmtk_request(implementation_version_name="X" * 20)), "implementation version name"),
    (_longer_last_item(GOOD), "runs"),
    (encode_associate_rq(dcmtk_request(calling_ae="BAD\\AE")), "AE title"),
    (encode_associate_rq(dcmtk_request(contexts=[RequestedContext(2, CT, [EXPLICIT])])), "is even"),
    (encode_associate_rq(dcmtk_request(contexts=[RequestedContext(1, CT, [EXPLICIT]),
                                                 RequestedContext(1, CT, ["1.2.840.10008.1.2"])])), "used twice"),
    (encode_associate_rq(dcmtk_request(contexts=[RequestedContext(1, CT, [])])), "no transfer syntax"),
    (encode_associate_rq(dcmtk_request(contexts=[])), "no presentation context"),
])
def test_a_malformed_associate_rq_is_aborted_and_a_finding(listening, raw, problem):
    session = listening(expect_associations=1)
    with socket.create_connection(("127.0.0.1", session.port), timeout=5) as sock:
        sock.sendall(raw)
        kind, body = read_pdu(sock)
    assert kind == A_ABORT and body[2:4] == bytes((2, 6))      # provider, invalid-PDU-parameter value
    found, code = _verdict(session)
    bad = [f for f in found if f.code == "listen.malformed-associate-rq"]
    assert bad and bad[0].severity.value == "error" and problem in bad[0].message and "PS3.8 9.3.2" in bad[0].reference
    assert code == ExitCode.DEVIATION


def test_another_pdu_instead_of_the_request_is_a_finding(listening):
    session = listening(expect_associations=1)
    with socket.create_connection(("127.0.0.1", session.port), timeout=5) as sock:
        sock.sendall(pdv_pdu(1, 0x03, b"\x00" * 8))
        assert read_pdu(sock)[0] == A_ABORT
    found, code = _verdict(session)
    assert any(f.code == "listen.unexpected-pdu" and "P-DATA-TF" in f.message for f in found)
    assert code == ExitCode.DEVIATION


def test_an_item_of_unknown_type_is_skipped_with_a_warning(listening):
    session = listening(expect_associations=1)
    sock = associate(session.port, raw=_with_item(GOOD, 0x99, b"\x01\x02"))
    sock.sendall(RELEASE_RQ)
    assert read_pdu(sock)[0] == A_RELEASE_RP
    sock.close()
    found, _code = _verdict(session)
    assert [f.severity.value for f in found if f.code == "listen.unknown-associate-item"] == ["warning"]


def _p_data_case(case: str) -> bytes:
    if case == "pdv-past-pdu":                    # the PDV claims 1000 bytes, the PDU holds 10
        pdv = struct.pack(">IBB", 1000, 1, 0x03) + b"\x00" * 8
        return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv
    if case == "never-proposed":
        return fragment(99, c_store_command(str(generate_uid())), True, 16384)
    return fragment(3, c_store_command(str(generate_uid())), True, 16384)      # rejected context 3


@pytest.mark.parametrize("case, code, says", [
    ("pdv-past-pdu", "listen.malformed-p-data", "past the PDU"),
    ("never-proposed", "listen.data-on-unaccepted-context", "never proposed"),
    ("rejected", "listen.data-on-unaccepted-context", "proposed but not accepted"),
])
def test_bad_p_data_is_aborted_and_a_finding(listening, case, code, says):
    session = listening(expect_associations=1)
    rq = dcmtk_request()
    rq.contexts.append(type(rq.contexts[0])(3, "1.2.3.4.5.6.7", ["1.2.840.10008.1.2.1"]))  # not served: rejected
    sock = associate(session.port, raw=encode_associate_rq(rq))
    sock.sendall(_p_data_case(case))
    kind, _body = read_pdu(sock)
    sock.close()
    assert kind == A_ABORT
    found, exit_code = _verdict(session)
    hits = [f for f in found if f.code == code]
    assert hits and hits[0].severity.value == "error" and says in hits[0].message and "PS3.8 9.3.5" in hits[0].reference
    assert exit_code == ExitCode.DEVIATION


def test_a_release_inside_a_message_is_a_finding(listening):
    session = listening(expect_associations=1)
    sock = associate(session.port, raw=GOOD)
    sock.sendall(c_store_start(str(generate_uid()), b"\x00" * 100))
    sock.sendall(RELEASE_RQ)
    assert read_pdu(sock)[0] == A_RELEASE_RP
    sock.close()
    found, exit_code = _verdict(session)
    hits = [f for f in found if f.code == "listen.release-in-message"]
    assert hits and "PS3.7 6.3.1" in hits[0].reference and exit_code == ExitCode.DEVIATION
    assert not list((session.config.out / "instances").glob("*"))


def test_the_cli_reports_a_malformed_request_without_a_traceback(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "listen",
                             str(ROOT / "statements" / "dcmtk-storescu.yaml"), "--out", str(tmp_path),
                             "--no-validate", "--expect-associations", "1", "--timeout", "30"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    from tests.hostile.test_acceptor_starvation import _port_of
    try:
        port = _port_of(proc)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(_longer_last_item(GOOD))
            assert read_pdu(sock)[0] == A_ABORT
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err + out
    assert proc.returncode == ExitCode.DEVIATION, err
    assert "A-ASSOCIATE-RQ" in out + err and (tmp_path / "report.html").is_file()


def test_a_fault_of_the_harness_is_never_blamed_on_the_device(listening):
    session = listening(expect_associations=1)

    def broken(_assoc, _msg):
        raise RuntimeError("injected fault")

    session.services["echo"] = broken          # the listener serves from this same table
    sock = associate(session.port, raw=encode_associate_rq(dcmtk_request(contexts=[
        type(dcmtk_request().contexts[0])(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])])))
    sock.sendall(fragment(1, c_echo_command(), True, 16384))
    assert read_pdu(sock)[0] == A_ABORT
    sock.close()
    results = finish(session)
    step = results.step("listen/association/1")
    assert step.outcome == "error" and "injected fault" in step.message
    assert results.exit_code() == ExitCode.COULD_NOT_TEST


def test_a_data_set_after_a_c_echo_rq_is_a_finding_though_the_association_goes_on(listening):
    """PS3.7 9.3.5.1 / E.1: a C-ECHO-RQ has no data set (Command Data Set Type 0x0101). The
    harness reads the stray data set, answers the echo and releases; the error is reported."""
    from conformance.wire import dimse

    session = listening(expect_associations=1)
    from conformance.wire.pdu import RequestedContext

    echo = RequestedContext(1, "1.2.840.10008.1.1", [acceptor_clients.EXPLICIT])
    sock = associate(session.port, raw=encode_associate_rq(dcmtk_request(contexts=[echo])))
    command = dimse.encode_command({0x0002: "1.2.840.10008.1.1", 0x0100: dimse.C_ECHO_RQ, 0x0110: 1,
                                    0x0800: 0x0000})
    sock.sendall(fragment(1, command, True, 16384) + pdv_pdu(1, 0x02, b"\x08\x00\x50\x00\x00\x00\x00\x00"))
    assert read_pdu(sock)[0] == 0x04                        # P-DATA-TF: the C-ECHO-RSP
    sock.sendall(RELEASE_RQ)
    assert read_pdu(sock)[0] == A_RELEASE_RP
    sock.close()
    found, code = _verdict(session)
    assert [f.code for f in found] == ["protocol.unexpected-data-set"], found
    assert "PS3.7 9.3.5.1" in found[0].reference and code == ExitCode.DEVIATION

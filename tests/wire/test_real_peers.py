"""The wire stack against real peers: an Orthanc 1.10 whose per-modality permissions forbid
C-GET for the harness accepts the context and aborts the request, and the typed ending says
so (which request, how soon, A-ABORT source); the same Orthanc answers C-ECHO; storescu
(DCMTK) reads the wire acceptor's A-ASSOCIATE-AC and stores through it."""

from __future__ import annotations

import subprocess
import time

import pytest
from pydicom.dataset import Dataset

from conformance.families.verdict import Reply, from_wire
from conformance.testing.peers import free_port, restricted_orthanc
from conformance.wire import dimse
from conformance.wire.association import WireError
from conformance.wire.contexts import ProposedContext
from conformance.wire.outcome import Ending
from conformance.wire.requestor import open_association
from conformance.wire.target import Target, Timeouts

HARNESS = "CONFORMANCE"
STUDY_GET = "1.2.840.10008.5.1.4.1.2.2.3"
CT = "1.2.840.10008.5.1.4.1.1.2"
UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")


@pytest.fixture(scope="module")
def forbidding_orthanc():
    with restricted_orthanc(HARNESS, free_port(), forbid=("AllowGet",)) as peer:
        yield peer


def test_a_forbidden_c_get_is_an_abort_right_after_the_request(forbidding_orthanc):
    target = Target(forbidding_orthanc.host, forbidding_orthanc.port, forbidding_orthanc.ae_title, HARNESS,
                    Timeouts(connect=5, acse=5, dimse=5))
    get = ProposedContext(STUDY_GET, UNCOMPRESSED)
    outcome, assoc = open_association(target, [get, ProposedContext(CT, UNCOMPRESSED, scu_role=False, scp_role=True)])
    assert assoc is not None and outcome.contexts[0].accepted
    ident = Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    ident.StudyInstanceUID = "1.2.826.0.1.3680043.10.1375.404"
    started = time.monotonic()
    with pytest.raises(WireError) as err:
        assoc.send_c_get(get, dimse.encode_data_set(ident, assoc.transfer_syntax_of(assoc.context_ids[get])), 1,
                         lambda *a: 0x0000)
    assoc.close()
    end = err.value.end
    assert end.kind is Ending.ABORTED and end.after_request == "C-GET-RQ", end
    assert end.after_ms is not None and end.after_ms < 2000
    un = from_wire(assoc.ending, "C-GET", started, 5)
    assert un.reply is Reply.ABORTED and un.after_ms is not None and un.after_ms < 2000
    assert "aborted the association" in un.describe()


def test_the_same_orthanc_answers_c_echo(forbidding_orthanc):
    target = Target(forbidding_orthanc.host, forbidding_orthanc.port, forbidding_orthanc.ae_title, HARNESS,
                    Timeouts(connect=5, acse=5, dimse=5))
    echo = ProposedContext("1.2.840.10008.1.1", ("1.2.840.10008.1.2",))
    outcome, assoc = open_association(target, [echo])
    assert assoc is not None
    try:
        assert assoc.send_c_echo(echo).status == 0x0000
    finally:
        assoc.release()
    assert assoc.ending is not None and assoc.ending.kind is Ending.RELEASED
    assert outcome.implementation_class_uid and outcome.max_pdu


def test_echoscu_associates_with_the_wire_acceptor():
    """DCMTK's echoscu reads the acceptor's A-ASSOCIATE-AC and C-ECHO-RSP (an independent peer)."""
    from conformance.services.listener import HarnessListener

    with HarnessListener(HARNESS, 0) as listener:
        done = subprocess.run(["/usr/bin/echoscu", "-aec", HARNESS, "127.0.0.1", str(listener.port)],
                              capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert listener.calling_aes == ["ECHOSCU"]

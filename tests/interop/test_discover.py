"""`conformance discover` and `conformance diff` against the real peers.

Discovery of each peer must give a draft statement that `conformance run` then passes
against the same device, unchanged; `diff` of each shipped statement matches its device, and
a wrong statement differs exactly in its wrong claims.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conformance.statement import load_statement

from tests.conftest import DATA, STATEMENTS


def conformance(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("peer_name", ["orthanc", "storescp_xa", "storescp_plain", "dcmqrscp"])
def test_discovered_statement_passes_run_unchanged(peer_name, request, tmp_path):
    peer = request.getfixturevalue(peer_name)
    draft = tmp_path / "draft.yaml"
    found = conformance("discover", "--port", str(peer.port), "--called-ae", peer.ae_title, "--out", str(draft))
    assert found.returncode == 0, found.stderr
    st = load_statement(draft)                      # valid against the schema
    assert "UNKNOWN" in draft.read_text() and "observed" in draft.read_text()
    assert st.network.ae_titles == (peer.ae_title,)
    ran = conformance("run", str(draft), "--port", str(peer.port), "--out", str(tmp_path / "report"), "-q")
    assert ran.returncode == 0, ran.stdout[-2000:]


def test_discovery_of_orthanc_matches_its_shipped_statement(orthanc, tmp_path):
    draft = tmp_path / "orthanc.yaml"
    assert conformance("discover", "--port", str(orthanc.port), "--called-ae", "ORTHANC", "--out", str(draft)).returncode == 0
    found, shipped = load_statement(draft), load_statement(STATEMENTS / "orthanc-1.10.yaml")
    def scp(st):
        return {(c.sop_class, ts) for c in st.transfer_capabilities if c.role.value == "SCP"
                for ts in c.transfer_syntaxes}

    def role(st):
        return {(c.sop_class, ts) for c in st.transfer_capabilities if c.role_selection
                for ts in c.transfer_syntaxes}

    assert scp(found) == scp(shipped)
    assert role(found) == role(shipped)
    assert found.network.max_pdu_receive == shipped.network.max_pdu_receive
    assert found.network.checks_called_ae_title is shipped.network.checks_called_ae_title


@pytest.mark.parametrize("statement, peer_name", [("orthanc-1.10.yaml", "orthanc"),
                                                  ("dcmtk-storescp.yaml", "storescp_xa"),
                                                  ("dcmtk-dcmqrscp.yaml", "dcmqrscp")])
def test_diff_of_each_shipped_statement_matches(statement, peer_name, request):
    peer = request.getfixturevalue(peer_name)
    result = conformance("diff", str(STATEMENTS / statement), "--port", str(peer.port), "--format", "json")
    assert result.returncode == 0, result.stdout[-2000:]
    assert [d for d in json.loads(result.stdout) if d["severity"] != "info"] == []


def test_diff_of_a_wrong_statement_lists_exactly_its_wrong_claims(orthanc):
    result = conformance("diff", str(DATA / "statements" / "orthanc-wrong.yaml"), "--port", str(orthanc.port),
                         "--format", "json")
    assert result.returncode == 1
    errors = {d["claim"] for d in json.loads(result.stdout) if d["severity"] == "error"}
    assert errors == {
        "checks called AE title",
        "max pdu receive",
        "SCP CTImageStorage HTJ2KLossless",
        "SCP PhotoacousticImageStorage ExplicitVRLittleEndian",
        "SCP ModalityWorklistInformationModelFind ImplicitVRLittleEndian",
        "SCU PhotoacousticImageStorage ExplicitVRLittleEndian role selection",
    }


def test_discover_of_nothing_listening_exits_3():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = conformance("discover", "--port", str(port))
    assert result.returncode == 3 and "could not discover" in result.stderr and "Traceback" not in result.stderr

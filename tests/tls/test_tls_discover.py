"""``discover --tls`` drafts a ``secure_transport`` section from TLS probes (PS3.15 Annex B)
against real peers, and the draft's claims then pass the ``tls`` family against the same peer:
what discovery says the device does, the run confirms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.statement import load_statement
from conformance.testing.peers import Orthanc, TlsStoreSCP, child_env, orthanc_tls_config

from .conftest import Pki
from .test_tls_peers import _outcomes, _run

pytestmark = pytest.mark.peer
ROOT = Path(__file__).resolve().parents[2]


def _discover(pki: Pki, port: int, called_ae: str, out: Path, client: bool = True) -> subprocess.CompletedProcess:
    cert = ["--tls-cert", str(pki.client_cert), "--tls-key", str(pki.client_key)] if client else []
    return subprocess.run([sys.executable, "-m", "conformance", "discover", "--port", str(port), "--called-ae",
                           called_ae, "--out", str(out), "--tls", "--tls-ca", str(pki.ca), *cert],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=child_env())


def test_discover_tls_drafts_storescp_non_downgrading_profile_and_its_certificate_policy(pki: Pki, tmp_path: Path):
    draft = tmp_path / "draft.yaml"
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca, profile="+py", peer_cert="require") as scp:
        done = _discover(pki, scp.port, "STORESCP", draft)
        assert done.returncode == 0, done.stderr
        st = load_statement(draft)
        assert st.secure_transport is not None
        assert "bcp195-non-downgrading" in st.secure_transport.profiles
        assert "basic-tls" not in st.secure_transport.profiles
        assert st.secure_transport.ports == (scp.port,)
        assert st.secure_transport.client_certificate_required is True
        results = _run(st, scp.port, pki.options())
    outcomes = _outcomes(results)
    assert outcomes and all(o == "pass" for o in outcomes.values()), outcomes


def test_discover_tls_drafts_only_b9_for_orthanc_that_accepts_tls10(pki: Pki, tmp_path: Path):
    draft = tmp_path / "draft.yaml"
    with Orthanc(config=orthanc_tls_config(pki.server_cert, pki.server_key, pki.ca, False)) as orthanc:
        done = _discover(pki, orthanc.port, "ORTHANC", draft)
        assert done.returncode == 0, done.stderr
        st = load_statement(draft)
        assert st.secure_transport is not None
        assert st.secure_transport.profiles == ("bcp195",)        # TLS 1.0 accepted: B.10-B.12 do not hold
        assert st.secure_transport.client_certificate_required is False
        text = draft.read_text()
        assert "bcp195-non-downgrading: not drafted: TLSv1 accepted" in text
        results = _run(st, orthanc.port, pki.options())
    outcomes = _outcomes(results)
    assert outcomes and all(o == "pass" for o in outcomes.values()), outcomes

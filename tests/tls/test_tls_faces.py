"""The TLS options on the other faces: `conformance listen --tls` with DCMTK storescu +tls as
the modality, and the pytest plugin's --dicom-tls options against storescp +tls."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from conformance.exitcodes import ExitCode
from conformance.iod import synthesize
from conformance.services.encoding import encode
from conformance.testing import free_port
from conformance.testing.peers import TlsStoreSCP, child_env, dcmtk_tool

from tests.listen.conftest import wait_banner

from .conftest import HERE, Pki

pytestmark = pytest.mark.peer
ROOT = HERE.parents[1]
CT = "1.2.840.10008.5.1.4.1.1.2"


def _ct_file(folder: Path) -> Path:
    ds = encode(synthesize(CT), "1.2.840.10008.1.2.1").dataset
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = folder / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_listen_over_tls_receives_from_storescu_tls_and_refuses_plain(pki: Pki, tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "report"
    ct = _ct_file(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "listen", str(ROOT / "statements" / "dcmtk-storescu.yaml"),
         "--port", str(port), "--expect", "1", "--timeout", "60", "--out", str(out), "--tls",
         "--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key), "--tls-ca", str(pki.ca),
         "--tls-require-client-cert"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = wait_banner(proc, "listening as AE")
        assert f"127.0.0.1:{port}" in banner, banner
        plain = subprocess.run([dcmtk_tool("storescu"), "-aec", "CONFORMANCE", "127.0.0.1", str(port), str(ct)],
                               capture_output=True, timeout=60, env=child_env())
        assert plain.returncode != 0          # a plain association on the TLS port does not get through
        sent = subprocess.run([dcmtk_tool("storescu"), "+tls", str(pki.client_key), str(pki.client_cert),
                               "+cf", str(pki.ca), "-aec", "CONFORMANCE", "127.0.0.1", str(port), str(ct)],
                              capture_output=True, timeout=60, env=child_env())
        assert sent.returncode == 0, sent.stderr
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    results = json.loads((out / "results.json").read_text())
    stored = [s for s in results["steps"] if s["outcome"] == "pass" and s["id"].startswith("listen/instance/")]
    assert len(stored) == 1, results["steps"]
    assert proc.returncode == ExitCode.OK, stderr
    # the plain attempt never got to an A-ASSOCIATE-RQ: one association without a request
    assert any(s["id"].startswith("listen/association/") and s["message"].startswith("no-request")
               for s in results["steps"])


def test_listen_tls_without_a_certificate_is_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "conformance", "listen",
                             str(ROOT / "statements" / "dcmtk-storescu.yaml"), "--tls", "--timeout", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--tls-cert" in result.stderr and "Traceback" not in result.stderr


def test_pytest_plugin_speaks_tls(pki: Pki, tmp_path: Path) -> None:
    with TlsStoreSCP(pki.server_key, pki.server_cert, pki.ca) as scp:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--dicom-statement",
             str(HERE / "storescp-tls.yaml"), "--dicom-port", str(scp.port), "--dicom-tls", "--dicom-tls-ca",
             str(pki.ca), "--dicom-tls-cert", str(pki.client_cert), "--dicom-tls-key", str(pki.client_key),
             "--junitxml", str(tmp_path / "plugin.xml")],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]          # every step, over TLS
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "plugin.xml").getroot().iter("testcase")}
    tls_cases = {name: c for name, c in cases.items() if name.startswith("tls/")}
    assert len(tls_cases) == 7 and "tls/echo/STORESCP" in tls_cases
    assert all(c.find("failure") is None and c.find("skipped") is None for c in tls_cases.values())

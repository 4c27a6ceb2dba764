"""`conformance run --dicomweb-url` against Orthanc with its DICOMweb plugin: exit code, the
report's web-services section, and no credential anywhere in what is written."""

from __future__ import annotations

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.testing.peers import Orthanc, free_port
from tests.conftest import STATEMENTS


def test_run_with_a_dicomweb_url_writes_the_web_section_and_keeps_the_token_out(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_DICOMWEB_TOKEN", "tok-SECRET-123")   # sent, never written
    with Orthanc(harness_ae_title="CONFORMANCE", harness_port=free_port(), dicomweb=True) as o:
        out = tmp_path / "report"
        result = CliRunner().invoke(cli, [
            "run", str(STATEMENTS / "orthanc-1.10.yaml"), "--port", str(o.port), "-q",
            "--dicomweb-url", o.http_url, "-k", "dicomweb/", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert "Web services: DICOMweb" in html and "dicomweb/qido/match/wildcard" in html
    assert "STOW-RS (store)" in html and "Web and DIMSE agree" in html
    for f in out.iterdir():
        assert "tok-SECRET" not in f.read_text(errors="replace"), f.name

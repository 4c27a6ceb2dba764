"""`conformance run` (the real entry point, in a subprocess) against the real devices: each
shipped statement passes (exit 0), a wrong one deviates (exit 1)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.interop.conftest import SHIPPED, WRONG

pytestmark = pytest.mark.peer


def conformance_run(statement, peer, out) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "run", str(statement), "--host", peer.host,
         "--port", str(peer.port), "--out", str(out)],
        check=False, capture_output=True, text=True, timeout=170)


@pytest.mark.parametrize(("statement", "peer"), [
    ("orthanc-1.10.yaml", "orthanc"),
    ("dcmtk-storescp.yaml", "storescp_xa"),
    ("dcmtk-dcmqrscp.yaml", "dcmqrscp"),
])
def test_conformance_run_of_a_shipped_statement_passes(statement, peer, request, tmp_path):
    device = request.getfixturevalue(peer)
    result = conformance_run(SHIPPED / statement, device, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for name in ("report.html", "results.json", "junit.xml", "results.jsonl"):
        assert (tmp_path / name).is_file(), name


def test_conformance_run_of_a_wrong_statement_exits_1(dcmqrscp, tmp_path):
    result = conformance_run(WRONG / "dcmqrscp-wrong.yaml", dcmqrscp, tmp_path)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    failed = {s["id"] for s in json.loads((tmp_path / "results.json").read_text())["steps"]
              if s["outcome"] == "fail"}
    assert "negotiation/called-ae-title" in failed

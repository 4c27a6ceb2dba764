"""The HTML pages open in a real browser (Debian's headless Chromium), show their content,
and fetch nothing from the network.

Chromium is started so that its own background traffic cannot leave the machine (every host
name resolves to nothing; a dead loopback proxy). Page fetches are told from Chromium's own by
their initiator: a file:// page's requests carry the opaque origin "null".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli.main import cli

from tests.conftest import DATA, STATEMENTS

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=127.0.0.1:9"]


def open_page(page: Path, tmp: Path) -> tuple[str, list[str]]:
    """(DOM after load, URLs the page itself asked for)."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (CI installs it)")
    netlog = tmp / f"{page.stem}.netlog.json"
    done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--log-net-log={netlog}",
                           "--dump-dom", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp)})
    assert done.returncode == 0, done.stderr[-2000:]
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    fetched = [e["params"]["url"] for e in log["events"]
               if e["type"] == start and e.get("params", {}).get("initiator") in ("null",)
               and not e["params"]["url"].startswith(("file:", "data:"))]
    return done.stdout, fetched


def text_of(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_the_check_itself_sees_a_page_fetch(tmp_path):
    page = tmp_path / "fetching.html"
    page.write_text('<html><body><img src="http://example.invalid/x.png"><p>hello</p></body></html>')
    dom, fetched = open_page(page, tmp_path)
    assert "hello" in dom and fetched == ["http://example.invalid/x.png"]


def test_rendered_statement_opens_offline(tmp_path):
    page = tmp_path / "statement.html"
    assert CliRunner().invoke(cli, ["render", str(STATEMENTS / "orthanc-1.10.yaml"), "--out", str(page)]).exit_code == 0
    dom, fetched = open_page(page, tmp_path)
    text = text_of(dom)
    assert fetched == []
    assert "DICOM Conformance Statement" in text and "Association acceptance policy" in text
    assert "CT Image Storage" in text and "1.2.840.10008.5.1.4.1.1.2" in text


def test_compare_page_opens_offline(tmp_path):
    page = tmp_path / "compare.html"
    result = CliRunner().invoke(cli, ["compare", str(DATA / "statements" / "ultrasound-modality.yaml"),
                                      str(DATA / "statements" / "pacs-latin1.yaml"), "--format", "html", "--out", str(page)])
    assert result.exit_code == 1
    dom, fetched = open_page(page, tmp_path)
    text = text_of(dom)
    assert fetched == []
    assert "not compatible" in text and "no transfer syntax in common" in text and "GB18030" in text


def test_run_report_opens_offline(tmp_path):
    assert CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "demo"), "-q"]).exit_code == 0
    dom, fetched = open_page(tmp_path / "demo" / "report.html", tmp_path)
    text = text_of(dom)
    assert fetched == []
    assert "conforms" in text and "Compatibility matrix" in text and "CT Image Storage" in text

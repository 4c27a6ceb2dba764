"""The CLI faces: demo, run, report; exit codes; devices that are gone, hang or get killed."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.reference import Misbehaviour, SilentListener

from tests.conftest import DATA, STATEMENTS

REFERENCE = str(STATEMENTS / "reference-device.yaml")


def conformance(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess (no click test runner in between)."""
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_writes_the_three_reports_and_passes(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    for name in ("report.html", "results.json", "junit.xml", "results.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["verdict"] == "conforms" and data["counts"]["fail"] == 0
    assert "CONFORMS" in result.output
    # The test data inventory: every patient the run created shares one recognisable prefix.
    created = data["test_data"]
    assert created and sum(item["instances"] for item in created) > 10
    prefix = created[0]["patient_id"][:len("CONFTEST-") + 9]
    assert prefix.startswith("CONFTEST-") and all(item["patient_id"].startswith(prefix) for item in created)
    assert {item["patient_id"].rsplit("-", 1)[1] for item in created} >= {"QR", "STORE"}
    html = (tmp_path / "report.html").read_text()
    assert "Test data left on the device" in html and f"<code>{prefix}</code>" in html
    assert "test data on the device" in result.output and f"{prefix}*" in result.output


def test_run_against_a_misbehaving_device_exits_1(start_reference, tmp_path):
    device = start_reference(Misbehaviour(ignore_called_ae=True))
    result = CliRunner().invoke(cli, ["run", REFERENCE, "--port", str(device.port), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert "DEVIATES" in result.output and "checks the called AE title" in result.output


def test_unreachable_device_exits_3_with_a_clear_message(tmp_path):
    result = conformance("run", REFERENCE, "--port", str(free_port()), "--out", str(tmp_path))
    assert result.returncode == 3, result.stderr
    assert "device unreachable at 127.0.0.1" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["counts"]["error"] == len(data["steps"])


def test_a_device_that_never_answers_ends_the_run_within_90_s_with_default_settings(tmp_path):
    """Default timeouts: the first step waits the ACSE timeout (30 s), the liveness check 10 s,
    then every remaining step ends as error at once. The subprocess timeout is the bound."""
    with SilentListener() as listener:
        result = conformance("run", REFERENCE, "--port", str(listener.port), "--out", str(tmp_path), "-q",
                             timeout=90)
    assert result.returncode == 3
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["aborted"].startswith("device unreachable")
    assert {s["outcome"] for s in data["steps"]} == {"error"}


def test_bad_arguments_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["run", str(DATA / "statements" / "broken" / "unknown-key.yaml"), "--port", "1"])
    assert result.exit_code == 2 and "unknown-key.yaml:8:" in result.output
    result = CliRunner().invoke(cli, ["run", REFERENCE])   # no port: the statement declares none
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["run", REFERENCE, "--port", "104", "-k", "no-such-step"])
    assert result.exit_code == 2 and "no step matches" in result.output


def test_a_killed_run_leaves_results_that_render(start_reference, tmp_path):
    device = start_reference(Misbehaviour(hang_after_association=True))
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", REFERENCE, "--port", str(device.port),
                             "--out", str(tmp_path), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jsonl = tmp_path / "results.jsonl"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (jsonl.exists() and "step-started" in jsonl.read_text()):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not (tmp_path / "report.html").exists()
    result = CliRunner().invoke(cli, ["report", str(jsonl)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text()
    assert "This run did not finish" in html
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["complete"] is False and data["counts"]["not run"] > 200


def test_report_of_a_non_results_file_exits_2(tmp_path):
    bad = tmp_path / "results.jsonl"
    bad.write_text('{"kind": "nonsense"}\n')
    result = CliRunner().invoke(cli, ["report", str(bad)])
    assert result.exit_code == 2 and "results.jsonl:1:" in result.output


def test_html_report_is_self_contained_and_escapes_statement_strings(start_reference, tmp_path):
    device = start_reference()
    result = CliRunner().invoke(cli, ["run", str(DATA / "statements" / "script-injection.yaml"),
                                      "--port", str(device.port), "--out", str(tmp_path), "-q",
                                      "-k", "negotiation/verification", "-k", "negotiation/accept"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    # One inline script (the filter box), none loaded; links only to anchors on the page.
    assert html.lower().count("<script") == 1 and not re.search(r"<script[^>]*\bsrc", html, re.IGNORECASE)
    assert "<img" not in html.lower()
    assert all(href.startswith("#") for href in re.findall(r'<a href="([^"]*)"', html))
    assert "&lt;script&gt;alert(" in html


def test_junit_has_one_testcase_per_step(start_reference, tmp_path):
    import xml.etree.ElementTree as ET
    device = start_reference(Misbehaviour(ignore_called_ae=True))
    CliRunner().invoke(cli, ["run", REFERENCE, "--port", str(device.port), "--out", str(tmp_path), "-q"])
    root = ET.parse(tmp_path / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    steps = json.loads((tmp_path / "results.json").read_text())["steps"]
    assert [c.get("name") for c in cases] == [s["id"] for s in steps]
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["negotiation/called-ae-title"]

"""The terminal face of a run: progress inside batches, heartbeat in a CI log, one line for an
unreachable device, Ctrl-C / SIGTERM writing the partial reports and exiting 130."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from conformance.cli.console import ConsoleProgress
from conformance.cli.main import cli
from conformance.engine.events import Progress, RunFinished, RunStarted, StepFinished, StepStarted
from conformance.reference import Misbehaviour
from tests.conftest import STATEMENTS
from tests.unit.test_cli_run import free_port

REFERENCE = str(STATEMENTS / "reference-device.yaml")


def _started(n: int) -> RunStarted:
    return RunStarted("r", "now", "0", {"host": "127.0.0.1", "port": 1, "called_ae": "X"}, {}, None,
                      [{"id": f"s{i}", "title": "", "reference": ""} for i in range(n)], {})


def test_progress_advances_per_unit_of_work_inside_a_batch():
    console = ConsoleProgress(stream=io.StringIO(), heartbeat=0)
    console.handle(_started(100))
    console.handle(StepStarted("s0", "now"))
    for done in range(1, 51):
        console.handle(Progress(done, 80, "C-STORE"))
    assert console.completed == 50 and console.phase == "C-STORE 50/80"
    console.handle(StepFinished("s0", "pass", 1.0))
    assert console.completed == 50          # the batch's own steps do not count twice
    console.close()


def test_a_heartbeat_line_comes_when_stdout_is_not_a_terminal():
    out = io.StringIO()
    console = ConsoleProgress(stream=out, heartbeat=0.05)
    console.handle(_started(10))
    console.handle(StepStarted("s0", "now"))
    console.handle(Progress(3, 10, "C-STORE"))
    time.sleep(0.3)
    console.handle(RunFinished("now", {}, 0))
    beats = [line for line in out.getvalue().splitlines() if "ETA" in line]
    assert beats and "3/10" in beats[0] and "C-STORE 3/10" in beats[0] and "warnings" in beats[0]


def test_an_unreachable_device_gives_one_line_and_a_hint(tmp_path):
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "conformance", "run", REFERENCE, "--port", str(port),
                           "--out", str(tmp_path)], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, done.stderr
    assert "hint:" in done.stdout and f"127.0.0.1:{port}" in done.stdout
    assert len(done.stdout.splitlines()) < 12, done.stdout
    assert "INCOMPLETE - NOT TESTED" in done.stdout
    assert "file://" in done.stdout and (tmp_path / "report.html").exists()


def _interrupt(tmp_path: Path, device, signals: list[int]) -> tuple[subprocess.Popen, str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "run", REFERENCE, "--port", str(device.port),
                             "--out", str(tmp_path), "--dimse-timeout", "30", "--acse-timeout", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    jsonl = tmp_path / "results.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (jsonl.exists() and "step-started" in jsonl.read_text()):
        time.sleep(0.05)
    for sig in signals:
        os.kill(proc.pid, sig)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    return proc, out, err


def test_ctrl_c_writes_the_partial_reports_and_exits_130(start_reference, tmp_path):
    device = start_reference(Misbehaviour(hang_after_association=True))
    proc, out, err = _interrupt(tmp_path, device, [signal.SIGINT])
    assert proc.returncode == 130, err
    assert "Aborted!" not in err and "Traceback" not in err
    assert (tmp_path / "report.html").exists() and "interrupted by the user" in (tmp_path / "report.html").read_text()
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["aborted"] == "interrupted by the user"
    assert "file://" in out


def test_a_second_signal_does_not_lose_the_reports(start_reference, tmp_path):
    device = start_reference(Misbehaviour(hang_after_association=True))
    proc, _out, err = _interrupt(tmp_path, device, [signal.SIGTERM, signal.SIGTERM, signal.SIGINT])
    assert proc.returncode == 130, err
    assert (tmp_path / "report.html").exists() and (tmp_path / "junit.xml").exists()


def test_each_command_help_has_examples_and_exit_codes():
    for command in ("run", "demo", "report", "compare", "discover", "diff", "render", "listen",
                    "statement check", "statement schema", "scenario check", "scenario list"):
        text = CliRunner().invoke(cli, [*command.split(), "--help"]).output
        assert "Examples:" in text and "Exit codes:" in text, command
    assert "130" in CliRunner().invoke(cli, ["run", "--help"]).output


def test_a_run_with_thousands_of_failures_lists_only_the_first_in_the_log():
    out = io.StringIO()
    console = ConsoleProgress(stream=out, heartbeat=0)
    console.handle(_started(3000))
    for n in range(3000):
        console.handle(StepFinished(f"s{n}", "fail", 0.0, "refused"))
    console.close()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 30 and "not listed here (see the report)" in lines[-1]

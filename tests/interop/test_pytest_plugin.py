"""The pytest face runs the same engine as the CLI: the same run gives the same results."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from tests.conftest import STATEMENTS

ORTHANC = str(STATEMENTS / "orthanc-1.10.yaml")


def test_plugin_and_cli_give_the_same_results_against_orthanc(orthanc, tmp_path):
    """Negotiation only: its results do not depend on what other tests stored in this Orthanc."""
    cli = subprocess.run([sys.executable, "-m", "conformance", "run", ORTHANC, "--port", str(orthanc.port),
                          "-k", "negotiation/", "--out", str(tmp_path / "cli"), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stdout[-2000:]
    plugin = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                             "--dicom-statement", ORTHANC, "--dicom-port", str(orthanc.port), "-k", "negotiation/",
                             "--junitxml", str(tmp_path / "plugin.xml"), "--dicom-report", str(tmp_path / "plugin")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert plugin.returncode == 0, plugin.stdout[-2000:]

    def summary(folder):
        data = json.loads((tmp_path / folder / "results.json").read_text())
        return [(s["id"], s["outcome"], sorted(f["code"] for f in s["findings"])) for s in data["steps"]]

    assert summary("cli") == summary("plugin")
    cases = ET.parse(tmp_path / "plugin.xml").getroot().iter("testcase")
    outcomes = {c.get("name"): ("skipped" if c.find("skipped") is not None else
                                "fail" if c.find("failure") is not None else "pass") for c in cases}
    assert outcomes == {sid: outcome for sid, outcome, _ in summary("cli")}


def test_plugin_selection_and_failure_report(orthanc, tmp_path):
    wrong = STATEMENTS.parent / "tests" / "data" / "statements" / "orthanc-wrong.yaml"
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--dicom-statement",
                             str(wrong), "--dicom-port", str(orthanc.port), "-k", "called-ae-title or HTJ2KLossless"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 1
    assert "2 failed" in result.stdout and "deselected" in result.stdout
    assert "negotiation.called-ae-not-checked" in result.stdout and "PS3.8 9.3.4" in result.stdout
    assert "negotiation.declared-ts-rejected" in result.stdout


def test_plugin_runs_user_scenarios(orthanc, harness_port, tmp_path):
    scenario = STATEMENTS.parent / "tests" / "data" / "scenarios" / "wrong-expectations.yaml"
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--dicom-statement", ORTHANC,
                             "--dicom-port", str(orthanc.port), "--dicom-harness-port", str(harness_port),
                             "--dicom-scenarios", str(scenario), "-k", "wrong-expectations"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 1
    assert "1 passed" in result.stdout and "2 failed" in result.stdout
    assert "scenario.expectation-failed" in result.stdout

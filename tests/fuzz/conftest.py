"""Helpers for the fuzz tests: run ``conformance fuzz`` in-process and read what it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from conformance.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
STATEMENTS = ROOT / "statements"
#: Short waits: every device here is on loopback and answers in milliseconds when alive.
FAST = ["--answer-wait", "0.2", "--give-up", "3", "--return-wait", "5", "-q"]


def fuzz(*args: str) -> Result:
    return CliRunner().invoke(cli, ["fuzz", *args], catch_exceptions=False)


def findings(out: Path) -> list[dict[str, Any]]:
    """Every finding of every step in the run's results.json."""
    data = json.loads((out / "results.json").read_text())
    return [f for step in data["steps"] for f in step.get("findings", [])]


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "fuzz.json").read_text())

"""Helpers for the services tests: run the services family of a statement against a device."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from conformance.engine import RunContext, run
from conformance.engine.results import RunResults
from conformance.negotiation.target import Target, Timeouts
from conformance.statement import Statement
from conformance.suite import FAMILIES, select

#: The first parts of the services family's step ids.
SERVICE_PREFIXES = ("storage/", "query/", "retrieve/", "worklist/", "mpps/", "commitment/")

QUICK = Timeouts(connect=3, acse=5, dimse=5, network=20, liveness=3)


def services_plan(statement: Statement, patterns: Sequence[str] = ()) -> list:
    return select(FAMILIES["services"](statement), patterns)


def run_services(statement: Statement, target: Target, patterns: Sequence[str] = ()) -> RunResults:
    return run(RunContext(statement, target), services_plan(statement, patterns))


def with_services(statement: Statement, **parts: dict[str, Any]) -> Statement:
    """*statement* with parts of its ``services`` section replaced (as a wrong claim)."""
    services = statement.services
    for name, changes in parts.items():
        services = dataclasses.replace(services, **{name: dataclasses.replace(getattr(services, name), **changes)})
    return dataclasses.replace(statement, services=services)


def by_outcome(results: RunResults, outcome: str) -> set[str]:
    return {s.id for s in results.steps if s.outcome == outcome}


def finding_codes(results: RunResults, severity: str | None = None) -> set[tuple[str, str]]:
    return {(s.id, f.code) for s, f in results.findings() if severity is None or f.severity.value == severity}


def describe(results: RunResults, limit: int = 12) -> str:
    lines = [str(results.counts())]
    for s in results.steps:
        if s.outcome not in ("pass", "skipped") or (s.findings and s.outcome != "skipped"):
            lines.append(f"{s.outcome} {s.id}: {s.message[:160]} {[(f.code, f.message[:160]) for f in s.findings][:2]}")
        if len(lines) > limit:
            break
    return "\n".join(lines)

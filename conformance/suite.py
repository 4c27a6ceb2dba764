"""What a run runs: scenarios (shipped and the user's), and selection of steps by id pattern.

The shipped ``scenarios/*.yaml`` name the built-in families (a family turns a statement into
steps); user scenario files (``--scenarios``) add workflows. The CLI and the pytest plugin
both build their plan here and run it with :func:`conformance.engine.run`: one engine, two
faces.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path

from conformance.dicomweb import plan as _dicomweb  # noqa: F401 - registers the dicomweb family
from conformance.engine.model import Step
from conformance.families import Planner, families
from conformance.load import plan as _load  # noqa: F401 - registers the load family (runs last)
from conformance.resources import shipped_dir
from conformance.scenario.loader import load_scenarios
from conformance.scenario.model import Scenario
from conformance.scenario.plan import plan_scenarios
from conformance.statement.model import Statement

__all__ = ["FAMILIES", "Planner", "build_plan", "default_scenarios", "matches", "scenarios_for",
           "select"]

#: family name -> planner, in run order (the registry of :mod:`conformance.families`).
FAMILIES: dict[str, Planner] = families()


def matches(step_id: str, pattern: str) -> bool:
    """``-k`` semantics: a glob (``*``, ``?``, ``[``) matches the whole id; plain text
    matches as a substring (``negotiation/accept`` selects every acceptance step)."""
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(step_id, pattern)
    return pattern in step_id


def select(steps: Sequence[Step], patterns: Sequence[str] = ()) -> list[Step]:
    if not patterns:
        return list(steps)
    return [s for s in steps if any(matches(s.id, p) for p in patterns)]


def default_scenarios() -> list[Scenario]:
    """The shipped scenario files at the top of ``scenarios/`` (the built-in families)."""
    return load_scenarios([shipped_dir("scenarios")])


def scenarios_for(extra: Sequence[str | Path] = ()) -> list[Scenario]:
    """The shipped scenarios plus the user's files or folders (InputError on a bad file)."""
    return default_scenarios() + (load_scenarios(extra) if extra else [])


def build_plan(statement: Statement, patterns: Sequence[str] = (),
               scenarios: Sequence[Scenario] | None = None) -> list[Step]:
    """The steps of *scenarios* (default: the shipped ones) for *statement*, filtered by
    *patterns* (OR)."""
    chosen = default_scenarios() if scenarios is None else scenarios
    return select(plan_scenarios(chosen, statement, FAMILIES), patterns)


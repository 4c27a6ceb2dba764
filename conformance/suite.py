"""What a run runs: scenarios (shipped and the user's), and selection of steps by id pattern.

The shipped ``scenarios/*.yaml`` name the built-in families (a family turns a statement into
steps); user scenario files (``--scenarios``) add workflows. The CLI and the pytest plugin
both build their plan here and run it with :func:`conformance.engine.run`: one engine, two
faces.
"""

from __future__ import annotations

import fnmatch
from typing import Callable, Sequence

from pathlib import Path

from conformance.engine.model import Step
from conformance.negotiation import plan as negotiation
from conformance.resources import shipped_dir
from conformance.scenario.loader import load_scenarios
from conformance.scenario.model import Scenario
from conformance.scenario.plan import plan_scenarios
from conformance.services import plan as services
from conformance.statement.model import Statement

Planner = Callable[[Statement], list[Step]]

#: family name -> planner, in run order.
FAMILIES: dict[str, Planner] = {
    "negotiation": negotiation.plan,
    "services": services.plan,
}


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


# The load family (conformance/load/plan.py; scenarios/storage-load.yaml runs it last). Kept
# apart from the table above so that moving the table into a registry leaves this line alone.
from conformance.load import plan as _load_family

FAMILIES["load"] = _load_family.plan

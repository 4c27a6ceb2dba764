"""The scenario families the harness knows, and selection of steps by id pattern.

A family turns a statement into steps. The CLI and the pytest plugin both build their plan
here and run it with :func:`conformance.engine.run`: one engine, two faces.
"""

from __future__ import annotations

import fnmatch
from typing import Callable, Sequence

from conformance.engine.model import Step
from conformance.negotiation import plan as negotiation
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


def build_plan(statement: Statement, patterns: Sequence[str] = ()) -> list[Step]:
    """Every family's steps for *statement*, filtered by *patterns* (OR)."""
    steps: list[Step] = []
    for planner in FAMILIES.values():
        steps += planner(statement)
    return select(steps, patterns)

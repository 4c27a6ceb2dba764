"""The family registry: each service module registers its planner with :func:`planner`.

A *family* (``negotiation``, ``services``) is what a shipped scenario file names
(``family: services``); it is made of one or more *planners*, each turning a statement into
steps for one service (storage, query, ...). Planners register themselves by decorator, as
the scenario step kinds do (:mod:`conformance.scenario.kinds`); :func:`families` gives the
family name -> planner mapping that :mod:`conformance.suite` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.engine.model import Step
from conformance.statement.model import Statement

Planner = Callable[[Statement], list[Step]]


@dataclass(frozen=True)
class Registered:
    """One planner: its family, its name (the first part of its step ids) and its place."""

    family: str
    name: str
    order: int
    plan: Planner


PLANNERS: dict[str, Registered] = {}


def planner(name: str, family: str = "services", order: int = 0) -> Callable[[Planner], Planner]:
    """Register *fn* as the planner *name* of *family*; planners of a family run by *order*.

    Results group steps by the first part of their id (JUnit test suites, the report's
    table), so a family's planners keep each group contiguous in this order.
    """
    def register(fn: Planner) -> Planner:
        if name in PLANNERS:
            raise ValueError(f"planner {name!r} registered twice")
        PLANNERS[name] = Registered(family, name, order, fn)
        return fn
    return register


def plan_family(family: str, statement: Statement) -> list[Step]:
    """The steps of every planner of *family*, in their registered order."""
    steps: list[Step] = []
    for reg in sorted((r for r in PLANNERS.values() if r.family == family), key=lambda r: r.order):
        steps += reg.plan(statement)
    return steps


def families() -> dict[str, Planner]:
    """Family name -> planner (all of its registered planners, in order)."""
    names = dict.fromkeys(r.family for r in sorted(PLANNERS.values(), key=lambda r: r.order))

    def make(family: str) -> Planner:
        return lambda statement: plan_family(family, statement)

    return {family: make(family) for family in names}

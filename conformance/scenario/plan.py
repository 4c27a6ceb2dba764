"""Scenarios -> engine steps.

A scenario with ``family`` expands to that built-in family's steps (generated from the
statement); one with ``steps`` gives one engine step per scenario step, id
``<scenario id>/<step id>``, run in file order and sharing the scenario's state.
"""

from __future__ import annotations

from typing import Callable, Sequence

from conformance.engine.model import RunContext, Step, StepResult
from conformance.scenario.kinds import KINDS, REFERENCES
from conformance.scenario.model import Scenario, ScenarioStep
from conformance.scenario.state import MissingVariable, state_of
from conformance.statement.model import Statement


def _action(scenario: Scenario, step: ScenarioStep) -> Callable[[RunContext], StepResult]:
    def act(ctx: RunContext) -> StepResult:
        state = state_of(ctx, scenario)
        try:
            spec = state.expand(dict(step.spec))
        except MissingVariable as exc:
            return StepResult.error(f"could not run: {exc}")
        return KINDS[step.kind](ctx, state, step, spec)
    return act


def _time_limit(step: ScenarioStep) -> float | None:
    """The step's ``timeout`` + 60 s; a ``load`` step's own ``time_limit`` + 120 s (the
    associations' set-up and last answers), as for the family's ``load/c-store``."""
    if step.kind == "load":
        return float(step.spec.get("time_limit", 120)) + 120.0
    return (step.timeout + 60) if step.timeout else None


def scenario_steps(scenario: Scenario, statement: Statement,
                   families: dict[str, Callable[[Statement], list[Step]]]) -> list[Step]:
    if scenario.family:
        return families[scenario.family](statement)
    out = []
    for step in scenario.steps:
        reference = "; ".join(r for r in (REFERENCES[step.kind], scenario.reference) if r)
        out.append(Step(f"{scenario.id}/{step.id}", step.title or f"{scenario.name}: {step.id} ({step.kind})",
                        reference, action=_action(scenario, step),
                        time_limit=_time_limit(step)))
    return out


def plan_scenarios(scenarios: Sequence[Scenario], statement: Statement,
                   families: dict[str, Callable[[Statement], list[Step]]]) -> list[Step]:
    steps: list[Step] = []
    for scenario in scenarios:
        steps += scenario_steps(scenario, statement, families)
    return steps

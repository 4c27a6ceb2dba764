"""The fuzz campaign as engine steps (``fuzz/<area>``), so its findings, outcomes and timing
land in the normal run report (HTML, JSON, JUnit, results.jsonl) through the engine.

One step per area, in order: ``associate-rq`` (PS3.8 9.3.2), ``p-data`` (PS3.8 9.3.5),
``command-set`` (PS3.7 6.3, E.1), ``data-set`` (PS3.5 7, PS3.4 B.2). The bounds are shared:
``max_cases`` is split over the areas, and each area gets an equal share of the time left.
Before each area the device must answer (a device still down from the previous area's crash
makes the step an error, "could not test").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import strategies as st

from conformance.engine.model import RunContext, Step, StepResult
from conformance.fuzz import assoc_cases, command_cases, dataset_cases, pdata_cases
from conformance.fuzz.campaign import AreaResult, AreaRun, Bounds, Waits
from conformance.fuzz.case import Case
from conformance.fuzz.liveness import ECHO, wait_alive
from conformance.fuzz.profile import Profile, store_context
from conformance.standard.uids import storage_sop_classes
from conformance.statement.model import Role, Statement
from conformance.wire.requestor import negotiate

#: area -> (strategy builder, reference, title), in run order.
AREAS: dict[str, tuple[Callable[[Profile], st.SearchStrategy[Case]], str, str]] = {
    assoc_cases.AREA: (assoc_cases.cases, "PS3.8 9.3.2", "malformed A-ASSOCIATE-RQ"),
    pdata_cases.AREA: (pdata_cases.cases, "PS3.8 9.3.5", "malformed P-DATA-TF"),
    command_cases.AREA: (command_cases.cases, "PS3.7 6.3.1, E.1", "malformed DIMSE command sets"),
    dataset_cases.AREA: (dataset_cases.cases, "PS3.5 7.1; PS3.4 B.2", "malformed data sets in C-STORE"),
}


@dataclass
class FuzzSession:
    """The options of one fuzz run and what each area found (read by the CLI afterwards)."""

    folder: Path
    max_cases: int
    time_limit: float
    seed: int = 0
    shrink_limit: int = 100
    waits: Waits = Waits()
    areas: tuple[str, ...] = tuple(AREAS)
    results: dict[str, AreaResult] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    deadline: float | None = None

    def share(self, area: str) -> tuple[int, float]:
        """(cases, deadline) for *area*: an equal share of the cases, and of the time left."""
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.time_limit
        left = [a for a in self.areas if a not in self.results]
        per_area = math.ceil(self.max_cases / max(len(self.areas), 1))
        return per_area, now + max(self.deadline - now, 0) / max(len(left), 1)


def storage_classes(statement: Statement) -> tuple[str, ...]:
    """Storage SOP classes the statement declares as SCP (the data-set cases use them)."""
    storage = set(storage_sop_classes().values())
    return tuple(c.sop_class for c in statement.capabilities(Role.SCP) if c.sop_class in storage)


def _accepted_storage(ctx: RunContext, classes: Sequence[str], limit: int = 8) -> tuple[str, ...]:
    """Of the first *limit* declared classes, those the device accepts in Explicit VR LE."""
    out = []
    for sop in classes[:limit]:
        outcome = negotiate(ctx.target, [ECHO, store_context(sop)])
        if len(outcome.contexts) > 1 and outcome.contexts[1].accepted:
            out.append(sop)
    return tuple(out)


def _run_area(session: FuzzSession, area: str, ctx: RunContext) -> StepResult:
    t = ctx.target
    profile = Profile(t.called_ae, t.calling_ae, storage_classes(ctx.statement))
    start = time.monotonic()
    here = wait_alive(t, session.waits.back)
    if not here.alive:
        session.results[area] = AreaResult(area, device_lost=True)
        return StepResult.error(f"the device did not answer a fresh association and C-ECHO within "
                                f"{session.waits.back:g} s before these cases ({here.how})", unreachable=True)
    if area == dataset_cases.AREA:
        if not profile.storage_classes:
            session.results[area] = AreaResult(area)
            return StepResult.skipped("the statement declares no Storage SOP class as SCP")
        accepted = _accepted_storage(ctx, profile.storage_classes)
        if not accepted:
            session.results[area] = AreaResult(area)
            return StepResult.skipped("the device accepted none of the first declared Storage SOP classes in "
                                      "Explicit VR Little Endian, which the data-set cases are sent in")
        profile = replace(profile, storage_classes=accepted)
    cases, deadline = session.share(area)
    bounds = Bounds(max_cases=cases, deadline=deadline, shrink_limit=session.shrink_limit, seed=session.seed)
    run = AreaRun(area, t, session.folder, bounds, session.waits,
                  on_case=lambda done, total: ctx.progress(done, total, f"fuzz {area}"))
    result = run.run(AREAS[area][0](profile))
    session.results[area] = result
    session.seconds[area] = time.monotonic() - start
    notes = [f"{result.sent} case(s) sent"]
    if result.shrink_sent:
        notes.append(f"{result.shrink_sent} more while shrinking")
    if result.out_of_time:
        notes.append("stopped at the time limit")
    if result.device_lost:
        notes.append("the device did not come back after its crash")
    return StepResult(findings=list(result.findings), message="; ".join(notes) + f"; cases in {session.folder}")


def _action(session: FuzzSession, area: str) -> Callable[[RunContext], StepResult]:
    return lambda ctx: _run_area(session, area, ctx)


def fuzz_steps(session: FuzzSession) -> list[Step]:
    """One engine step per selected area."""
    limit = session.time_limit + session.waits.back + 2 * session.waits.give_up + 60
    steps = []
    for area in session.areas:
        _strategy, reference, title = AREAS[area]
        steps.append(Step(f"fuzz/{area}", f"robustness: {title}, liveness after each case", reference,
                          action=_action(session, area), time_limit=limit))
    return steps

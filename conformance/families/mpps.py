"""Modality Performed Procedure Step (PS3.4 Annex F): ``mpps/completed``,
``mpps/discontinued``, ``mpps/create-not-in-progress``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.refused import refused_steps
from conformance.families.registry import planner
from conformance.families.session import UNCOMPRESSED, Ids, session, step_action
from conformance.families.setup import judge_unanswered
from conformance.families.verdict import from_monitor
from conformance.findings import Finding, Severity
from conformance.services import mpps as pps
from conformance.services.data import run_data
from conformance.services.status import SUCCESS
from conformance.statement.model import Statement


def _mpps(final: str | None) -> Callable[[RunContext], StepResult]:
    """PS3.4 F.7.2: N-CREATE IN PROGRESS, N-SET *final*, then a further N-SET is refused.
    ``final`` None: N-CREATE with status COMPLETED must be refused (F.7.2.1)."""
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data = run_data(ctx.shared)
        ids = Ids()
        found: list[Finding] = []
        obs: dict[str, Any] = {"kind": "mpps", "final": final}
        with session(ctx, pps.MPPS, "MPPS", UNCOMPRESSED) as s:
            attrs = pps.create_attributes(data.qr_patient, data.qr_name, data.qr_study,
                                          ctx.statement.harness.ae_title)
            if final is None:
                attrs.PerformedProcedureStepStatus = "COMPLETED"
            created, instance = pps.n_create(s.assoc, attrs, ids(), monitor=s.monitor)
            if created is None:
                un = from_monitor(s.monitor, "N-CREATE", ctx.target.timeouts.dimse)
                return judge_unanswered(ctx, "N-CREATE", pps.MPPS, un)
            obs["n_create"] = created.hex
            if final is None:
                if created.category == SUCCESS:
                    found.append(Finding("mpps.create-not-in-progress-accepted", Severity.WARNING,
                                         "N-CREATE with Performed Procedure Step Status COMPLETED "
                                         "was accepted; it shall be IN PROGRESS.",
                                         reference="PS3.4 F.7.2.1.2, Table F.7.2-1"))
                return StepResult(found, [obs], message=f"N-CREATE COMPLETED: {created.describe()}")
            if created.category != SUCCESS:
                return StepResult([Finding("mpps.create-failed", Severity.ERROR,
                                           f"N-CREATE (IN PROGRESS) answered {created.describe()}.",
                                           reference=f"PS3.4 F.7.2.1; {created.reference}; statement")],
                                  [obs])
            done = pps.n_set(s.assoc, pps.final_attributes(final, data.uid("mpps-series"),
                                                           ctx.statement.network.ae_titles[0]),
                             instance, ids())
            if done is None:
                return StepResult.error("no valid N-SET response within the DIMSE timeout")
            obs["n_set"] = done.hex
            if done.category != SUCCESS:
                return StepResult([Finding("mpps.set-failed", Severity.ERROR,
                                           f"N-SET to {final} answered {done.describe()}.",
                                           reference=f"PS3.4 F.7.2.2; {done.reference}")], [obs])
            again = Dataset()
            again.PerformedProcedureStepDescription = "changed after the end"
            late = pps.n_set(s.assoc, again, instance, ids())
            if late is None:
                return StepResult.error("no valid N-SET response within the DIMSE timeout")
            obs["n_set_after_end"] = late.hex
            if late.category == SUCCESS:
                found.append(Finding("mpps.update-after-end-accepted", Severity.ERROR,
                                     f"An N-SET after the step was {final} was accepted; the SCP "
                                     "shall refuse it (0110).", reference="PS3.4 F.7.2.2.2"))
            elif late.code != 0x0110:
                found.append(Finding("mpps.update-after-end-status", Severity.WARNING,
                                     f"An N-SET after the step was {final} was refused with "
                                     f"{late.describe()}; PS3.4 names 0110 (processing failure).",
                                     reference="PS3.4 F.7.2.2.2"))
        return StepResult(found, [obs], message=f"IN PROGRESS -> {final}, then refused: {late.describe()}")
    return action


@planner("mpps", order=50)
def plan(statement: Statement) -> list[Step]:
    """Both final states, and the N-CREATE that must be IN PROGRESS."""
    if not statement.performs(pps.MPPS):
        return refused_steps(statement, pps.MPPS, "mpps/refused", "mpps")
    steps = [Step(f"mpps/{final.lower()}", f"MPPS: IN PROGRESS -> {final}, then no more updates",
                  "PS3.4 F.7.2", action=_mpps(final)) for final in ("COMPLETED", "DISCONTINUED")]
    steps.append(Step("mpps/create-not-in-progress", "MPPS: N-CREATE must be IN PROGRESS",
                      "PS3.4 F.7.2.1", action=_mpps(None)))
    return steps

"""Data integrity: ``storage/round-trip/<SOP class>`` (PS3.4 B.4.1).

What the store steps stored is got back (C-GET, else C-MOVE) and compared element by
element: a device may change only what its statement declares it coerces.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.fetch import fetch, integrity, refused, retrieve_model
from conformance.families.registry import planner
from conformance.families.session import result_of, step_action
from conformance.families.storage import storage_classes
from conformance.findings import Finding, Severity
from conformance.services.data import run_data
from conformance.standard import uids
from conformance.statement.model import Statement


def _round_trip(sop: str) -> Callable[[RunContext], StepResult]:
    """PS3.4 B.4.1: what was stored comes back unchanged (coercion only where declared)."""
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data = run_data(ctx.shared)
        items = [s for s in data.select(sop_class=sop) if s.patient_id == data.storage_patient]
        if not items:
            return StepResult.skipped(f"not tested: no {uids.keyword_of(sop)} instance was stored "
                                      "in this run (run the storage/store steps first)")
        how = retrieve_model(ctx.statement)
        assert how is not None
        arrived, ex = fetch(ctx, items, "SERIES", how, f"{uids.keyword_of(sop)} series")
        other = retrieve_model(ctx.statement, ("move",)) if how[1] == "get" else None
        if refused(ex) and other is not None:
            # C-GET is claimed but refused (the retrieve/get steps fail on it): the data
            # round trip is still tested, by the claimed C-MOVE.
            arrived, ex = fetch(ctx, items, "SERIES", other, f"{uids.keyword_of(sop)} series")
            ex.findings.append(Finding(
                "storage.round-trip-by-move", Severity.INFO,
                "C-GET is claimed but the device refused it (see the retrieve/get steps); the "
                "round trip used C-MOVE.", reference="PS3.4 B.4.1"))
        if ex.error or ex.skipped or ex.setup:
            return result_of(ex)
        return result_of(ex.extend(integrity(ctx, items, arrived)))
    return action


@planner("round-trip", order=11)
def plan(statement: Statement) -> list[Step]:
    """One round trip per declared storage SOP class, where a retrieve service is declared."""
    how = retrieve_model(statement)
    if how is None or not statement.services.storage.round_trip:
        return []
    return [Step(f"storage/round-trip/{uids.keyword_of(sop)}",
                 f"{uids.name_of(sop)}: what was stored comes back intact (C-{how[1].upper()})",
                 "PS3.4 B.4.1", action=_round_trip(sop))
            for sop in storage_classes(statement)]

"""Retrieve (PS3.4 C.4.2, C.4.3): ``retrieve/move/<model>/<LEVEL>``,
``retrieve/get/<model>/<LEVEL>`` and ``retrieve/move/unknown-destination``.

Each retrieve gets the run's Q/R study (or part of it) back, checks statuses and
sub-operation counts, compares what arrived with what was stored (PS3.4 B.4.1) and validates
it (PS3.3).
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.fetch import fetch, identifier, integrity, validity
from conformance.families.qrdata import ensure_qr_study, qr_items
from conformance.families.registry import planner
from conformance.families.session import result_of, session, step_action
from conformance.families.refused import refused_steps
from conformance.families.setup import judge_unanswered
from conformance.families.verdict import from_monitor
from conformance.findings import Finding, Severity
from conformance.services import query as qr
from conformance.services import retrieve as rt
from conformance.services.common import Exchange
from conformance.services.status import FAILURE
from conformance.statement.model import Statement

UNKNOWN_DESTINATION = "NO-SUCH-AE"


def _retrieve(model: str, verb: str, level: str) -> Callable[[RunContext], StepResult]:
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        items = qr_items(data)
        target = items[0]
        expected = {"PATIENT": items, "STUDY": items,
                    "SERIES": [s for s in items if s.series == target.series],
                    "IMAGE": [target]}[level]
        index = 1 if verb == "move" else 2
        arrived, ex = fetch(ctx, expected, level, (model, verb, str(qr.MODELS[model][index])),
                            f"C-{verb.upper()} {model} {level}")
        if not ex.error and not ex.skipped and not ex.setup:
            ex.extend(integrity(ctx, expected, arrived))
            ex.extend(validity(expected, arrived))
        return result_of(ex)
    return action


def _move_unknown(model: str) -> Callable[[RunContext], StepResult]:
    """PS3.4 C.4.2.1.5, Table C.4-2: a move destination the SCP does not know -> A801."""
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        uid = qr.MODELS[model][1]
        ident = identifier("STUDY", model, qr_items(data)[0])
        what = f"C-MOVE {model} STUDY to unknown AE {UNKNOWN_DESTINATION!r}"
        claimed = ctx.statement.services.query_retrieve.unknown_destination_status
        with session(ctx, uid, "C-MOVE") as s:
            res = rt.move(s.assoc, uid, ident, UNKNOWN_DESTINATION, 1, monitor=s.monitor)
            if res.final is None and res.error and not s.monitor.answered(1):
                un = from_monitor(s.monitor, "C-MOVE", ctx.target.timeouts.dimse)
                return judge_unanswered(ctx, "C-MOVE", uid, un)
        found: list[Finding] = []
        final = res.final
        if final is not None and claimed is not None:
            if final.code != claimed:
                found.append(Finding("retrieve.move-unknown-destination-claim", Severity.ERROR,
                                     f"{what}: answered {final.describe()}; the statement claims "
                                     f"{claimed:04X} (query_retrieve.unknown_destination_status).",
                                     reference="PS3.4 C.4.2.1.5, Table C.4-2; statement",
                                     details={"status": final.code, "claimed": claimed}))
            elif claimed != 0xA801:
                found.append(Finding("retrieve.move-unknown-destination-status", Severity.WARNING,
                                     f"{what}: refused with {final.describe()} as the statement "
                                     "says; PS3.4 calls for A801 (move destination unknown).",
                                     reference="PS3.4 C.4.2.1.5, Table C.4-2",
                                     details={"status": final.code, "expected": 0xA801}))
        elif final is not None:
            if final.code == 0xA801:
                pass
            elif final.category == FAILURE:
                found.append(Finding("retrieve.move-unknown-destination-status", Severity.WARNING,
                                     f"{what}: refused with {final.describe()}; PS3.4 calls for "
                                     "A801 (move destination unknown).",
                                     reference="PS3.4 C.4.2.1.5, Table C.4-2",
                                     details={"status": final.code, "expected": 0xA801}))
            else:
                found.append(Finding("retrieve.move-unknown-destination-accepted", Severity.ERROR,
                                     f"{what}: answered {final.describe()} instead of refusing.",
                                     reference="PS3.4 C.4.2.1.5, Table C.4-2"))
        return result_of(Exchange(found, [rt.observation(res, what, 0, verb="move", model=model)],
                                  error=res.error, message=f"{what}: {final.describe() if final else '-'}"))
    return action


@planner("retrieve", order=30)
def plan(statement: Statement) -> list[Step]:
    """C-MOVE and C-GET steps per declared model and level, and the unknown destination."""
    steps: list[Step] = []
    q = statement.services.query_retrieve
    for model, (_find, move, get, all_levels) in qr.MODELS.items():
        levels = q.levels.get(model) or all_levels
        for verb, uid in (("move", move), ("get", get)):
            if uid:
                steps += refused_steps(statement, str(uid), f"retrieve/{verb}/{model}/refused", verb)
            if uid and statement.performs(uid):
                for level in levels:
                    steps.append(Step(f"retrieve/{verb}/{model}/{level}",
                                      f"{model} C-{verb.upper()} at {level} level",
                                      "PS3.4 C.4.2" if verb == "move" else "PS3.4 C.4.3",
                                      action=_retrieve(model, verb, level)))
    move_model = next((m for m in qr.MODELS if statement.performs(qr.MODELS[m][1])), None)
    claimed = q.unknown_destination_status
    # Tested where the statement has a policy for unknown destinations: they must be
    # configured (the default), so one that is not is refused (A801, or the claimed status).
    if move_model is not None and q.move_destinations == "configured":
        steps.append(Step("retrieve/move/unknown-destination",
                          f"C-MOVE to an unknown destination is refused with "
                          f"{'A801' if claimed is None else f'{claimed:04X} (claimed)'}",
                          "PS3.4 C.4.2.1.5, Table C.4-2", action=_move_unknown(move_model)))
    return steps

"""Modality Worklist (PS3.4 Annex K): ``worklist/universal``, ``worklist/match/<key>``.

The universal query reads the device's items and checks the return keys (K.6.1.2.2); each
declared matching key is then queried with a value an item has (it must come back) and one
no item has (K.6.1.2.1, C.2.2.2).
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.refused import refused_steps
from conformance.families.registry import planner
from conformance.families.session import Session, result_of, session, step_action
from conformance.findings import Finding, Severity
from conformance.services import query as qr
from conformance.services import worklist as mwl
from conformance.services.common import Exchange
from conformance.statement.model import Statement


def _worklist_find(s: Session, ident: Dataset, n: int) -> qr.FindResult:
    return qr.find(s.assoc, mwl.MWL_FIND, ident, n, monitor=s.monitor, service="worklist")


@step_action
def _worklist_universal(ctx: RunContext) -> StepResult:
    what = "worklist universal query"
    with session(ctx, mwl.MWL_FIND, "worklist C-FIND") as s:
        res = _worklist_find(s, mwl.identifier(), 1)
    found = qr.status_findings(res, what, service="worklist") + mwl.return_key_findings(res, what)
    ctx.shared["services.worklist"] = res.matches
    return result_of(qr.exchange(res, what, found))


def _worklist_match(key: str) -> Callable[[RunContext], StepResult]:
    @step_action
    def action(ctx: RunContext) -> StepResult:
        with session(ctx, mwl.MWL_FIND, "worklist C-FIND") as s:
            items = ctx.shared.get("services.worklist")
            if items is None:
                items = _worklist_find(s, mwl.identifier(), 1).matches
                ctx.shared["services.worklist"] = items
            values = [mwl.value_of(i, key) for i in items if mwl.value_of(i, key)]
            if not values:
                return StepResult.skipped(f"not tested: the device has no worklist item with a "
                                          f"{key} to match on")
            value = values[0]
            queries = [(value, True)]
            if key == "ScheduledProcedureStepStartDate":
                queries += [(f"{value}-{value}", True), ("19000101-19000102", False)]
            else:
                queries += [(value + "X" if key != "Modality" else "ZZ", False)]
            ex = Exchange()
            for n, (query_value, should) in enumerate(queries, start=2):
                what = f"worklist {key}={query_value}"
                res = _worklist_find(s, mwl.identifier(**{key: query_value}), n)
                keys_with = [mwl.item_key(i) for i in items if mwl.value_of(i, key) == value]
                keys_without = [mwl.item_key(i) for i in items if mwl.value_of(i, key) != value]
                found = qr.status_findings(res, what, service="worklist")
                returned = {mwl.item_key(m) for m in res.matches}
                exp = keys_with if should else []
                missing = [k for k in exp if k not in returned]
                extra = [k for k in returned if (k in keys_without) or (not should and k in keys_with)]
                if missing:
                    found.append(Finding("worklist.match-missing", Severity.ERROR,
                                         f"{what}: {len(missing)} item(s) with {key} {value} not "
                                         "returned: matching on this key does not work as declared.",
                                         reference="PS3.4 K.6.1.2.1; C.2.2.2; statement",
                                         details={"key": key, "missing": missing[:5]}))
                if extra:
                    found.append(Finding("worklist.match-extra", Severity.ERROR,
                                         f"{what}: {len(extra)} item(s) returned that do not match.",
                                         reference="PS3.4 K.6.1.2.1; C.2.2.2",
                                         details={"key": key, "extra": extra[:5]}))
                ex.extend(qr.exchange(res, what, found))
                if ex.error:
                    break
        ex.message = ex.message or f"{len(queries)} worklist queries on {key}"
        return result_of(ex)
    return action


@planner("worklist", order=40)
def plan(statement: Statement) -> list[Step]:
    """The universal query, then one step per declared matching key."""
    if not statement.performs(mwl.MWL_FIND):
        return refused_steps(statement, mwl.MWL_FIND, "worklist/refused", "worklist")
    steps = [Step("worklist/universal", "Modality Worklist: universal query, return keys",
                  "PS3.4 K.4.1; K.6.1.2.2", action=_worklist_universal)]
    for key in statement.services.worklist.matching_keys:
        steps.append(Step(f"worklist/match/{key}", f"Modality Worklist: matching on {key}",
                          "PS3.4 K.6.1.2.1; C.2.2.2", action=_worklist_match(key)))
    return steps

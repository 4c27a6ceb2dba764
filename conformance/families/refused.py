"""Services declared *negotiable but refused* (``services.refused``): the device accepts the
presentation context and refuses the request, as the statement says (an A-ABORT, or a
failure status). One step per such SOP class, id ``<service prefix>/refused``, placed by the
service's planner with its other steps; it sends the service's harmless request
(:mod:`conformance.families.probes`) and checks the refusal comes as declared. A device that
performs the request instead contradicts the statement (a failure).
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.probes import probe_sop_class
from conformance.families.session import destination
from conformance.families.verdict import Reply, judge_declared
from conformance.services.status import classify
from conformance.standard import uids
from conformance.statement.model import Statement


def _action(sop: str, service: str) -> Callable[[RunContext], StepResult]:
    def action(ctx: RunContext) -> StepResult:
        declared = ctx.statement.services.refusal(sop)
        assert declared is not None
        probe = probe_sop_class(ctx.target, sop, destination(ctx.statement))
        if probe is None:
            return StepResult.skipped(f"not tested: no harmless request for {uids.keyword_of(sop)}")
        if probe.reply is None:
            return StepResult.error(f"could not test the declared refusal: {probe.detail}")
        if probe.reply is Reply.NO_ANSWER:
            return StepResult.error(f"could not test the declared refusal: {probe.describe()}")
        status = classify(probe.status, service) if probe.status is not None else None
        what = probe.describe()
        return judge_declared(f"{probe.service} ({uids.keyword_of(sop)})", declared, probe.reply,
                              status, probe.to_dict(), what)
    return action


def refused_steps(statement: Statement, sop: str, step_id: str, service: str) -> list[Step]:
    """The ``refused`` step of *sop* if the statement declares it refused, else nothing.
    *service* is the status table of :func:`conformance.services.status.classify`."""
    declared = statement.services.refusal(sop)
    if declared is None:
        return []
    how = declared.how if declared.status is None else f"status {declared.status:04X}"
    return [Step(step_id, f"{uids.name_of(sop)}: negotiated, refused as declared ({how})",
                 "PS3.7 9.1 (status); PS3.8 9.3.8; statement", action=_action(sop, service))]

"""The negotiation scenario family: what a statement's network claims imply, as steps.

Checks (PS3.7 Annex D, PS3.8 section 9):

- ``negotiation/verification``: C-ECHO (PS3.7 9.1.5, PS3.4 Annex A).
- ``negotiation/called-ae-title``, ``negotiation/calling-ae-title``: AE title policy
  (PS3.8 9.3.4, Table 9-21: reasons 7 and 3).
- ``negotiation/association-parameters``: Maximum Length, Implementation Class UID and
  Version Name observed vs declared (PS3.7 D.3.3.1, D.3.3.2).
- ``negotiation/accept/<SOP class>/<transfer syntax>``: each declared SCP pair is accepted.
- ``negotiation/undeclared-ts/<SOP class>``: undeclared transfer syntaxes of a declared
  SOP class: accepted is a warning (the statement is incomplete); rejected should carry
  result 4 (PS3.8 Table 9-18).
- ``negotiation/undeclared-sop-class/<SOP class>``: SOP classes the standard defines that
  the statement does not declare: accepted is a warning; rejected should carry result 3.
- ``negotiation/role-selection/<SOP class>``: SCP/SCU Role Selection (PS3.7 D.3.3.4) where
  declared for a SOP class the device uses as SCU.

The context probes are batched: all of them share as few associations as PS3.8 allows
(see :mod:`conformance.negotiation.packing`).
Registered as the ``negotiation`` family (:mod:`conformance.families.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.registry import planner
from conformance.families.session import unestablished
from conformance.findings import Finding, Severity
from conformance.negotiation.association import (
    CONTEXT_RESULTS, ContextResult, Establishment, ProposedContext,
)
from conformance.negotiation.packing import MAX_CONTEXTS, pack, per_sop_class
from conformance.standard import uids
from conformance.statement.model import Role, Statement
from conformance.wire.association import WireError
from conformance.wire.requestor import negotiate, open_association

Evaluator = Callable[[list[ContextResult]], StepResult]

WRONG_AE_TITLE = "NOT-THIS-DEVICE"
UNKNOWN_CALLING_AE = "UNKNOWN-PEER"


def _observation(c: ContextResult, declared: bool, role: str = "SCP") -> dict:
    return {"sop_class": c.proposed.sop_class,
            "transfer_syntax": c.transfer_syntax or (c.proposed.transfer_syntaxes[0]
                                                     if len(c.proposed.transfer_syntaxes) == 1 else None),
            "role": role, "declared": declared, "result": c.result}


def _result_text(result: int) -> str:
    return f"result {result} ({CONTEXT_RESULTS.get(result, 'unknown')})"


# --- the packed context probe --------------------------------------------------------------

@dataclass
class ContextProbe:
    """Batch of steps whose presentation contexts are proposed together."""

    key: str = "negotiation/context-probe"
    proposals: dict[str, tuple[list[ProposedContext], Evaluator]] = field(default_factory=dict)
    #: A declared context added to every association that lacks it, so that a device that
    #: rejects a whole association proposing nothing it supports (wlmscpfs does; PS3.8
    #: 9.3.4 allows it) still answers each proposed context. Its own result is not judged.
    anchor: ProposedContext | None = None

    def add(self, step_id: str, contexts: list[ProposedContext], evaluate: Evaluator) -> "ContextProbe":
        self.proposals[step_id] = (contexts, evaluate)
        return self

    def _groups(self, ctx: RunContext, steps: Sequence[Step]) -> list[list[ProposedContext]]:
        contexts = [c for s in steps for c in self.proposals[s.id][0]]
        if ctx.options.packing == "per-sop-class":
            groups = per_sop_class(contexts)
        else:
            groups = pack(contexts, MAX_CONTEXTS - 1 if self.anchor else MAX_CONTEXTS)
        anchor = self.anchor
        if anchor is not None:
            for group in groups:
                if anchor not in group and len(group) < MAX_CONTEXTS and all(
                        c.sop_class != anchor.sop_class for c in group):
                    group.append(anchor)
        return groups

    def time_limit(self, ctx: RunContext, steps: Sequence[Step]) -> float:
        return ctx.target.timeouts.step_limit(len(self._groups(ctx, steps)))

    def run(self, ctx: RunContext, steps: Sequence[Step]) -> dict[str, StepResult]:
        answers: dict[ProposedContext, ContextResult] = {}
        failures: dict[ProposedContext, StepResult] = {}
        stop: StepResult | None = None
        for group in self._groups(ctx, steps):
            if stop is not None:
                for c in group:
                    failures[c] = stop
                continue
            outcome = negotiate(ctx.target, group)
            if outcome.establishment is Establishment.ACCEPTED:
                answers.update({r.proposed: r for r in outcome.contexts if r.proposed not in answers})
                continue
            failure = unestablished(outcome, "propose these presentation contexts", ctx.target)
            for c in group:
                failures[c] = failure
            if failure.device_unreachable:
                stop = StepResult.error("not tried: the device stopped answering "
                                        f"({outcome.describe()})", unreachable=True)
        results: dict[str, StepResult] = {}
        for step in steps:
            contexts, evaluate = self.proposals[step.id]
            failed = next((failures[c] for c in contexts if c in failures), None)
            results[step.id] = failed if failed is not None else evaluate([answers[c] for c in contexts])
        return results


def _accept_evaluator(sop: str, ts: str) -> Evaluator:
    def evaluate(res: list[ContextResult]) -> StepResult:
        r = res[0]
        findings = []
        if not r.accepted:
            findings.append(Finding(
                "negotiation.declared-ts-rejected", Severity.ERROR,
                f"{uids.name_of(sop)} in {uids.keyword_of(ts)} is declared (SCP) but the device "
                f"rejected it with {_result_text(r.result)}.",
                reference="PS3.8 9.3.3.2; statement",
                details={"sop_class": sop, "transfer_syntax": ts, "result": r.result}))
        return StepResult(findings, [_observation(r, declared=True)])
    return evaluate


def _undeclared_ts_evaluator(sop: str, declared: int) -> Evaluator:
    """The first *declared* results are the declared syntaxes (context only: they are judged
    by the accept steps); the rest are the undeclared ones."""
    def evaluate(res: list[ContextResult]) -> StepResult:
        supported = any(r.accepted for r in res[:declared])
        findings = []
        for r in res[declared:]:
            ts = r.proposed.transfer_syntaxes[0]
            if r.accepted:
                findings.append(Finding(
                    "negotiation.undeclared-ts-accepted", Severity.WARNING,
                    f"{uids.name_of(sop)} in {uids.keyword_of(ts)} was accepted but is not "
                    "declared: the statement is incomplete.",
                    reference="PS3.2 (transfer syntax tables); statement",
                    details={"sop_class": sop, "transfer_syntax": ts}))
            elif supported and r.result != 4:
                # Only when the SOP class is supported: otherwise 3 is the right answer and
                # the accept steps already report the unsupported class.
                findings.append(Finding(
                    "negotiation.wrong-rejection-reason", Severity.WARNING,
                    f"{uids.name_of(sop)} in {uids.keyword_of(ts)} was rejected with "
                    f"{_result_text(r.result)}; the SOP class is supported, so the reason "
                    "should be 4 (transfer-syntaxes-not-supported).",
                    reference="PS3.8 Table 9-18",
                    details={"sop_class": sop, "transfer_syntax": ts, "result": r.result, "expected": 4}))
        return StepResult(findings, [_observation(r, declared=False) for r in res[declared:]])
    return evaluate


def _undeclared_sop_evaluator(sop: str) -> Evaluator:
    def evaluate(res: list[ContextResult]) -> StepResult:
        r = res[0]
        findings = []
        if r.accepted:
            findings.append(Finding(
                "negotiation.undeclared-sop-class-accepted", Severity.WARNING,
                f"{uids.name_of(sop)} was accepted (SCP) but is not declared: the statement "
                "is incomplete.", reference="PS3.2 (SOP class tables); statement",
                details={"sop_class": sop, "transfer_syntax": r.transfer_syntax}))
        elif r.result != 3:
            findings.append(Finding(
                "negotiation.wrong-rejection-reason", Severity.WARNING,
                f"{uids.name_of(sop)} (not declared) was rejected with {_result_text(r.result)}; "
                "for an unsupported SOP class the reason should be 3 (abstract-syntax-not-supported).",
                reference="PS3.8 Table 9-18",
                details={"sop_class": sop, "result": r.result, "expected": 3}))
        return StepResult(findings, [_observation(r, declared=False)])
    return evaluate


def _role_selection_evaluator(sop: str) -> Evaluator:
    def evaluate(res: list[ContextResult]) -> StepResult:
        findings = []
        accepted = [r for r in res if r.accepted]
        if not accepted:
            findings.append(Finding(
                "negotiation.role-selection-refused", Severity.ERROR,
                f"{uids.keyword_of(sop)} with SCP/SCU role selection (harness as SCP, device as "
                f"SCU) was rejected ({', '.join(_result_text(r.result) for r in res)}).",
                reference="PS3.7 D.3.3.4; statement", details={"sop_class": sop}))
        elif not accepted[0].as_scp:
            findings.append(Finding(
                "negotiation.role-selection-refused", Severity.ERROR,
                f"{uids.keyword_of(sop)}: the context was accepted but the device did not agree "
                "to the harness acting as SCP (role selection answered scp-role = 0).",
                reference="PS3.7 D.3.3.4; statement", details={"sop_class": sop}))
        return StepResult(findings, [dict(_observation(r, declared=True, role="SCU"), role_selection=True)
                                     for r in res])
    return evaluate


# --- single steps -------------------------------------------------------------------------

def _verification(ctx: RunContext) -> StepResult:
    """C-ECHO (PS3.7 9.1.5): the response status shall be Success (0x0000)."""
    declared = ctx.statement.capability(uids.VERIFICATION, Role.SCP)
    syntaxes = declared.transfer_syntaxes if declared else (uids.IMPLICIT_VR_LITTLE_ENDIAN,)
    contexts = [ProposedContext(uids.VERIFICATION, (ts,)) for ts in syntaxes]
    outcome, assoc = open_association(ctx.target, contexts)
    if assoc is None:
        return unestablished(outcome, "associate for C-ECHO", ctx.target)
    try:
        accepted = [r for r in outcome.contexts if r.accepted]
        observations = [_observation(r, declared=declared is not None) for r in outcome.contexts]
        if declared is None:
            if accepted:
                return StepResult([Finding(
                    "negotiation.undeclared-sop-class-accepted", Severity.WARNING,
                    "Verification SOP Class was accepted (SCP) but is not declared.",
                    reference="PS3.4 Annex A; statement")], observations)
            return StepResult.skipped("Verification is not declared as SCP and the device rejected it")
        findings = [Finding(
            "negotiation.declared-ts-rejected", Severity.ERROR,
            f"Verification SOP Class in {uids.keyword_of(r.proposed.transfer_syntaxes[0])} is declared (SCP) "
            f"but the device rejected it with {_result_text(r.result)}.",
            reference="PS3.8 9.3.3.2; statement",
            details={"sop_class": uids.VERIFICATION, "transfer_syntax": r.proposed.transfer_syntaxes[0],
                     "result": r.result}) for r in outcome.contexts if not r.accepted]
        if not accepted:
            return StepResult(findings, observations)
        try:
            rsp = assoc.send_c_echo(accepted[0].proposed)
        except WireError as exc:
            return StepResult.error(f"no valid C-ECHO response: {exc.end.describe()}")
        if rsp.status != 0x0000:
            findings.append(Finding(
                "verification.echo-status", Severity.ERROR,
                f"C-ECHO answered status 0x{rsp.status:04X}, not Success (0x0000).",
                reference="PS3.7 9.1.5.1.4"))
        return StepResult(findings, observations, message=f"C-ECHO status 0x{rsp.status:04X}")
    finally:
        assoc.release()


def _default_context(statement: Statement) -> list[ProposedContext]:
    """Contexts for association-level checks: Verification plus one declared SCP class."""
    contexts = [ProposedContext(uids.VERIFICATION, (uids.IMPLICIT_VR_LITTLE_ENDIAN,))]
    for cap in statement.capabilities(Role.SCP):
        if cap.sop_class != uids.VERIFICATION:
            contexts.append(ProposedContext(cap.sop_class, cap.transfer_syntaxes))
            break
    return contexts


def _ae_title_check(which: str) -> Callable[[RunContext], StepResult]:
    """Wrong Called AE Title -> reason 7; unknown Calling AE Title -> reason 3 (PS3.8 Table 9-21)."""
    reason = 7 if which == "called" else 3

    def action(ctx: RunContext) -> StepResult:
        checks = (ctx.statement.network.checks_called_ae_title if which == "called"
                  else ctx.statement.network.checks_calling_ae_title)
        target = (ctx.target.with_called_ae(WRONG_AE_TITLE) if which == "called"
                  else ctx.target.with_calling_ae(UNKNOWN_CALLING_AE))
        title = WRONG_AE_TITLE if which == "called" else UNKNOWN_CALLING_AE
        outcome = negotiate(target, _default_context(ctx.statement))
        obs = [{"kind": "association", "establishment": outcome.establishment.value,
                f"{which}_ae": title, "reject_reason": outcome.reject_reason}]
        if outcome.establishment not in (Establishment.ACCEPTED, Establishment.REJECTED):
            return unestablished(outcome, f"test the {which} AE title policy")
        rejected = outcome.establishment is Establishment.REJECTED
        if checks and not rejected:
            return StepResult([Finding(
                f"negotiation.{which}-ae-not-checked", Severity.ERROR,
                f"The statement says the device checks the {which} AE title, but it accepted "
                f"an association with {which} AE title {title!r}.",
                reference="PS3.8 9.3.4, Table 9-21; statement")], obs)
        if not checks and rejected:
            return StepResult([Finding(
                f"negotiation.{which}-ae-checked", Severity.ERROR,
                f"The statement says any {which} AE title is accepted, but the device "
                f"rejected {title!r}: {outcome.describe()}.",
                reference="PS3.8 9.3.4; statement")], obs)
        if rejected and (outcome.reject_source, outcome.reject_reason) != (1, reason):
            return StepResult([Finding(
                "negotiation.wrong-reject-reason", Severity.WARNING,
                f"A wrong {which} AE title was rejected with {outcome.reject_meaning} "
                f"(source {outcome.reject_source}, reason {outcome.reject_reason}); PS3.8 calls "
                f"for source 1, reason {reason} ({which}-AE-title-not-recognized).",
                reference="PS3.8 Table 9-21")], obs)
        return StepResult([], obs, message=outcome.describe())
    return action


def _association_parameters(ctx: RunContext) -> StepResult:
    """Observed A-ASSOCIATE-AC user information vs the statement (PS3.7 D.3.3.1-D.3.3.2)."""
    net = ctx.statement.network
    outcome = negotiate(ctx.target, _default_context(ctx.statement))
    if outcome.establishment is not Establishment.ACCEPTED:
        return unestablished(outcome, "read the association parameters", ctx.target)
    observed = {"max_pdu_receive": outcome.max_pdu,
                "implementation_class_uid": outcome.implementation_class_uid,
                "implementation_version_name": outcome.implementation_version_name}
    findings = []
    checks = (("max_pdu_receive", net.max_pdu_receive, Severity.ERROR, "PS3.8 D.1"),
              ("implementation_class_uid", net.implementation_class_uid, Severity.WARNING, "PS3.7 D.3.3.2"),
              ("implementation_version_name", net.implementation_version_name, Severity.WARNING, "PS3.7 D.3.3.2"))
    for key, declared, severity, ref in checks:
        if declared is not None and observed[key] != declared:
            findings.append(Finding(
                f"negotiation.{key.replace('_', '-')}-mismatch", severity,
                f"{key.replace('_', ' ')}: declared {declared!r}, observed {observed[key]!r}.",
                reference=f"{ref}; statement", details={"declared": declared, "observed": observed[key]}))
    return StepResult(findings, [dict(kind="association-parameters", **observed)],
                      message=", ".join(f"{k}={v}" for k, v in observed.items()))


# --- the plan -------------------------------------------------------------------------------

@planner("negotiation", family="negotiation", order=0)
def plan(statement: Statement) -> list[Step]:
    """The negotiation steps a statement implies, in run order."""
    steps = [
        Step("negotiation/verification", "Verification: C-ECHO", "PS3.7 9.1.5; PS3.4 Annex A",
             action=_verification),
        Step("negotiation/called-ae-title", "Called AE title policy", "PS3.8 9.3.4, Table 9-21",
             action=_ae_title_check("called")),
        Step("negotiation/calling-ae-title", "Calling AE title policy", "PS3.8 9.3.4, Table 9-21",
             action=_ae_title_check("calling")),
        Step("negotiation/association-parameters",
             "Maximum PDU length, implementation class UID and version name",
             "PS3.7 D.3.3.1, D.3.3.2; PS3.8 D.1", action=_association_parameters),
    ]
    probe = ContextProbe(anchor=_anchor(statement))
    probed_ts = uids.probe_transfer_syntaxes()
    scp = [c for c in statement.capabilities(Role.SCP) if c.sop_class != uids.VERIFICATION]
    for cap in scp:
        kw = cap.sop_class_keyword
        for ts in cap.transfer_syntaxes:
            sid = f"negotiation/accept/{kw}/{uids.keyword_of(ts)}"
            probe.add(sid, [ProposedContext(cap.sop_class, (ts,))], _accept_evaluator(cap.sop_class, ts))
            steps.append(Step(sid, f"{uids.name_of(cap.sop_class)} in {uids.name_of(ts)} is accepted",
                              "PS3.8 9.3.3.2; PS3.7 D.3.3", batch=probe))
    for cap in scp:
        undeclared = [ts for ts in probed_ts.values() if ts not in cap.transfer_syntaxes]
        if not undeclared:
            continue
        sid = f"negotiation/undeclared-ts/{cap.sop_class_keyword}"
        probe.add(sid, [ProposedContext(cap.sop_class, (ts,)) for ts in cap.transfer_syntaxes + tuple(undeclared)],
                  _undeclared_ts_evaluator(cap.sop_class, len(cap.transfer_syntaxes)))
        steps.append(Step(sid, f"{uids.name_of(cap.sop_class)}: undeclared transfer syntaxes",
                          "PS3.8 Table 9-18", batch=probe))
    declared_scp = {c.sop_class for c in statement.capabilities(Role.SCP)}
    standard = {**uids.storage_sop_classes(), **uids.query_retrieve_sop_classes()}
    for sop in dict.fromkeys(standard.values()):
        if sop in declared_scp:
            continue
        sid = f"negotiation/undeclared-sop-class/{uids.keyword_of(sop)}"
        probe.add(sid, [ProposedContext(sop, (uids.IMPLICIT_VR_LITTLE_ENDIAN, uids.EXPLICIT_VR_LITTLE_ENDIAN))],
                  _undeclared_sop_evaluator(sop))
        steps.append(Step(sid, f"{uids.name_of(sop)} (not declared) is rejected", "PS3.8 Table 9-18",
                          batch=probe))
    for cap in statement.capabilities(Role.SCU):
        if not cap.role_selection:
            continue
        sid = f"negotiation/role-selection/{cap.sop_class_keyword}"
        probe.add(sid, [ProposedContext(cap.sop_class, (ts,), scu_role=False, scp_role=True)
                        for ts in cap.transfer_syntaxes], _role_selection_evaluator(cap.sop_class))
        steps.append(Step(sid, f"{uids.name_of(cap.sop_class)}: SCP/SCU role selection (device as SCU)",
                          "PS3.7 D.3.3.4", batch=probe))
    steps += _not_tested_yet(statement)
    return steps


def _anchor(statement: Statement) -> ProposedContext | None:
    """A context the statement says the device accepts: Verification if declared, else the
    first declared SCP SOP class in its first transfer syntax."""
    caps = statement.capabilities(Role.SCP)
    cap = next((c for c in caps if c.sop_class == uids.VERIFICATION), caps[0] if caps else None)
    return ProposedContext(cap.sop_class, cap.transfer_syntaxes[:1]) if cap else None


def _skip(reason: str) -> Callable[[RunContext], StepResult]:
    """An action that ends its step as skipped with *reason*."""
    def action(ctx: RunContext) -> StepResult:
        return StepResult.skipped(reason)
    return action


def _not_tested_yet(statement: Statement) -> list[Step]:
    """Declared capabilities this harness cannot check yet: said so, as skipped steps."""
    steps = []
    scu = [c for c in statement.capabilities(Role.SCU) if not c.role_selection]
    if scu:
        names = ", ".join(c.sop_class_keyword for c in scu[:5]) + (" ..." if len(scu) > 5 else "")
        reason = (f"{len(scu)} SOP class(es) declared with the device as SCU ({names}): "
                  "testing the SCU role needs the harness to listen (not implemented yet)")
        steps.append(Step("negotiation/scu-role", "Device as SCU", "PS3.7 D.3.3.4",
                          action=_skip(reason)))
    ext = [c for c in statement.transfer_capabilities if c.extended_negotiation]
    if ext:
        reason = (f"extended negotiation declared for {len(ext)} SOP class(es): "
                  "not tested yet")
        steps.append(Step("negotiation/extended-negotiation", "SOP class extended negotiation",
                          "PS3.7 D.3.3.5", action=_skip(reason)))
    if statement.network.tls:
        steps.append(Step("negotiation/tls", "TLS secure transport connection", "PS3.15 B.1",
                          action=_skip("TLS is declared: not tested yet")))
    return steps

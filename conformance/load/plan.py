"""The load family: the statement's ``load`` section → one step, ``load/c-store``.

The step opens ``associations`` associations at once and stores ``instances_per_association``
synthesized instances on each (PS3.4 B.2, Storage SOP classes as SCP); it fails when:

- an association within the declared maximum (``network.max_associations``) is rejected, or
  more are rejected beyond it than the excess (PS3.8 Table 9-21; a reason other than "local
  limit exceeded" beyond the maximum is a warning);
- an accepted association is aborted or stops answering (a failure, not "could not test");
- a C-STORE fails (PS3.4 Table B.2-1), counted per status;
- a target is missed: throughput, p95 latency, error rate.

It cannot test (error) when the harness cannot synthesize any of the SOP classes, or when the
device cannot be reached at all.
"""

from __future__ import annotations

from pydicom.uid import ExplicitVRLittleEndian

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.registry import planner
from conformance.findings import Finding, Severity
from conformance.load.measure import buckets, judge_rejections, judge_targets, latency_summary
from conformance.load.payload import TEST_PATIENT_PREFIX, CreatedByLoad, Payloads
from conformance.load.runner import LoadResult, run_load
from conformance.standard import uids
from conformance.statement.model import Load, Role, Statement

STEP_ID = "load/c-store"
REFERENCE = "PS3.4 B.2; PS3.7 9.3.1; PS3.8 9.3.4"


def default_sop_class(statement: Statement) -> str | None:
    """The first Storage SOP class the device declares as SCP."""
    return next((c.sop_class for c in statement.capabilities(Role.SCP)
                 if uids.keyword_of(c.sop_class).endswith("Storage")), None)


@planner("load", family="load", order=200)
def plan(statement: Statement) -> list[Step]:
    """No ``load`` section, no step: a load test runs only when the statement asks for it."""
    spec = statement.load
    if spec is None:
        return []
    return [Step(STEP_ID, f"{spec.associations} concurrent associations x "
                          f"{spec.instances_per_association} C-STOREs", REFERENCE,
                 action=_action, time_limit=spec.time_limit + 120.0)]


def default_transfer_syntax(statement: Statement, sop_class: str) -> str:
    """Explicit VR Little Endian when declared for *sop_class* (or nothing is declared), else
    the first transfer syntax the statement declares for it."""
    cap = statement.capability(sop_class, Role.SCP)
    if cap is None or not cap.transfer_syntaxes or ExplicitVRLittleEndian in cap.transfer_syntaxes:
        return ExplicitVRLittleEndian
    return cap.transfer_syntaxes[0]


def sop_classes_of(statement: Statement, spec: Load) -> tuple[str, ...]:
    return spec.sop_classes or tuple(filter(None, [default_sop_class(statement)]))


def _payloads(statement: Statement, spec: Load, patient_id: str
              ) -> tuple[Payloads, list[str]]:
    payloads, problems = Payloads(patient_id=patient_id), []
    for sop in sop_classes_of(statement, spec):
        tss = spec.transfer_syntaxes or (default_transfer_syntax(statement, sop),)
        for ts in tss:
            try:
                payloads.add(sop, ts)
            except Exception as exc:  # noqa: BLE001 (synthesizer or encoder: say which, go on)
                problems.append(f"{uids.keyword_of(sop)} in {uids.keyword_of(ts)}: {exc}")
    return payloads, problems


def _findings(spec: Load, statement: Statement, r: LoadResult) -> list[Finding]:
    out = judge_rejections(spec.associations, statement.network.max_associations,
                           r.rejections)
    if r.contexts_refused:
        out.append(Finding(
            "load.contexts-rejected", Severity.ERROR,
            f"{r.contexts_refused} association(s) were accepted without any of the proposed "
            "presentation contexts, which the statement declares.",
            reference="PS3.8 9.3.3.2 (Table 9-18); statement transfer_capabilities",
            details={"count": r.contexts_refused}))
    if r.broken:
        out.append(Finding(
            "load.association-broken", Severity.ERROR,
            f"{len(r.broken)} accepted association(s) ended before their C-STOREs did "
            f"(e.g. {r.broken[0]}).", reference="PS3.8 9.3.8, 9.1.5 (DIMSE timeout)",
            details={"count": len(r.broken), "examples": r.broken[:3]}))
    for status, n in sorted(r.statuses.items()):
        if status.endswith(("success", "warning")) or status.startswith("no response"):
            continue
        out.append(Finding(
            "load.store-failed", Severity.ERROR,
            f"{n} C-STORE(s) under load were answered {status}.",
            reference="PS3.4 Table B.2-1", details={"status": status, "count": n}))
    s = latency_summary(r.latencies_ms)
    out += judge_targets(spec.targets, r.throughput, s["p95"], r.error_rate, r.attempted)
    if r.stopped_by_time:
        out.append(Finding(
            "load.time-limit", Severity.INFO,
            f"the time limit of {spec.time_limit:g} s ended the load after {r.attempted} of "
            f"{r.accepted * spec.instances_per_association} C-STOREs; the figures cover "
            "those.", reference="statement load.time_limit"))
    return out


def observation(spec: Load, statement: Statement, r: LoadResult, payloads: Payloads,
                problems: list[str]) -> dict:
    """Everything the report section shows (rebuilt from the results file alone)."""
    lat = latency_summary(r.latencies_ms)
    samples = list(zip(r.starts, r.latencies_ms))
    return {
        "kind": "load", "associations": spec.associations,
        "instances_per_association": spec.instances_per_association,
        "declared_max_associations": statement.network.max_associations,
        "accepted": r.accepted, "rejections": r.rejections,
        "not_established": r.not_established[:5], "broken": r.broken[:5],
        "attempted": r.attempted, "succeeded": r.succeeded, "failed": r.failed,
        "seconds": round(r.seconds, 3), "throughput": round(r.throughput, 2),
        "error_rate": round(r.error_rate, 5),
        "latency_ms": {k: (round(v, 3) if v is not None else None) for k, v in lat.items()},
        "statuses": dict(r.statuses), "buckets": buckets(samples),
        "targets": {"throughput": spec.targets.throughput,
                    "p95_latency_ms": spec.targets.p95_latency_ms,
                    "error_rate": spec.targets.error_rate},
        "stopped_by_time": r.stopped_by_time, "not_synthesized": problems,
        "left_on_device": {
            "patient_id": payloads.patient_id, "study_instance_uid": payloads.study_uid,
            "series_instance_uid": payloads.series_uid,
            "instances": {uids.keyword_of(k): v for k, v in r.stored.items()}},
    }


def _action(ctx: RunContext) -> StepResult:
    spec = ctx.statement.load
    assert spec is not None
    return run_load_step(ctx, spec)


def run_load_step(ctx: RunContext, spec: Load, where: str = "the load section") -> StepResult:
    """Store the load *spec* declares and judge it: the ``load/c-store`` step of the family
    and the ``load`` step kind of a site scenario (*where* names which, in set-up errors)."""
    from conformance.services.data import run_data

    undeclared = [uids.keyword_of(sop) for sop in sop_classes_of(ctx.statement, spec)
                  if not ctx.statement.declares(sop, Role.SCP)]
    if undeclared:
        return StepResult.error(
            f"{where} names {', '.join(undeclared)}, which the statement does not "
            "declare with the device as SCP: a set-up mistake (declare it in the statement's "
            "transfer_capabilities, or name a declared Storage SOP class in sop_classes)")
    # The run's token (shared with the services family), so one prefix finds its patients.
    patient = f"{TEST_PATIENT_PREFIX}{run_data(ctx.shared).token}-LOAD"
    payloads, problems = _payloads(ctx.statement, spec, patient)
    if not payloads.templates:
        why = "; ".join(problems) or "the statement declares no Storage SOP class as SCP"
        return StepResult.error(f"no instance to store under load: {why}")
    r = run_load(ctx.target, payloads, spec.associations, spec.instances_per_association,
                 spec.time_limit)
    ctx.shared[f"load.created.{payloads.study_uid}"] = CreatedByLoad(
        payloads.patient_id, payloads.study_uid, r.succeeded)
    if not r.accepted and not r.rejections and not r.contexts_refused:
        why = r.not_established[0] if r.not_established else "no association"
        return StepResult.error(f"could not open any association: {why}",
                                unreachable=r.unreachable == spec.associations)
    findings = _findings(spec, ctx.statement, r)
    lat = latency_summary(r.latencies_ms)
    p95 = f", p95 {lat['p95']:.1f} ms" if lat["p95"] is not None else ""
    message = (f"{r.succeeded} of {r.attempted} C-STORE(s) stored over {r.accepted} of "
               f"{spec.associations} association(s) in {r.seconds:.1f} s: "
               f"{r.throughput:.1f} instances/s{p95}")
    return StepResult(findings=findings,
                      observations=[observation(spec, ctx.statement, r, payloads, problems)],
                      message=message)

"""Execute a plan of steps, emitting typed events to handlers.

Guarantees: every step ends (each is bounded by a wall-clock limit on top of the network
timeouts); a step that raises ends as ``error``, never as a traceback; when a step could not
reach the device, a quick liveness check decides whether the device is down, and if it is,
the remaining steps end as ``error`` at once instead of each waiting for its timeout.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from collections.abc import Mapping
from typing import Any, Callable, Sequence

from conformance.engine.emitter import Emitter
from conformance.engine.events import CreatedOnDevice, Handler, Progress
from conformance.engine.model import Outcome, RunContext, SetupProblem, Step, StepResult
from conformance.engine.results import RunResults
from conformance.standard.uids import IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION
from conformance.wire.contexts import ProposedContext
from conformance.findings import Finding, Severity
from conformance.wire.association import WireError
from conformance.wire.outcome import Ending, Establishment
from conformance.wire.requestor import open_association
from conformance.wire.target import Target


def _bounded(fn: Callable[[], object], limit: float) -> tuple[bool, object]:
    """Run *fn* in a worker thread; ``(True, value)`` or ``(False, None)`` after *limit* s.

    The worker is a daemon thread: if it is stuck in a library call past every timeout,
    it is abandoned rather than allowed to hang the run.
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported as a step error
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="conformance-step")
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        return False, None
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return True, box.get("value")


def device_alive(ctx: RunContext) -> tuple[bool, str]:
    """Quick check: does the device still answer an A-ASSOCIATE-RQ at all, and, when it
    accepts Verification, a C-ECHO (PS3.7 9.1.5) within the liveness timeout?"""
    t = ctx.target.timeouts
    quick = type(t)(connect=min(t.connect, t.liveness), acse=min(t.acse, t.liveness),
                    dimse=min(t.dimse, t.liveness), network=t.network, liveness=t.liveness)
    target = replace(ctx.target, timeouts=quick)
    echo = ProposedContext(VERIFICATION, (IMPLICIT_VR_LITTLE_ENDIAN,))
    outcome, assoc = open_association(target, [echo])
    if assoc is None:
        return outcome.establishment in (Establishment.ACCEPTED, Establishment.REJECTED), outcome.describe()
    try:
        assoc.send_c_echo(echo)
    except WireError as exc:
        if exc.end.kind is Ending.NO_ANSWER:
            return False, f"it accepts associations but does not answer a C-ECHO within {quick.dimse:g} s"
    finally:
        assoc.release()
    return True, outcome.describe()


def with_violations(result: StepResult, target: Target) -> StepResult:
    """*result* with the device's protocol errors first seen during the step, as findings
    (``conformance.wire.outcome.Violation``, each reported once per run); one of severity
    error makes the step fail, unless it is a set-up problem at the site."""
    new = target.record.take()
    if not new:
        return result
    findings = [Finding(v.code, Severity(v.severity), v.message[:2000], reference=v.reference,
                        source=target.address) for v in new]
    outcome = result.outcome
    if outcome in (Outcome.ERROR, Outcome.PASS, Outcome.SKIPPED) and any(f.severity is Severity.ERROR for f in findings):
        outcome = Outcome.FAIL
    return replace(result, findings=[*result.findings, *findings], outcome=outcome)


class _Run:
    def __init__(self, ctx: RunContext, steps: Sequence[Step], emitter: Emitter):
        self.ctx, self.steps, self.emitter = ctx, list(steps), emitter
        self.batch_results: dict[str, StepResult] = {}
        self.done_batches: set[str] = set()
        self.aborted: str | None = None
        self.liveness_checked: set[str] = set()
        #: Batch steps already recorded while their batch ran (:meth:`RunContext.step_done`).
        self.emitted: set[str] = set()
        self._early_lock = threading.Lock()
        self._early_open = False
        self._current = ""

    def _step_done_early(self, step_id: str, result: StepResult) -> None:
        """A batch step finished: its events now, not when the batch ends (a run killed in
        the batch keeps it). Ignored once the batch's time limit has passed."""
        with self._early_lock:
            if not self._early_open or step_id in self.emitted:
                return
            self.emitted.add(step_id)
            self.batch_results[step_id] = result
            if step_id != self._current:        # the step that started the batch has begun already
                self.emitter.step_started(step_id)
            self.emitter.step_finished(step_id, result, 0.0)

    def execute(self, step: Step) -> StepResult:
        ctx = self.ctx
        if step.batch is not None:
            key = step.batch.key
            if key not in self.done_batches:
                self.done_batches.add(key)
                members = [s for s in self.steps if s.batch is not None and s.batch.key == key]
                limit = step.batch.time_limit(ctx, members)
                self._early_open, ctx.on_step_done = True, self._step_done_early
                try:
                    finished, value = _bounded(lambda: step.batch.run(ctx, members), limit)  # type: ignore[union-attr]
                finally:
                    with self._early_lock:
                        self._early_open, ctx.on_step_done = False, None
                if finished and isinstance(value, dict):
                    self.batch_results.update(value)
                else:
                    for m in members:
                        self.batch_results[m.id] = StepResult.error(
                            f"no result within {limit:.0f} s (the device stopped answering)", unreachable=True)
            return self.batch_results.get(step.id) or StepResult.error("the batch gave no result for this step")
        assert step.action is not None
        limit = step.time_limit or ctx.target.timeouts.step_limit()
        finished, value = _bounded(lambda: step.action(ctx), limit)  # type: ignore[misc]
        if not finished:
            return StepResult.error(f"no result within {limit:.0f} s (the device stopped answering)",
                                    unreachable=True)
        return value  # type: ignore[return-value]

    def run_step(self, step: Step) -> None:
        if step.id in self.emitted:
            return
        self._current = step.id
        self.emitter.step_started(step.id)
        start = time.monotonic()
        if self.aborted:
            result = StepResult.error(f"not run: {self.aborted}")
        else:
            silences = self.ctx.target.record.silences
            try:
                result = self.execute(step)
            except SetupProblem as exc:
                result = StepResult(message=f"set-up problem: {exc}", outcome=Outcome.SETUP)
            except Exception as exc:  # noqa: BLE001 - a harness bug ends the step, not the run
                result = StepResult.error(f"harness error: {type(exc).__name__}: {exc}")
            if step.id not in self.emitted:     # else the next step takes the device's protocol errors
                result = with_violations(result, self.ctx.target)
            check_key = step.batch.key if step.batch is not None else step.id
            silent = self.ctx.target.record.silences > silences
            if (result.device_unreachable or silent) and check_key not in self.liveness_checked:
                self.liveness_checked.add(check_key)
                alive, how = device_alive(self.ctx)
                if not alive:
                    self.aborted = f"device unreachable at {self.ctx.target.address} ({how})"
        if step.id not in self.emitted:         # not recorded while its batch ran
            self.emitter.step_finished(step.id, result, time.monotonic() - start)


def _created_on_device(ctx: RunContext) -> list[Mapping[str, Any]]:
    """What the run's shared data say they stored on the device (any value in
    ``ctx.shared`` with a ``created_on_device()`` method, e.g. the services' run data)."""
    out: list[Mapping[str, Any]] = []
    for value in list(ctx.shared.values()):
        report = getattr(value, "created_on_device", None)
        if callable(report):
            try:
                out += list(report())
            except Exception:  # noqa: BLE001, S112 - an inventory must not hide the results
                continue
    return out


def run(ctx: RunContext, steps: Sequence[Step], handlers: Sequence[Handler] = ()) -> RunResults:
    """Run *steps* against ``ctx.target``; return the results (also sent to *handlers*)."""
    emitter = Emitter(handlers)
    runner = _Run(ctx, steps, emitter)
    ctx.on_progress = lambda done, total, label: emitter.emit(Progress(done, total, label))
    t = ctx.target
    emitter.run_started(
        target={"host": t.host, "port": t.port, "called_ae": t.called_ae, "calling_ae": t.calling_ae,
                "harness_port": t.harness_port, "timeouts": vars(t.timeouts)},
        statement=ctx.statement, plan=[s.describe() for s in steps],
        options={"strict": ctx.options.strict, "packing": ctx.options.packing})
    try:
        for step in steps:
            runner.run_step(step)
    except KeyboardInterrupt:
        runner.aborted = "interrupted by the user"
        raise
    finally:
        for cleanup in reversed(ctx.cleanups):
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - a failing cleanup must not hide the results
                pass
        ctx.cleanups.clear()
        created = _created_on_device(ctx)
        if created:
            emitter.emit(CreatedOnDevice(created))
        emitter.run_finished(runner.aborted)
    return emitter.builder.results

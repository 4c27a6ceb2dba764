"""Execute a plan of steps, emitting typed events to handlers.

Guarantees: every step ends (each is bounded by a wall-clock limit on top of the network
timeouts); a step that raises ends as ``error``, never as a traceback; when a step could not
reach the device, a quick liveness check decides whether the device is down, and if it is,
the remaining steps end as ``error`` at once instead of each waiting for its timeout.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from conformance import __version__
from conformance.engine.events import (
    Event, FindingReported, Handler, Progress, RunFinished, RunStarted, StepFinished, StepStarted,
    CreatedOnDevice,
)
from conformance.engine.model import RunContext, Step, StepResult
from conformance.engine.results import ResultsBuilder, RunResults
from conformance.negotiation.association import Establishment, ProposedContext
from conformance.negotiation.wire import negotiate
from conformance.standard.uids import IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


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
    """Quick check: does the device still answer an A-ASSOCIATE-RQ at all?"""
    t = ctx.target.timeouts
    quick = type(t)(connect=min(t.connect, t.liveness), acse=min(t.acse, t.liveness),
                    dimse=t.dimse, network=t.network, liveness=t.liveness)
    target = replace(ctx.target, timeouts=quick)
    outcome = negotiate(target, [ProposedContext(VERIFICATION, (IMPLICIT_VR_LITTLE_ENDIAN,))])
    return outcome.establishment in (Establishment.ACCEPTED, Establishment.REJECTED), outcome.describe()


class _Run:
    def __init__(self, ctx: RunContext, steps: Sequence[Step], handlers: Sequence[Handler]):
        self.ctx, self.steps, self.handlers = ctx, list(steps), list(handlers)
        self.batch_results: dict[str, StepResult] = {}
        self.done_batches: set[str] = set()
        self.aborted: str | None = None
        self.liveness_checked: set[str] = set()

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle(event)

    def execute(self, step: Step) -> StepResult:
        ctx = self.ctx
        if step.batch is not None:
            key = step.batch.key
            if key not in self.done_batches:
                self.done_batches.add(key)
                members = [s for s in self.steps if s.batch is not None and s.batch.key == key]
                limit = step.batch.time_limit(ctx, members)
                finished, value = _bounded(lambda: step.batch.run(ctx, members), limit)  # type: ignore[union-attr]
                if finished:
                    self.batch_results.update(value)  # type: ignore[arg-type]
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
        self.emit(StepStarted(step.id, _now()))
        start = time.monotonic()
        if self.aborted:
            result = StepResult.error(f"not run: {self.aborted}")
        else:
            try:
                result = self.execute(step)
            except Exception as exc:  # noqa: BLE001 - a harness bug ends the step, not the run
                result = StepResult.error(f"harness error: {type(exc).__name__}: {exc}")
            check_key = step.batch.key if step.batch is not None else step.id
            if result.device_unreachable and check_key not in self.liveness_checked:
                self.liveness_checked.add(check_key)
                alive, how = device_alive(self.ctx)
                if not alive:
                    self.aborted = f"device unreachable at {self.ctx.target.address} ({how})"
        for finding in result.findings:
            self.emit(FindingReported(step.id, finding))
        self.emit(StepFinished(step.id, result.final_outcome().value, round(time.monotonic() - start, 4),
                               result.message, list(result.observations)))


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
    builder = ResultsBuilder()
    runner = _Run(ctx, steps, [builder, *handlers])
    ctx.on_progress = lambda done, total, label: runner.emit(Progress(done, total, label))
    t = ctx.target
    runner.emit(RunStarted(
        run_id=uuid.uuid4().hex, at=_now(), harness_version=__version__,
        target={"host": t.host, "port": t.port, "called_ae": t.called_ae, "calling_ae": t.calling_ae,
                "harness_port": t.harness_port, "timeouts": vars(t.timeouts)},
        statement=dict(ctx.statement.data), statement_file=ctx.statement.file,
        plan=[s.describe() for s in steps],
        options={"strict": ctx.options.strict, "packing": ctx.options.packing},
    ))
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
            runner.emit(CreatedOnDevice(created))
        results = builder.results
        runner.emit(RunFinished(_now(), results.counts(), int(results.exit_code()), runner.aborted))
        for handler in runner.handlers:
            handler.close()
    return builder.results

"""The one event emitter of a run, planned (:func:`conformance.engine.run`) or live
(:class:`conformance.engine.live.LiveRun`): it makes the typed events of
:mod:`conformance.engine.events` and sends each to every handler, the results builder first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from conformance import __version__
from conformance.engine.events import (
    Event, FindingReported, Handler, RunFinished, RunStarted, StepFinished, StepStarted,
)
from conformance.engine.model import StepResult
from conformance.engine.results import ResultsBuilder, RunResults
from conformance.statement.model import Statement


def now() -> str:
    """UTC time stamp of an event (ISO 8601, milliseconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Emitter:
    """Sends the events of one run to its handlers; :attr:`builder` keeps the results."""

    def __init__(self, handlers: Sequence[Handler] = ()) -> None:
        self.builder = ResultsBuilder()
        self.handlers: list[Handler] = [self.builder, *handlers]

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle(event)

    def run_started(self, target: Mapping[str, Any], statement: Statement,
                    plan: list[Mapping[str, str]], options: Mapping[str, Any]) -> None:
        self.emit(RunStarted(run_id=uuid.uuid4().hex, at=now(), harness_version=__version__,
                             target=target, statement=dict(statement.data),
                             statement_file=statement.file, plan=plan, options=options))

    def step_started(self, step_id: str, title: str = "", reference: str = "") -> None:
        self.emit(StepStarted(step_id, now(), title, reference))

    def step_finished(self, step_id: str, result: StepResult, duration: float) -> None:
        """The step's findings, then its end (outcome from :meth:`StepResult.final_outcome`)."""
        for finding in result.findings:
            self.emit(FindingReported(step_id, finding))
        self.emit(StepFinished(step_id, result.final_outcome().value, round(duration, 4),
                               result.message, list(result.observations)))

    def run_finished(self, aborted: str | None = None) -> RunResults:
        """Emit run-finished (counts and exit code from the results) and close every handler."""
        results = self.builder.results
        self.emit(RunFinished(now(), results.counts(), int(results.exit_code()), aborted))
        for handler in self.handlers:
            handler.close()
        return results

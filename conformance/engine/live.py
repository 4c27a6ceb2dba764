"""Event-driven runs: steps made as the device acts, not planned in advance.

``conformance listen`` waits for a device to call the harness; each association, each
proposed presentation context and each received instance becomes a step when it happens.
:class:`LiveRun` gives those steps the same typed events as :func:`conformance.engine.run`
(run-started, step-started, finding, step-finished, run-finished), to the same handlers
(console, JSONL recorder, results builder), so the same report writers render them.

Thread-safe: steps may be reported from several threads (one per association, the
validation workers); one lock keeps each step's events together and in order.
"""

from __future__ import annotations

import threading
from typing import Any, Mapping, Sequence

from conformance.engine.emitter import Emitter
from conformance.engine.events import Handler
from conformance.engine.model import StepResult
from conformance.engine.results import ResultsBuilder, RunResults
from conformance.statement.model import Statement


class LiveRun:
    """One event-driven run. :meth:`start`, then :meth:`report` per step, then :meth:`finish`.

    Parameters
    ----------
    statement
        The device's statement (recorded in run-started, as for a planned run).
    target
        What the report shows as the tested set-up (for a listen session: where the harness
        listened and under which AE title).
    options
        Recorded in run-started; ``role: SCU`` makes the report's matrix show the device's SCU
        side (declared vs proposed).
    """

    def __init__(self, statement: Statement, target: Mapping[str, Any], options: Mapping[str, Any],
                 handlers: Sequence[Handler] = ()) -> None:
        self.statement, self.target, self.options = statement, dict(target), dict(options)
        self.emitter = Emitter(handlers)
        self.builder: ResultsBuilder = self.emitter.builder
        self.handlers: list[Handler] = self.emitter.handlers
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self.finished = False

    def start(self) -> "LiveRun":
        with self._lock:
            self.emitter.run_started(self.target, self.statement, [], self.options)
        return self

    def seen(self, step_id: str) -> bool:
        with self._lock:
            return step_id in self._seen

    def report(self, step_id: str, title: str, reference: str, result: StepResult,
               duration: float = 0.0) -> bool:
        """Emit one finished step; ``False`` (nothing emitted) if *step_id* was already
        reported or the run has finished: a step id stays unique within a run."""
        with self._lock:
            if self.finished or step_id in self._seen:
                return False
            self._seen.add(step_id)
            self.emitter.step_started(step_id, title, reference)
            self.emitter.step_finished(step_id, result, duration)
            return True

    def finish(self, aborted: str | None = None) -> RunResults:
        with self._lock:
            if not self.finished:
                self.finished = True
                self.emitter.run_finished(aborted)
        return self.builder.results

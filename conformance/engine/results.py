"""The results of a run, rebuilt from its events: live, or from results.jsonl afterwards.

One builder serves both paths, so a report rendered from a killed run's JSONL shows the
same things as one rendered at the end of a complete run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from conformance.engine.events import (
    Event, FindingReported, RunFinished, RunStarted, StepFinished, StepStarted, CreatedOnDevice, from_dict,
)
from conformance.errors import InputError, Problem
from conformance.exitcodes import ExitCode
from conformance.findings import Finding, Severity


@dataclass
class StepRecord:
    id: str
    title: str
    reference: str
    outcome: str | None = None       # None: not run (the run ended before it)
    message: str = ""
    duration: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    observations: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def family(self) -> str:
        return self.id.split("/", 1)[0]


@dataclass
class RunResults:
    run_id: str = ""
    started_at: str = ""
    finished_at: str | None = None
    harness_version: str = ""
    target: Mapping[str, Any] = field(default_factory=dict)
    statement: Mapping[str, Any] = field(default_factory=dict)
    statement_file: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    aborted: str | None = None
    #: Lines of results.jsonl that could not be read (a run killed mid-write).
    damaged_lines: int = 0
    #: What the run created on the device: {patient_id, study_uid, series, instances}.
    test_data: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.finished_at is not None

    @property
    def strict(self) -> bool:
        return bool(self.options.get("strict"))

    def counts(self) -> dict[str, int]:
        c = Counter(s.outcome or "not run" for s in self.steps)
        return {k: c.get(k, 0) for k in ("pass", "fail", "error", "skipped", "not run")}

    def findings(self, severity: Severity | None = None) -> list[tuple[StepRecord, Finding]]:
        return [(s, f) for s in self.steps for f in s.findings
                if severity is None or f.severity is severity]

    def exit_code(self) -> ExitCode:
        """0 all passed; 1 a deviation (a failed step, or a warning with strict);
        3 nothing deviated but some steps could not be tested (error or not run)."""
        counts = self.counts()
        warnings = bool(self.findings(Severity.WARNING))
        if counts["fail"] or (self.strict and warnings):
            return ExitCode.DEVIATION
        if counts["error"] or counts["not run"]:
            return ExitCode.COULD_NOT_TEST
        return ExitCode.OK

    def verdict(self) -> str:
        return {
            ExitCode.OK: "conforms",
            ExitCode.DEVIATION: "deviates",
            ExitCode.COULD_NOT_TEST: "incomplete",
        }[self.exit_code()]

    def step(self, step_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.id == step_id), None)


class ResultsBuilder:
    """Event handler that accumulates :class:`RunResults`."""

    def __init__(self) -> None:
        self.results = RunResults()
        self._by_id: dict[str, StepRecord] = {}

    def handle(self, event: Event) -> None:
        r = self.results
        if isinstance(event, RunStarted):
            r.run_id, r.started_at = event.run_id, event.at
            r.harness_version, r.target = event.harness_version, event.target
            r.statement, r.statement_file, r.options = event.statement, event.statement_file, event.options
            r.steps = [StepRecord(p["id"], p["title"], p["reference"]) for p in event.plan]
            self._by_id = {s.id: s for s in r.steps}
        elif isinstance(event, StepStarted):
            rec = self._record(event.step_id)
            if event.title and rec.title == rec.id:
                rec.title, rec.reference = event.title, event.reference
        elif isinstance(event, FindingReported):
            self._record(event.step_id).findings.append(event.finding)
        elif isinstance(event, StepFinished):
            rec = self._record(event.step_id)
            rec.outcome, rec.duration, rec.message = event.outcome, event.duration, event.message
            rec.observations = list(event.observations)
        elif isinstance(event, RunFinished):
            r.finished_at, r.aborted = event.at, event.aborted
        elif isinstance(event, CreatedOnDevice):
            r.test_data = list(event.items)

    def _record(self, step_id: str) -> StepRecord:
        if step_id not in self._by_id:
            rec = StepRecord(step_id, step_id, "")
            self.results.steps.append(rec)
            self._by_id[step_id] = rec
        return self._by_id[step_id]

    def close(self) -> None:
        pass


def read_jsonl(path: str | Path) -> RunResults:
    """Rebuild results from a results.jsonl, tolerating a last line cut by a kill.

    Raises InputError (exit 2) if the file is missing or is not a results file.
    """
    file = str(path)
    builder = ResultsBuilder()
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(f"cannot read results: {exc.strerror or exc}", file)) from None
    started = False
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                if not line.endswith("\n"):   # the last, half-written line of a killed run
                    builder.results.damaged_lines += 1
                    continue
                raise InputError(Problem(f"not a results event: {exc}", file, number)) from None
            if not started and not isinstance(event, RunStarted):
                raise InputError(Problem("a results file starts with a run-started event", file, number))
            started = True
            builder.handle(event)
    if not started:
        raise InputError(Problem("empty results file (no run-started event)", file))
    return builder.results

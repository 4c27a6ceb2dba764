"""The results of a run, rebuilt from its events: live, or from results.jsonl afterwards.

One builder serves both paths, so a report rendered from a killed run's JSONL shows the
same things as one rendered at the end of a complete run.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections import Counter, abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Mapping

from conformance import limits
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
    #: Their 1-based line numbers (at most the first 100).
    damaged_line_numbers: list[int] = field(default_factory=list)
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
        return {k: c.get(k, 0) for k in ("pass", "fail", "error", "setup", "skipped", "not run")}

    def findings(self, severity: Severity | None = None) -> list[tuple[StepRecord, Finding]]:
        return [(s, f) for s in self.steps for f in s.findings
                if severity is None or f.severity is severity]

    def exit_code(self) -> ExitCode:
        """0 all passed; 1 a deviation (a failed step, or a warning with strict); 4 nothing
        deviated but a set-up problem stopped steps; 3 nothing deviated but some steps could
        not be tested (error or not run), no step was tested at all (every one skipped), or
        the results file had damaged lines (a lost event may have been a finding)."""
        counts = self.counts()
        warnings = bool(self.findings(Severity.WARNING))
        if counts["fail"] or (self.strict and warnings):
            return ExitCode.DEVIATION
        if counts["setup"]:
            return ExitCode.SETUP_PROBLEM
        if counts["error"] or counts["not run"] or not counts["pass"] or self.damaged_lines:
            return ExitCode.COULD_NOT_TEST
        return ExitCode.OK

    @property
    def nothing_tested(self) -> bool:
        """No step passed or failed: a run that tested nothing never conforms."""
        counts = self.counts()
        return not counts["pass"] and not counts["fail"]

    def verdict(self) -> str:
        return {
            ExitCode.OK: "conforms",
            ExitCode.DEVIATION: "deviates",
            ExitCode.COULD_NOT_TEST: "incomplete",
            ExitCode.SETUP_PROBLEM: "set-up-problem",
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
            r.test_data = [_test_data_item(i) for i in event.items if isinstance(i, Mapping)]

    def _record(self, step_id: str) -> StepRecord:
        if step_id not in self._by_id:
            rec = StepRecord(step_id, step_id, "")
            self.results.steps.append(rec)
            self._by_id[step_id] = rec
        return self._by_id[step_id]

    def close(self) -> None:
        pass


def _conforms(value: Any, hint: Any) -> bool:
    """Whether *value*, read from JSON, has the shape of type hint *hint* (containers are
    checked one level deep for their items; ``Any`` and unknown hints accept anything)."""
    if hint is typing.Any:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    if origin in (list, tuple, abc.Sequence):
        return isinstance(value, (list, tuple)) and all(
            _conforms(item, args[0]) for item in value) if args else isinstance(value, (list, tuple))
    if origin in (dict, abc.Mapping):
        return isinstance(value, abc.Mapping) and (len(args) < 2 or all(
            _conforms(item, args[1]) for item in value.values()))
    if isinstance(hint, type):
        return isinstance(value, hint) and (not dataclasses.is_dataclass(hint) or _well_typed(value))
    return True


def _well_typed(obj: Any) -> bool:
    """Whether every field of dataclass *obj* (an event, a finding) has its declared type."""
    hints = typing.get_type_hints(type(obj))
    return all(_conforms(getattr(obj, f.name), hints.get(f.name, typing.Any))
               for f in dataclasses.fields(obj))


def _event_of(raw: bytes) -> Event | None:
    """The event on one line of a results.jsonl, or None when the line is damaged (cut, not
    UTF-8, not JSON, not an event, or a field of the wrong type). Never raises."""
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            return None
        event = from_dict(data)
        return event if _well_typed(event) else None
    except Exception:  # noqa: BLE001 - any damage to a line only makes that line unreadable
        return None


def _handled(builder: ResultsBuilder, event: Event) -> bool:
    """Give *event* to *builder*; False when its fields have the wrong shape."""
    try:
        builder.handle(event)
    except Exception:  # noqa: BLE001 - a JSON line that looks like an event but is not one
        return False
    return True


def _lines(handle: BinaryIO, file: str) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of each line; bytes None for a line over MAX_RESULTS_LINE_BYTES
    (skipped without holding it in memory). InputError past MAX_RESULTS_BYTES (also for an
    endless file such as /dev/zero)."""
    number, total = 0, 0

    def read(size: int) -> bytes:
        nonlocal total
        raw = handle.readline(size)
        total += len(raw)
        if total > limits.MAX_RESULTS_BYTES:
            raise InputError(Problem(f"results file is larger than {limits.MAX_RESULTS_BYTES:,} bytes, "
                                     "the limit (see 'Limits on input files' in README.md)", file, number))
        return raw

    while True:
        number += 1
        raw = read(limits.MAX_RESULTS_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > limits.MAX_RESULTS_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):     # skip the rest of the long line
                raw = read(limits.MAX_RESULTS_LINE_BYTES)
            yield number, None
        else:
            yield number, raw


def read_jsonl(path: str | Path) -> RunResults:
    """Rebuild results from a results.jsonl, also one cut anywhere by a kill (even inside a
    UTF-8 character) or with damaged lines: every readable event is used, every damaged line
    is counted in ``damaged_lines`` / ``damaged_line_numbers`` for the report to note.

    Raises InputError (exit 2) if the file is missing, too large (conformance.limits), or has
    no readable run-started event before its other events (not a results file).
    """
    file = str(path)
    builder = ResultsBuilder()
    results = builder.results
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise InputError(Problem(f"cannot read results: {exc.strerror or exc}", file)) from None
    started = False
    with handle:
        for number, raw in _lines(handle, file):
            if raw is not None and not raw.strip():
                continue
            event = _event_of(raw) if raw is not None else None
            if event is not None and not started and not isinstance(event, RunStarted):
                raise InputError(Problem("not a results file: its first event is not a run-started "
                                         "event", file, number))
            if event is not None and _handled(builder, event):
                started = True
                continue
            results.damaged_lines += 1
            if len(results.damaged_line_numbers) < 100:
                results.damaged_line_numbers.append(number)
    if not started:
        first = results.damaged_line_numbers[0] if results.damaged_line_numbers else None
        why = " (this line is cut, not UTF-8 or not an event)" if first else " (the file is empty)"
        raise InputError(Problem(f"not a results file: no readable run-started event{why}", file, first))
    return results


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _test_data_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """One study the run left on the device, with every field the report shows (a results file
    edited or damaged by hand may lack some: shown empty or 0, never a crash)."""
    return {"patient_id": str(item.get("patient_id") or ""), "study_uid": str(item.get("study_uid") or ""),
            "series": _count(item.get("series")), "instances": _count(item.get("instances"))}

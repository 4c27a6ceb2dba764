"""Console progress for a run: a live bar on a terminal, sparse plain lines otherwise.

On a terminal: the bar advances per step and, inside batches (the storage batch sends
thousands of C-STOREs as one batch), per unit of work reported by the engine's progress
events, with the phase label, the ETA from the work left, and the warnings counted. Not on a
terminal (a CI log): failures as they come, and a heartbeat line every 10 s.

When the device cannot be reached, the engine ends the remaining steps as "not run" at once;
those lines are not printed one by one: the summary says it once, with a hint.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from conformance.engine.events import (
    Event,
    FindingReported,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from conformance.engine.events import (
    Progress as ProgressEvent,
)
from conformance.engine.results import RunResults
from conformance.findings import Severity
from conformance.reporting.evidence import build_evidence
from conformance.reporting.summary import SiteProfile
from conformance.reporting.view import build_view

#: Failed steps printed with their reproduce lines in the closing summary.
REPRODUCE_SHOWN = 3
#: FAIL/ERROR lines printed while the run goes; the rest are counted (the report has them all).
LINES_SHOWN = 25


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ConsoleProgress:
    """Event handler: counts, phase, warnings and ETA (terminal), or failures as they come and
    a heartbeat every *heartbeat* seconds (not a terminal)."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, heartbeat: float = 10.0):
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal and not quiet
        self.quiet = quiet
        self.heartbeat = heartbeat
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.counts = {"pass": 0, "fail": 0, "error": 0, "skipped": 0}
        self.warnings = 0
        self.total = 0
        self.finished = 0
        self.completed = 0.0
        self.phase = "starting"
        self.not_run = 0
        self.lines = 0
        self.started = time.monotonic()
        self._base: int | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- event handling -------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.started = time.monotonic()
            self.total = len(event.plan)
            if self.live:
                self.progress = Progress(
                    TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[green]{task.fields[ok]} ok [red]{task.fields[bad]} failed "
                               "[yellow]{task.fields[err]} could not test [yellow]{task.fields[warn]} warnings"),
                    TimeRemainingColumn(), console=self.console, transient=True)
                self.progress.start()
                self.task = self.progress.add_task("starting", total=self.total, ok=0, bad=0, err=0, warn=0)
            elif not self.quiet:
                self.console.print(f"running {self.total} steps against "
                                   f"{event.target['host']}:{event.target['port']} ({event.target['called_ae']})",
                                   markup=False)
                if self.heartbeat > 0:
                    self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="conformance-heartbeat")
                    self._beat.start()
        elif isinstance(event, StepStarted):
            self._base = None
            self.phase = event.step_id
            self._update(description=event.step_id[-60:])
        elif isinstance(event, ProgressEvent):
            if self._base is None:
                self._base = self.finished
            self.phase = f"{event.label} {event.done}/{event.total}"
            self.completed = max(self.completed, float(self._base + event.done))
            self._update(description=self.phase, completed=min(self.completed, self.total))
        elif isinstance(event, FindingReported):
            if event.finding.severity is Severity.WARNING:
                self.warnings += 1
        elif isinstance(event, StepFinished):
            self.counts[event.outcome] = self.counts.get(event.outcome, 0) + 1
            self.finished += 1
            self.completed = max(self.completed, float(self.finished))
            self._update(completed=min(self.completed, self.total), ok=self.counts["pass"],
                         bad=self.counts["fail"], err=self.counts["error"], warn=self.warnings)
            if event.outcome == "error" and event.message.startswith("not run: "):
                self.not_run += 1        # said once, in the summary
            elif event.outcome in ("fail", "error") and not self.quiet:
                self.lines += 1
                line = f"{event.outcome.upper():5} {event.step_id}" + (f": {event.message}" if event.message else "")
                if self.lines == LINES_SHOWN + 1:
                    line = "... further failed or untested steps are not listed here (see the report)"
                if self.lines <= LINES_SHOWN + 1:
                    (self.progress.console if self.progress else self.console).print(line, markup=False)
        elif isinstance(event, RunFinished):
            self._finish()

    def _update(self, **fields: object) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, **fields)  # type: ignore[arg-type]

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with self._lock:
                if self._stop.is_set():
                    return
                elapsed = time.monotonic() - self.started
                done = self.completed
                eta = (elapsed / done * (self.total - done)) if done else 0.0
                pct = 100.0 * done / self.total if self.total else 100.0
                self.console.print(
                    f"[{_clock(elapsed)}] {int(done)}/{self.total} ({pct:.0f}%) {self.phase}; "
                    f"{self.counts['fail']} failed, {self.counts['error']} could not test, "
                    f"{self.warnings} warnings; ETA {_clock(eta)}", markup=False)

    def _finish(self) -> None:
        self._stop.set()
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def close(self) -> None:
        with self._lock:
            self._finish()


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()


def print_summary(results: RunResults, paths: dict, stream: TextIO | None = None,
                  profile: SiteProfile | None = None) -> None:
    """The closing lines of a run: the banner, what breaks (ranked), data changed, not
    tested, how to reproduce the first failures, where the reports are (file:// URLs)."""
    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
    view = build_view(results, profile)
    s = view.summary
    assert s is not None
    colour = {"conforms": "green", "warnings": "yellow", "deviates": "red", "incomplete": "yellow"}[s.banner_css]
    c = view.counts
    console.print(f"[bold {colour}]{s.banner}[/]: {c['pass']} passed, {c['fail']} failed, "
                  f"{c['error']} could not test, "
                  + (f"{c['setup']} set-up problem(s), " if c.get("setup") else "")
                  + f"{c['skipped']} skipped"
                  + (f", {c['not run']} not run" if c["not run"] else "")
                  + f"; {view.severity_counts['error']} error and {view.severity_counts['warning']} warning findings")
    console.print(s.sentence, markup=False)
    if profile is not None:
        console.print(f"summary filtered to the site profile {profile.source} "
                      f"({len(profile.sop_classes) or 'any'} SOP classes, "
                      f"{len(profile.transfer_syntaxes) or 'any'} transfer syntaxes)", markup=False)
    unreachable = bool(results.aborted and results.aborted.startswith("device unreachable"))
    if results.aborted:
        console.print(f"[yellow]run aborted:[/] {results.aborted}", markup=True)
        if unreachable:
            t = results.target
            console.print(f"hint: is the device running and listening on {t.get('host')}:{t.get('port')}? "
                          "Check --host, --port and --called-ae, and any firewall between; "
                          f"'echoscu -v -aec {t.get('called_ae')} {t.get('host')} {t.get('port')}' tests the same.",
                          markup=False)
    # A run that stopped early (device gone, Ctrl-C): the reason above says it once.
    quiet_rest = bool(results.aborted) and not view.counts["fail"]
    for svc in ([] if quiet_rest else s.problems):
        style = {"bad": "red", "warn": "yellow", "ok": "green"}[svc.css]
        console.print(f"  [{style}]{svc.name}: {svc.status}[/] ({svc.detail})")
        for line in svc.lines[:3]:
            console.print(f"    {str(line.count) + 'x ' if line.count > 1 else ''}{line.text}", markup=False)
    for line in s.data_impact[:5]:
        console.print(f"  [yellow]data:[/] {line.text}" + (f" ({line.count}x)" if line.count > 1 else ""))
    for line in ([] if quiet_rest else s.not_tested[:6]):
        console.print(f"  not tested: {line.text}", markup=False)
    failed = [st for st in results.steps if st.outcome == "fail"][:REPRODUCE_SHOWN]
    for step in failed:
        console.print(f"reproduce {step.id}:", markup=False)
        for _tool, cmd in build_evidence(step, results).reproduce:
            console.print(f"  {cmd}", markup=False)
    if results.test_data:
        patients = sorted({str(item["patient_id"]) for item in results.test_data})
        console.print(f"test data on the device: {sum(int(i['instances']) for i in results.test_data)} instance(s) "
                      f"in {len(results.test_data)} study(ies) of {len(patients)} patient(s), Patient IDs "
                      f"{view.test_data_prefix}* (listed in the report)", markup=False)
    for kind, path in paths.items():
        console.print(f"{kind:>5}: {file_url(path) if kind == 'html' else path}", markup=False)

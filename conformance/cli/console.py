"""Console progress for a run: a live bar on a terminal, sparse plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from conformance.engine.events import Event, RunFinished, RunStarted, StepFinished, StepStarted
from conformance.engine.results import RunResults
from conformance.reporting.view import build_view


class ConsoleProgress:
    """Event handler: counts, current step and ETA (terminal), or failures as they come (pipe)."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, highlight=False)
        self.live = self.console.is_terminal and not quiet
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.counts = {"pass": 0, "fail": 0, "error": 0, "skipped": 0}
        self.started = time.monotonic()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.started = time.monotonic()
            if self.live:
                self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                         TextColumn("[green]{task.fields[ok]} ok [red]{task.fields[bad]} failed "
                                                    "[yellow]{task.fields[err]} could not test"),
                                         TimeRemainingColumn(), console=self.console, transient=True)
                self.progress.start()
                self.task = self.progress.add_task("starting", total=len(event.plan), ok=0, bad=0, err=0)
            elif not self.quiet:
                self.console.print(f"running {len(event.plan)} steps against "
                                   f"{event.target['host']}:{event.target['port']} ({event.target['called_ae']})")
        elif isinstance(event, StepStarted) and self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=event.step_id[-60:])
        elif isinstance(event, StepFinished):
            self.counts[event.outcome] = self.counts.get(event.outcome, 0) + 1
            if self.progress is not None and self.task is not None:
                self.progress.update(self.task, advance=1, ok=self.counts["pass"], bad=self.counts["fail"],
                                     err=self.counts["error"])
            if event.outcome in ("fail", "error") and not self.quiet:
                line = f"{event.outcome.upper():5} {event.step_id}" + (f": {event.message}" if event.message else "")
                (self.progress.console if self.progress else self.console).print(line, markup=False)
        elif isinstance(event, RunFinished) and self.progress is not None:
            self.progress.stop()
            self.progress = None

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def print_summary(results: RunResults, paths: dict, stream: TextIO | None = None) -> None:
    """The closing lines of a run: verdict, counts, where the reports are."""
    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
    view = build_view(results)
    colour = {"conforms": "green", "deviates": "red", "incomplete": "yellow",
              "set-up-problem": "yellow"}[view.verdict]
    c = view.counts
    console.print(f"[bold {colour}]{view.verdict.upper()}[/]: {c['pass']} passed, {c['fail']} failed, "
                  f"{c['error']} could not test, "
                  + (f"{c['setup']} set-up problem(s), " if c.get("setup") else "")
                  + f"{c['skipped']} skipped"
                  + (f", {c['not run']} not run" if c["not run"] else "")
                  + f"; {view.severity_counts['error']} error and {view.severity_counts['warning']} warning findings")
    if results.aborted:
        console.print(f"[yellow]run aborted:[/] {results.aborted}", markup=True)
    for group in view.groups:
        if group.severity == "error":
            for _, f in group.items[:5]:
                console.print(f"  [red]✗[/] {f.message} [dim]({f.reference})[/]")
            if len(group.items) > 5:
                console.print(f"  … and {len(group.items) - 5} more {group.code}")
    for kind, path in paths.items():
        console.print(f"{kind:>5}: {path}", markup=False)

"""``conformance validate`` in archive mode: lazy listing, a scheduler, streamed results.

Chosen by ``validate`` when ``--results``, ``--dask`` or ``--from-list`` is given or a path is
``-`` (stdin); small inputs keep the in-memory path of :mod:`conformance.cli.validate_cmd`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import click

from conformance.exitcodes import ExitCode


def _bad_input(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(ExitCode.BAD_INPUT)


def run_archive_mode(paths: tuple[str, ...], lists: tuple[str, ...], results: str | None,
                     out: str | None, dask: str | None, jobs: int | None, force: bool,
                     batch_size: int, facts: dict[str, bool], private: tuple[Any, ...],
                     verbose: bool) -> None:
    """Run, write report.html / report.json / junit.xml, print the summary, exit."""
    from conformance import __version__
    from conformance.archive import render
    from conformance.archive.aggregate import summarize
    from conformance.archive.listing import STDIN, Source
    from conformance.archive.run import DEFAULT_BATCH, Progress, validate_archive
    from conformance.archive.schedulers import (
        DaskScheduler,
        InProcess,
        LocalProcesses,
        Scheduler,
        SchedulerError,
    )
    from conformance.archive.store import ResultStore, iter_records
    from conformance.standard.iod_index import load_index

    for lf in lists:
        if not os.path.isfile(lf):
            _bad_input(f"--from-list {lf}: no such file")
    if sum(1 for p in paths if p == STDIN) > 1:
        _bad_input("'-' (stdin) given more than once")
    sources = [Source("stdin") if p == STDIN else Source("path", p) for p in paths]
    sources += [Source("list", lf) for lf in lists]
    if not sources:
        _bad_input("no input: give folders or files, --from-list FILE, or - for stdin")
    if results is None:
        if out is None:
            _bad_input("archive mode (--dask, --from-list, stdin) needs --results FILE.jsonl "
                       "or --out DIR (results go to DIR/results.jsonl)")
        results = os.path.join(str(out), "results.jsonl")
    out_dir = out or os.path.dirname(os.path.abspath(results))
    if os.path.isdir(results):
        _bad_input(f"--results {results} is a folder; give a file such as results.jsonl")

    scheduler: Scheduler
    try:
        if dask:
            scheduler = DaskScheduler(dask)
        else:
            n = jobs or os.cpu_count() or 1
            scheduler = InProcess() if n == 1 else LocalProcesses(n)
    except SchedulerError as exc:
        _bad_input(str(exc))
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        if tty:
            click.echo("\r" + p.line() + "   ", err=True, nl=False)

    stopped = ""
    try:
        with ResultStore(results, force=force) as store:
            if store.resumed:
                click.echo(f"resuming: {store.resumed} file(s) already in {results}", err=True)
            outcome = validate_archive(sources, store, scheduler, facts=facts, private=private,
                                       keep_info=verbose,
                                       batch_size=batch_size or DEFAULT_BATCH,
                                       on_progress=show, progress_every=0.5 if tty else 30.0)
    except SchedulerError as exc:
        stopped = str(exc)
        outcome = None
    except OSError as exc:
        _bad_input(f"cannot write {results}: {exc}")
    finally:
        scheduler.close()
    if tty:
        click.echo("", err=True)
    summary = summarize(iter_records(results))
    info = render.RunInfo(
        sources=", ".join(s.value or s.kind for s in sources), results=os.path.abspath(results),
        scheduler=scheduler.description, edition=load_index().edition,
        validated=outcome.validated if outcome else 0,
        resumed=outcome.resumed if outcome else 0,
        elapsed=outcome.elapsed if outcome else 0.0,
        complete=bool(outcome and outcome.complete),
        finished_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        version=__version__)
    os.makedirs(out_dir, exist_ok=True)
    Path(out_dir, "report.html").write_text(render.as_html(summary, info, verbose),
                                            encoding="utf-8")
    Path(out_dir, "report.json").write_text(render.as_json(summary, info), encoding="utf-8")
    ET.indent(tree := render.junit_xml(summary))
    tree.write(Path(out_dir, "junit.xml"), encoding="utf-8", xml_declaration=True)
    click.echo(render.as_text(summary), nl=False)
    rate = f" in {info.elapsed:.1f} s" if info.elapsed else ""
    click.echo(f"{info.validated} file(s) validated{rate} ({scheduler.description}), "
               f"{info.resumed} resumed; results {results}; reports in {out_dir}", err=True)
    if stopped:
        click.echo(f"error: the run stopped: {stopped}; re-run the same command to resume",
                   err=True)
    elif not info.complete:
        click.echo("interrupted: the reports cover the files validated so far; re-run the same "
                   "command to resume", err=True)
    # As for `run`: an error found is exit 1 even when the run did not finish; 3 says that
    # nothing wrong was found in what could be validated, but not everything was.
    if stopped and not summary.files_with_errors:
        sys.exit(ExitCode.COULD_NOT_TEST)
    if summary.files_with_errors:
        sys.exit(ExitCode.DEVIATION)
    if not summary.dicom:
        _bad_input(f"no DICOM file among the {summary.files} file(s) listed")
    if not info.complete:
        sys.exit(ExitCode.COULD_NOT_TEST)
    sys.exit(ExitCode.OK)



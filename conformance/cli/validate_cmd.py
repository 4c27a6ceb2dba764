"""``conformance validate``, ``conformance synthesize``, ``conformance standard``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from multiprocessing import get_context
from typing import Any

import click

from conformance.cli.lean import lean_start, start_up_done
from conformance.exitcodes import ExitCode


def _bad_input(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(ExitCode.BAD_INPUT)


def _load_facts(path: str | None) -> dict[str, bool]:
    """A JSON or YAML mapping ``{condition text or location key: true|false}``, read within
    the limits of :mod:`conformance.limits` (file size, aliases, depth)."""
    if not path:
        return {}
    from conformance.cli.common import fail_on_input_error
    from conformance.statement.yamlsource import load_document
    with fail_on_input_error():
        data: Any = load_document(path, "facts file").data
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, bool)
                                             for k, v in data.items()):
        _bad_input(f"facts file {path} must map condition texts or keys to true/false")
    from conformance.iod.facts import unknown_facts
    for key, close in unknown_facts(data):
        _bad_input(f"facts file {path}: unknown key {key!r}"
                   + (f"; did you mean {close!r}?" if close else ""))
    return data


def _files(paths: tuple[str, ...]) -> Iterator[str]:
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in sorted(names):
                    yield os.path.join(root, n)
        else:
            yield p


_FACTS: dict[str, bool] = {}
_PRIVATE: tuple = ()


#: The report format a worker renders its files' parts in ("json" or "text"; see _rendered)
#: and whether a text part lists info findings too.
_RENDER: tuple[str, bool] = ("json", False)


def _init_worker(facts: dict[str, bool], private: tuple = (),
                 render: tuple[str, bool] = ("json", False), tune: bool = True) -> None:
    """Set up a process that validates files: a pool's worker, or the command's own process
    (*tune* False where the command does not own it: its process-wide settings,
    :func:`conformance.iod.warm.tune_worker`, would outlive the command)."""
    global _FACTS, _PRIVATE, _RENDER
    _FACTS = facts
    _PRIVATE = private
    _RENDER = render
    # Forked from a parent that ran ``warm_up`` this finds everything built; spawned (or
    # called without it), it builds the definitions here, once per worker.
    from conformance.iod.warm import tune_worker, warm_up
    warm_up(freeze=False)
    if tune:
        tune_worker()


def _findings_of(path: str) -> list[Any] | str:
    """The findings of one file or, for a file not taken for DICOM, the reason."""
    from conformance.findings import Finding, Severity
    from conformance.iod.validator import validate_file
    try:
        findings = validate_file(path, facts=_FACTS, private_attributes=_PRIVATE)
    except Exception as exc:  # last line of defence: a finding, never a traceback
        findings = [Finding("internal.validator-error", Severity.ERROR,
                            f"validator failed on this file: {type(exc).__name__}: {exc}",
                            source=path)]
    if findings is None:
        from conformance.iod.reading import skip_reason
        return skip_reason(path)
    return findings


def _validate_one(path: str) -> tuple[str, list[tuple] | str]:
    """(path, findings as plain tuples) or, for a file not taken for DICOM, (path, reason)."""
    found = _findings_of(path)
    if isinstance(found, str):
        return path, found
    # Plain tuples: much cheaper to pickle across processes than dataclasses / dicts.
    return path, [(f.code, f.severity.value, f.message, f.reference, f.tag, f.module, f.iod,
                   f.source, dict(f.details) if f.details else None) for f in found]


def _rendered(path: str) -> tuple[str, str, int, str | None]:
    """(path, the file's part of a JSON or text report, its number of errors, the reason it
    was skipped or None): the worker renders the part itself, so that no finding is sent
    back and rebuilt in the parent (which shares the cores with the workers)."""
    from conformance.iod import report
    found = _findings_of(path)
    fmt, verbose = _RENDER
    if isinstance(found, str):
        return path, (report.json_entry(path, None, found) if fmt == "json"
                      else report.text_block(path, None, verbose, found)), 0, found
    errors = sum(1 for f in found if f.severity.value == "error")
    return path, (report.json_entry(path, found) if fmt == "json"
                  else report.text_block(path, found, verbose, "")), errors, None


#: Capacity asked for the pool's result pipe (bytes); Linux caps it at
#: /proc/sys/fs/pipe-max-size (1 MiB by default) for a user without CAP_SYS_RESOURCE.
RESULT_PIPE_BYTES = 1 << 20


def _widen_result_pipe(pool: Any) -> None:
    """Give the pool's result pipe room for a whole chunk of rendered report parts.

    A chunk of 8 files' JSON parts is about 200 KB; through a pipe of Linux's default 64 KiB a
    worker waits, three times per chunk, for the parent (which shares the cores with the
    workers) to read: about 30 ms of a 0.58 s run on the 253 real files of
    bin/bench_validate.py (median of 15).  Best effort: the pipe is reached through the
    pool's ``_outqueue`` (CPython's multiprocessing.pool), and nothing is done where it is
    missing, off Linux (``fcntl.F_SETPIPE_SZ``) or when the system refuses the size.
    """
    reader = getattr(getattr(pool, "_outqueue", None), "_reader", None)
    if reader is None or not sys.platform.startswith("linux"):
        return
    import fcntl
    try:
        fcntl.fcntl(reader.fileno(), fcntl.F_SETPIPE_SZ, RESULT_PIPE_BYTES)
    except (OSError, ValueError):
        pass  # over the system's or the user's pipe limit: the default pipe still works


def _finding(t: tuple) -> Any:
    from conformance.findings import Severity
    from conformance.iod.validator import make_finding
    return make_finding(t[0], Severity(t[1]), t[2], t[3], t[4], t[5], t[6], t[7], t[8] or {})


@click.command("validate")
@click.argument("paths", nargs=-1, required=False)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: all cores).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write the report into DIR (report.txt/json/html) instead of stdout.")
@click.option("--facts", type=click.Path(dir_okay=False), default=None,
              help="JSON/YAML file settling conditions the data cannot show.")
@click.option("--statement", type=click.Path(dir_okay=False), default=None,
              help="Conformance statement whose private attributes are checked (creator, VR).")
@click.option("--verbose", "-v", is_flag=True, help="Also list info / not-verifiable findings.")
@click.option("--results", "results_file", type=click.Path(dir_okay=False), default=None,
              help="Archive mode: stream one JSON line per file to FILE; re-running with the "
                   "same FILE resumes (files already in it are skipped).")
@click.option("--dask", default=None, metavar="ADDRESS",
              help="Archive mode on Dask distributed: tcp://host:8786 (an existing scheduler) "
                   "or local[:N] (a LocalCluster of N workers). Needs the [dask] extra.")
@click.option("--from-list", "lists", multiple=True, type=click.Path(dir_okay=False),
              help="Archive mode: read paths (files or folders) from FILE, one a line.")
@click.option("--force", is_flag=True, help="Archive mode: validate again files already in "
                                            "--results (the file is started afresh).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Archive mode: files per task sent to a worker.")
def validate(paths: tuple[str, ...], jobs: int | None, fmt: str, out: str | None,
             facts: str | None, statement: str | None, verbose: bool, results_file: str | None,
             dask: str | None, lists: tuple[str, ...], force: bool, batch_size: int) -> None:
    """Check DICOM files (or folders, recursively) against their IOD (PS3.3) and PS3.5.

    PATHS may be '-' to read paths from stdin. With --results, --dask, --from-list or '-' the
    run is in archive mode: files are listed lazily, results stream to a JSONL file (resumable),
    and report.html, report.json and junit.xml aggregate per IOD and per finding code.

    Exit 0 when no errors, 1 when any error is found, 2 on bad input, 3 when an archive-mode
    run stopped before the end without finding an error (re-run to resume).
    """
    archive = bool(results_file or dask or lists or "-" in paths)
    owns_process = bool((click.get_current_context().obj or {}).get("owns_process"))
    if not archive and owns_process:
        lean_start()  # not in archive mode: its results store uses numpy
    from conformance.findings import Finding
    from conformance.iod import report
    from conformance.standard.iod_index import load_index

    missing = [p for p in paths if p != "-" and not os.path.exists(p)]
    if missing:
        _bad_input(f"no such file or folder: {', '.join(missing)}")
    fact_map = _load_facts(facts)
    private: tuple = ()
    if statement:
        from conformance.cli.common import fail_on_input_error
        from conformance.statement import load_statement
        with fail_on_input_error():
            private = tuple(load_statement(statement).private.attributes)
    if archive:
        from conformance.cli.archive_mode import run_archive_mode
        run_archive_mode(paths, lists, results_file, out, dask, jobs, force, batch_size, fact_map,
                         private, verbose)
        return
    if not paths:
        _bad_input("no input: give DICOM files or folders")
    files = list(_files(paths))
    if not files:
        _bad_input("no files found")
    jobs = jobs or os.cpu_count() or 1
    results: dict[str, list[Finding] | None] = {}  # for the HTML report
    parts: dict[str, str] = {}  # each file's part of a JSON or text report
    reasons: dict[str, str] = {}  # skipped file -> why it was not taken for DICOM
    errors = skipped = 0
    show = sys.stderr.isatty()
    # JSON and text: each worker renders its files' parts (joined here in input order);
    # HTML: the findings come back and the page is rendered from all of them.
    render = fmt in ("json", "text")
    task: Any = _rendered if render else _validate_one
    if jobs == 1 or len(files) < 4:
        _init_worker(fact_map, private, (fmt, verbose), tune=owns_process)
        start_up_done()
        it: Any = map(task, files)
        pool = None
    else:
        # Imports, index and rule data loaded once here and inherited by the forked workers
        # instead of loaded again in each (see conformance.iod.warm).
        from conformance.iod.warm import warm_up
        warm_up()
        start_up_done()
        pool = get_context("fork" if sys.platform != "win32" else "spawn").Pool(
            jobs, initializer=_init_worker, initargs=(fact_map, private, (fmt, verbose)))
        _widen_result_pipe(pool)
        it = pool.imap_unordered(task, files, chunksize=8)
    try:
        for n, result in enumerate(it, 1):
            if render:
                path, part, found_errors, reason = result
                parts[path] = part
                errors += found_errors
                if reason is not None:
                    reasons[path] = reason
                    skipped += 1
            else:
                path, found = result
                if isinstance(found, str):
                    results[path], reasons[path] = None, found
                    skipped += 1
                else:
                    results[path] = [_finding(t) for t in found]
                    errors += sum(1 for t in found if t[1] == "error")
            if show and (n % 50 == 0 or n == len(files)):
                click.echo(f"\rvalidated {n}/{len(files)}", err=True, nl=n == len(files))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    pieces: Iterable[str]
    if fmt == "json":
        pieces = report.json_pieces(parts[p] for p in files)
    elif fmt == "html":
        pieces = [report.as_html([(p, results[p]) for p in files], load_index().edition,
                                 reasons)]
    else:
        pieces = ["".join(parts[p] for p in files) or "\n"]
    if out:
        os.makedirs(out, exist_ok=True)
        target = os.path.join(out, f"report.{'txt' if fmt == 'text' else fmt}")
        with open(target, "w", encoding="utf-8") as fh:
            fh.writelines(pieces)
        click.echo(f"report written to {target}", err=True)
    elif fmt == "json" and hasattr(sys.stdout, "buffer"):
        # Straight to the byte stream as the pieces come: JSON escapes every control
        # character, so there is no terminal escape for click.echo to strip (its pass over a
        # 6 MB report, and the joined copy, cost more than writing it).
        sys.stdout.flush()
        for piece in pieces:
            sys.stdout.buffer.write(piece.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        click.echo("".join(pieces), nl=False)
    if reasons and (fmt != "text" or out):
        # The report names them too; the console says so, one line each.
        for path in files:
            if path in reasons:
                click.echo(f"skipped {path}: not a DICOM file: {reasons[path]}", err=True)
    if skipped == len(files):
        _bad_input(f"no DICOM file among the {len(files)} input file(s): nothing was validated")
    click.echo(f"{len(files)} file(s), {skipped} skipped (not DICOM), {errors} error(s)",
               err=True)
    sys.exit(ExitCode.DEVIATION if errors else ExitCode.OK)


@click.command("synthesize")
@click.argument("sop_class")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output file (default: <SOP class keyword>.dcm).")
@click.option("--transfer-syntax", "ts", default="ExplicitVRLittleEndian", show_default=True,
              help="Transfer syntax UID or keyword (native syntaxes for IODs with pixels).")
def synthesize(sop_class: str, out: str | None, ts: str) -> None:
    """Write a minimal valid instance of SOP_CLASS (UID or keyword, e.g. CTImageStorage)."""
    from conformance.iod.synth import synthesize as build
    from conformance.standard import uids

    def resolve(value: str, table: dict[str, str], what: str) -> str:
        if uids.looks_like_uid(value):
            return value
        if value in table:
            return table[value]
        hint = uids.suggest(value, list(table))
        _bad_input(f"unknown {what} {value!r}" + (f"; did you mean {hint}?" if hint else ""))
        return ""

    uid = resolve(sop_class, uids.sop_class_keywords(), "SOP class")
    ts_uid = resolve(ts, uids.transfer_syntax_keywords(), "transfer syntax")
    try:
        ds = build(uid, ts_uid)
    except ValueError as exc:
        _bad_input(str(exc))
    target = out or f"{uids.keyword_of(uid)}.dcm"
    try:
        ds.save_as(target, enforce_file_format=True)
    except Exception as exc:
        _bad_input(f"cannot write {target}: {exc}")
    click.echo(f"wrote {target} ({uids.name_of(uid)}, {uids.name_of(ts_uid)})")


@click.group("standard")
def standard() -> None:
    """The edition-pinned index of the standard used by ``validate`` and ``synthesize``."""


@standard.command("info")
def info() -> None:
    """Show the edition, sources and coverage of the index in use."""
    from conformance.standard.iod_index import load_index
    ix = load_index()
    click.echo(f"index: {ix.path}")
    click.echo(f"edition: {ix.edition}")
    for s in ix.about.get("sources", []):
        click.echo(f"source: {s}")
    click.echo(f"SOP classes: {len(ix.storage_sop_classes())}")
    click.echo("stats: " + json.dumps(ix.about.get("stats", {})))


@standard.command("update")
@click.option("--docbook", type=click.Path(), required=True,
              help="Folder with the standard's DocBook XML (part03.xml, part04.xml, "
                   "part06.xml).")
@click.option("--out", type=click.Path(dir_okay=False), default="iod_index.json.gz",
              show_default=True, help="Index file to write.")
def update(docbook: str, out: str) -> None:
    """Build an index from a (newer) edition's DocBook XML; use it with
    CONFORMANCE_IOD_INDEX=FILE. Needs: pip install 'dicom-conformance[docbook]'."""
    from conformance.standard import docbook as db
    from conformance.standard.iod_index import INDEX_ENV, write_index

    try:
        index = db.read_docbook(docbook)
    except db.DocbookError as exc:
        _bad_input(str(exc))
    n_iods, n_sops = len(index["iods"]), len(index["sop_classes"])
    if not n_sops:
        _bad_input(f"no SOP class of part04.xml matched an IOD of part03.xml in {docbook}: "
                   "nothing written")
    try:
        target = write_index(index, out)
    except OSError as exc:
        _bad_input(f"cannot write {out}: {exc}")
    click.echo(f"wrote {target}: edition {index['about']['edition']}, {n_iods} IOD(s), "
               f"{len(index['modules'])} module(s), {n_sops} SOP class(es)")
    click.echo(f"use it with: {INDEX_ENV}={target} conformance validate ...")


COMMANDS = [validate, synthesize, standard]

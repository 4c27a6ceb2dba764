"""``conformance fuzz``: send the device malformed input and check it survives (issue 16).

The campaign runs as engine steps (:mod:`conformance.fuzz.steps`), so its report is the
normal run report; ``--replay FILE`` sends one saved case again.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import click

from conformance.cli.common import AE_TITLE, HOST, epilog, fail_on_input_error
from conformance.cli.console import ConsoleProgress, print_summary
from conformance.cli.run_cmd import interruptible
from conformance.engine import RunContext, RunOptions
from conformance.engine import run as run_engine
from conformance.engine.events import Handler
from conformance.engine.recorder import JsonlRecorder
from conformance.engine.results import ResultsBuilder
from conformance.exitcodes import ExitCode
from conformance.fuzz.campaign import Waits
from conformance.fuzz.replay import replay, saved_device
from conformance.fuzz.steps import AREAS, FuzzSession, fuzz_steps
from conformance.reporting import write_reports
from conformance.statement import load_statement
from conformance.wire.target import Target, Timeouts

EXAMPLES = [
    "conformance fuzz statements/orthanc-1.10.yaml --port 4242 --max-cases 500 --time-limit 600",
    "conformance fuzz pacs.yaml --port 104 --area associate-rq --seed 7 --out reports/pacs-fuzz",
    "conformance fuzz --replay reports/pacs-fuzz/cases/associate-rq-crash.bin --port 104",
]
CODES = [(0, "the device survived every case (warnings count only with --strict); with --replay: the device "
             "answered again after the case"),
         (1, "the device stopped answering or dropped its listener after a case (or, with --strict, a "
             "warning); with --replay: the replayed case took the device down again"),
         (2, "bad input (statement, arguments, a saved case file)"),
         (3, "could not test: the device did not answer before the cases (or before the replay)"),
         (130, "interrupted (Ctrl-C or SIGTERM); the partial reports were written")]


def _waits(answer_wait: float, give_up: float, slow_recovery: float, return_wait: float) -> Waits:
    return Waits(answer=answer_wait, give_up=give_up, slow=slow_recovery, back=return_wait,
                 connect=min(give_up, 10.0), acse=min(max(give_up, answer_wait), 30.0))


def _replay(path: str, host: str, port: int | None, called_ae: str | None, calling_ae: str | None,
            waits: Waits) -> None:
    with fail_on_input_error():
        device = saved_device(path)
    port = port or int(str(device.get("port") or 0)) or None
    if port is None:
        raise click.UsageError("--port is required: the case file does not say where it was sent")
    target = Target(host, port, called_ae or str(device.get("called_ae") or "ANY-SCP"),
                    calling_ae or str(device.get("calling_ae") or "CONFORMANCE"),
                    Timeouts(connect=waits.connect, acse=waits.acse, dimse=waits.give_up))
    with fail_on_input_error():
        done = replay(path, target, waits)
    case = done.case
    click.echo(f"case: {case.area}/{case.label}: {case.what} ({case.size} bytes, {case.reference})")
    if not done.before.alive:
        click.echo(f"could not test: the device at {target.address} does not answer before the replay "
                   f"({done.before.how})", err=True)
        sys.exit(ExitCode.COULD_NOT_TEST)
    assert done.reaction is not None and done.after is not None
    click.echo(f"device's reaction: {done.reaction.describe()}")
    state = (f"answered again after {done.after.seconds:.2f} s" if done.after.alive
             else f"did NOT answer within {waits.give_up:g} s ({done.after.how})")
    click.echo(f"fresh association and C-ECHO: {state}")
    for f in done.findings:
        click.echo(f"{f.severity.value}: {f.code}: {f.message} [{f.reference}]")
    sys.exit(ExitCode.DEVIATION if done.device_down else ExitCode.OK)


@click.command("fuzz", epilog=epilog(EXAMPLES, CODES))
@click.argument("statement_file", metavar="STATEMENT", required=False, type=click.Path(dir_okay=False))
@click.option("--host", type=HOST, default="127.0.0.1", show_default=True,
              help="Address of the device under test (cases go there and nowhere else).")
@click.option("--port", type=click.IntRange(1, 65535), help="Its DICOM port (default: the statement's).")
@click.option("--called-ae", type=AE_TITLE, help="Called AE title (default: the statement's first AE title).")
@click.option("--calling-ae", type=AE_TITLE, help="Calling AE title (default: the statement's harness.ae_title).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Report folder (default: reports/<statement name>-fuzz); cases go to its cases/ folder.")
@click.option("--max-cases", type=click.IntRange(1, 1_000_000), default=200, show_default=True,
              help="Cases generated in all (split evenly over the areas); shrinking is bounded apart.")
@click.option("--time-limit", type=click.FloatRange(1), default=300.0, show_default=True,
              help="Seconds for the whole campaign, shrinking included.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed: the same seed, the same cases.")
@click.option("--area", "areas", multiple=True, type=click.Choice(list(AREAS)),
              help="Fuzz only these areas (repeatable; default: all).")
@click.option("--answer-wait", type=click.FloatRange(0.05), default=1.0, show_default=True,
              help="Seconds to wait for the device's reaction to a case.")
@click.option("--give-up", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Seconds the device has to answer a fresh association and C-ECHO after a case; "
                   "longer: it stopped answering (error).")
@click.option("--slow-recovery", type=click.FloatRange(0), default=2.0, show_default=True,
              help="Recovery slower than this many seconds is reported (warning).")
@click.option("--return-wait", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help="Seconds to wait for a crashed device to come back before each shrinking step.")
@click.option("--shrink-limit", type=click.IntRange(0), default=100, show_default=True,
              help="Cases sent at most while shrinking a failing case.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too (exit 1).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--replay", "replay_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Send the saved case FILE (a .bin with its .json beside it) once and check the device.")
def fuzz(statement_file: str | None, host: str, port: int | None, called_ae: str | None, calling_ae: str | None,
         out: str | None, max_cases: int, time_limit: float, seed: int, areas: tuple[str, ...],
         answer_wait: float, give_up: float, slow_recovery: float, return_wait: float, shrink_limit: int,
         strict: bool, quiet: bool, replay_file: str | None) -> None:
    """Send the device at HOST:PORT malformed input and check, after every case, that it still
    answers a fresh association and C-ECHO.

    Cases: A-ASSOCIATE-RQ items, P-DATA-TF fragments and lengths, DIMSE command sets, and data
    sets of the Storage SOP classes STATEMENT declares. A case after which the device stops
    answering is shrunk to a minimal one and saved with a replay command; so is the first
    case of each kind that draws a warning. The report is the normal run report.
    """
    waits = _waits(answer_wait, give_up, slow_recovery, return_wait)
    if replay_file:
        _replay(replay_file, host, port, called_ae, calling_ae, waits)
        return
    if statement_file is None:
        raise click.UsageError("give a STATEMENT (or --replay FILE)")
    with fail_on_input_error():
        statement = load_statement(statement_file)
    port = port or statement.network.port
    if port is None:
        raise click.UsageError("--port is required: the statement declares no network.port")
    target = Target(host, port, called_ae or statement.network.ae_titles[0],
                    calling_ae or statement.harness.ae_title,
                    Timeouts(connect=waits.connect, acse=waits.acse, dimse=give_up, liveness=give_up))
    folder = Path(out) if out else Path("reports") / f"{Path(statement_file).stem}-fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    session = FuzzSession(folder / "cases", max_cases, time_limit, seed, shrink_limit, waits,
                          tuple(a for a in AREAS if not areas or a in areas))
    builder = ResultsBuilder()
    handlers: list[Handler] = [ConsoleProgress(quiet=quiet), JsonlRecorder(folder / "results.jsonl"), builder]
    interrupted = False
    with interruptible():
        try:
            results = run_engine(RunContext(statement, target, RunOptions(strict=strict)), fuzz_steps(session),
                                 handlers)
        except KeyboardInterrupt:
            interrupted = True
            results = builder.results
            results.aborted = results.aborted or "interrupted by the user"
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        paths = {"jsonl": folder / "results.jsonl", **write_reports(results, folder)}
        summary = {"seed": seed, "device": target.address, "areas": {
            area: {"cases": r.sent, "shrinking": r.shrink_sent, "seconds": round(session.seconds.get(area, 0), 3),
                   "findings": len(r.findings), "saved": [str(p) for p in r.saved]}
            for area, r in session.results.items()}}
        (folder / "fuzz.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print_summary(results, paths)
    if interrupted:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(ExitCode.INTERRUPTED)
    sys.exit(results.exit_code())


COMMANDS = [fuzz]

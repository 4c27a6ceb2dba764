"""``conformance run``, ``conformance demo`` and ``conformance report``: thin faces over the engine."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from conformance.cli.common import AE_TITLE, HOST, fail_on_input_error
from conformance.cli.console import ConsoleProgress, print_summary
from conformance.engine import RunContext, RunOptions, run as run_engine
from conformance.engine.events import Handler
from conformance.engine.recorder import JsonlRecorder
from conformance.engine.results import RunResults, read_jsonl
from conformance.exitcodes import EXIT_CODES_HELP, ExitCode
from conformance.negotiation.target import Target, Timeouts
from conformance.reporting import write_reports
from conformance.resources import reference_statement
from conformance.statement import Statement, load_statement
from conformance.suite import build_plan, scenarios_for


def _timeouts(connect: float, acse: float, dimse: float) -> Timeouts:
    return Timeouts(connect=connect, acse=acse, dimse=dimse)


def execute(statement: Statement, target: Target, out: Path, patterns: tuple[str, ...],
            options: RunOptions, quiet: bool = False, scenario_paths: tuple[str, ...] = (),
            shared: dict | None = None) -> RunResults:
    """Plan, run with console progress and the JSONL recorder, write the reports, print the summary."""
    with fail_on_input_error():
        scenarios = scenarios_for(scenario_paths)
    steps = build_plan(statement, patterns, scenarios)
    if not steps:
        click.echo(f"error: no step matches {' or '.join(patterns)!s}; see --list", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    out.mkdir(parents=True, exist_ok=True)
    handlers: list[Handler] = [ConsoleProgress(quiet=quiet), JsonlRecorder(out / "results.jsonl")]
    results = run_engine(RunContext(statement, target, options, shared=dict(shared or {})), steps, handlers)
    paths = {"jsonl": out / "results.jsonl", **write_reports(results, out)}
    print_summary(results, paths)
    return results


def _debug_logging(debug: bool) -> None:
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(levelname)s %(message)s")


timeout_options = [
    click.option("--connect-timeout", default=Timeouts.connect, show_default=True, type=float,
                 help="Seconds to wait for the TCP connection."),
    click.option("--acse-timeout", default=Timeouts.acse, show_default=True, type=float,
                 help="Seconds to wait for A-ASSOCIATE-AC/RJ and A-RELEASE-RP."),
    click.option("--dimse-timeout", default=Timeouts.dimse, show_default=True, type=float,
                 help="Seconds to wait for each DIMSE response."),
]


def with_timeouts(fn):  # type: ignore[no-untyped-def]
    for option in reversed(timeout_options):
        fn = option(fn)
    return fn


@click.command("run", epilog=EXIT_CODES_HELP)
@click.argument("statement_file", metavar="STATEMENT", type=click.Path(dir_okay=False))
@click.option("--host", type=HOST, default="127.0.0.1", show_default=True, help="Address of the device under test.")
@click.option("--port", type=click.IntRange(1, 65535), help="Its DICOM port (default: the statement's).")
@click.option("--called-ae", type=AE_TITLE, help="Called AE title (default: the statement's first AE title).")
@click.option("--calling-ae", type=AE_TITLE, help="Calling AE title of the harness (default: the statement's harness.ae_title).")
@click.option("--harness-port", type=click.IntRange(1, 65535),
              help="Loopback port the harness listens on for C-MOVE sub-operations and storage "
                   "commitment reports: the port the device has configured for the harness "
                   "(default: the statement's harness.port; without one those steps are skipped).")
@click.option("--out", type=click.Path(file_okay=False), help="Report folder (default: reports/<statement name>).")
@click.option("-k", "patterns", multiple=True, metavar="PATTERN",
              help="Run only steps whose id contains PATTERN (or matches it as a glob). Repeatable.")
@click.option("--scenarios", "scenario_paths", multiple=True, metavar="PATH",
              help="Add scenario files, or folders of them, to the shipped ones. Repeatable.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too (exit 1).")
@click.option("--packing", type=click.Choice(["packed", "per-sop-class"]), default="packed", show_default=True,
              help="Presentation contexts per association: up to 128, or one association per SOP class.")
@click.option("--list", "list_only", is_flag=True, help="List the planned steps and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--debug", is_flag=True, help="Log pynetdicom's protocol messages to stderr.")
@click.option("--dicomweb-url", envvar="CONFORMANCE_DICOMWEB_URL", metavar="URL",
              help="DICOMweb origin server (http://HOST:PORT) the statement's dicomweb paths are "
                   "joined to. Env: CONFORMANCE_DICOMWEB_URL.")
@click.option("--dicomweb-token", envvar="CONFORMANCE_DICOMWEB_TOKEN", metavar="TOKEN",
              help="Bearer token for a statement with dicomweb.authentication: bearer (never written "
                   "to reports or results). Env: CONFORMANCE_DICOMWEB_TOKEN; Basic: "
                   "CONFORMANCE_DICOMWEB_USER and CONFORMANCE_DICOMWEB_PASSWORD.")
@click.option("--http-timeout", default=30.0, show_default=True, type=float,
              help="Seconds for each DICOMweb connect, read and write.")
@with_timeouts
def run(statement_file: str, host: str, port: int | None, called_ae: str | None, calling_ae: str | None,
        harness_port: int | None, out: str | None, patterns: tuple[str, ...], scenario_paths: tuple[str, ...],
        strict: bool, packing: str, list_only: bool,
        quiet: bool, debug: bool, dicomweb_url: str | None, dicomweb_token: str | None,
        http_timeout: float, connect_timeout: float, acse_timeout: float, dimse_timeout: float) -> None:
    """Test the device at HOST:PORT against STATEMENT and write the reports."""
    _debug_logging(debug)
    with fail_on_input_error():
        statement = load_statement(statement_file)
    if list_only:
        with fail_on_input_error():
            scenarios = scenarios_for(scenario_paths)
        for step in build_plan(statement, patterns, scenarios):
            click.echo(f"{step.id}\t{step.reference}")
        return
    port = port or statement.network.port
    if port is None:
        raise click.UsageError("--port is required: the statement declares no network.port")
    target = Target(host, port, called_ae or statement.network.ae_titles[0],
                    calling_ae or statement.harness.ae_title, _timeouts(connect_timeout, acse_timeout, dimse_timeout),
                    harness_port=harness_port)
    folder = Path(out) if out else Path("reports") / Path(statement_file).stem
    from conformance.dicomweb.client import ACCESS_KEY, WebAccess
    web = WebAccess.from_env(origin=dicomweb_url, token=dicomweb_token, timeout=http_timeout)
    results = execute(statement, target, folder, patterns, RunOptions(strict=strict, packing=packing), quiet,
                      scenario_paths, shared={ACCESS_KEY: web})
    sys.exit(results.exit_code())


@click.command("demo", epilog=EXIT_CODES_HELP)
@click.option("--out", type=click.Path(file_okay=False), default="reports/demo", show_default=True)
@click.option("-k", "patterns", multiple=True, metavar="PATTERN", help="Run only matching steps.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def demo(out: str, patterns: tuple[str, ...], quiet: bool) -> None:
    """Start the built-in reference device on a free loopback port, test it, write the report."""
    from conformance.reference import ReferenceDevice
    from conformance.testing import free_port

    with fail_on_input_error():
        statement = load_statement(reference_statement())
    # The device knows the harness as a C-MOVE destination / commitment report target here.
    harness_port = free_port()
    with ReferenceDevice(statement, harness_port=harness_port) as device:
        click.echo(f"reference device {device.ae_title} listening on 127.0.0.1:{device.port}", err=True)
        target = Target("127.0.0.1", device.port, device.ae_title, statement.harness.ae_title,
                        harness_port=harness_port)
        results = execute(statement, target, Path(out), patterns, RunOptions(), quiet)
    click.echo(f"report: {Path(out) / 'report.html'}")
    sys.exit(results.exit_code())


@click.command("report")
@click.argument("results_file", metavar="RESULTS.jsonl", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the reports (default: beside RESULTS).")
def report(results_file: str, out: str | None) -> None:
    """Render report.html, results.json and junit.xml from a results.jsonl, also of a partial run.

    Exit code 0 when the reports were written (the verdict is printed), 2 on a bad file.
    """
    with fail_on_input_error():
        results = read_jsonl(results_file)
    paths = write_reports(results, Path(out) if out else Path(results_file).parent)
    if not results.complete:
        click.echo("note: this run did not finish; the report shows what was recorded", err=True)
    if results.damaged_lines:
        numbers = ", ".join(map(str, results.damaged_line_numbers))
        more = ", ..." if results.damaged_lines > len(results.damaged_line_numbers) else ""
        click.echo(f"note: {results.damaged_lines} damaged line(s) of {results_file} skipped "
                   f"(line {numbers}{more}): cut by a kill, not UTF-8 or not an event", err=True)
    print_summary(results, paths)


COMMANDS = [run, demo, report]

"""``conformance run``, ``conformance demo`` and ``conformance report``: thin faces over the engine."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from conformance.cli.common import AE_TITLE, HOST, fail_on_input_error, tls_options, tls_setup
from conformance.cli.console import ConsoleProgress, print_summary
from conformance.engine import RunContext, RunOptions
from conformance.engine import run as run_engine
from conformance.engine.events import Handler
from conformance.engine.recorder import JsonlRecorder
from conformance.engine.results import ResultsBuilder, RunResults, read_jsonl
from conformance.exitcodes import EXIT_CODES_HELP, ExitCode
from conformance.negotiation.target import Target, Timeouts
from conformance.reporting import write_reports
from conformance.reporting.profile import load_site_profile
from conformance.reporting.summary import SiteProfile
from conformance.resources import reference_statement
from conformance.statement import Statement, load_statement
from conformance.suite import build_plan, scenarios_for


def _timeouts(connect: float, acse: float, dimse: float) -> Timeouts:
    return Timeouts(connect=connect, acse=acse, dimse=dimse)


def _late_signal(signum: int, frame: FrameType | None) -> None:
    """A second Ctrl-C or SIGTERM while the partial reports are written: noted, not obeyed."""
    print("interrupt again: still writing the partial reports, one moment", file=sys.stderr)


def _first_signal(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, _late_signal)
    signal.signal(signal.SIGTERM, _late_signal)
    raise KeyboardInterrupt


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM both stop the run the same way (KeyboardInterrupt in the main
    thread); any further signal is ignored until the reports are written."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, _first_signal)
    signal.signal(signal.SIGTERM, _first_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def execute(statement: Statement, target: Target, out: Path, patterns: tuple[str, ...],
            options: RunOptions, quiet: bool = False, scenario_paths: tuple[str, ...] = (),
            profile: SiteProfile | None = None, shared: dict | None = None) -> RunResults:
    """Plan, run with console progress and the JSONL recorder, write the reports, print the summary.

    Ctrl-C or SIGTERM: the run stops, the partial reports are written (a second signal does
    not stop that), and the process exits 130.
    """
    with fail_on_input_error():
        scenarios = scenarios_for(scenario_paths)
    steps = build_plan(statement, patterns, scenarios)
    if not steps:
        click.echo(f"error: no step matches {' or '.join(patterns)!s}; see --list", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    out.mkdir(parents=True, exist_ok=True)
    builder = ResultsBuilder()
    handlers: list[Handler] = [ConsoleProgress(quiet=quiet), JsonlRecorder(out / "results.jsonl"), builder]
    interrupted = False
    with interruptible():
        try:
            results = run_engine(RunContext(statement, target, options, shared=dict(shared or {})), steps, handlers)
        except KeyboardInterrupt:
            interrupted = True
            results = builder.results
            if results.aborted is None:
                results.aborted = "interrupted by the user"
        signal.signal(signal.SIGINT, _late_signal)      # the reports are written whatever comes
        signal.signal(signal.SIGTERM, _late_signal)
        paths = {"jsonl": out / "results.jsonl", **write_reports(results, out, profile)}
        if interrupted:
            # Still inside interruptible(): a later signal is only noted until the exit.
            click.echo("interrupted: the partial reports were written", err=True)
            print_summary(results, paths, profile=profile)
            # The reports are written and the cleanups ran; a library thread still waiting out
            # its network timeout must not hold the exit (os._exit skips joining it).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(ExitCode.INTERRUPTED)
    print_summary(results, paths, profile=profile)
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


RUN_EXAMPLES = """\
\b
Examples:
  conformance run statements/orthanc-1.10.yaml --port 4242 --harness-port 11112
  conformance run pacs.yaml --host 127.0.0.1 --port 104 --called-ae PACS --out reports/pacs
  conformance run pacs.yaml --port 104 -k negotiation/accept/CTImageStorage   # one family of steps
  conformance run pacs.yaml --port 104 --site-profile my-ct.yaml   # summary: what matters for you
  conformance run pacs.yaml --list                                 # the planned steps only

"""

SITE_PROFILE_HELP = ("The SOP classes and transfer syntaxes your site uses: another device's statement "
                     "or a YAML mapping with 'sop_classes' and 'transfer_syntaxes' lists (keywords or "
                     "UIDs). The summary is filtered to them; the details show the whole run.")


def _profile(path: str | None) -> SiteProfile | None:
    if path is None:
        return None
    with fail_on_input_error():
        return load_site_profile(path)
    return None  # pragma: no cover - fail_on_input_error exits


@click.command("run", epilog=RUN_EXAMPLES + EXIT_CODES_HELP)
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
@click.option("--site-profile", type=click.Path(dir_okay=False), help=SITE_PROFILE_HELP)
@click.option("--list", "list_only", is_flag=True, help="List the planned steps and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--debug", is_flag=True, help="Log the libraries' debug messages (the DICOMweb HTTP client's requests) to stderr.")
@click.option("--dicomweb-url", envvar="CONFORMANCE_DICOMWEB_URL", metavar="URL",
              help="DICOMweb origin server (http://HOST:PORT) the statement's dicomweb paths are "
                   "joined to. Env: CONFORMANCE_DICOMWEB_URL.")
@click.option("--dicomweb-token", envvar="CONFORMANCE_DICOMWEB_TOKEN", metavar="TOKEN",
              help="Bearer token for a statement with dicomweb.authentication: bearer (never written "
                   "to reports or results). Env: CONFORMANCE_DICOMWEB_TOKEN; Basic: "
                   "CONFORMANCE_DICOMWEB_USER and CONFORMANCE_DICOMWEB_PASSWORD.")
@tls_options()
@click.option("--plain-port", type=click.IntRange(1, 65535),
              help="With --tls: the device's plain DICOM port for tls/plain-port (default: the statement's network.port).")
@click.option("--http-timeout", default=30.0, show_default=True, type=float,
              help="Seconds for each DICOMweb connect, read and write.")
@with_timeouts
def run(statement_file: str, host: str, port: int | None, called_ae: str | None, calling_ae: str | None,
        harness_port: int | None, out: str | None, patterns: tuple[str, ...], scenario_paths: tuple[str, ...],
        strict: bool, packing: str, site_profile: str | None, list_only: bool,
        quiet: bool, debug: bool, dicomweb_url: str | None, dicomweb_token: str | None,
        http_timeout: float, connect_timeout: float, acse_timeout: float, dimse_timeout: float,
        tls: bool = False, tls_ca: str | None = None, tls_cert: str | None = None, tls_key: str | None = None,
        tls_extra: str | None = None, plain_port: int | None = None) -> None:
    """Test the device at HOST:PORT against STATEMENT and write the reports.

    The reports (report.html, results.json, junit.xml, results.jsonl) go to --out; the
    closing lines give the verdict, what breaks, what was not tested, and how to reproduce
    each failure (this command with -k, and the equivalent DCMTK command).
    """
    _debug_logging(debug)
    with fail_on_input_error():
        statement = load_statement(statement_file)
    profile = _profile(site_profile)
    if list_only:
        with fail_on_input_error():
            scenarios = scenarios_for(scenario_paths)
        for step in build_plan(statement, patterns, scenarios):
            click.echo(f"{step.id}\t{step.reference}")
        return
    tls_opts, wrap = tls_setup(tls, tls_ca, tls_cert, tls_key, tls_extra, host)
    secure = statement.secure_transport
    port = port or (secure.ports[0] if tls and secure is not None else statement.network.port)
    if port is None:
        raise click.UsageError("--port is required: the statement declares no network.port")
    target = Target(host, port, called_ae or statement.network.ae_titles[0],
                    calling_ae or statement.harness.ae_title, _timeouts(connect_timeout, acse_timeout, dimse_timeout),
                    harness_port=harness_port, wrap=wrap)
    folder = Path(out) if out else Path("reports") / Path(statement_file).stem
    from conformance.dicomweb.client import ACCESS_KEY, WebAccess
    web = WebAccess.from_env(origin=dicomweb_url, token=dicomweb_token, timeout=http_timeout)
    results = execute(statement, target, folder, patterns, RunOptions(strict=strict, packing=packing), quiet,
                      scenario_paths, profile, shared={ACCESS_KEY: web, "tls.options": tls_opts,
                                                       "tls.plain_port": plain_port})
    sys.exit(results.exit_code())


@click.command("demo", epilog="""\
\b
Examples:
  conformance demo                        # -> reports/demo/report.html
  conformance demo -k storage/ --out /tmp/demo

""" + EXIT_CODES_HELP)
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
    click.echo(f"report: {(Path(out) / 'report.html').resolve().as_uri()}")
    sys.exit(results.exit_code())


@click.command("report", epilog="""\
\b
Examples:
  conformance report reports/orthanc/results.jsonl
  conformance report results.jsonl --out /tmp/again --site-profile my-ct.yaml

\b
Exit codes:
  0  the reports were written (the verdict is printed, not returned)
  2  bad input: not a results file, or a bad site profile
""")
@click.argument("results_file", metavar="RESULTS.jsonl", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the reports (default: beside RESULTS).")
@click.option("--site-profile", type=click.Path(dir_okay=False), help=SITE_PROFILE_HELP)
def report(results_file: str, out: str | None, site_profile: str | None) -> None:
    """Render report.html, results.json and junit.xml from a results.jsonl, also of a partial run."""
    profile = _profile(site_profile)
    with fail_on_input_error():
        results = read_jsonl(results_file)
    paths = write_reports(results, Path(out) if out else Path(results_file).parent, profile)
    if not results.complete:
        click.echo("note: this run did not finish; the report shows what was recorded", err=True)
    if results.damaged_lines:
        numbers = ", ".join(map(str, results.damaged_line_numbers))
        more = ", ..." if results.damaged_lines > len(results.damaged_line_numbers) else ""
        click.echo(f"note: {results.damaged_lines} damaged line(s) of {results_file} skipped "
                   f"(line {numbers}{more}): cut by a kill, not UTF-8 or not an event", err=True)
    print_summary(results, paths, profile=profile)


COMMANDS = [run, demo, report]

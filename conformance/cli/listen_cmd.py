"""``conformance listen``: the harness plays the SCPs a device in its SCU role calls."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TextIO

import click

from conformance.addresses import ae_title_problem, host_problem
from conformance.cli.common import HOST, fail_on_input_error, tls_options, tls_setup
from conformance.cli.console import print_summary
from conformance.engine.events import Event, RunStarted, StepFinished
from conformance.engine.recorder import JsonlRecorder
from conformance.errors import InputError, Problem
from conformance.exitcodes import EXIT_CODES_HELP
from conformance.limits import shorten
from conformance.reporting import write_reports
from conformance.statement import load_statement
from conformance.statement.model import Role


class ListenConsole:
    """Event handler: what to do at the start, then one line per arrival."""

    def __init__(self, statement_name: str, services: list[str], quiet: bool = False,
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.statement_name, self.services = statement_name, services
        self.instances = 0

    def _say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, file=self.stream)

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            t = event.target
            self._say(f"listening as AE {t['called_ae']} on {t['host']}:{t['port']} for {self.statement_name} "
                      f"(serving: {', '.join(self.services)})")
            self._say(f"now: from the device ({t['calling_ae']}), send to AE {t['called_ae']} at "
                      f"{t['host']}:{t['port']} (store a study, query, retrieve, MPPS, commitment) ...")
            for line in event.options.get("misbehaviour") or []:
                self._say(f"misbehaving on purpose: {line}")
            self._say(f"ends after {t['timeouts']['session']:g} s, when the expected items arrived, or on Ctrl-C")
        elif isinstance(event, StepFinished):
            sid = event.step_id
            if sid.startswith("listen/instance/"):
                self.instances += 1
                mark = {"pass": "ok", "fail": "DEVIATES", "error": "not validated"}.get(event.outcome, event.outcome)
                if self.instances <= 50 or event.outcome != "pass":
                    self._say(f"  received #{self.instances} {sid.split('/', 2)[2]}: {mark} ({event.message})")
                elif self.instances % 100 == 0:
                    self._say(f"  ... {self.instances} instances received")
            elif sid.startswith(("listen/association/", "listen/find/", "listen/move/", "listen/get/",
                                 "listen/worklist/", "listen/mpps/", "listen/commitment/", "listen/session")):
                mark = "" if event.outcome == "pass" else f" [{event.outcome.upper()}]"
                self._say(f"  {sid}{mark}: {event.message}")

    def close(self) -> None:
        pass


def _destinations(values: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for value in values:
        ae, sep, address = value.partition("=")
        host, sep2, port = address.rpartition(":")
        if not sep or not sep2 or not ae or not port.isdigit() or not 0 < int(port) < 65536:
            raise InputError(Problem(f"--destination {shorten(value)!r}: expected AE=HOST:PORT"))
        problem = ae_title_problem(ae) or (host_problem(host) if host else None)
        if problem:
            raise InputError(Problem(f"--destination: {problem}"))
        out[ae] = (host or "127.0.0.1", int(port))
    return out


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _size(value: str) -> int:
    """Bytes from ``123``, ``512K``, ``64M`` or ``4G`` (binary units)."""
    text = value.strip().upper().removesuffix("B")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    number = text[:-1] if unit else text
    if not number.isdigit() or int(number) < 1:
        raise InputError(Problem(f"--max-store-size {shorten(value)!r}: expected a size such as 512M or 4G"))
    return int(number) * _UNITS[unit]


@click.command("listen", epilog="""\
\b
Examples:
  conformance listen statements/dcmtk-storescu.yaml --expect 10 --out reports/modality
  conformance listen modality.yaml --port 11112 --worklist items.yaml --timeout 300

""" + EXIT_CODES_HELP)
@click.argument("statement_file", metavar="STATEMENT", type=click.Path(dir_okay=False))
@click.option("--bind", type=HOST, default="127.0.0.1", show_default=True,
              help="Address to listen on. Loopback by default; another address opens the harness to a network.")
@click.option("--port", default=0, type=click.IntRange(0, 65535),
              help="Port (default: the statement's harness.port, else a free one, printed at start).")
@click.option("--timeout", default=600.0, show_default=True, type=click.FloatRange(0.1, 86400),
              help="Seconds the session lasts at most.")
@click.option("--expect", "expect_instances", type=click.IntRange(1), help="End once this many instances arrived.")
@click.option("--expect-associations", type=click.IntRange(1), help="End once this many associations ended.")
@click.option("--out", type=click.Path(file_okay=False), help="Report folder (default: reports/listen-<statement>).")
@click.option("--no-validate", is_flag=True, help="Do not validate received instances (IOD, private attributes).")
@click.option("--worklist", "worklist_file", type=click.Path(dir_okay=False),
              help="YAML/JSON list of worklist items served by the Modality Worklist SCP.")
@click.option("--preload", type=click.Path(file_okay=False), help="Folder of DICOM files to serve for Q/R (priors).")
@click.option("--destination", "destinations", multiple=True, metavar="AE=HOST:PORT",
              help="Where an AE title listens: C-MOVE destinations and storage commitment report targets. "
                   "Default: the statement's AE titles at 127.0.0.1 and its network.port, if any. Repeatable.")
@click.option("--commitment-report", type=click.Choice(["new", "same"]), default="new", show_default=True,
              help="Send the storage commitment N-EVENT-REPORT on a new association or the requesting one.")
@click.option("--misbehave", multiple=True, metavar="KIND=VALUE",
              help="Misbehave on purpose: reject=SOP[/TS], store-status=0xA700[:N], delay=SECONDS, abort-after=N.")
@click.option("--max-associations", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Associations at a time; more are rejected (transient) and reported.")
@click.option("--max-per-peer", type=click.IntRange(1, 1000),
              help="Associations at a time from one peer address; more are rejected (transient, "
                   "local-limit-exceeded) and reported. Default: --max-associations minus 2 (at least 1), "
                   "so one address cannot hold every slot.")
@click.option("--max-store-size", default="4G", show_default=True, metavar="SIZE",
              help="Largest data set a C-STORE may bring (512M, 4G...); a larger one is answered 0xA700 "
                   "Out of Resources, not kept, and reported.")
@click.option("--idle-timeout", default=60.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Abort an association when a PDU is not complete this long after the harness began "
                   "waiting for it (an absolute deadline: a byte now and then does not extend it).")
@click.option("--acse-timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Seconds from a connection to its complete A-ASSOCIATE-RQ (absolute; TLS handshake "
                   "included), and for association set-up as requestor.")
@click.option("--dimse-timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Seconds to wait for each DIMSE response (C-GET/C-MOVE sub-operations, reports).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Validation worker processes.")
@click.option("--strict", is_flag=True, help="Warnings fail the run too (exit 1).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@tls_options(acceptor=True)
def listen(statement_file: str, bind: str, port: int, timeout: float, expect_instances: int | None,
           expect_associations: int | None, out: str | None, no_validate: bool, worklist_file: str | None,
           preload: str | None, destinations: tuple[str, ...], commitment_report: str, misbehave: tuple[str, ...],
           max_associations: int, max_per_peer: int | None, max_store_size: str, idle_timeout: float, acse_timeout: float, dimse_timeout: float, workers: int,
           strict: bool, quiet: bool, tls: bool = False, tls_ca: str | None = None, tls_cert: str | None = None,
           tls_key: str | None = None, tls_extra: bool = False) -> None:
    """Play the SCPs that STATEMENT's SCU declarations need, and test the device that calls.

    The harness answers under the statement's harness.ae_title: storage, Q/R find/move/get
    over what it received, Modality Worklist (--worklist), MPPS, storage commitment. It
    checks each association request and message against the statement's SCU declarations,
    validates each received instance, and writes the same reports as `conformance run`, with
    the SCU matrix (declared vs proposed). Exit 3 when nothing arrived.
    """
    from conformance.listen import ListenConfig, ListenSession
    from conformance.listen import misbehaviour as mb
    from conformance.listen.server import Limits
    from conformance.services.worklist import load_items

    with fail_on_input_error():
        statement = load_statement(statement_file)
        mis = mb.parse(misbehave)
        items = load_items(worklist_file) if worklist_file else []
        dest = {}
        if statement.network.port:
            dest = {ae: ("127.0.0.1", statement.network.port) for ae in statement.network.ae_titles}
        dest.update(_destinations(destinations))
        max_store = _size(max_store_size)
        if preload and not Path(preload).is_dir():
            raise InputError(Problem("--preload: not a folder", preload))
    _tls_opts, wrap = tls_setup(tls, tls_ca, tls_cert, tls_key, tls_extra, acceptor=True)
    if not statement.capabilities(Role.SCU):
        click.echo(f"error: {statement_file} declares no SOP class with role SCU: nothing to listen for", err=True)
        sys.exit(2)
    if bind != "127.0.0.1":
        click.echo(f"warning: listening on {bind}, not loopback: reachable from that network", err=True)
    folder = Path(out) if out else Path("reports") / f"listen-{Path(statement_file).stem}"
    folder.mkdir(parents=True, exist_ok=True)
    config = ListenConfig(statement, folder, host=bind, port=port or statement.harness.port or 0, timeout=timeout,
                          expect_instances=expect_instances, expect_associations=expect_associations,
                          validate=not no_validate,
                          limits=Limits(max_associations, acse_timeout, idle_timeout, dimse_timeout,
                                        max_per_peer=max_per_peer or max(1, max_associations - 2),
                                        max_store=max_store),
                          misbehaviour=mis, worklist_items=items, destinations=dest,
                          commitment_report=commitment_report, strict=strict, workers=workers,
                          preload=Path(preload) if preload else None, wrap=wrap)
    services = sorted({s for s in ("storage", "find", "move", "get", "worklist", "mpps", "commitment")})
    console = ListenConsole(statement.identity.title, services, quiet)
    session = ListenSession(config, [console, JsonlRecorder(folder / "results.jsonl")])

    stopping: list[int] = []

    def terminate(signum: int, _frame: object) -> None:
        # The first SIGTERM/SIGINT ends the session like Ctrl-C (reports are written); any
        # later one, while stopping or writing, is only noted: it cannot lose the final
        # record or the reports (stopping is bounded).
        if stopping:
            click.echo("stopping: the final record and the reports are being written ...", err=True)
            return
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    try:
        results = session.run_until_done()
    except OSError as exc:
        click.echo(f"error: cannot listen on {bind}:{config.port}: {exc}", err=True)
        sys.exit(2)
    stopping.append(0)                  # from here on, a signal no longer interrupts
    paths = {"jsonl": folder / "results.jsonl", **write_reports(results, folder)}
    print_summary(results, paths)
    sys.exit(results.exit_code())


COMMANDS = [listen]

"""The pytest face of the harness: the same engine as the CLI, one test item per step.

    pytest --dicom-statement statements/orthanc-1.10.yaml --dicom-host 127.0.0.1 --dicom-port 4242 \\
           [-k negotiation/accept] [--junitxml out.xml] [--dicom-report reports/orthanc]

Items are collected from the statement's plan (node id ``<statement>::<step id>``), so
pytest's selection, reporting and plugins apply. The selected steps run once, through
:func:`conformance.engine.run`, when the first item runs; each item then reports its own
step: ``fail`` fails with the findings and their standard references, ``error`` errors,
``skipped`` skips. Fixtures for vendors writing their own tests are at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pytest

from conformance import addresses
from conformance.engine import RunContext, RunOptions, run
from conformance.engine.recorder import JsonlRecorder
from conformance.engine.results import RunResults, StepRecord
from conformance.errors import InputError
from conformance.negotiation.target import Target
from conformance.reference import Misbehaviour, ReferenceDevice
from conformance.reporting import write_reports
from conformance.statement import Statement, load_statement
from conformance.suite import build_plan, scenarios_for


def _checked(problem_of: Callable[[str], str | None]) -> Callable[[str], str]:
    """An argparse ``type``: the value, or a usage error (pytest exit code 4) saying why not."""
    def check(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return check


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dicom", "DICOM conformance harness")
    ae_title, host = _checked(addresses.ae_title_problem), _checked(addresses.host_problem)
    group.addoption("--dicom-statement", help="Conformance statement to test: one test item per step.")
    group.addoption("--dicom-host", type=host, default="127.0.0.1", help="Device under test (default 127.0.0.1).")
    group.addoption("--dicom-port", type=int, help="Its DICOM port (default: the statement's).")
    group.addoption("--dicom-called-ae", type=ae_title, help="Called AE title (default: the statement's first).")
    group.addoption("--dicom-calling-ae", type=ae_title,
                    help="Calling AE title (default: the statement's harness.ae_title).")
    group.addoption("--dicom-strict", action="store_true", help="Warnings fail their step too.")
    group.addoption("--dicom-report", help="Also write report.html, results.json, junit.xml, results.jsonl here.")
    group.addoption("--dicom-scenarios", action="append", default=[], metavar="PATH",
                    help="Add scenario files or folders to the shipped ones (repeatable).")
    group.addoption("--dicom-harness-port", type=int,
                    help="Port the harness listens on for C-MOVE / commitment reports (default: the statement's).")
    group.addoption("--dicom-tls", action="store_true", help="Speak DICOM over TLS (PS3.15 Annex B); "
                    "--dicom-port is then the TLS port (default: the statement's secure_transport.ports).")
    group.addoption("--dicom-tls-ca", metavar="PEM", help="CA certificates the device's certificate must chain to.")
    group.addoption("--dicom-tls-cert", metavar="PEM", help="The harness's client certificate (PEM).")
    group.addoption("--dicom-tls-key", metavar="PEM", help="The private key of --dicom-tls-cert.")
    group.addoption("--dicom-tls-server-name", metavar="NAME", help="Host name the device's certificate must name.")
    group.addoption("--dicom-plain-port", type=int, help="With --dicom-tls: the device's plain port (tls/plain-port).")


class StepFailure(Exception):
    """A step failed: the device deviates from its statement or the standard."""


class StepError(Exception):
    """The harness could not test this step."""


class _Run:
    """The one engine run behind all items of a session."""

    def __init__(self, config: pytest.Config, statement: Statement, target: Target, scenarios: list,
                 shared: dict[str, Any] | None = None):
        self.config, self.statement, self.target = config, statement, target
        self.scenarios = scenarios
        self.shared = dict(shared or {})
        self.selected: list[str] = []
        self.results: RunResults | None = None

    def result_for(self, step_id: str) -> StepRecord:
        if self.results is None:
            selected = set(self.selected)
            steps = [s for s in build_plan(self.statement, scenarios=self.scenarios) if s.id in selected]
            options = RunOptions(strict=self.config.getoption("dicom_strict"))
            report = self.config.getoption("dicom_report")
            handlers = [JsonlRecorder(Path(report) / "results.jsonl")] if report else []
            self.results = run(RunContext(self.statement, self.target, options, shared=dict(self.shared)),
                               steps, handlers)
            if report:
                write_reports(self.results, report)
        record = self.results.step(step_id)
        assert record is not None, step_id
        return record


class DicomStatementFile(pytest.File):
    def collect(self) -> Iterator["DicomStepItem"]:
        run_ = self.config.stash[_RUN]
        for step in build_plan(run_.statement, scenarios=run_.scenarios):
            yield DicomStepItem.from_parent(self, name=step.id, title=step.title, reference=step.reference)


class DicomStepItem(pytest.Item):
    def __init__(self, *, title: str, reference: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.title, self.reference = title, reference

    def runtest(self) -> None:
        record = self.config.stash[_RUN].result_for(self.name)
        strict = self.config.getoption("dicom_strict")
        if record.outcome == "skipped":
            pytest.skip(record.message)
        if record.outcome in ("error", "setup", None):
            raise StepError(record.message or "not run")
        warnings = [f for f in record.findings if f.severity.value == "warning"]
        if record.outcome == "fail" or (strict and warnings):
            raise StepFailure(record)
        for f in warnings:
            self.add_report_section("call", "warnings", f"{f.code}: {f.message} ({f.reference})")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, StepFailure):
            record: StepRecord = excinfo.value.args[0]
            lines = [f"{self.title} [{self.reference}]"]
            lines += [f"  {f.severity.value}: {f.code}: {f.message} ({f.reference})" for f in record.findings]
            return "\n".join(lines)
        if isinstance(excinfo.value, StepError):
            return f"{self.title}: could not test: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.name} [{self.reference}]"


_RUN = pytest.StashKey[_Run]()


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("dicom_statement")
    if not path:
        return
    try:
        statement = load_statement(path)
        scenarios = scenarios_for(config.getoption("dicom_scenarios"))
    except InputError as exc:
        raise pytest.UsageError(f"--dicom-statement / --dicom-scenarios: {exc}") from None
    shared, wrap = _tls(config)
    secure = statement.secure_transport
    port = config.getoption("dicom_port") or (secure.ports[0] if wrap is not None and secure is not None
                                              else statement.network.port)
    if port is None:
        raise pytest.UsageError("--dicom-port is required: the statement declares no network.port")
    target = Target(config.getoption("dicom_host"), port,
                    config.getoption("dicom_called_ae") or statement.network.ae_titles[0],
                    config.getoption("dicom_calling_ae") or statement.harness.ae_title,
                    harness_port=config.getoption("dicom_harness_port"), wrap=wrap)
    config.stash[_RUN] = _Run(config, statement, target, scenarios, shared)


def _tls(config: pytest.Config) -> tuple[dict[str, Any], Any]:
    """The run's shared TLS data and socket wrapper from the --dicom-tls* options (PS3.15 Annex B)."""
    from conformance.wire import tls
    if not config.getoption("dicom_tls"):
        return {}, None
    opts = tls.TlsOptions(config.getoption("dicom_tls_ca"), config.getoption("dicom_tls_cert"),
                          config.getoption("dicom_tls_key"), server_name=config.getoption("dicom_tls_server_name"))
    try:
        wrap = tls.requestor_wrap(tls.client_context(opts), opts.server_name or config.getoption("dicom_host"))
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"--dicom-tls-ca / --dicom-tls-cert / --dicom-tls-key: {exc}") from None
    return {"tls.options": opts, "tls.plain_port": config.getoption("dicom_plain_port")}, wrap


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if _RUN not in config.stash:
        return
    statement_file = DicomStatementFile.from_parent(session, path=Path(config.getoption("dicom_statement")).resolve())
    items.extend(statement_file.collect())


def pytest_collection_finish(session: pytest.Session) -> None:
    if _RUN in session.config.stash:
        session.config.stash[_RUN].selected = [i.name for i in session.items if isinstance(i, DicomStepItem)]


# --- fixtures for vendors' own tests ------------------------------------------------------------

@pytest.fixture
def dicom_reference_device() -> Iterator[Callable[..., ReferenceDevice]]:
    """Factory: ``start(statement_path_or_statement, misbehaviour=Misbehaviour())`` starts the
    built-in reference device on a free loopback port; every device is stopped after the test."""
    started: list[ReferenceDevice] = []

    def start(statement: Statement | str | Path, misbehaviour: Misbehaviour = Misbehaviour()) -> ReferenceDevice:
        st = statement if isinstance(statement, Statement) else load_statement(statement)
        device = ReferenceDevice(st, misbehaviour=misbehaviour).start()
        started.append(device)
        return device

    yield start
    for device in started:
        device.stop()


@pytest.fixture
def dicom_run() -> Callable[..., RunResults]:
    """``dicom_run(statement, host, port, patterns=(), scenarios=(), strict=False,
    harness_port=None, tls=None, plain_port=None)``: run the harness (the shipped scenarios plus
    *scenarios* files) and get :class:`RunResults` to assert on (``results.findings()``,
    ``results.step(id)``). *tls*: a :class:`conformance.wire.tls.TlsOptions`; the run then
    speaks TLS to *port* (PS3.15 Annex B)."""
    def run_it(statement: Statement | str | Path, host: str, port: int, patterns: Sequence[str] = (),
               scenarios: Sequence[str | Path] = (), strict: bool = False, called_ae: str | None = None,
               harness_port: int | None = None, tls: Any = None, plain_port: int | None = None) -> RunResults:
        from conformance.wire import tls as wtls
        st = statement if isinstance(statement, Statement) else load_statement(statement)
        wrap = None if tls is None else wtls.requestor_wrap(wtls.client_context(tls), tls.server_name or host)
        target = Target(host, port, called_ae or st.network.ae_titles[0], st.harness.ae_title,
                        harness_port=harness_port, wrap=wrap)
        shared = {} if tls is None else {"tls.options": tls, "tls.plain_port": plain_port}
        return run(RunContext(st, target, RunOptions(strict=strict), shared=shared),
                   build_plan(st, patterns, scenarios_for(scenarios)))
    return run_it


@pytest.fixture
def dicom_association() -> Iterator[Callable[..., Any]]:
    """``dicom_association(host, port, called_ae, contexts)`` -> ``(outcome, assoc)``: an
    association to the device under test on the harness's own stack, with pynetdicom-shaped
    SCU calls (``send_c_echo``, ``send_c_store``, ``send_c_find``, ``send_c_move``,
    ``send_n_create`` / ``send_n_set`` / ``send_n_action``; :mod:`conformance.wire.scu`);
    *contexts* are ``(SOP class UID, [transfer syntax UIDs])``. Released after the test."""
    from contextlib import ExitStack

    from conformance.negotiation.association import ProposedContext, associate

    stack = ExitStack()

    def open_one(host: str, port: int, called_ae: str, contexts: Sequence[tuple[str, Sequence[str]]],
                 calling_ae: str = "CONFORMANCE") -> Any:
        proposed = [ProposedContext(sop, tuple(tss)) for sop, tss in contexts]
        return stack.enter_context(associate(Target(host, port, called_ae, calling_ae), proposed))

    with stack:
        yield open_one


@pytest.fixture
def dicom_harness_scp() -> Iterator[Callable[..., Any]]:
    """``dicom_harness_scp(ae_title, port=0)``: a harness storage / commitment-report SCP on
    127.0.0.1 (``.port``, ``.received``, ``.wait_received(n, timeout)``, ``.reports``).
    Stopped after the test."""
    from conformance.services.listener import HarnessListener

    started: list[HarnessListener] = []

    def start(ae_title: str = "CONFORMANCE", port: int = 0) -> HarnessListener:
        listener = HarnessListener(ae_title, port).start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop()

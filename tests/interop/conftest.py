"""Fixtures for the interop tests: real DICOM peers from Debian, started on free loopback
ports by :mod:`conformance.testing.peers` and always stopped.

These tests never skip. A missing Debian binary (``dcmtk``, ``orthanc``) makes the fixture
fail with a message naming the package to install.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from conformance.engine import RunContext, run
from conformance.engine.results import RunResults
from conformance.findings import Severity
from conformance.negotiation.target import Target
from conformance.statement import Statement, load_statement
from conformance.suite import build_plan
from conformance.testing import DcmQrSCP, Orthanc, Peer, StoreSCP, free_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "statements"
WRONG = ROOT / "tests" / "data" / "statements"

#: The harness as the peers know it (DicomModalities / HostTable entry). Nothing listens on
#: the port during negotiation tests; it only has to be a valid, free port.
HARNESS_AE = "CONFORMANCE"


@pytest.fixture(scope="session")
def harness_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def orthanc(harness_port: int) -> Iterator[Orthanc]:
    """Orthanc 1.10 with the configuration statements/orthanc-1.10.yaml describes."""
    with Orthanc("ORTHANC", harness_ae_title=HARNESS_AE, harness_port=harness_port) as peer:
        yield peer


@pytest.fixture(scope="session")
def storescp_xa() -> Iterator[StoreSCP]:
    """``storescp -aet STORESCP -od DIR +xa PORT`` (statements/dcmtk-storescp.yaml)."""
    with StoreSCP("STORESCP", accept_all_transfer_syntaxes=True) as peer:
        yield peer


@pytest.fixture(scope="session")
def storescp_plain() -> Iterator[StoreSCP]:
    """``storescp -aet STORESCP -od DIR PORT``: without +xa, uncompressed only."""
    with StoreSCP("STORESCP") as peer:
        yield peer


@pytest.fixture(scope="session")
def dcmqrscp(harness_port: int) -> Iterator[DcmQrSCP]:
    """dcmqrscp in fork mode with the configuration statements/dcmtk-dcmqrscp.yaml describes."""
    with DcmQrSCP("DCMQRSCP", harness_ae_title=HARNESS_AE, harness_port=harness_port) as peer:
        yield peer


def run_statement(statement: Statement | Path, peer: Peer,
                  patterns: Sequence[str] = ()) -> RunResults:
    """Run the negotiation suite of *statement* against *peer* (the CLI's engine).

    Without *patterns*, only the ``negotiation/`` steps: the services family has its own
    interop tests (tests/services)."""
    st = statement if isinstance(statement, Statement) else load_statement(statement)
    target = Target(peer.host, peer.port, called_ae=st.network.ae_titles[0],
                    calling_ae=st.harness.ae_title)
    return run(RunContext(st, target), build_plan(st, patterns or ("negotiation/",)))


def outcome_ids(results: RunResults, outcome: str) -> set[str]:
    return {s.id for s in results.steps if s.outcome == outcome}


def codes(results: RunResults, severity: Severity) -> set[str]:
    return {f.code for _s, f in results.findings(severity)}


def describe(results: RunResults, limit: int = 15) -> str:
    """The non-passing steps and their findings, for assertion messages."""
    lines = [str(results.counts())]
    for s in results.steps:
        if s.outcome != "pass":
            lines.append(f"{s.outcome} {s.id}: {s.message} "
                         f"{[(f.code, f.message) for f in s.findings][:3]}")
        if len(lines) > limit:
            lines.append("...")
            break
    return "\n".join(lines)

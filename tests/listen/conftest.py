"""Fixtures for ``conformance listen`` tests: instances to send, a session factory that always
stops, and DCMTK's SCU tools by full path (never pynetdicom's scripts of the same name).

Real SCUs never skip: a missing DCMTK tool or Orthanc fails with the package to install.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from conformance.engine.results import RunResults
from conformance.iod import synthesize
from conformance.listen import ListenConfig, ListenSession
from conformance.statement import Statement, load_statement
from conformance.testing import dcmtk_tool

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "statements"
WRONG = ROOT / "tests" / "data" / "statements"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
HARNESS_AE = "CONFORMANCE"


def make_instance(sop_class: str, study: str, series: str, patient: str = "P1",
                  private: bool = False) -> Dataset:
    ds = synthesize(sop_class)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientID, ds.PatientName = patient, "DOE^JANE"
    ds.StudyDate, ds.AccessionNumber = "20260101", "A1"
    if private:
        block = ds.private_block(0x0019, "ACME 1.0", create=True)
        block.add_new(0x10, "US", 7)
    return ds


@pytest.fixture(scope="session")
def study_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three CT and one MR instance of one study, Explicit VR Little Endian."""
    folder = tmp_path_factory.mktemp("study")
    study, series = str(generate_uid()), str(generate_uid())
    paths = []
    for i, sop in enumerate((CT, CT, CT, MR)):
        ds = make_instance(sop, study, series if sop == CT else str(generate_uid()), private=(i == 0))
        path = folder / f"{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def storescu_statement() -> Statement:
    return load_statement(SHIPPED / "dcmtk-storescu.yaml")


def run_tool(tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a DCMTK tool by full path with TCP_NODELAY=1 (../shared/PEERS.md)."""
    env = {**os.environ, "TCP_NODELAY": "1"}
    return subprocess.run([dcmtk_tool(tool), *args], env=env, capture_output=True, text=True, timeout=timeout)


def wait_banner(proc: subprocess.Popen, text: str, seconds: float = 60) -> str:
    """The stderr lines a started ``conformance listen`` printed until *text* appeared (or
    *seconds* passed, or the process ended): bounded, never blocks past the deadline."""
    banner, deadline = "", time.monotonic() + seconds
    while text not in banner and time.monotonic() < deadline:
        ready, _w, _x = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:
            break
        banner += line
    return banner


@contextlib.contextmanager
def listen_sessions(folder: Path, **defaults: Any) -> Iterator[Callable[..., ListenSession]]:
    """Factory of listen sessions writing below *folder*; each is stopped at the end if still
    open. *defaults* are ListenConfig options a call may override."""
    started: list[ListenSession] = []

    def start(statement: Statement, **options: Any) -> ListenSession:
        out = folder / f"listen{len(started)}"
        session = ListenSession(ListenConfig(statement, out, **{**defaults, **options})).start()
        started.append(session)
        return session

    try:
        yield start
    finally:
        for session in started:
            if not session.run.finished:
                session.stop("test ended")


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[Callable[..., ListenSession]]:
    """Factory: start a listen session for a statement; stopped after the test if still open."""
    with listen_sessions(tmp_path, timeout=60, validate=True) as start:
        yield start


def finish(session: ListenSession) -> RunResults:
    """Wait until the session's expectations are met (bounded by its timeout), then stop."""
    return session.stop(session.wait())


def step_codes(results: RunResults, *severities: str) -> set[tuple[str, str]]:
    return {(s.id, f.code) for s in results.steps for f in s.findings
            if not severities or f.severity.value in severities}

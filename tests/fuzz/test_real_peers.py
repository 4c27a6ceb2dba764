"""Short bounded fuzz runs against real peers (DCMTK storescp, Orthanc): they complete, raise
no false "stopped answering" finding, and a saved case replays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.testing import Orthanc, StoreSCP, free_port
from tests.fuzz.conftest import FAST, STATEMENTS, findings, fuzz, summary

DOWN = {"fuzz.stopped-answering", "fuzz.listener-dropped"}


@pytest.fixture(scope="module")
def storescp() -> Iterator[StoreSCP]:
    with StoreSCP("STORESCP", accept_all_transfer_syntaxes=True) as peer:
        yield peer


@pytest.fixture(scope="module")
def orthanc() -> Iterator[Orthanc]:
    with Orthanc("ORTHANC", harness_ae_title="CONFORMANCE", harness_port=free_port()) as peer:
        yield peer


def _bounded_run(statement: str, port: int, out: Path) -> None:
    result = fuzz(statement, "--port", str(port), "--out", str(out), "--max-cases", "32", "--seed", "3",
                  "--time-limit", "60", *FAST, "--give-up", "5")
    assert result.exit_code == 0, result.output
    got = findings(out)
    assert not [f for f in got if f["code"] in DOWN], got
    areas = summary(out)["areas"]
    assert set(areas) == {"associate-rq", "p-data", "command-set", "data-set"}
    assert all(0 < a["cases"] <= 8 for a in areas.values()), areas


def _replay_one(out: Path, port: int) -> None:
    saved = sorted((out / "cases").glob("*.bin"))
    if not saved:
        return
    again = fuzz("--replay", str(saved[0]), "--port", str(port), "--give-up", "5")
    assert again.exit_code == 0, again.output
    assert "answered again" in again.output


def test_storescp_survives_a_bounded_run_and_a_replay(storescp, tmp_path):
    _bounded_run(str(STATEMENTS / "dcmtk-storescp.yaml"), storescp.port, tmp_path)
    _replay_one(tmp_path, storescp.port)
    assert storescp.running


def test_orthanc_survives_a_bounded_run_and_a_replay(orthanc, tmp_path):
    _bounded_run(str(STATEMENTS / "orthanc-1.10.yaml"), orthanc.port, tmp_path)
    _replay_one(tmp_path, orthanc.port)
    assert orthanc.running

"""Shared fixtures: the shipped reference statement and a running reference device."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.negotiation.target import Target, Timeouts
from conformance.reference import Misbehaviour, ReferenceDevice
from conformance.statement import Statement, load_statement
from conformance.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
STATEMENTS = ROOT / "statements"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def reference_statement() -> Statement:
    return load_statement(STATEMENTS / "reference-device.yaml")


@pytest.fixture
def start_reference(reference_statement):
    """Factory: start a reference device (optionally misbehaving); stopped after the test."""
    started: list[ReferenceDevice] = []

    def start(misbehaviour: Misbehaviour = Misbehaviour(), statement: Statement | None = None) -> ReferenceDevice:
        device = ReferenceDevice(statement or reference_statement, misbehaviour=misbehaviour,
                                 harness_port=free_port()).start()
        started.append(device)
        return device

    yield start
    for device in started:
        device.stop()


def target_for(device: ReferenceDevice, **timeouts: float) -> Target:
    return Target("127.0.0.1", device.port, device.ae_title, device.statement.harness.ae_title,
                  Timeouts(**timeouts) if timeouts else Timeouts(), harness_port=device.harness_port)

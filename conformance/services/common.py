"""What every DIMSE service exchange shares: its result as data, and what a monitor of the
association tells (:class:`DimseMonitor`): the device's silence, its abort or its closing the
connection, and any response seen but not handed to the caller, which ends the step as *error*
(harness hiccup), never as a device failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from conformance.findings import Finding, Severity


@dataclass
class Exchange:
    """Findings and observations of one service exchange, plus why it could not be tested.

    ``error`` set: the harness could not test (no response, aborted, harness hiccup); the
    step ends as *error*. ``skipped`` set: not applicable (e.g. no encoder).
    """

    findings: list[Finding] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    message: str = ""
    #: A set-up problem at the site stopped the exchange (what to configure).
    setup: str | None = None

    def extend(self, other: Exchange) -> Exchange:
        self.findings += other.findings
        self.observations += other.observations
        self.error = self.error or other.error
        self.skipped = self.skipped or other.skipped
        self.setup = self.setup or other.setup
        return self


class DimseMonitor(Protocol):
    """What the verdict rules read about one association's requests and responses
    (implemented by :class:`conformance.wire.scu.WireMonitor`, from the association's typed
    ending, :mod:`conformance.wire.outcome`)."""

    @property
    def aborted(self) -> bool: ...

    @property
    def last_request(self) -> tuple[str, float] | None:
        """The last request sent: (DIMSE name such as "C-GET", monotonic time)."""

    @property
    def device_abort(self) -> tuple[int, int | None, float] | None:
        """An A-ABORT the device sent: (source, reason if known, monotonic time) (PS3.8 9.3.8)."""

    @property
    def closed_at(self) -> float | None:
        """When the device closed the TCP connection, monotonic time."""

    def answered(self, msg_id: int) -> list[int]:
        """The statuses of every response seen to *msg_id*."""


def no_response(what: str, monitor: DimseMonitor | None, msg_id: int, assoc: Any) -> Exchange:
    """The exchange for a request that got no usable response: a harness hiccup if the
    monitor saw the device answer, else the device's silence or abort."""
    seen = monitor.answered(msg_id) if monitor else []
    if seen:
        return Exchange([Finding(
            "harness.response-lost", Severity.INFO,
            f"The device answered the {what} (status 0x{seen[-1]:04X}) but the harness' "
            "network layer lost the response; "
            "not held against the device.", reference="harness")],
            error=f"harness hiccup: the {what} response (0x{seen[-1]:04X}) was lost by the harness")
    if assoc is not None and getattr(assoc, "is_aborted", False):
        return Exchange(error=f"the association was aborted during the {what}")
    return Exchange(error=f"no valid {what} response within the DIMSE timeout "
                          "(the device timed out, aborted or answered garbage)")


def dataset_rows(ds: Any, limit: int = 40) -> list[list[str]]:
    """A data set as report evidence: ``[tag, keyword, VR, value]`` rows (at most *limit*;
    sequences as their item count, long values cut), JSON-serialisable."""
    rows: list[list[str]] = []
    if ds is None:
        return rows
    for elem in ds:
        if len(rows) >= limit:
            rows.append(["", "", "", f"... {len(ds) - limit} more element(s)"])
            break
        if elem.VR == "SQ":
            value = f"({len(elem.value)} item(s))"
        elif elem.tag == 0x7FE00010 or elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
            value = f"({len(elem.value or b'')} bytes)"
        else:
            value = str(elem.value if elem.value is not None else "")
            value = value if len(value) <= 120 else value[:117] + "..."
        rows.append([f"({elem.tag.group:04X},{elem.tag.element:04X})", elem.keyword or "", elem.VR, value])
    return rows

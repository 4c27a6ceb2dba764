"""What every DIMSE service exchange shares: its result as data, and a monitor that tells a
device's silence from the harness losing a response.

pynetdicom 3.0.4 can, rarely, let its reactor thread take a fast response that the sending
thread waits for (../shared/PEERS.md item 3; pynetdicom issue 875): the send then times out
although the device answered. :class:`DimseMonitor` records every DIMSE response decoded on
the association, so a check can say "the device answered 0x0000, the harness lost it" and
end the step as *error* (harness hiccup), never as a device failure.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pynetdicom import evt
from pynetdicom.pdu import A_ABORT_RQ

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


class DimseMonitor:
    """Records (message id being responded to, status) of every DIMSE response received.

    Bind with ``associate(..., extra_handlers=monitor.handlers)``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.responses: dict[int, list[int]] = {}
        self.aborted = False
        #: The last request the harness sent: (DIMSE name such as "C-GET", monotonic time).
        self.last_request: tuple[str, float] | None = None
        #: An A-ABORT the device sent: (source, reason if known, monotonic time) (PS3.8 9.3.8).
        self.device_abort: tuple[int, int | None, float] | None = None
        #: When the TCP connection closed (either side), monotonic time.
        self.closed_at: float | None = None

    def _on_recv(self, event: evt.Event) -> None:
        cmd = getattr(event.message, "command_set", None)
        if cmd is None:
            return
        msg_id = cmd.get("MessageIDBeingRespondedTo")
        status = cmd.get("Status")
        if msg_id is not None and status is not None:
            with self._lock:
                self.responses.setdefault(int(msg_id), []).append(int(status))

    def _on_abort(self, event: evt.Event) -> None:
        self.aborted = True

    def _on_sent(self, event: evt.Event) -> None:
        name = type(event.message).__name__          # e.g. C_GET_RQ
        if name.endswith("_RQ"):
            with self._lock:
                self.last_request = (name[:-3].replace("_", "-"), time.monotonic())

    def _on_pdu(self, event: evt.Event) -> None:
        pdu = getattr(event, "pdu", None)
        if isinstance(pdu, A_ABORT_RQ):          # the device aborted (PS3.8 9.3.8)
            with self._lock:
                self.device_abort = (int(pdu.source or 0), int(pdu.reason_diagnostic or 0),
                                     time.monotonic())

    def _on_close(self, event: evt.Event) -> None:
        with self._lock:
            self.closed_at = time.monotonic()

    @property
    def handlers(self) -> list[tuple]:
        return [(evt.EVT_DIMSE_RECV, self._on_recv), (evt.EVT_ABORTED, self._on_abort),
                (evt.EVT_DIMSE_SENT, self._on_sent), (evt.EVT_PDU_RECV, self._on_pdu),
                (evt.EVT_CONN_CLOSE, self._on_close)]

    def answered(self, msg_id: int) -> list[int]:
        with self._lock:
            return list(self.responses.get(msg_id, []))


def no_response(what: str, monitor: DimseMonitor | None, msg_id: int, assoc: Any) -> Exchange:
    """The exchange for a request that got no usable response: a harness hiccup if the
    monitor saw the device answer, else the device's silence or abort."""
    seen = monitor.answered(msg_id) if monitor else []
    if seen:
        return Exchange([Finding(
            "harness.response-lost", Severity.INFO,
            f"The device answered the {what} (status 0x{seen[-1]:04X}) but the harness' "
            "network layer lost the response (pynetdicom reactor race, pynetdicom issue 875); "
            "not held against the device.", reference="harness")],
            error=f"harness hiccup: the {what} response (0x{seen[-1]:04X}) was lost by pynetdicom")
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

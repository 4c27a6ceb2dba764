"""The harness as an SCP on loopback: C-MOVE destination and storage-commitment report target.

PS3.4 C.4.2 (C-MOVE sub-operations arrive on a new association to the move destination),
PS3.4 J.3.3 (the N-EVENT-REPORT of storage commitment may arrive on a new association that
the device opens to the requester). The listener accepts every storage SOP class in every
transfer syntax, Verification, and Storage Commitment Push Model (with or without SCP/SCU
role selection), binds 127.0.0.1 only, and keeps what it receives for the checks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt

from conformance.negotiation.association import _nodelay
from conformance.standard import uids

STORAGE_COMMITMENT_PUSH_MODEL = "1.2.840.10008.1.20.1"

#: How long the harness waits for stragglers after a device says it is done.
SETTLE = 0.3


@dataclass
class Report:
    """One N-EVENT-REPORT received (PS3.4 J.3.3.1)."""

    event_type: int
    dataset: Dataset | None
    calling_ae: str
    same_association: bool


@dataclass
class HarnessListener:
    """A pynetdicom SCP on ``(host, port)`` answering to *ae_title*. Context manager."""

    ae_title: str
    port: int
    host: str = "127.0.0.1"
    store_status: int = 0x0000
    received: list[Dataset] = field(default_factory=list)
    calling_aes: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    _server: Any = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def _on_store(self, event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        with self._cond:
            self.received.append(ds)
            self._cond.notify_all()
        return self.store_status

    def on_report(self, event: evt.Event, same_association: bool) -> tuple[int, None]:
        """N-EVENT-REPORT handler (also bound on the requesting association itself)."""
        ds = event.event_information
        with self._cond:
            self.reports.append(Report(int(event.event_type or 0), ds,
                                       event.assoc.requestor.ae_title if not same_association else "",
                                       same_association))
            self._cond.notify_all()
        return 0x0000, None

    def _on_open(self, event: evt.Event) -> None:
        _nodelay(event)

    def _on_requested(self, event: evt.Event) -> None:
        with self._cond:
            self.calling_aes.append(str(event.assoc.requestor.ae_title).strip())

    def start(self) -> HarnessListener:
        ae = AE(ae_title=self.ae_title)
        ae.maximum_associations = 20
        storage = list(uids.storage_sop_classes().values())
        for sop in storage:
            ae.add_supported_context(sop, ALL_TRANSFER_SYNTAXES, scu_role=False, scp_role=True)
        ae.add_supported_context(uids.VERIFICATION, ALL_TRANSFER_SYNTAXES)
        ae.add_supported_context(STORAGE_COMMITMENT_PUSH_MODEL, ALL_TRANSFER_SYNTAXES,
                                 scu_role=True, scp_role=True)
        handlers: list[Any] = [(evt.EVT_CONN_OPEN, self._on_open), (evt.EVT_REQUESTED, self._on_requested),
                    (evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, lambda e: 0x0000),
                    (evt.EVT_N_EVENT_REPORT, lambda e: self.on_report(e, False))]
        self._server = ae.start_server((self.host, self.port), block=False, evt_handlers=handlers)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> HarnessListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_received(self, count: int, timeout: float) -> int:
        """Wait (bounded) until *count* instances arrived; return how many did."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return len(self.received)

    def wait_report(self, timeout: float) -> Report | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.reports:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.reports[0]

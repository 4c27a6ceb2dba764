"""A DICOM device that accepts exactly what its statement declares, and misbehaves on request.

It serves the demo and the fast unit tests; it never stands in for the real peers (DCMTK,
Orthanc) in interoperability tests. It binds 127.0.0.1 by default.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, evt

from conformance.negotiation.association import _nodelay
from conformance.statement.model import Role, Statement


@dataclass(frozen=True)
class Misbehaviour:
    """Deviations from the statement, so tests can prove the harness catches each one.

    reject_transfer_syntaxes
        (SOP class UID, transfer syntax UID) pairs the device declares but rejects;
        a SOP class UID of ``"*"`` matches every SOP class.
    accept_extra
        (SOP class UID, transfer syntax UID) pairs the device accepts without declaring.
    ignore_called_ae
        Accept any Called AE Title even if the statement says it is checked.
    hang_after_association
        Accept associations, then never answer a DIMSE request.
    abort_after_association
        Accept associations, then answer the first DIMSE request with an A-ABORT.
    """

    reject_transfer_syntaxes: frozenset[tuple[str, str]] = frozenset()
    accept_extra: frozenset[tuple[str, str]] = frozenset()
    ignore_called_ae: bool = False
    hang_after_association: bool = False
    abort_after_association: bool = False


@dataclass
class ReferenceDevice:
    """Run a statement-driven pynetdicom SCP on a loopback port (0 = a free one).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    statement: Statement
    host: str = "127.0.0.1"
    port: int = 0
    misbehaviour: Misbehaviour = Misbehaviour()
    received: list[Dataset] = field(default_factory=list)
    _server: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def ae_title(self) -> str:
        return self.statement.network.ae_titles[0]

    def _build_ae(self) -> AE:
        net = self.statement.network
        ae = AE(ae_title=self.ae_title)
        ae.require_called_aet = net.checks_called_ae_title and not self.misbehaviour.ignore_called_ae
        if net.max_pdu_receive is not None:
            ae.maximum_pdu_size = net.max_pdu_receive
        if net.implementation_class_uid:
            ae.implementation_class_uid = net.implementation_class_uid
        if net.implementation_version_name:
            ae.implementation_version_name = net.implementation_version_name
        if net.max_associations:
            ae.maximum_associations = net.max_associations
        bad = self.misbehaviour.reject_transfer_syntaxes
        for cap in self.statement.transfer_capabilities:
            syntaxes = [ts for ts in cap.transfer_syntaxes
                        if (cap.sop_class, ts) not in bad and ("*", ts) not in bad]
            if cap.role is Role.SCP and syntaxes:
                ae.add_supported_context(cap.sop_class, syntaxes)
            elif cap.role is Role.SCU and cap.role_selection and syntaxes:
                ae.add_supported_context(cap.sop_class, syntaxes, scu_role=True, scp_role=True)
        for sop, ts in self.misbehaviour.accept_extra:
            ae.add_supported_context(sop, [ts])
        return ae

    def _handlers(self) -> list[tuple]:
        handlers: list[tuple] = [(evt.EVT_CONN_OPEN, _nodelay)]
        mis = self.misbehaviour
        if mis.hang_after_association or mis.abort_after_association:
            def misbehave(event: evt.Event) -> int:
                if mis.abort_after_association:
                    event.assoc.abort()
                else:
                    self._stop.wait(3600)
                return 0xC000
            for kind in (evt.EVT_C_ECHO, evt.EVT_C_STORE, evt.EVT_C_FIND):
                handlers.append((kind, misbehave))
            return handlers
        handlers.append((evt.EVT_C_ECHO, lambda event: 0x0000))
        handlers.append((evt.EVT_C_STORE, self._on_store))
        return handlers

    def _on_store(self, event: evt.Event) -> int:
        """C-STORE SCP (PS3.4 B.2.2): keep the instance, answer Success."""
        ds = event.dataset
        ds.file_meta = event.file_meta
        self.received.append(ds)
        return 0x0000

    def start(self) -> "ReferenceDevice":
        self._stop.clear()
        ae = self._build_ae()
        self._server = ae.start_server((self.host, self.port), block=False,
                                       evt_handlers=self._handlers())
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> "ReferenceDevice":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SilentListener:
    """Accepts TCP connections and never answers: a hung device (tests only)."""

    def __init__(self, host: str = "127.0.0.1"):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self.host, self.port = self._sock.getsockname()[:2]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def __enter__(self) -> "SilentListener":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
        for conn in self._held:
            conn.close()

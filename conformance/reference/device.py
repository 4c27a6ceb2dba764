"""A DICOM device that accepts exactly what its statement declares, and misbehaves on request.

It serves the demo and the fast unit tests; it never stands in for the real peers (DCMTK,
Orthanc) in interoperability tests. It binds 127.0.0.1 by default and runs on the harness's
own network stack (:mod:`conformance.reference.scp` over :mod:`conformance.wire`).

Services, each served only when the statement declares its SOP class as SCP:
Verification; Storage (PS3.4 Annex B, instances kept in memory); Query/Retrieve FIND, MOVE
and GET of the Patient Root and Study Root models over what it stored (PS3.4 Annex C; see
:mod:`conformance.services.matching`); MPPS (PS3.4 Annex F); Storage Commitment Push
Model (PS3.4 Annex J, the report sent on a new association to ``destinations``).
C-MOVE destinations and commitment report targets come from ``destinations``
(AE title -> (host, port)); an AE title not there gets A801.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.services.worklist import load_items
from conformance.statement.model import Role, Statement
from conformance.wire import dimse
from conformance.wire.acceptor import Limits
from conformance.wire.association import WireError
from conformance.wire.contexts import ProposedContext
from conformance.wire.requestor import open_association
from conformance.wire.target import Target, Timeouts

COMMITMENT = "1.2.840.10008.1.20.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"


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
    store_status
        Answer every C-STORE with this status (e.g. 0xA700, 0xB000) instead of Success;
        a failure status also means the instance is not kept.
    drop_private
        Keep stored instances without their private attributes (PS3.4 B.4.1 level 1).
    coerce
        Attribute keyword -> value written into every stored instance (PS3.4 B.4.1.3).
    no_wildcard
        Treat ``*`` and ``?`` in C-FIND keys as literal characters (no wildcard matching).
    abort_during_move
        Send the first C-MOVE / C-GET sub-operation, then A-ABORT the association.
    move_unknown_status
        Answer a C-MOVE to an unknown destination with this status instead of A801.
    mpps_update_after_end
        Accept N-SETs after the MPPS was COMPLETED or DISCONTINUED.
    commitment_no_report
        Answer the N-ACTION, never send the N-EVENT-REPORT.
    crash_on_long_version_name
        Test only (the fuzzer's tests): an A-ASSOCIATE-RQ whose Implementation Version Name
        is longer than 16 characters (PS3.7 D.3.3.2.3) "crashes" the device: it stops
        listening and drops every association, and listens again on the same port after
        this many seconds (a watchdog restart); 0: it stays down.
    """

    reject_transfer_syntaxes: frozenset[tuple[str, str]] = frozenset()
    accept_extra: frozenset[tuple[str, str]] = frozenset()
    ignore_called_ae: bool = False
    hang_after_association: bool = False
    abort_after_association: bool = False
    store_status: int | None = None
    drop_private: bool = False
    coerce: tuple[tuple[str, str], ...] = ()
    no_wildcard: bool = False
    abort_during_move: bool = False
    move_unknown_status: int | None = None
    mpps_update_after_end: bool = False
    commitment_no_report: bool = False
    crash_on_long_version_name: float | None = None


@dataclass
class ReferenceDevice:
    """Run a statement-driven SCP (:mod:`conformance.reference.scp`, on the harness's own
    acceptor) on a loopback port (0 = a free one). Use as a context manager, or call
    :meth:`start` and :meth:`stop`.
    """

    statement: Statement
    host: str = "127.0.0.1"
    port: int = 0
    misbehaviour: Misbehaviour = Misbehaviour()
    received: list[Dataset] = field(default_factory=list)
    #: AE title -> (host, port): C-MOVE destinations and storage commitment report targets.
    destinations: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Port the harness listens on: shorthand for ``destinations[harness AE title]``.
    harness_port: int | None = None
    #: SOP Instance UID -> MPPS attributes (PS3.4 F.7.2).
    mpps: dict[str, Dataset] = field(default_factory=dict)
    #: Modality Worklist items served when the statement declares the worklist SCP
    #: (default: the shipped conformance/reference/worklist.yaml).
    worklist: list[Dataset] | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _limits: Any = None
    #: Test only: how many times the injected crash happened (see ``Misbehaviour``).
    crashes: int = 0

    @property
    def ae_title(self) -> str:
        return self.statement.network.ae_titles[0]

    # --- what the device keeps (called from the association threads) ----------------------
    def keep(self, ds: Dataset) -> None:
        """A stored instance (a second one with the same SOP Instance UID replaces it)."""
        with self._lock:
            self.received = [d for d in self.received if d.SOPInstanceUID != ds.SOPInstanceUID]
            self.received.append(ds)

    def stored(self) -> list[Dataset]:
        with self._lock:
            return list(self.received)

    def create_mpps(self, uid: str, ds: Dataset) -> bool:
        """A new MPPS instance; ``False`` if the UID exists (PS3.4 F.7.2.1, 0x0111)."""
        with self._lock:
            if not uid or uid in self.mpps:
                return False
            self.mpps[uid] = ds
            return True

    def update_mpps(self, uid: str, mods: Dataset) -> tuple[int, Dataset | None]:
        """N-SET of an MPPS instance (PS3.4 F.7.2.2): (status, the updated attributes)."""
        with self._lock:
            current = self.mpps.get(uid)
            if current is None:
                return 0x0112, None
            if (current.get("PerformedProcedureStepStatus") in ("COMPLETED", "DISCONTINUED")
                    and not self.misbehaviour.mpps_update_after_end):
                return 0x0110, None  # PS3.4 F.7.2.2.2: may no longer be updated
            for elem in mods:
                current[elem.tag] = elem
            return 0x0000, current

    def send_report(self, info: Dataset, caller: str) -> None:
        """N-EVENT-REPORT on a new association to the requester (PS3.4 J.3.3)."""
        dest = self.destinations.get(caller)
        if dest is None:
            return
        have = {str(d.SOPInstanceUID) for d in self.stored()}
        report = Dataset()
        report.TransactionUID = info.TransactionUID
        ok, failed = [], []
        for item in info.get("ReferencedSOPSequence", []):
            ref = Dataset()
            ref.ReferencedSOPClassUID = item.ReferencedSOPClassUID
            ref.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
            if str(item.ReferencedSOPInstanceUID) in have:
                ok.append(ref)
            else:
                ref.FailureReason = 0x0112
                failed.append(ref)
        if ok:
            report.ReferencedSOPSequence = ok
        if failed:
            report.FailedSOPSequence = failed
        time.sleep(0.05)            # after the N-ACTION response has gone out
        target = Target(dest[0], dest[1], caller, self.ae_title, Timeouts(connect=10, acse=10, dimse=10))
        context = ProposedContext(COMMITMENT, ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2"))
        _outcome, assoc = open_association(target, [context])
        if assoc is None:
            return
        try:
            cid = assoc.context_ids[context]
            assoc.exchange(cid, {0x0100: dimse.N_EVENT_REPORT_RQ, 0x0110: 1, 0x0002: COMMITMENT,
                                 0x1000: "1.2.840.10008.1.20.1.1", 0x1002: 2 if failed else 1},
                           dimse.encode_data_set(report, assoc.transfer_syntax(cid)), 10)
        except WireError:
            pass
        finally:
            assoc.release()

    # --- life ------------------------------------------------------------------------------
    def start(self) -> ReferenceDevice:
        from conformance.reference.scp import ReferenceAcceptor

        if self.worklist is None and self.statement.capability(MODALITY_WORKLIST_FIND, Role.SCP):
            self.worklist = load_items(Path(__file__).with_name("worklist.yaml"))
        self.stopping.clear()
        if self.harness_port is not None:
            harness = self.statement.harness
            for title in {harness.ae_title, harness.move_destination or harness.ae_title}:
                self.destinations.setdefault(title, ("127.0.0.1", self.harness_port))
        limits = Limits(max_associations=self.statement.network.max_associations or 10,
                        acse_timeout=30, idle_timeout=60, dimse_timeout=30)
        self._limits = limits
        self._server = ReferenceAcceptor(self, host=self.host, port=self.port, limits=limits).start()
        self.port = self._server.port
        return self

    def crash(self) -> None:
        """Test only: the injected crash of ``Misbehaviour.crash_on_long_version_name``: stop
        listening and drop every association now; listen again after the downtime (0: never)."""
        from conformance.reference.scp import ReferenceAcceptor

        with self._lock:
            server, self._server = self._server, None
            if server is None:
                return
            self.crashes += 1
        downtime = self.misbehaviour.crash_on_long_version_name or 0

        def down_and_up() -> None:
            server.stop(grace=0)
            if downtime > 0 and not self.stopping.wait(downtime):
                with self._lock:
                    if not self.stopping.is_set():
                        self._server = ReferenceAcceptor(self, host=self.host, port=self.port,
                                                         limits=self._limits).start()

        threading.Thread(target=down_and_up, daemon=True, name="reference-crash").start()

    def stop(self) -> None:
        self.stopping.set()
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop(grace=0)

    def __enter__(self) -> ReferenceDevice:  # noqa: PYI034 - a dataclass, not subclassed
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

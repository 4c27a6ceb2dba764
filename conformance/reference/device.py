"""A DICOM device that accepts exactly what its statement declares, and misbehaves on request.

It serves the demo and the fast unit tests; it never stands in for the real peers (DCMTK,
Orthanc) in interoperability tests. It binds 127.0.0.1 by default.

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
from typing import Any, Iterator

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.presentation import build_context

from conformance.negotiation.association import _nodelay
from conformance.services.matching import find_responses, matches
from conformance.services.worklist import load_items, worklist_answers
from conformance.statement.model import Role, Statement

MPPS = "1.2.840.10008.3.1.2.3.3"
COMMITMENT = "1.2.840.10008.1.20.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
_QR_LEVELS = {"1.2.840.10008.5.1.4.1.2.1": "PatientRoot", "1.2.840.10008.5.1.4.1.2.2": "StudyRoot"}


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
    #: AE title -> (host, port): C-MOVE destinations and storage commitment report targets.
    destinations: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Port the harness listens on: shorthand for ``destinations[harness AE title]``.
    harness_port: int | None = None
    #: SOP Instance UID -> MPPS attributes (PS3.4 F.7.2).
    mpps: dict[str, Dataset] = field(default_factory=dict)
    #: Modality Worklist items served when the statement declares the worklist SCP
    #: (default: the shipped conformance/reference/worklist.yaml).
    worklist: list[Dataset] | None = None
    _server: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        handlers.append((evt.EVT_C_FIND, self._on_find))
        handlers.append((evt.EVT_C_MOVE, self._on_move))
        handlers.append((evt.EVT_C_GET, self._on_get))
        handlers.append((evt.EVT_N_CREATE, self._on_n_create))
        handlers.append((evt.EVT_N_SET, self._on_n_set))
        handlers.append((evt.EVT_N_ACTION, self._on_n_action))
        return handlers

    def _on_store(self, event: evt.Event) -> int:
        """C-STORE SCP (PS3.4 B.2.2): keep the instance, answer Success."""
        mis = self.misbehaviour
        ds = event.dataset
        ds.file_meta = event.file_meta
        if mis.store_status is not None and (mis.store_status >> 12) in (0xA, 0xC):
            return mis.store_status
        if mis.drop_private:
            ds.remove_private_tags()
        for keyword, value in mis.coerce:
            setattr(ds, keyword, value)
        with self._lock:
            self.received = [d for d in self.received if d.SOPInstanceUID != ds.SOPInstanceUID]
            self.received.append(ds)
        return mis.store_status if mis.store_status is not None else 0x0000

    # --- Query/Retrieve (PS3.4 Annex C) ------------------------------------------------

    def _model(self, event: evt.Event) -> str:
        uid = str(event.context.abstract_syntax)
        return _QR_LEVELS.get(uid.rsplit(".", 1)[0], "StudyRoot")

    def _matching(self, event: evt.Event) -> list[Dataset]:
        ident = event.identifier
        with self._lock:
            stored = list(self.received)
        return [d for d in stored if matches(d, ident, self._model(event),
                                             wildcard=not self.misbehaviour.no_wildcard)]

    def _on_find(self, event: evt.Event) -> Iterator[tuple[int, Dataset | None]]:
        """C-FIND SCP (PS3.4 C.4.1): one pending response per entity at the level; for the
        worklist model (PS3.4 K.4.1), one per matching worklist item."""
        if str(event.context.abstract_syntax) == MODALITY_WORKLIST_FIND:
            for answer in worklist_answers(self.worklist or [], event.identifier):
                yield 0xFF00, answer
            yield 0x0000, None
            return
        if str(event.context.abstract_syntax).rsplit(".", 1)[0] not in _QR_LEVELS:
            yield 0xA900, None
            return
        with self._lock:
            stored = list(self.received)
        for out in find_responses(stored, event.identifier, self._model(event),
                                  wildcard=not self.misbehaviour.no_wildcard):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, out
            time.sleep(0.005)       # lets a C-CANCEL arrive between matches

    def _contexts(self, datasets: list[Dataset]) -> list:
        pairs: dict[str, list[str]] = {}
        for ds in datasets:
            ts = str(ds.file_meta.TransferSyntaxUID)
            pairs.setdefault(str(ds.SOPClassUID), ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
            if ts not in pairs[str(ds.SOPClassUID)]:
                pairs[str(ds.SOPClassUID)].append(ts)
        return [build_context(sop, [ts]) for sop, tss in pairs.items() for ts in tss][:128]

    def _on_move(self, event: evt.Event) -> Iterator[Any]:
        """C-MOVE SCP (PS3.4 C.4.2): sub-operations on a new association to the destination."""
        dest = self.destinations.get(str(event.move_destination).strip())
        if dest is None:
            if self.misbehaviour.move_unknown_status is not None:
                yield "127.0.0.1", 1, {}
                yield self.misbehaviour.move_unknown_status, None
                return
            yield None, None
            return
        found = self._matching(event)
        yield dest[0], dest[1], {"contexts": self._contexts(found) or None,
                                 "evt_handlers": [(evt.EVT_CONN_OPEN, _nodelay)]}
        yield from self._suboperations(event, found)

    def _on_get(self, event: evt.Event) -> Iterator[Any]:
        """C-GET SCP (PS3.4 C.4.3): sub-operations on this association (role selection)."""
        yield from self._suboperations(event, self._matching(event))

    def _suboperations(self, event: evt.Event, found: list[Dataset]) -> Iterator[Any]:
        yield len(found)
        for i, ds in enumerate(found):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            if self.misbehaviour.abort_during_move and i == 1:
                event.assoc.abort()
                return
            yield 0xFF00, ds

    # --- MPPS (PS3.4 Annex F) ----------------------------------------------------------

    def _on_n_create(self, event: evt.Event) -> tuple[int, Dataset | None]:
        if str(event.request.AffectedSOPClassUID) != MPPS:
            return 0x0122, None
        ds = event.attribute_list
        if ds.get("PerformedProcedureStepStatus") != "IN PROGRESS":
            return 0x0106, None     # PS3.4 F.7.2.1: shall be created IN PROGRESS
        request: Any = event.request
        uid = str(request.AffectedSOPInstanceUID)
        with self._lock:
            if uid in self.mpps:
                return 0x0111, None
            self.mpps[uid] = ds
        return 0x0000, ds

    def _on_n_set(self, event: evt.Event) -> tuple[int, Dataset | None]:
        request: Any = event.request
        uid = str(request.RequestedSOPInstanceUID)
        with self._lock:
            current = self.mpps.get(uid)
            if current is None:
                return 0x0112, None
            if (current.get("PerformedProcedureStepStatus") in ("COMPLETED", "DISCONTINUED")
                    and not self.misbehaviour.mpps_update_after_end):
                return 0x0110, None  # PS3.4 F.7.2.2.2: may no longer be updated
            for elem in event.modification_list:
                current[elem.tag] = elem
        return 0x0000, current

    # --- Storage commitment (PS3.4 Annex J) ----------------------------------------------

    def _on_n_action(self, event: evt.Event) -> tuple[int, Dataset | None]:
        request: Any = event.request
        if str(request.RequestedSOPClassUID) != COMMITMENT:
            return 0x0122, None
        info = event.action_information
        caller = str(event.assoc.requestor.ae_title).strip()
        if not self.misbehaviour.commitment_no_report:
            threading.Thread(target=self._send_report, args=(info, caller), daemon=True).start()
        return 0x0000, None

    def _send_report(self, info: Dataset, caller: str) -> None:
        """N-EVENT-REPORT on a new association to the requester (PS3.4 J.3.3)."""
        dest = self.destinations.get(caller)
        if dest is None:
            return
        with self._lock:
            have = {str(d.SOPInstanceUID) for d in self.received}
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
        ae = AE(ae_title=self.ae_title)
        ae.add_requested_context(COMMITMENT, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
        ae.acse_timeout = ae.dimse_timeout = ae.connection_timeout = 10
        time.sleep(0.05)            # after the N-ACTION response has gone out
        assoc = ae.associate(dest[0], dest[1], ae_title=caller,
                             evt_handlers=[(evt.EVT_CONN_OPEN, _nodelay)])
        if assoc.is_established:
            try:
                assoc.send_n_event_report(report, 2 if failed else 1, COMMITMENT,
                                          "1.2.840.10008.1.20.1.1")
            finally:
                assoc.release()
        ae.shutdown()

    def start(self) -> "ReferenceDevice":
        if self.worklist is None and self.statement.capability(MODALITY_WORKLIST_FIND, Role.SCP):
            self.worklist = load_items(Path(__file__).with_name("worklist.yaml"))
        self._stop.clear()
        if self.harness_port is not None:
            harness = self.statement.harness
            for title in {harness.ae_title, harness.move_destination or harness.ae_title}:
                self.destinations.setdefault(title, ("127.0.0.1", self.harness_port))
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

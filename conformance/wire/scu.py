"""The SCU requests of the DIMSE services over a wire association, shaped like pynetdicom's
``Association.send_*`` calls (a status data set, an empty one when no response came), so the
service modules (:mod:`conformance.services`) run unchanged on the harness's own stack (PS3.7
9.3.1-9.3.5, 10.3.3-10.3.5).

:class:`WireMonitor` offers what the verdict rules read from pynetdicom's events (the last
request, an A-ABORT from the device, the connection closing, every response seen), taken from
the association's typed ending instead (:mod:`conformance.wire.outcome`): exact, no timing
guess.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from pydicom.dataset import Dataset

from conformance.wire import dimse, outcome
from conformance.wire.association import WireError
from conformance.wire.dimse import Command
from conformance.wire.outcome import Ending
from conformance.wire.requestor import RequestorAssociation

_PENDING = (0xFF00, 0xFF01)
#: Most responses the harness reads for one request (its queries match at most its own test
#: data); past it the device's answer is a flood: C-CANCEL, A-ABORT, a finding.
MAX_RESPONSES = 10_000
#: Command elements copied into the status data set (PS3.7 Annex C, Table E.1-1).
_STATUS_ELEMENTS = {0x0902: "ErrorComment", 0x1020: "NumberOfRemainingSuboperations",
                    0x1021: "NumberOfCompletedSuboperations", 0x1022: "NumberOfFailedSuboperations",
                    0x1023: "NumberOfWarningSuboperations"}


class WireMonitor:
    """:class:`conformance.services.common.DimseMonitor`'s interface over a wire association."""

    def __init__(self, assoc: RequestorAssociation) -> None:
        self.assoc = assoc
        self._lock = threading.Lock()
        self.responses: dict[int, list[int]] = {}

    def record(self, msg_id: int, status: int) -> None:
        with self._lock:
            self.responses.setdefault(msg_id, []).append(status)

    def answered(self, msg_id: int) -> list[int]:
        with self._lock:
            return list(self.responses.get(msg_id, []))

    @property
    def aborted(self) -> bool:
        return self.assoc.is_aborted

    @property
    def last_request(self) -> tuple[str, float] | None:
        last = self.assoc.last_request
        return None if last is None else (last.name.removesuffix("-RQ"), last.at)

    def _at(self) -> float | None:
        end, last = self.assoc.ending, self.assoc.last_request
        if end is None or last is None or end.after_ms is None:
            return None
        return last.at + end.after_ms / 1000.0

    @property
    def device_abort(self) -> tuple[int, int | None, float] | None:
        end, at = self.assoc.ending, self._at()
        if end is None or end.kind is not Ending.ABORTED or at is None:
            return None
        return int(end.source or 0), end.reason, at

    @property
    def protocol_error(self) -> Any:
        """The typed ending when the device broke the protocol (a malformed or unexpected PDU,
        a response to a request never sent...), else ``None``."""
        end = self.assoc.ending
        return end if end is not None and end.kind is Ending.PROTOCOL_ERROR else None

    @property
    def closed_at(self) -> float | None:
        end = self.assoc.ending
        return self._at() if end is not None and end.kind is Ending.CLOSED else None


class WireSCU:
    """pynetdicom-shaped SCU calls on *assoc* (one presentation context per SOP class)."""

    def __init__(self, assoc: RequestorAssociation, monitor: WireMonitor | None = None,
                 on_event_report: Callable[[Any], Any] | None = None) -> None:
        self.assoc = assoc
        self.monitor = monitor or WireMonitor(assoc)
        self.timeout = assoc.target.timeouts.dimse
        #: Called with an event-like object (``event_type``, ``event_information``) for each
        #: N-EVENT-REPORT the device sends on this association (PS3.4 J.3.3: the commitment
        #: report may come on the requesting association); answered Success.
        self.on_event_report = on_event_report
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def is_aborted(self) -> bool:
        return self.assoc.is_aborted

    @property
    def is_established(self) -> bool:
        return self.assoc.is_established

    def release(self) -> None:
        self._stop_reader()
        self.assoc.release()

    def abort(self) -> None:
        self._stop_reader()
        self.assoc.abort()

    # --- N-EVENT-REPORTs on this association, read while the caller waits elsewhere ----------
    def _start_reader(self) -> None:
        if self.on_event_report is not None and self._reader is None and self.assoc.is_established:
            self._reader = threading.Thread(target=self._read_reports, daemon=True, name="wire-reports")
            self._reader.start()

    def _stop_reader(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(self.timeout + 1)
            self._reader = None

    def _read_reports(self) -> None:
        """The only reader of the association until :meth:`_stop_reader`: polls (0.1 s) so
        that it never blocks a release, reads whole messages when data is there."""
        while not self._stop.is_set() and self.assoc.is_established:
            try:
                if not self.assoc.data_waiting(0.1):
                    continue
            except OSError:
                return
            try:
                msg = self.assoc.read_message(self.timeout)
            except WireError:
                return
            self._other(msg)

    def _other(self, msg: dimse.Message) -> None:
        """A message that is not the response awaited: an N-EVENT-REPORT is handed to the
        handler and answered (PS3.7 10.3.1); anything else is left unanswered."""
        cmd = msg.command
        if cmd.field != dimse.N_EVENT_REPORT_RQ or self.on_event_report is None:
            return
        event_type = cmd.us(0x1002)
        self.on_event_report(SimpleNamespace(event_type=event_type, assoc=None,
                                             event_information=self._decoded(msg.context_id, msg)))
        try:
            self.assoc.respond(msg, dimse.N_EVENT_REPORT_RSP, 0x0000, {0x1002: event_type})
        except WireError:
            pass

    # --- plumbing -----------------------------------------------------------------------------
    def _context(self, sop_class: str) -> int:
        cid = next((c for c, (sop, _ts) in self.assoc.contexts.items() if sop == sop_class), None)
        if cid is None:
            cid = next(iter(self.assoc.contexts))
        return cid

    def _encode(self, cid: int, ds: Dataset) -> bytes:
        return dimse.encode_data_set(ds, self.assoc.transfer_syntax(cid))

    def _status(self, cmd: Command) -> Dataset:
        status = Dataset()
        status.Status = cmd.status
        for elem, keyword in _STATUS_ELEMENTS.items():
            if elem in cmd.fields:
                setattr(status, keyword, cmd.text(elem) if elem == 0x0902 else cmd.us(elem))
        return status

    def _decoded(self, cid: int, msg: dimse.Message) -> Dataset | None:
        if not msg.command.has_data_set:
            return None
        try:
            return dimse.decode_data_set(msg.data, self.assoc.transfer_syntax(cid))
        except Exception:  # noqa: BLE001 - an undecodable identifier is no identifier
            return None

    def _responses(self, cid: int, field: int, msg_id: int) -> Iterator[tuple[Dataset, Dataset | None]]:
        """Every response to *msg_id* until a final one, at most :data:`MAX_RESPONSES`; an
        empty status when none came. A request from the device (an N-EVENT-REPORT) is handed
        on; any other response is a protocol error (the harness aborts)."""
        for count in range(MAX_RESPONSES + 1):
            try:
                msg = self.assoc.read_message(self.timeout)
                if not msg.command.is_request:
                    self.assoc.expect_response(msg.command, field, msg_id)
            except WireError:
                yield Dataset(), None
                return
            cmd = msg.command
            if cmd.is_request:
                self._other(msg)            # not ours (PS3.7 9.1: one operation at a time)
                continue
            if count == MAX_RESPONSES:
                self.send_c_cancel(msg_id, cid)
                self.assoc._fail(outcome.protocol_error(
                    f"more than {MAX_RESPONSES} pending {cmd.name}s to one request (the harness's "
                    "query matches at most its own test data); the harness cancelled and aborted",
                    self.assoc.last_request, code="dimse.too-many-responses",
                    reference="PS3.4 C.4.1.3 (one pending response per match); PS3.7 9.3.2.3"))
                yield Dataset(), None
                return
            self.monitor.record(msg_id, cmd.status)
            yield self._status(cmd), self._decoded(msg.context_id, msg)
            if cmd.status not in _PENDING:
                return

    def _one(self, cid: int, fields: dict[int, Any], data: Dataset | None, field: int,
             msg_id: int) -> tuple[Dataset, Dataset | None]:
        try:
            self.assoc.send(cid, fields, None if data is None else self._encode(cid, data))
        except WireError:
            return Dataset(), None
        return next(self._responses(cid, field, msg_id))

    # --- the requests ---------------------------------------------------------------------------
    def send_c_echo(self, msg_id: int = 1) -> Dataset:
        """C-ECHO (PS3.7 9.3.5)."""
        cid = self._context("1.2.840.10008.1.1")
        return self._one(cid, {0x0002: "1.2.840.10008.1.1", 0x0100: dimse.C_ECHO_RQ, 0x0110: msg_id},
                         None, dimse.C_ECHO_RSP, msg_id)[0]

    def send_c_store(self, dataset: Dataset, msg_id: int = 1, priority: int = 0) -> Dataset:
        """C-STORE (PS3.7 9.3.1) of *dataset*, encoded in the context's transfer syntax."""
        sop = str(dataset.SOPClassUID)
        cid = self._context(sop)
        return self._one(cid, {0x0002: sop, 0x0100: dimse.C_STORE_RQ, 0x0110: msg_id, 0x0700: priority,
                               0x1000: str(dataset.SOPInstanceUID)}, dataset, dimse.C_STORE_RSP, msg_id)[0]

    def _query(self, rq: int, rsp: int, identifier: Dataset, model: str, msg_id: int,
               extra: dict[int, Any]) -> Iterator[tuple[Dataset, Dataset | None]]:
        cid = self._context(model)
        try:
            self.assoc.send(cid, {0x0002: model, 0x0100: rq, 0x0110: msg_id, 0x0700: 0, **extra},
                            self._encode(cid, identifier))
        except WireError:
            yield Dataset(), None
            return
        yield from self._responses(cid, rsp, msg_id)

    def send_c_find(self, identifier: Dataset, query_model: str, msg_id: int = 1
                    ) -> Iterator[tuple[Dataset, Dataset | None]]:
        """C-FIND (PS3.7 9.3.2): (status, identifier) per response."""
        return self._query(dimse.C_FIND_RQ, dimse.C_FIND_RSP, identifier, query_model, msg_id, {})

    def send_c_move(self, identifier: Dataset, move_aet: str, query_model: str, msg_id: int = 1
                    ) -> Iterator[tuple[Dataset, Dataset | None]]:
        """C-MOVE (PS3.7 9.3.4) to *move_aet*: (status, identifier) per response."""
        return self._query(dimse.C_MOVE_RQ, dimse.C_MOVE_RSP, identifier, query_model, msg_id,
                           {0x0600: move_aet})

    def send_c_cancel(self, msg_id: int, context_id: int | None = None, query_model: str | None = None) -> None:
        """C-CANCEL (PS3.7 9.3.2.3) of the operation *msg_id*."""
        cid = context_id or self._context(query_model or "")
        try:
            self.assoc.send(cid, {0x0100: dimse.C_CANCEL_RQ, 0x0120: msg_id})
        except WireError:
            pass

    def send_n_create(self, dataset: Dataset, class_uid: str, instance_uid: str, msg_id: int = 1
                      ) -> tuple[Dataset, Dataset | None]:
        """N-CREATE (PS3.7 10.3.5)."""
        cid = self._context(class_uid)
        return self._one(cid, {0x0002: class_uid, 0x0100: dimse.N_CREATE_RQ, 0x0110: msg_id, 0x1000: instance_uid},
                         dataset, dimse.N_CREATE_RSP, msg_id)

    def send_n_set(self, dataset: Dataset, class_uid: str, instance_uid: str, msg_id: int = 1
                   ) -> tuple[Dataset, Dataset | None]:
        """N-SET (PS3.7 10.3.3)."""
        cid = self._context(class_uid)
        return self._one(cid, {0x0003: class_uid, 0x0100: dimse.N_SET_RQ, 0x0110: msg_id, 0x1001: instance_uid},
                         dataset, dimse.N_SET_RSP, msg_id)

    def send_n_action(self, dataset: Dataset | None, action_type: int, class_uid: str, instance_uid: str,
                      msg_id: int = 1) -> tuple[Dataset, Dataset | None]:
        """N-ACTION (PS3.7 10.3.4); then N-EVENT-REPORTs on this association go to
        ``on_event_report`` until the association is released."""
        cid = self._context(class_uid)
        out = self._one(cid, {0x0003: class_uid, 0x0100: dimse.N_ACTION_RQ, 0x0110: msg_id, 0x1001: instance_uid,
                              0x1008: action_type}, dataset, dimse.N_ACTION_RSP, msg_id)
        self._start_reader()
        return out

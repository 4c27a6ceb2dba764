"""The harness as an SCP on loopback: C-MOVE destination and storage-commitment report target.

PS3.4 C.4.2 (C-MOVE sub-operations arrive on a new association to the move destination),
PS3.4 J.3.3 (the N-EVENT-REPORT of storage commitment may arrive on a new association that
the device opens to the requester). The listener accepts every storage SOP class in every
transfer syntax, Verification, and Storage Commitment Push Model (agreeing to the SCP/SCU
role selection the device proposes, PS3.7 D.3.3.4), binds 127.0.0.1 only, and keeps what it
receives for the checks. It runs on the harness's own acceptor (:mod:`conformance.wire.acceptor`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID
from pynetdicom import ALL_TRANSFER_SYNTAXES

from conformance.engine.model import SetupProblem
from conformance.standard import uids
from conformance.wire import dimse
from conformance.wire.acceptor import AcceptedAssociation, Acceptor, Limits
from conformance.wire.dimse import Message
from conformance.wire.pdu import AssociateRequest, ContextAnswer

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


def _transaction_of(report: Report) -> str | None:
    uid = report.dataset.get("TransactionUID") if report.dataset is not None else None
    return str(uid) if uid else None


class _Association(AcceptedAssociation):
    server: _Acceptor

    def answer(self, req: AssociateRequest) -> tuple[list[ContextAnswer], dict[str, tuple[int, int]]]:
        """Accept storage, Verification and Storage Commitment in the first transfer syntax
        proposed that the harness knows (PS3.8 9.3.3.2); agree to the roles proposed."""
        supported = self.server.sop_classes()
        answers, roles = [], {}
        for ctx in req.contexts:
            if ctx.abstract_syntax not in supported:
                answers.append(ContextAnswer(ctx.id, 3))
                continue
            ts = next((t for t in ctx.transfer_syntaxes if t in ALL_TRANSFER_SYNTAXES), None)
            answers.append(ContextAnswer(ctx.id, 0, ts) if ts else ContextAnswer(ctx.id, 4))
            if ts and ctx.abstract_syntax in req.roles:
                roles[ctx.abstract_syntax] = req.roles[ctx.abstract_syntax]
        return answers, roles

    def on_request(self, req: AssociateRequest, accepted: bool) -> None:
        with self.server.owner._cond:
            self.server.owner.calling_aes.append(req.calling_ae)

    def handle(self, msg: Message) -> bool:
        owner, cmd = self.server.owner, msg.command
        ts = self.transfer_syntax(msg.context_id)
        if cmd.field == dimse.C_ECHO_RQ:
            self.respond(msg, dimse.C_ECHO_RSP, 0x0000)
        elif cmd.field == dimse.C_STORE_RQ:
            try:
                ds = dimse.decode_data_set(msg.data, ts)
            except Exception:  # noqa: BLE001 - PS3.4 B.2.3: cannot understand
                self.respond(msg, dimse.C_STORE_RSP, 0xC210)
                return True
            ds.file_meta = FileMetaDataset()
            ds.file_meta.TransferSyntaxUID = UID(ts)
            ds.file_meta.MediaStorageSOPClassUID = UID(cmd.text(0x0002))
            ds.file_meta.MediaStorageSOPInstanceUID = UID(cmd.text(0x1000))
            self.respond(msg, dimse.C_STORE_RSP, owner._on_store(ds))
        elif cmd.field == dimse.N_EVENT_REPORT_RQ:
            event_type = cmd.us(0x1002)
            try:
                info = dimse.decode_data_set(msg.data, ts) if cmd.has_data_set else None
            except Exception:  # noqa: BLE001 - kept as "no information"; the check says so
                info = None
            owner.add_report(Report(event_type, info, self.request.calling_ae if self.request else "", False))
            self.respond(msg, dimse.N_EVENT_REPORT_RSP, 0x0000, {0x1002: event_type})
        else:
            self.respond(msg, cmd.field | 0x8000, 0x0211)   # PS3.7 C.5.3 unrecognized operation
        return True


class _Acceptor(Acceptor):
    association = _Association

    def __init__(self, owner: HarnessListener) -> None:
        super().__init__(owner.host, owner.port, Limits(max_associations=20))
        self.owner = owner
        self._supported: set[str] | None = None

    def sop_classes(self) -> set[str]:
        if self._supported is None:
            self._supported = {*uids.storage_sop_classes().values(), uids.VERIFICATION,
                               STORAGE_COMMITMENT_PUSH_MODEL}
        return self._supported


@dataclass
class HarnessListener:
    """The harness SCP on ``(host, port)`` answering to *ae_title*. Context manager."""

    ae_title: str
    port: int
    host: str = "127.0.0.1"
    store_status: int = 0x0000
    received: list[Dataset] = field(default_factory=list)
    calling_aes: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    _server: Any = None
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _handed_out: set[int] = field(default_factory=set)

    def _on_store(self, ds: Dataset) -> int:
        with self._cond:
            self.received.append(ds)
            self._cond.notify_all()
        return self.store_status

    def add_report(self, report: Report) -> None:
        with self._cond:
            self.reports.append(report)
            self._cond.notify_all()

    def on_report(self, event: Any, same_association: bool) -> tuple[int, None]:
        """N-EVENT-REPORT handler for a requesting association (the commitment SCU binds it on
        the association itself: ``WireSCU(on_event_report=)``)."""
        self.add_report(Report(int(event.event_type or 0), event.event_information,
                               event.assoc.requestor.ae_title if not same_association else "",
                               same_association))
        return 0x0000, None

    def start(self) -> HarnessListener:
        """Listen on :attr:`port`. A port another program holds (or one this user may not
        bind) is the site's set-up problem, not the device's: :class:`SetupProblem` says so."""
        try:
            self._server = _Acceptor(self).start()
        except OSError as exc:
            raise SetupProblem(
                f"the harness cannot listen on {self.host} port {self.port} for the device's "
                f"associations to {self.ae_title!r} ({exc.strerror or exc}); another program on "
                "this computer may hold it: free the port or give another with --harness-port "
                "(and configure that port for the harness on the device)") from exc
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=0)
            self._server = None

    def __enter__(self) -> HarnessListener:  # noqa: PYI034 - a dataclass, not subclassed
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

    def wait_report(self, timeout: float, transaction: str | None = None) -> Report | None:
        """Wait (bounded) for the N-EVENT-REPORT of *transaction* (its Transaction UID, PS3.4
        J.3.3.1). When none carries it by the deadline, the earliest report not handed out
        before is returned (so a wrong Transaction UID is still judged); a report handed out
        once never answers a later request."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                fresh = [i for i in range(len(self.reports)) if i not in self._handed_out]
                match = [i for i in fresh if transaction is None
                         or _transaction_of(self.reports[i]) == transaction]
                left = deadline - time.monotonic()
                pick = match[0] if match else (fresh[0] if fresh and left <= 0 else None)
                if pick is not None:
                    self._handed_out.add(pick)
                    return self.reports[pick]
                if left <= 0:
                    return None
                self._cond.wait(left)

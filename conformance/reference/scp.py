"""The reference device's SCP on the harness's own acceptor (:mod:`conformance.wire.acceptor`):
its association negotiation and the DIMSE services it serves.

Negotiation follows the statement the way a conventional acceptor does (PS3.8 9.3.3.2, PS3.7
D.3.3.4): a SOP class it declares as SCP is accepted in the first of its declared transfer
syntaxes that the requestor proposed; a SOP class it declares as SCU with role selection accepts
the roles proposed; otherwise abstract syntax (3) or transfer syntax (4) not supported. The
Called AE Title is checked when the statement says so (A-ASSOCIATE-RJ 1/1/7, PS3.8 Table 9-21).

Services: Verification; Storage (PS3.4 B.2.2); C-FIND of the Q/R models and the Modality
Worklist (PS3.4 C.4.1, K.4.1); C-MOVE with its sub-operations on a new association to the
destination (C.4.2) and C-GET with them on the same association (C.4.3); MPPS N-CREATE/N-SET
(F.7.2); Storage Commitment N-ACTION, its report on a new association (J.3.2, J.3.3).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from conformance.services.matching import find_responses, matches
from conformance.services.worklist import worklist_answers
from conformance.statement.model import Role
from conformance.wire import dimse
from conformance.wire.acceptor import AcceptedAssociation, Acceptor, Reject
from conformance.wire.association import WireError
from conformance.wire.contexts import ProposedContext
from conformance.wire.dimse import Message
from conformance.wire.pdu import AssociateRequest, ContextAnswer
from conformance.wire.requestor import open_association
from conformance.wire.target import Target, Timeouts

if TYPE_CHECKING:
    from conformance.reference.device import ReferenceDevice

MPPS = "1.2.840.10008.3.1.2.3.3"
COMMITMENT = "1.2.840.10008.1.20.1"
COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
QR_MODELS = {"1.2.840.10008.5.1.4.1.2.1": "PatientRoot", "1.2.840.10008.5.1.4.1.2.2": "StudyRoot"}
UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
_COUNTS = (0x1020, 0x1021, 0x1022, 0x1023)   # remaining, completed, failed, warning (PS3.7 Table E.1-1)


def supported_contexts(device: ReferenceDevice) -> dict[str, tuple[list[str], bool]]:
    """SOP class -> (transfer syntaxes in the statement's order, roles negotiable)."""
    bad = device.misbehaviour.reject_transfer_syntaxes
    out: dict[str, tuple[list[str], bool]] = {}
    for cap in device.statement.transfer_capabilities:
        syntaxes = [ts for ts in cap.transfer_syntaxes if (cap.sop_class, ts) not in bad and ("*", ts) not in bad]
        if not syntaxes or not (cap.role is Role.SCP or (cap.role is Role.SCU and cap.role_selection)):
            continue
        have, roles = out.get(cap.sop_class, ([], False))
        out[cap.sop_class] = (have + [t for t in syntaxes if t not in have],
                              roles or cap.role is Role.SCU)
    for sop, ts in device.misbehaviour.accept_extra:
        have, roles = out.get(sop, ([], False))
        out[sop] = (have + ([ts] if ts not in have else []), roles)
    return out


class InjectedCrash(Exception):
    """Test only: the association that triggered ``Misbehaviour.crash_on_long_version_name``
    ends without an answer."""


class ReferenceAssociation(AcceptedAssociation):
    """One association of the reference device."""

    server: ReferenceAcceptor

    def __init__(self, server: ReferenceAcceptor, *args: Any) -> None:
        super().__init__(server, *args)
        net = server.device.statement.network
        self.max_pdu_receive = net.max_pdu_receive or 16382
        self.implementation_class_uid = net.implementation_class_uid or None
        self.implementation_version_name = net.implementation_version_name or None

    @property
    def device(self) -> ReferenceDevice:
        return self.server.device

    def _violate(self, code: str, detail: str, reference: str, reason: int = 0) -> None:
        # The acceptor answers a malformed request (a version name over 16 characters is one,
        # PS3.8 D.3.3.2) with A-ABORT before ``answer``: the test-only crash is injected here
        # too, before the abort goes out (so the client cannot reconnect in between).
        dev, req = self.device, self.request
        if (req is not None and dev.misbehaviour.crash_on_long_version_name is not None
                and len(req.implementation_version_name or "") > 16):
            dev.crash()                     # test only: the injected crash (Misbehaviour)
        super()._violate(code, detail, reference, reason)

    def answer(self, req: AssociateRequest) -> tuple[list[ContextAnswer], dict[str, tuple[int, int]]] | Reject:
        dev = self.device
        if (dev.misbehaviour.crash_on_long_version_name is not None
                and len(req.implementation_version_name or "") > 16):
            dev.crash()                     # test only: the injected crash (Misbehaviour)
            raise InjectedCrash("implementation version name longer than 16 characters")
        if (dev.statement.network.checks_called_ae_title and not dev.misbehaviour.ignore_called_ae
                and req.called_ae != dev.ae_title):
            return Reject(1, 1, 7)
        supported = self.server.supported
        answers: list[ContextAnswer] = []
        roles: dict[str, tuple[int, int]] = {}
        for ctx in req.contexts:
            entry = supported.get(ctx.abstract_syntax)
            if entry is None:
                answers.append(ContextAnswer(ctx.id, 3))
                continue
            syntaxes, negotiable = entry
            ts = next((t for t in syntaxes if t in ctx.transfer_syntaxes), None)
            if ts is None:
                answers.append(ContextAnswer(ctx.id, 4))
                continue
            proposed = req.roles.get(ctx.abstract_syntax)
            if negotiable and proposed is not None:
                if not any(proposed):
                    answers.append(ContextAnswer(ctx.id, 1))    # neither role: user rejection
                    continue
                roles[ctx.abstract_syntax] = proposed
            answers.append(ContextAnswer(ctx.id, 0, ts))
        return answers, roles

    # --- services -------------------------------------------------------------------------
    def handle(self, msg: Message) -> bool:
        cmd, mis = msg.command, self.device.misbehaviour
        if cmd.field in (dimse.C_ECHO_RQ, dimse.C_STORE_RQ, dimse.C_FIND_RQ) and (
                mis.hang_after_association or mis.abort_after_association):
            if mis.abort_after_association:
                self.abort_with("misbehaviour: abort after association")
                return False
            self.device.stopping.wait(3600)
            return False
        handler = {dimse.C_ECHO_RQ: self._echo, dimse.C_STORE_RQ: self._store, dimse.C_FIND_RQ: self._find,
                   dimse.C_MOVE_RQ: self._move, dimse.C_GET_RQ: self._get, dimse.N_CREATE_RQ: self._n_create,
                   dimse.N_SET_RQ: self._n_set, dimse.N_ACTION_RQ: self._n_action}.get(cmd.field)
        if cmd.field == dimse.C_CANCEL_RQ:
            return True
        if handler is None:
            self.respond(msg, cmd.field | 0x8000, 0x0211)         # PS3.7 C.5.3 unrecognized operation
            return True
        return handler(msg) is not False

    def _decode(self, msg: Message) -> Dataset:
        return dimse.decode_data_set(msg.data, self.transfer_syntax(msg.context_id))

    def _encode(self, msg: Message, ds: Dataset) -> bytes:
        return dimse.encode_data_set(ds, self.transfer_syntax(msg.context_id))

    def _echo(self, msg: Message) -> None:
        self.respond(msg, dimse.C_ECHO_RSP, 0x0000)

    def _store(self, msg: Message) -> None:
        """C-STORE SCP (PS3.4 B.2.2): keep the instance, answer Success."""
        mis, ts = self.device.misbehaviour, self.transfer_syntax(msg.context_id)
        try:
            ds = self._decode(msg)
        except Exception:  # noqa: BLE001 - PS3.4 B.2.3: cannot understand
            self.respond(msg, dimse.C_STORE_RSP, 0xC210)
            return
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = UID(ts)
        ds.file_meta.MediaStorageSOPClassUID = UID(msg.command.text(0x0002))
        ds.file_meta.MediaStorageSOPInstanceUID = UID(msg.command.text(0x1000))
        status = mis.store_status if mis.store_status is not None else 0x0000
        if (status >> 12) not in (0xA, 0xC):
            if mis.drop_private:
                ds.remove_private_tags()
            for keyword, value in mis.coerce:
                setattr(ds, keyword, value)
            self.device.keep(ds)
        self.respond(msg, dimse.C_STORE_RSP, status)

    def _model(self, msg: Message) -> str | None:
        return QR_MODELS.get(self.abstract_syntax(msg.context_id).rsplit(".", 1)[0])

    def _find(self, msg: Message) -> None:
        """C-FIND SCP (PS3.4 C.4.1, K.4.1): one pending response per match, then Success."""
        sop, model = self.abstract_syntax(msg.context_id), self._model(msg)
        try:
            ident = self._decode(msg)
        except Exception:  # noqa: BLE001 - PS3.4 C.4.1.1.4: cannot process
            self.respond(msg, dimse.C_FIND_RSP, 0xC000)
            return
        if sop == MODALITY_WORKLIST_FIND:
            answers = worklist_answers(self.device.worklist or [], ident)
        elif model is None:
            self.respond(msg, dimse.C_FIND_RSP, 0xA900)
            return
        else:
            answers = find_responses(self.device.stored(), ident, model,
                                     wildcard=not self.device.misbehaviour.no_wildcard)
        for answer in answers:
            if self.cancel_requested(msg.command.message_id, 1.0):
                self.respond(msg, dimse.C_FIND_RSP, 0xFE00)
                return
            self.respond(msg, dimse.C_FIND_RSP, 0xFF00, data=self._encode(msg, answer))
            time.sleep(0.005)       # lets a C-CANCEL arrive between matches
        self.respond(msg, dimse.C_FIND_RSP, 0x0000)

    def _matching(self, msg: Message) -> list[Dataset] | None:
        model = self._model(msg)
        try:
            ident = self._decode(msg)
        except Exception:  # noqa: BLE001
            return None
        return [d for d in self.device.stored()
                if matches(d, ident, model or "StudyRoot", wildcard=not self.device.misbehaviour.no_wildcard)]

    def _move(self, msg: Message) -> bool:
        """C-MOVE SCP (PS3.4 C.4.2): sub-operations on a new association to the destination."""
        dev, rsp = self.device, dimse.C_MOVE_RSP
        dest = dev.destinations.get(msg.command.text(0x0600))
        if dest is None:
            status = dev.misbehaviour.move_unknown_status
            self.respond(msg, rsp, 0xA801 if status is None else status)
            return True
        found = self._matching(msg)
        if found is None:
            self.respond(msg, rsp, 0xC000)
            return True
        if not found:
            self.respond(msg, rsp, 0x0000, {0x1021: 0, 0x1022: 0, 0x1023: 0})
            return True
        target = Target(dest[0], dest[1], msg.command.text(0x0600), dev.ae_title,
                        Timeouts(connect=10, acse=10, dimse=10))
        contexts = _contexts(found)
        _outcome, sub = open_association(target, contexts)
        if sub is None:
            self.respond(msg, rsp, 0xA801)
            return True
        try:
            def send(ds: Dataset, n: int) -> int:
                ctx = _context_for(sub.context_ids, ds)
                if ctx is None:
                    return 0xA702
                return sub.send_c_store(ctx, str(ds.SOPClassUID), str(ds.SOPInstanceUID),
                                        dimse.encode_data_set(ds, sub.contexts[sub.context_ids[ctx]][1]), n).status
            return self._suboperations(msg, rsp, found, send)
        finally:
            sub.release()

    def _get(self, msg: Message) -> bool:
        """C-GET SCP (PS3.4 C.4.3): sub-operations on this association, on contexts where the
        requestor took the SCP role (PS3.7 D.3.3.4)."""
        found = self._matching(msg)
        if found is None:
            self.respond(msg, dimse.C_GET_RSP, 0xC000)
            return True
        usable = {(sop, ts): cid for cid, (sop, ts) in self.contexts.items() if self.roles.get(sop, (1, 0))[1] == 1}

        def send(ds: Dataset, n: int) -> int:
            sop = str(ds.SOPClassUID)
            cid = next((usable[(sop, ts)] for ts in _syntaxes_for(ds) if (sop, ts) in usable), None)
            if cid is None:
                return 0xA702
            self.send(cid, {0x0100: dimse.C_STORE_RQ, 0x0110: n, 0x0700: 0, 0x0002: sop,
                            0x1000: str(ds.SOPInstanceUID)}, dimse.encode_data_set(ds, self.transfer_syntax(cid)))
            for _ in range(100):
                reply = self.read_message(self.server.limits.dimse_timeout)
                if reply.command.field == dimse.C_STORE_RSP:
                    return reply.command.status
            return 0xA702
        return self._suboperations(msg, dimse.C_GET_RSP, found, send)

    def _suboperations(self, msg: Message, rsp: int, found: list[Dataset], send: Any) -> bool:
        """Pending responses with the counts, then the final one (PS3.4 C.4.2.3, C.4.3.3): B000
        with the failed instances listed when some failed, A702 when all did."""
        done, failed, warning, failed_uids = 0, 0, 0, []
        for i, ds in enumerate(found):
            if self.cancel_requested(msg.command.message_id, 1.0):
                self.respond(msg, rsp, 0xFE00, dict(zip(_COUNTS, (len(found) - i, done, failed, warning))))
                return True
            if self.device.misbehaviour.abort_during_move and i == 1:
                self.abort_with("misbehaviour: abort during the sub-operations")
                return False
            try:
                status = send(ds, i + 1)
            except WireError:
                status = 0xA702
            if status == 0x0000:
                done += 1
            elif (status >> 12) == 0xB:
                warning += 1
            else:
                failed += 1
                failed_uids.append(str(ds.SOPInstanceUID))
            left = len(found) - i - 1
            if left:
                self.respond(msg, rsp, 0xFF00, dict(zip(_COUNTS, (left, done, failed, warning))))
        final = 0x0000 if not (failed or warning) else 0xA702 if failed == len(found) else 0xB000
        data = None
        if failed_uids:
            ident = Dataset()
            ident.FailedSOPInstanceUIDList = failed_uids
            data = self._encode(msg, ident)
        self.respond(msg, rsp, final, dict(zip(_COUNTS[1:], (done, failed, warning))), data)
        return True

    def _n_create(self, msg: Message) -> None:
        """MPPS N-CREATE (PS3.4 F.7.2.1): created IN PROGRESS, instance UIDs unique."""
        if msg.command.text(0x0002) != MPPS:
            self.respond(msg, dimse.N_CREATE_RSP, 0x0122)
            return
        ds = self._decode(msg) if msg.command.has_data_set else Dataset()
        if ds.get("PerformedProcedureStepStatus") != "IN PROGRESS":
            self.respond(msg, dimse.N_CREATE_RSP, 0x0106)
            return
        if not self.device.create_mpps(msg.command.text(0x1000), ds):
            self.respond(msg, dimse.N_CREATE_RSP, 0x0111)
            return
        self.respond(msg, dimse.N_CREATE_RSP, 0x0000, data=self._encode(msg, ds))

    def _n_set(self, msg: Message) -> None:
        """MPPS N-SET (PS3.4 F.7.2.2): no update after COMPLETED or DISCONTINUED."""
        uid = msg.command.text(0x1001)
        mods = self._decode(msg) if msg.command.has_data_set else Dataset()
        status, current = self.device.update_mpps(uid, mods)
        self.respond(msg, dimse.N_SET_RSP, status, {0x1000: uid, 0x0002: msg.command.text(0x0003)},
                     data=self._encode(msg, current) if current is not None else None)

    def _n_action(self, msg: Message) -> None:
        """Storage Commitment N-ACTION (PS3.4 J.3.2); the report follows on a new association."""
        if msg.command.text(0x0003) != COMMITMENT:
            self.respond(msg, dimse.N_ACTION_RSP, 0x0122)
            return
        info = self._decode(msg) if msg.command.has_data_set else Dataset()
        self.respond(msg, dimse.N_ACTION_RSP, 0x0000, {0x1000: msg.command.text(0x1001),
                                                       0x1008: msg.command.us(0x1008)})
        caller = self.request.calling_ae if self.request else ""
        if not self.device.misbehaviour.commitment_no_report:
            threading.Thread(target=self.device.send_report, args=(info, caller), daemon=True).start()


def _contexts(found: list[Dataset]) -> list[ProposedContext]:
    pairs: dict[str, list[str]] = {}
    for ds in found:
        tss = pairs.setdefault(str(ds.SOPClassUID), list(UNCOMPRESSED))
        ts = str(ds.file_meta.TransferSyntaxUID)
        if ts not in tss:
            tss.append(ts)
    return [ProposedContext(sop, (ts,)) for sop, tss in pairs.items() for ts in tss][:128]


def _syntaxes_for(ds: Dataset) -> tuple[str, ...]:
    """Transfer syntaxes an instance can be sent in: its own, and if that is uncompressed,
    the other uncompressed ones (re-encoding never decompresses)."""
    stored = str(ds.file_meta.TransferSyntaxUID)
    return (stored, *UNCOMPRESSED) if stored in (*UNCOMPRESSED, dimse.EXPLICIT_BE) else (stored,)


def _context_for(accepted: dict[ProposedContext, int], ds: Dataset) -> ProposedContext | None:
    sop = str(ds.SOPClassUID)
    return next((c for c in (ProposedContext(sop, (ts,)) for ts in _syntaxes_for(ds)) if c in accepted), None)


class ReferenceAcceptor(Acceptor):
    association = ReferenceAssociation

    def __init__(self, device: ReferenceDevice, **kw: Any) -> None:
        super().__init__(**kw)
        self.device = device
        self.supported = supported_contexts(device)

"""Query/Retrieve SCP over the session's store: C-FIND, C-MOVE, C-GET (PS3.4 Annex C),
Patient Root and Study Root information models.

Matching is shared with the reference device (:mod:`conformance.services.matching`, PS3.4 C.2.2.2).
C-MOVE sub-operations go on a new association to the move destination, looked up in the
session's ``destinations`` (AE title -> host, port); an unknown destination gets A801
(PS3.4 C.4.2.1.5). C-GET sub-operations go on the same association, on contexts for which
the device accepted the SCP role by role selection (PS3.4 C.4.3.3; PS3.7 D.3.3.4).
Instances are sent in the transfer syntax they were received in (no transcoding).

Checks on the device's requests: Query/Retrieve Level (0008,0052) present and one of the
model's levels (PS3.4 C.4.1.1.3.1, C.6); the unique keys of the levels above the query
level present with a single value in the hierarchical model (PS3.4 C.4.1.2.1 / C.2.2.1.1;
relational queries are not declared by extended negotiation here); C-MOVE destination known.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from conformance.engine.model import StepResult
from conformance.findings import Finding, Severity
from conformance.listen.requestor import dataset_bytes
from conformance.listen.server import Association
from conformance.services.matching import find_responses, matches
from conformance.standard import uids
from conformance.wire import dimse
from conformance.wire import requestor as wire
from conformance.wire.contexts import ProposedContext
from conformance.wire.dimse import Message
from conformance.wire.target import Target, Timeouts

if TYPE_CHECKING:
    from conformance.listen.session import ListenSession

_MODELS = {"1.2.840.10008.5.1.4.1.2.1": "PatientRoot", "1.2.840.10008.5.1.4.1.2.2": "StudyRoot"}
_LEVELS = {"PatientRoot": ("PATIENT", "STUDY", "SERIES", "IMAGE"), "StudyRoot": ("STUDY", "SERIES", "IMAGE")}
_UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
           "IMAGE": "SOPInstanceUID"}


def model_of(sop_class: str) -> str:
    return _MODELS.get(sop_class.rsplit(".", 1)[0], "StudyRoot")


def identifier_findings(ident: Dataset, model: str, what: str) -> list[Finding]:
    out: list[Finding] = []
    level = str(ident.get("QueryRetrieveLevel", "")).strip()
    if level not in _LEVELS[model]:
        out.append(Finding("listen.query-level", Severity.ERROR,
                           f"{what}: Query/Retrieve Level {level!r} is not one of the {model} model's levels "
                           f"{', '.join(_LEVELS[model])}.", reference="PS3.4 C.4.1.1.3.1, C.6", tag="(0008,0052)"))
        return out
    levels = _LEVELS[model]
    for upper in levels[:levels.index(level)]:
        key = _UNIQUE[upper]
        value = ident.get(key)
        if upper == "PATIENT" and model == "StudyRoot":
            continue
        if value is None or value.value in (None, ""):
            out.append(Finding("listen.query-unique-key", Severity.ERROR,
                               f"{what}: {level} level query without the unique key {key} of the {upper} level "
                               "(hierarchical query, no relational queries negotiated).",
                               reference="PS3.4 C.4.1.2.1, C.2.2.1.1"))
    return out


def _decode(assoc: Association, msg: Message) -> Dataset:
    return dimse.decode_data_set(msg.data, assoc.transfer_syntax(msg.context_id))


def _cancelled(assoc: Association, msg_id: int) -> bool:
    """A C-CANCEL-RQ for *msg_id* waiting on the association? (PS3.7 9.3.2.3) Never blocks."""
    return assoc.cancel_requested(msg_id, assoc.server.limits.dimse_timeout)


class FindSCP:
    def __init__(self, session: ListenSession) -> None:
        self.session = session

    def __call__(self, assoc: Association, msg: Message) -> None:
        cmd = msg.command
        if cmd.field != dimse.C_FIND_RQ:
            assoc.respond(msg, cmd.field | 0x8000, 0x0211)
            return
        sop = assoc.abstract_syntax(msg.context_id)
        model = model_of(sop)
        what = f"C-FIND ({uids.name_of(sop)})"
        started = time.monotonic()
        try:
            ident = _decode(assoc, msg)
        except Exception as exc:  # noqa: BLE001 - a finding
            assoc.respond(msg, dimse.C_FIND_RSP, 0xA900)
            self.session.report(f"listen/find/{assoc.number}-{cmd.message_id}", what, "PS3.4 C.4.1",
                                StepResult(findings=[Finding("listen.identifier-undecodable", Severity.ERROR,
                                                             f"{what}: the identifier cannot be decoded: {exc}",
                                                             reference="PS3.5 7")]))
            return
        findings = identifier_findings(ident, model, what)
        stored = [item.dataset() for item in self.session.store.all()]
        responses = find_responses(stored, ident, model) if not findings else []
        ts = assoc.transfer_syntax(msg.context_id)
        status = 0x0000 if not findings else 0xA900
        for response in responses:
            if _cancelled(assoc, cmd.message_id):
                status = 0xFE00
                break
            assoc.respond(msg, dimse.C_FIND_RSP, 0xFF00, data=dimse.encode_data_set(response, ts))
        assoc.respond(msg, dimse.C_FIND_RSP, status)
        keys = sorted(e.keyword or str(e.tag) for e in ident if e.keyword != "QueryRetrieveLevel")
        self.session.report(f"listen/find/{assoc.number}-{cmd.message_id}", what, "PS3.4 C.4.1", StepResult(
            findings=findings, observations=[{"model": model, "level": str(ident.get("QueryRetrieveLevel", "")),
                                              "keys": keys, "matches": len(responses), "status": f"0x{status:04X}",
                                              "association": assoc.number}],
            message=f"{len(responses)} match(es), final status 0x{status:04X}"), time.monotonic() - started)


class _Retrieve:
    """Shared by C-MOVE and C-GET: match, then run the C-STORE sub-operations."""

    kind = ""
    rsp = 0

    def __init__(self, session: ListenSession) -> None:
        self.session = session

    def _matching(self, ident: Dataset, model: str) -> list[Any]:
        return [item for item in self.session.store.all() if matches(item.dataset(), ident, model)]

    def _pending(self, assoc: Association, msg: Message, remaining: int, done: int, failed: int) -> None:
        assoc.respond(msg, self.rsp, 0xFF00, {0x1020: remaining, 0x1021: done, 0x1022: failed, 0x1023: 0})

    def _final(self, assoc: Association, msg: Message, status: int, remaining: int, done: int, failed: int) -> None:
        extra: dict[int, object] = {0x1021: done, 0x1022: failed, 0x1023: 0}
        if status == 0xFE00:
            extra[0x1020] = remaining
        assoc.respond(msg, self.rsp, status, extra)

    def __call__(self, assoc: Association, msg: Message) -> None:
        cmd = msg.command
        sop = assoc.abstract_syntax(msg.context_id)
        model = model_of(sop)
        what = f"{self.kind} ({uids.name_of(sop)})"
        step_id = f"listen/{self.kind[2:].lower()}/{assoc.number}-{cmd.message_id}"
        started = time.monotonic()
        try:
            ident = _decode(assoc, msg)
        except Exception as exc:  # noqa: BLE001
            self._final(assoc, msg, 0xA900, 0, 0, 0)
            self.session.report(step_id, what, "PS3.4 C.4", StepResult(findings=[Finding(
                "listen.identifier-undecodable", Severity.ERROR, f"{what}: the identifier cannot be decoded: {exc}",
                reference="PS3.5 7")]))
            return
        findings = identifier_findings(ident, model, what)
        obs: dict[str, Any] = {"model": model, "level": str(ident.get("QueryRetrieveLevel", "")),
                               "association": assoc.number}
        if findings:
            self._final(assoc, msg, 0xA900, 0, 0, 0)
            self.session.report(step_id, what, "PS3.4 C.4", StepResult(findings=findings, observations=[obs]))
            return
        found = self._matching(ident, model)
        status, done, failed, extra_findings = self.suboperations(assoc, msg, found, obs)
        obs.update({"matches": len(found), "completed": done, "failed": failed, "status": f"0x{status:04X}"})
        self.session.report(step_id, what, "PS3.4 C.4.2" if self.kind == "C-MOVE" else "PS3.4 C.4.3",
                            StepResult(findings=findings + extra_findings, observations=[obs],
                                       message=f"{len(found)} match(es): {done} sent, {failed} failed; "
                                               f"final status 0x{status:04X}"), time.monotonic() - started)

    def suboperations(self, assoc: Association, msg: Message, found: list[Any],
                      obs: dict[str, Any]) -> tuple[int, int, int, list[Finding]]:
        raise NotImplementedError


def _store_all(found: list[Any], send: Callable[[Any, bytes], int], cancelled: Callable[[], bool],
               pending: Callable[[int, int, int], None]) -> tuple[int, int, int]:
    """Send each instance; (status, completed, failed)."""
    done = failed = 0
    for i, item in enumerate(found):
        if cancelled():
            return 0xFE00, done, failed
        data = dataset_bytes(str(item.path))
        status = send(item, data) if data is not None else 0xC000
        if status in (0x0000,) or 0xB000 <= status <= 0xBFFF:
            done += 1
        else:
            failed += 1
        if i + 1 < len(found):
            pending(len(found) - i - 1, done, failed)
    return (0xB000 if failed else 0x0000), done, failed


class MoveSCP(_Retrieve):
    kind, rsp = "C-MOVE", dimse.C_MOVE_RSP

    def suboperations(self, assoc: Association, msg: Message, found: list[Any],
                      obs: dict[str, Any]) -> tuple[int, int, int, list[Finding]]:
        dest = msg.command.text(0x0600)
        obs["destination"] = dest
        address = self.session.config.destinations.get(dest)
        if address is None:
            self._final(assoc, msg, 0xA801, 0, 0, 0)
            return 0xA801, 0, 0, [Finding("listen.move-destination-unknown", Severity.INFO,
                                          f"C-MOVE to {dest!r}, which the harness does not know (no --destination "
                                          "for it): answered A801.", reference="PS3.4 C.4.2.1.5")]
        if not found:
            self._final(assoc, msg, 0x0000, 0, 0, 0)
            return 0x0000, 0, 0, []
        limits = self.session.config.limits
        target = Target(address[0], address[1], dest, self.session.config.ae_title,
                        Timeouts(connect=limits.acse_timeout, acse=limits.acse_timeout, dimse=limits.dimse_timeout))
        pairs = sorted({(i.sop_class, i.transfer_syntax) for i in found})[:128]
        contexts = [ProposedContext(sop, (ts,)) for sop, ts in pairs]
        outcome, sub = wire.open_association(target, contexts)
        if sub is None:
            self._final(assoc, msg, 0xA702, 0, 0, len(found))
            return 0xA702, 0, len(found), [Finding(
                "listen.move-destination-unreachable", Severity.WARNING,
                f"C-MOVE destination {dest} at {address[0]}:{address[1]} could not be reached or accepted "
                f"nothing ({outcome.describe()}).", reference="PS3.4 C.4.2.3.1")]
        by_pair = {(c.sop_class, c.transfer_syntaxes[0]): c for c in contexts if c in sub.context_ids}
        msg_ids = iter(range(1, 65536))

        def send(item: Any, data: bytes) -> int:
            ctx = by_pair.get((item.sop_class, item.transfer_syntax))
            if ctx is None:
                return 0xA900
            try:
                return sub.send_c_store(ctx, item.sop_class, item.sop_instance, data, next(msg_ids)).status
            except wire.WireError:
                return 0xA702

        try:
            status, done, failed = _store_all(found, send, lambda: _cancelled(assoc, msg.command.message_id),
                                              lambda r, d, f: self._pending(assoc, msg, r, d, f))
        finally:
            sub.release()
        self._final(assoc, msg, status, len(found) - done - failed, done, failed)
        return status, done, failed, []


class GetSCP(_Retrieve):
    kind, rsp = "C-GET", dimse.C_GET_RSP

    def suboperations(self, assoc: Association, msg: Message, found: list[Any],
                      obs: dict[str, Any]) -> tuple[int, int, int, list[Finding]]:
        findings: list[Finding] = []
        # contexts on which the device (requestor) accepted to be SCP of the storage class
        usable = {(sop, ts): cid for cid, (sop, ts) in assoc.contexts.items()
                  if assoc.roles.get(sop, (1, 0))[1] == 1}
        ids = iter(range(1, 65536))
        missing: set[str] = set()

        def send(item: Any, data: bytes) -> int:
            cid = usable.get((item.sop_class, item.transfer_syntax))
            if cid is None:
                missing.add(item.sop_class)
                return 0xA702
            fields: dict[int, object] = {0x0100: dimse.C_STORE_RQ, 0x0110: next(ids), 0x0700: 0,
                                         0x0002: item.sop_class, 0x1000: item.sop_instance}
            assoc.send(cid, fields, data)
            for _ in range(1000):
                reply = assoc.read_message(self.session.config.limits.dimse_timeout)
                if reply.command.field == dimse.C_STORE_RSP:
                    return reply.command.us(0x0900, 0xFFFF)
            return 0xA702

        status, done, failed = _store_all(found, send, lambda: False,
                                          lambda r, d, f: self._pending(assoc, msg, r, d, f))
        if missing:
            findings.append(Finding(
                "listen.get-no-storage-context", Severity.WARNING,
                "C-GET: no presentation context with the SCP role (role selection) for "
                f"{', '.join(uids.name_of(s) for s in sorted(missing))} in the stored transfer syntax; those "
                "sub-operations failed.", reference="PS3.4 C.4.3.3; PS3.7 D.3.3.4"))
        self._final(assoc, msg, status, 0, done, failed)
        return status, done, failed, findings


def services(session: ListenSession) -> dict[str, Callable[[Association, Message], None]]:
    return {"find": FindSCP(session), "move": MoveSCP(session), "get": GetSCP(session)}

"""Getting stored instances back: by C-GET, else C-MOVE to the harness (PS3.4 C.4.2, C.4.3),
and what the round-trip and retrieve steps check on what arrived (PS3.4 B.4.1; PS3.3).

Shared by the round-trip, character-set and retrieve planners.
"""

from __future__ import annotations

import time

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian

from conformance.engine.model import RunContext
from conformance.families.session import (
    NO_PORT, UNCOMPRESSED, NotOpen, destination, exchange_of, harness_port, session, wire_session,
)
from conformance.families.setup import judge_unanswered, note_reached
from conformance.families.verdict import from_monitor, from_wire, move_setup
from conformance.findings import Finding, Severity
from conformance.negotiation.association import ProposedContext
from conformance.services import query as qr
from conformance.services import retrieve as rt
from conformance.services.common import Exchange
from conformance.services.compare import compare
from conformance.services.data import Stored
from conformance.services.encoding import swap_other_words
from conformance.services.listener import SETTLE, HarnessListener
from conformance.services.status import FAILURE, WARNING
from conformance.standard import uids
from conformance.statement.model import Statement

#: (model keyword, 'get' or 'move', SOP class UID)
How = tuple[str, str, str]


def retrieve_model(statement: Statement, verbs: tuple[str, ...] = ("get", "move")) -> How | None:
    """(model keyword, 'get' or 'move', SOP class UID) preferred for round trips: a service
    the statement claims to perform (declared SCP, not declared refused)."""
    for verb in verbs:
        index = 2 if verb == "get" else 1
        for model in ("StudyRoot", "PatientRoot"):
            uid = str(qr.MODELS[model][index])
            if statement.performs(uid):
                return model, verb, uid
    return None


#: Finding codes of a claimed service the device refused (see :mod:`.verdict`).
REFUSED_CODES = {"service.aborted", "service.connection-closed"}


def refused(ex: Exchange) -> bool:
    """Did the device refuse the retrieve (abort instead of a status)?"""
    return any(f.code in REFUSED_CODES for f in ex.findings)


def identifier(level: str, model: str, st: Stored) -> Dataset:
    """Retrieve identifier of the entity containing *st* at *level* (PS3.4 C.4.2.1.4)."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    if model != "StudyRoot" or level == "PATIENT":
        ds.PatientID = st.patient_id
    if level in ("STUDY", "SERIES", "IMAGE"):
        ds.StudyInstanceUID = st.study
    if level in ("SERIES", "IMAGE"):
        ds.SeriesInstanceUID = st.series
    if level == "IMAGE":
        ds.SOPInstanceUID = st.sop_instance
    return ds


def fetch(ctx: RunContext, items: list[Stored], level: str, how: How,
          what: str) -> tuple[list[Dataset], Exchange]:
    """Retrieve the entity of ``items[0]`` at *level*: the datasets that arrived, and the
    exchange (findings on statuses and counts) with *items* as the expected set."""
    try:
        if how[1] == "get":
            return _get(ctx, items, level, how, what)
        return _move(ctx, items, level, how, what)
    except NotOpen as exc:
        return [], exchange_of(exc.result)


def _get(ctx: RunContext, items: list[Stored], level: str, how: How,
         what: str) -> tuple[list[Dataset], Exchange]:
    model, _verb, uid = how
    ident = identifier(level, model, items[0])
    expected = {s.sop_instance for s in items}
    arrived: list[Dataset] = []
    syntaxes: dict[str, list[str]] = {}
    for s in items:
        syntaxes.setdefault(s.sop_class, list(UNCOMPRESSED))
        if s.transfer_syntax not in syntaxes[s.sop_class]:
            syntaxes[s.sop_class].append(s.transfer_syntax)
    get_context = ProposedContext(uid, UNCOMPRESSED)
    contexts = [get_context]
    for sop, tss in syntaxes.items():
        contexts += [ProposedContext(sop, (ts,), scu_role=False, scp_role=True) for ts in tss]
    # The synchronous wire, not pynetdicom: the C-STORE sub-operations are answered in
    # the same thread, without reactor polling (see conformance.services.wire).
    with wire_session(ctx, contexts[:128], f"C-GET ({what})", needed=get_context) as (_outcome, wire):
        started = time.monotonic()
        result = rt.get_wire(wire, get_context, ident, 1, arrived)
        ending = wire.ending
    if result.final is None and result.error:
        un = from_wire(ending, "C-GET", started, ctx.target.timeouts.dimse)
        return [], exchange_of(judge_unanswered(ctx, "C-GET", uid, un))
    findings = rt.check(result, what, expected=expected, arrived=arrived, service="get")
    ex = Exchange(findings, [rt.observation(result, what, len(arrived), level=level, model=model,
                                            verb="get")], error=result.error,
                  message=f"{what}: {len(arrived)} instance(s) arrived by C-GET")
    return arrived, ex


def _move(ctx: RunContext, items: list[Stored], level: str, how: How,
          what: str) -> tuple[list[Dataset], Exchange]:
    model, _verb, uid = how
    ident = identifier(level, model, items[0])
    expected = {s.sop_instance for s in items}
    port = harness_port(ctx)
    if port is None:
        return [], Exchange(skipped=NO_PORT)
    move_to = destination(ctx.statement)
    what = f"{what} to {move_to!r}"
    with HarnessListener(move_to, port) as listener:
        with session(ctx, uid, f"C-MOVE ({what})") as s:
            result = rt.move(s.assoc, uid, ident, move_to, 1, monitor=s.monitor)
            unanswered = (from_monitor(s.monitor, "C-MOVE", ctx.target.timeouts.dimse)
                          if result.final is None and result.error and not s.monitor.answered(1) else None)
        if unanswered is not None:
            return [], exchange_of(judge_unanswered(ctx, "C-MOVE", uid, unanswered))
        done = result.final_counts.get("NumberOfCompletedSuboperations") or 0
        listener.wait_received(max(done, len(expected)) if result.final else 0, SETTLE)
        arrived = list(listener.received)
        note_reached(ctx, listener.calling_aes)
        never_opened = not listener.calling_aes
    final = result.final
    if final is not None and never_opened and expected and not arrived and (
            final.code == 0xA801 or final.category in (FAILURE, WARNING)):
        detail = (f"it answered {final.describe()}" + (": it does not know this destination"
                                                       if final.code == 0xA801 else ""))
        return [], Exchange([], [rt.observation(result, what, 0, level=level, model=model, verb="move")],
                            setup=move_setup(what, move_to, port, ctx.target, detail))
    findings = rt.check(result, what, expected=expected, arrived=arrived, service="move")
    ex = Exchange(findings, [rt.observation(result, what, len(arrived), level=level, model=model,
                                            verb="move")], error=result.error,
                  message=f"{what}: {len(arrived)} instance(s) arrived by C-MOVE")
    return arrived, ex


def integrity(ctx: RunContext, items: list[Stored], arrived: list[Dataset]) -> Exchange:
    """PS3.4 B.4.1: each arrived instance compared element by element with what was stored
    (coercion and discarded private attributes only where the statement declares them)."""
    sb = ctx.statement.services.storage
    by_uid = {str(d.get("SOPInstanceUID", "")): d for d in arrived}
    ex = Exchange()
    for s in items:
        got = by_uid.get(s.sop_instance)
        if got is None:
            continue
        where = f"{uids.keyword_of(s.sop_class)} stored in {uids.keyword_of(s.transfer_syntax)}: "
        back_ts = str(getattr(getattr(got, "file_meta", None), "TransferSyntaxUID", "") or "")
        if back_ts == ExplicitVRBigEndian:     # OW/OF/... values as read: most significant byte first
            got = swap_other_words(got)
        found = compare(s.encoded.reference, got, coerced=sb.coerced_attributes,
                        private_discarded=sb.private_attributes == "discarded",
                        compare_pixels=s.encoded.lossless, where=where)
        ex.findings += found
        ex.observations.append({"kind": "round-trip", "sop_class": s.sop_class,
                                "transfer_syntax": s.transfer_syntax, "returned_in": back_ts,
                                "intact": not any(f.severity is Severity.ERROR for f in found),
                                "pixels_compared": s.encoded.lossless,
                                "differences": len(found)})
    return ex


def validity(items: list[Stored], arrived: list[Dataset]) -> Exchange:
    """IOD validation (PS3.3) of what arrived: errors the instance as sent did not have are
    the device's (it made a valid instance invalid on the way)."""
    from conformance.iod import validate

    by_uid = {s.sop_instance: s for s in items}
    ex = Exchange()
    for ds in arrived:
        sent = by_uid.get(str(ds.get("SOPInstanceUID", "")))
        if sent is None:
            continue
        # File Meta Information (group 0002) belongs to files, not to what crosses the network.
        before = {(f.code, f.tag) for f in validate(sent.encoded.reference) if f.severity is Severity.ERROR}
        new = [f for f in validate(ds) if f.severity is Severity.ERROR and (f.code, f.tag) not in before
               and not (f.tag or "").startswith("(0002,")]
        for f in new[:5]:
            ex.findings.append(Finding(
                "retrieve.arrived-invalid", Severity.WARNING,
                f"{uids.keyword_of(sent.sop_class)} as retrieved fails IOD validation where the "
                f"stored instance did not: {f.message}", reference=f.reference or "PS3.3",
                tag=f.tag, module=f.module, iod=f.iod))
        ex.observations.append({"kind": "validated", "sop_instance": sent.sop_instance,
                                "new_iod_errors": len(new)})
    return ex

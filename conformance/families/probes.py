"""Harmless service probes: one request per service that changes nothing on the device.

- C-FIND (PS3.4 C.4.1): a unique key matching nothing (a fresh Study Instance UID; for a
  Patient Root model a fresh Patient ID; for Modality Worklist a fresh Accession Number).
- C-GET / C-MOVE (C.4.3, C.4.2): a study that does not exist (nothing is sent anywhere).
- N-ACTION, storage commitment (J.3.2): commitment asked for an instance never stored.
- N-SET, MPPS (F.7.2.2): a change to an MPPS instance that does not exist.

Each probe says how the request ended (:class:`conformance.families.verdict.Reply`): a status
(any status, failure included, shows the device processes the command), an A-ABORT, the
connection closed, no answer, or no usable association. Used by the set-up check of a run
(:mod:`conformance.families.setup`) and by ``discover`` (what the draft claims).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from conformance.families.session import UNCOMPRESSED, NotOpen, session, wire_session
from conformance.families.verdict import Reply, Unanswered, from_monitor, from_wire
from conformance.negotiation.association import ProposedContext
from conformance.negotiation.discover import Discovery
from conformance.negotiation.target import Target
from conformance.services import commitment as scs
from conformance.services import mpps as pps
from conformance.services import query as qr
from conformance.services import retrieve as rt
from conformance.services import worklist as mwl
from conformance.standard import uids
from conformance.wire.outcome import Violation

#: UID root of the probes' made-up instances (never stored anywhere).
_ROOT = "1.2.826.0.1.3680043.10.1375.99."


@dataclass(frozen=True)
class ProbeResult:
    """How one harmless request ended."""

    service: str            # "C-FIND", "C-GET", "C-MOVE", "N-ACTION", "N-SET"
    sop_class: str
    reply: Reply | None     # None: no usable association (see detail)
    status: int | None = None
    after_ms: float | None = None
    detail: str = ""

    @property
    def answered(self) -> bool:
        return self.reply is Reply.ANSWERED

    @property
    def refused(self) -> bool:
        """Ended by the device (A-ABORT or connection closed) instead of a status."""
        return self.reply in (Reply.ABORTED, Reply.CLOSED)

    def describe(self) -> str:
        what = f"{self.service} ({uids.keyword_of(self.sop_class)})"
        if self.reply is Reply.ANSWERED:
            return f"{what}: answered 0x{self.status or 0:04X}"
        if self.reply is None or self.detail:
            return f"{what}: {self.detail}"
        return f"{what}: {Unanswered(self.service, self.reply, self.after_ms).describe()}"

    def to_dict(self) -> dict[str, object]:
        return {"service": self.service, "sop_class": self.sop_class,
                "reply": self.reply.value if self.reply else "not-associated",
                "status": self.status, "after_ms": None if self.after_ms is None else round(self.after_ms, 1),
                "detail": self.detail}


def _fresh() -> str:
    return str(generate_uid(prefix=_ROOT))


def _unanswered(service: str, sop: str, un: Unanswered) -> ProbeResult:
    return ProbeResult(service, sop, un.reply, after_ms=un.after_ms, detail=un.describe())


def _not_open(service: str, sop: str, exc: NotOpen) -> ProbeResult:
    return ProbeResult(service, sop, None, detail=exc.result.message)


def _find_identifier(sop: str) -> Dataset:
    ds = Dataset()
    if sop == mwl.MWL_FIND:
        return mwl.identifier(AccessionNumber=f"NOSUCH{int(time.time()) % 100000}")
    if sop == str(qr.MODELS["PatientRoot"][0]):
        ds.QueryRetrieveLevel = "PATIENT"
        ds.PatientID = f"CONF-NO-SUCH-{_fresh()[-12:]}"
        ds.PatientName = ""
        return ds
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = _fresh()
    ds.PatientID = ""
    return ds


def _retrieve_identifier(sop: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    if "PatientRoot" in uids.keyword_of(sop) or "PatientStudyOnly" in uids.keyword_of(sop):
        ds.PatientID = f"CONF-NO-SUCH-{_fresh()[-12:]}"
    ds.StudyInstanceUID = _fresh()
    return ds


def probe_find(target: Target, sop: str) -> ProbeResult:
    """C-FIND on a unique key matching nothing."""
    service = "C-FIND"
    try:
        with session(target, sop, service) as s:
            res = qr.find(s.assoc, sop, _find_identifier(sop), 1, monitor=s.monitor,
                          service="worklist" if sop == mwl.MWL_FIND else "find")
            if res.final is not None:
                return ProbeResult(service, sop, Reply.ANSWERED, res.final.code)
            return _unanswered(service, sop, from_monitor(s.monitor, service, target.timeouts.dimse))
    except NotOpen as exc:
        return _not_open(service, sop, exc)


def probe_move(target: Target, sop: str, destination: str) -> ProbeResult:
    """C-MOVE of a study that does not exist, to *destination*."""
    service = "C-MOVE"
    try:
        with session(target, sop, service) as s:
            res = rt.move(s.assoc, sop, _retrieve_identifier(sop), destination, 1, monitor=s.monitor)
            if res.final is not None:
                return ProbeResult(service, sop, Reply.ANSWERED, res.final.code)
            return _unanswered(service, sop, from_monitor(s.monitor, service, target.timeouts.dimse))
    except NotOpen as exc:
        return _not_open(service, sop, exc)


def probe_get(target: Target, sop: str) -> ProbeResult:
    """C-GET of a study that does not exist (no sub-operation can follow)."""
    service = "C-GET"
    context = ProposedContext(sop, UNCOMPRESSED)
    try:
        with wire_session(target, [context], service, needed=context) as (_outcome, wire):
            started = time.monotonic()
            res = rt.get_wire(wire, context, _retrieve_identifier(sop), 1, [])
            if res.final is not None:
                return ProbeResult(service, sop, Reply.ANSWERED, res.final.code)
            return _unanswered(service, sop, from_wire(wire.ending, service, started,
                                                       target.timeouts.dimse))
    except NotOpen as exc:
        return _not_open(service, sop, exc)


def probe_commitment(target: Target) -> ProbeResult:
    """N-ACTION (request storage commitment) for an instance never stored."""
    service, sop = "N-ACTION", scs.PUSH_MODEL
    info = scs.action_information(_fresh(), [(uids.sop_class_keywords()["CTImageStorage"], _fresh())])
    try:
        with session(target, sop, service) as s:
            status = scs.request(s.assoc, info, 1)
            if status is not None:
                return ProbeResult(service, sop, Reply.ANSWERED, status.code)
            return _unanswered(service, sop, from_monitor(s.monitor, service, target.timeouts.dimse))
    except NotOpen as exc:
        return _not_open(service, sop, exc)


def probe_mpps(target: Target) -> ProbeResult:
    """N-SET on an MPPS instance that does not exist (expected: 0112, no such instance)."""
    service, sop = "N-SET", pps.MPPS
    change = Dataset()
    change.PerformedProcedureStepDescription = "conformance probe"
    try:
        with session(target, sop, service) as s:
            status = pps.n_set(s.assoc, change, _fresh(), 1)
            if status is not None:
                return ProbeResult(service, sop, Reply.ANSWERED, status.code)
            return _unanswered(service, sop, from_monitor(s.monitor, service, target.timeouts.dimse))
    except NotOpen as exc:
        return _not_open(service, sop, exc)


def probe_sop_class(target: Target, sop: str, destination: str) -> ProbeResult | None:
    """The harmless probe for *sop* (a Q/R, worklist, MPPS or commitment SOP class), or
    ``None`` for a SOP class without one (storage, verification)."""
    for find, move, get, _levels in qr.MODELS.values():
        if sop == str(find):
            return probe_find(target, sop)
        if sop == str(move):
            return probe_move(target, sop, destination)
        if sop == str(get):
            return probe_get(target, sop)
    if sop == mwl.MWL_FIND:
        return probe_find(target, sop)
    if sop == scs.PUSH_MODEL:
        return probe_commitment(target)
    if sop == pps.MPPS:
        return probe_mpps(target)
    return None


def echo(target: Target) -> ProbeResult:
    """C-ECHO (PS3.7 9.1.5)."""
    service, sop = "C-ECHO", uids.VERIFICATION
    try:
        with session(target, sop, service, transfer_syntaxes=(uids.IMPLICIT_VR_LITTLE_ENDIAN,)) as s:
            status = s.assoc.send_c_echo()
            if "Status" in status:
                return ProbeResult(service, sop, Reply.ANSWERED, int(status.Status))
            return _unanswered(service, sop, from_monitor(s.monitor, service, target.timeouts.dimse))
    except NotOpen as exc:
        return _not_open(service, sop, exc)


#: Statuses that refuse a request outright whatever it asks (PS3.7 C.5): SOP class not
#: supported (0122), not authorized (0124).
REFUSING_STATUSES = (0x0122, 0x0124)


def probe_echo(found: Discovery) -> ProbeResult | None:
    """C-ECHO when the device accepts Verification: a status other than Success is a
    finding on the target's record (``verification.echo-status``, PS3.7 9.1.5.1.4), as in
    a run's ``negotiation/verification`` step; a malformed answer is recorded by the stack."""
    if uids.VERIFICATION not in found.accepted:
        return None
    result = echo(found.target)
    if result.answered and result.status != 0x0000:
        found.target.record.add(Violation(
            "verification.echo-status",
            f"the device accepts the Verification SOP Class but answered C-ECHO with status "
            f"0x{result.status or 0:04X}, not Success (0x0000)", "PS3.7 9.1.5.1.4; PS3.4 A.4"))
    if result.refused:
        found.target.record.add(Violation(
            "service.aborted", f"the device accepts the Verification SOP Class but ended the association "
            f"instead of answering the C-ECHO: {result.describe()}", "PS3.7 9.1.5; PS3.8 9.3.8"))
    if result.reply is Reply.NO_ANSWER:
        found.stopped_answering = result.describe()
        found.notes.append(f"C-ECHO: {found.stopped_answering}: the service probes were not made")
    elif not result.answered:
        found.notes.append(f"C-ECHO: {result.describe()}")
    return result


def _stopped_answering(target: Target, silences: int) -> bool:
    """After a probe the device left unanswered: does it still answer a C-ECHO quickly?"""
    if target.record.silences <= silences:
        return False
    quick = replace(target.timeouts, dimse=min(target.timeouts.dimse, target.timeouts.liveness),
                    acse=min(target.timeouts.acse, target.timeouts.liveness))
    return echo(replace(target, timeouts=quick)).reply is Reply.NO_ANSWER


def probe_discovery(found: Discovery, destination: str | None = None) -> None:
    """After negotiation: a C-ECHO (:func:`probe_echo`), then one harmless request for each
    accepted service SOP class (PS3.4: Q/R, worklist, MPPS, storage commitment), recorded in
    ``found.services``. The C-MOVE destination is *destination* (default: the calling AE
    title used for discovery). Once the device answers neither a probe nor a quick C-ECHO,
    the remaining probes are not made (noted): each would wait out the DIMSE timeout."""
    target = found.target
    probe_echo(found)
    for sop in found.accepted if found.stopped_answering is None else ():
        silences = target.record.silences
        result = probe_sop_class(target, sop, destination or target.calling_ae)
        if result is not None and _stopped_answering(target, silences):
            found.stopped_answering = f"{result.describe()}, and no answer to a C-ECHO either"
            found.notes.append(f"the device stopped answering DIMSE requests ({found.stopped_answering}): "
                               "the remaining service probes were not made")
            break
        if result is not None:
            found.services[sop] = {**result.to_dict(), "describe": result.describe(),
                                   "refused": result.refused or (result.answered and result.status in REFUSING_STATUSES)}
    refused = [s for s, r in found.services.items() if r["refused"]]
    if len(refused) >= 2 and len(refused) == len(found.services):
        found.notes.append(
            f"every service probe was refused ({', '.join(uids.keyword_of(s) for s in refused)}): the "
            f"device probably does not know the calling AE title {target.calling_ae!r}; configure it "
            "on the device and discover again (the draft does not declare these refusals)")
        for sop in refused:
            found.services[sop]["refused"] = False
            found.services[sop]["setup"] = True

"""The services scenario family: every declared DIMSE service of the device as SCP, exercised.

Step ids (stable; ``-k`` selects them):

- ``storage/store/<SOP class>/<transfer syntax>``: synthesize, encode, C-STORE; status per
  PS3.4 Table B.2-1 (batched: one association per 128 contexts).
- ``storage/round-trip/<SOP class>``: get back (C-GET, else C-MOVE) what the store steps
  stored and compare element by element (PS3.4 B.4.1).
- ``storage/character-set/<term>``: a patient name in that repertoire survives store and
  retrieve (PS3.5 6.1, PS3.3 C.12.1.1.2).
- ``query/<model>/<LEVEL>/<matching kind>``: C-FIND (PS3.4 C.2.2.2, C.4.1, C.6).
- ``query/<model>/cancel``: C-CANCEL during a C-FIND (PS3.4 C.4.1.2.3), where declared.
- ``retrieve/move/<model>/<LEVEL>``, ``retrieve/move/unknown-destination``,
  ``retrieve/get/<model>/<LEVEL>`` (PS3.4 C.4.2, C.4.3).
- ``worklist/universal``, ``worklist/match/<key>`` (PS3.4 Annex K).
- ``mpps/completed``, ``mpps/discontinued``, ``mpps/create-not-in-progress`` (PS3.4 Annex F).
- ``commitment/request`` (PS3.4 Annex J).

Steps that need data stored earlier find it in ``RunContext.shared`` (see
:mod:`conformance.services.data`); a step run alone (``-k query/``) stores what it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from conformance.engine.model import Outcome, RunContext, Step, StepResult
from conformance.findings import Finding, Severity
from conformance.negotiation.association import Establishment, ProposedContext, associate
from conformance.negotiation.packing import pack
from conformance.negotiation.plan import unestablished
from conformance.services import commitment as scs
from conformance.services import mpps as pps
from conformance.services import query as qr
from conformance.services import retrieve as rt
from conformance.services import worklist as mwl
from conformance.services.common import DimseMonitor, Exchange
from conformance.services.compare import compare
from conformance.services.data import (
    CHARSET_NAMES,
    PROCEDURE_CODE,
    STUDY_DATE,
    RunData,
    Stored,
    native_syntax,
    run_data,
)
from conformance.services.encoding import NoEncoder
from conformance.services.listener import SETTLE, HarnessListener
from conformance.services.status import CANCEL, FAILURE, SUCCESS
from conformance.services.storage import encode_dataset, store, store_wire
from conformance.services.wire import open_association
from conformance.standard import uids
from conformance.statement.model import Role, Statement

EXPLICIT = uids.EXPLICIT_VR_LITTLE_ENDIAN
IMPLICIT = uids.IMPLICIT_VR_LITTLE_ENDIAN
UNCOMPRESSED = (EXPLICIT, IMPLICIT)
UNKNOWN_DESTINATION = "NO-SUCH-AE"


def result_of(ex: Exchange) -> StepResult:
    """A step result from an exchange: error / skipped win over findings."""
    observations: list[Mapping[str, Any]] = list(ex.observations)
    if ex.error:
        return StepResult(ex.findings, observations, message=ex.error, outcome=Outcome.ERROR)
    if ex.skipped:
        return StepResult(ex.findings, observations, message=ex.skipped, outcome=Outcome.SKIPPED)
    return StepResult(ex.findings, observations, message=ex.message)


def not_open(outcome: Any, purpose: str) -> StepResult:
    """The step's association could not be used. If the device accepted the association
    but rejected the service's presentation context, the declared service is not there:
    a failure (PS3.8 9.3.3.2); otherwise the harness could not test (error)."""
    if outcome.establishment is Establishment.ACCEPTED:
        rejected = [c for c in outcome.contexts if not c.accepted]
        c = rejected[0] if rejected else None
        what = (f"{uids.name_of(c.proposed.sop_class)} (result {c.result})" if c is not None
                else "the presentation context")
        return StepResult([Finding(
            "services.context-rejected", Severity.ERROR,
            f"Could not {purpose}: the device rejected {what}, which the statement declares "
            "(SCP).", reference="PS3.8 9.3.3.2; statement",
            details={"sop_class": c.proposed.sop_class if c else None})],
            message=f"could not {purpose}: presentation context rejected")
    return unestablished(outcome, purpose)


def _exchange(result: StepResult) -> Exchange:
    observations = [dict(o) for o in result.observations]
    if result.outcome is Outcome.ERROR:
        return Exchange(result.findings, observations, error=result.message)
    return Exchange(result.findings, observations, message=result.message)


def _harness_port(ctx: RunContext) -> int | None:
    return ctx.target.harness_port or ctx.statement.harness.port


def _destination(statement: Statement) -> str:
    return statement.harness.move_destination or statement.harness.ae_title


NO_PORT = ("not tested: the device connects back to the harness, and the port it has "
           "configured for it is unknown (give --harness-port or harness.port)")


class _Ids:
    """Message IDs, unique per association (PS3.7 9.3.1.1)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n = self.n % 65535 + 1
        return self.n


# --- storage ---------------------------------------------------------------------------

def _storage_classes(statement: Statement) -> dict[str, tuple[str, ...]]:
    storage = set(uids.storage_sop_classes().values())
    return {c.sop_class: c.transfer_syntaxes for c in statement.capabilities(Role.SCP)
            if c.sop_class in storage}


@dataclass
class StorageBatch:
    """All ``storage/store/...`` steps: encode each instance, then C-STORE them over as few
    associations as PS3.8 allows (128 presentation contexts each)."""

    key: str = "services/storage"
    items: dict[str, tuple[str, str]] = field(default_factory=dict)

    def time_limit(self, ctx: RunContext, steps: Sequence[Step]) -> float:
        t = ctx.target.timeouts
        groups = math.ceil(len(steps) / 128) or 1
        return groups * (t.connect + t.acse) + t.dimse + 60.0 + 1.0 * len(steps)

    @staticmethod
    def _rejected(c: ProposedContext) -> StepResult:
        return StepResult([Finding(
            "storage.context-rejected", Severity.ERROR,
            f"{uids.name_of(c.sop_class)} in {uids.keyword_of(c.transfer_syntaxes[0])} is declared "
            "but the device rejected the presentation context: nothing could be stored.",
            reference="PS3.8 9.3.3.2; statement")],
            [{"kind": "store", "sop_class": c.sop_class, "transfer_syntax": c.transfer_syntaxes[0],
              "works": False, "status": None}])

    def run(self, ctx: RunContext, steps: Sequence[Step]) -> dict[str, StepResult]:
        data = run_data(ctx.shared)
        sb = ctx.statement.services.storage
        results: dict[str, StepResult] = {}
        ready: dict[ProposedContext, tuple[Step, Any]] = {}
        patient, name = data.storage_patient, f"HARNESS^STORAGE{data.token}"
        study = data.uid("storage-study")
        classes = sorted({self.items[s.id][0] for s in steps})
        for number, step in enumerate(steps, start=1):
            ctx.progress(number, len(steps), "encoding test instances")
            sop, ts = self.items[step.id]
            try:
                enc = data.instance(sop, ts, patient=patient, name=name, study=study,
                                    series=data.uid("storage-series", sop),
                                    number=classes.index(sop) + 1)
            except NoEncoder as exc:
                results[step.id] = StepResult.skipped(f"not tested: no encoder ({exc})")
                continue
            except ValueError as exc:
                results[step.id] = StepResult.skipped(f"not tested: cannot synthesize an instance ({exc})")
                continue
            ready[ProposedContext(sop, (ts,))] = (step, enc)
        pending = list(ready)
        reopen = 0
        while pending and reopen <= 20 + len(ready) // 64:
            group = pack(pending)[0]
            outcome, wire = open_association(ctx.target, group)
            if wire is None:
                failure = (unestablished(outcome, "associate for C-STORE")
                           if outcome.establishment is not Establishment.ACCEPTED else None)
                for c in group:
                    results[ready[c][0].id] = failure or self._rejected(c)
                pending = [c for c in pending if c not in group]
                if failure is not None and failure.device_unreachable:
                    for c in pending:
                        results[ready[c][0].id] = StepResult.error(
                            f"not tried: the device stopped answering ({outcome.describe()})",
                            unreachable=True)
                    pending = []
                continue
            accepted = {r.proposed: r for r in outcome.contexts}
            try:
                for n, c in enumerate(group, start=1):
                    step, enc = ready[c]
                    if not accepted[c].accepted:
                        results[step.id] = self._rejected(c)
                        pending.remove(c)
                        continue
                    ds = enc.dataset
                    ex = store_wire(wire, c, c.sop_class, str(ds.SOPInstanceUID), enc.transfer_syntax,
                                    encode_dataset(ds, enc.transfer_syntax), n,
                                    declares_coercion=bool(sb.coerced_attributes),
                                    declares_discard=sb.private_attributes == "discarded")
                    pending.remove(c)
                    ctx.progress(len(results) + 1, len(steps), "C-STORE")
                    for obs in ex.observations:
                        obs.update(encoder=enc.encoder, lossless=enc.lossless,
                                   works=obs.get("category") in ("success", "warning"))
                    if ex.observations and ex.observations[0]["works"]:
                        data.record(enc)
                    results[step.id] = result_of(ex)
                    if not wire.is_established:
                        reopen += 1          # the rest goes on a new association
                        break
            finally:
                wire.release()
        for c in pending:
            results[ready[c][0].id] = StepResult.error("not sent: the device kept ending the "
                                                       "associations")
        return results


def _retrieve_model(statement: Statement) -> tuple[str, str, str] | None:
    """(model keyword, 'get' or 'move', SOP class UID) preferred for round trips."""
    for verb, index in (("get", 2), ("move", 1)):
        for model in ("StudyRoot", "PatientRoot"):
            uid = str(qr.MODELS[model][index])
            if statement.declares(uid, Role.SCP):
                return model, verb, uid
    return None


def _identifier(level: str, model: str, st: Stored) -> Dataset:
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


def _fetch(ctx: RunContext, items: list[Stored], level: str, how: tuple[str, str, str],
           what: str) -> tuple[list[Dataset], Exchange]:
    """Retrieve the entity of ``items[0]`` at *level*: the datasets that arrived, and the
    exchange (findings on statuses and counts) with *items* as the expected set."""
    model, verb, uid = how
    ident = _identifier(level, model, items[0])
    expected = {s.sop_instance for s in items}
    monitor = DimseMonitor()
    arrived: list[Dataset] = []
    if verb == "get":
        syntaxes: dict[str, list[str]] = {}
        for s in items:
            syntaxes.setdefault(s.sop_class, list(UNCOMPRESSED))
            if s.transfer_syntax not in syntaxes[s.sop_class]:
                syntaxes[s.sop_class].append(s.transfer_syntax)
        get_context = ProposedContext(uid, UNCOMPRESSED)
        contexts = [get_context]
        for sop, tss in syntaxes.items():
            contexts += [ProposedContext(sop, (ts,), scu_role=False, scp_role=True) for ts in tss]
        contexts = contexts[:128]
        # The synchronous wire, not pynetdicom: the C-STORE sub-operations are answered in
        # the same thread, without reactor polling (see conformance.services.wire).
        outcome, wire = open_association(ctx.target, contexts)
        if wire is None or get_context not in wire.context_ids:
            if wire is not None:
                wire.abort()
                return [], _exchange(not_open(outcome, f"associate for C-GET ({what})"))
            return [], _exchange(not_open(outcome, f"associate for C-GET ({what})"))
        try:
            result = rt.get_wire(wire, get_context, ident, 1, arrived)
        finally:
            wire.release()
        findings = rt.check(result, what, expected=expected, arrived=arrived, service="get")
        ex = Exchange(findings, [rt.observation(result, what, len(arrived), level=level, model=model,
                                                verb="get")], error=result.error,
                      message=f"{what}: {len(arrived)} instance(s) arrived by C-GET")
        return arrived, ex
    port = _harness_port(ctx)
    if port is None:
        return [], Exchange(skipped=NO_PORT)
    with HarnessListener(_destination(ctx.statement), port) as listener:
        with associate(ctx.target, [ProposedContext(uid, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return [], _exchange(not_open(outcome, f"associate for C-MOVE ({what})"))
            result = rt.move(assoc, uid, ident, _destination(ctx.statement), 1, monitor=monitor)
        done = result.final_counts.get("NumberOfCompletedSuboperations") or 0
        listener.wait_received(max(done, len(expected)) if result.final else 0, SETTLE)
        arrived = list(listener.received)
    findings = rt.check(result, what, expected=expected, arrived=arrived, service="move")
    ex = Exchange(findings, [rt.observation(result, what, len(arrived), level=level, model=model,
                                            verb="move")], error=result.error,
                  message=f"{what}: {len(arrived)} instance(s) arrived by C-MOVE")
    return arrived, ex


def _round_trip(sop: str) -> Callable[[RunContext], StepResult]:
    """PS3.4 B.4.1: what was stored comes back unchanged (coercion only where declared)."""
    def action(ctx: RunContext) -> StepResult:
        data = run_data(ctx.shared)
        items = [s for s in data.select(sop_class=sop) if s.patient_id == data.storage_patient]
        if not items:
            return StepResult.skipped(f"not tested: no {uids.keyword_of(sop)} instance was stored "
                                      "in this run (run the storage/store steps first)")
        how = _retrieve_model(ctx.statement)
        assert how is not None
        arrived, ex = _fetch(ctx, items, "SERIES", how, f"{uids.keyword_of(sop)} series")
        if ex.error or ex.skipped:
            return result_of(ex)
        return result_of(ex.extend(_integrity(ctx, items, arrived)))
    return action


def _integrity(ctx: RunContext, items: list[Stored], arrived: list[Dataset]) -> Exchange:
    sb = ctx.statement.services.storage
    by_uid = {str(d.get("SOPInstanceUID", "")): d for d in arrived}
    ex = Exchange()
    for s in items:
        got = by_uid.get(s.sop_instance)
        if got is None:
            continue
        where = f"{uids.keyword_of(s.sop_class)} stored in {uids.keyword_of(s.transfer_syntax)}: "
        found = compare(s.encoded.reference, got, coerced=sb.coerced_attributes,
                        private_discarded=sb.private_attributes == "discarded",
                        compare_pixels=s.encoded.lossless, where=where)
        ex.findings += found
        back_ts = str(getattr(getattr(got, "file_meta", None), "TransferSyntaxUID", "") or "")
        ex.observations.append({"kind": "round-trip", "sop_class": s.sop_class,
                                "transfer_syntax": s.transfer_syntax, "returned_in": back_ts,
                                "intact": not any(f.severity is Severity.ERROR for f in found),
                                "pixels_compared": s.encoded.lossless,
                                "differences": len(found)})
    return ex


def _character_set(term: str, sop: str, ts: str) -> Callable[[RunContext], StepResult]:
    """PS3.3 C.12.1.1.2, PS3.5 6.1: a name in *term*'s repertoire is stored and comes back."""
    def action(ctx: RunContext) -> StepResult:
        data = run_data(ctx.shared)
        tag = term.replace(" ", "_") or "default"
        patient = data.patient(f"CS-{tag}")
        name = CHARSET_NAMES.get(term, "Smith^John")
        try:
            enc = data.instance(sop, ts, patient=patient, name=name, study=data.uid("cs", term),
                                series=data.uid("cs-series", term), number=1, charset=term)
        except (NoEncoder, ValueError) as exc:
            return StepResult.skipped(f"not tested: {exc}")
        monitor = DimseMonitor()
        with associate(ctx.target, [ProposedContext(sop, (ts,))],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None or not outcome.contexts[0].accepted:
                return unestablished(outcome, "associate for C-STORE") if assoc is None else \
                    StepResult.error(f"{uids.keyword_of(sop)} in {uids.keyword_of(ts)} was rejected")
            ex = store(assoc, enc.dataset, 1, monitor=monitor, what=f"a {term or 'default'} patient name")
        if ex.error or ex.findings:
            return result_of(ex)
        st = data.record(enc)
        how = _retrieve_model(ctx.statement)
        if how is None or not ctx.statement.services.storage.round_trip:
            ex.message = "stored; not retrieved (no C-GET or C-MOVE declared)"
            return result_of(ex)
        arrived, got = _fetch(ctx, [st], "SERIES", how, f"{term} patient")
        ex.extend(got)
        if got.error or got.skipped:
            return result_of(ex)
        for d in arrived:
            if str(d.get("PatientName", "")) != name:
                ex.findings.append(Finding(
                    "storage.character-set-mangled", Severity.ERROR,
                    f"Patient Name stored as {name!r} in {term} came back as "
                    f"{str(d.get('PatientName', ''))!r} (Specific Character Set "
                    f"{d.get('SpecificCharacterSet')!r}).", reference="PS3.5 6.1; PS3.3 C.12.1.1.2",
                    tag="(0010,0010)"))
        ex.extend(_character_set_query(ctx, st, name, term))
        ex.message = (f"Patient Name {name!r} in {term}: stored (C-STORE), retrieved "
                      f"(C-{how[1].upper()}) and queried (C-FIND)")
        ex.observations.append({"kind": "character-set", "term": term, "name": name,
                                "returned": [str(d.get("PatientName", "")) for d in arrived]})
        return result_of(ex)
    return action


def _character_set_query(ctx: RunContext, st: Stored, name: str, term: str) -> Exchange:
    """PS3.4 C.4.1.2.2.2 with PS3.5 6.1: a C-FIND response whose Patient Name is not in the
    default repertoire carries Specific Character Set, and the name decodes as stored."""
    model = next((m for m in ("StudyRoot", "PatientRoot")
                  if ctx.statement.declares(str(qr.MODELS[m][0]), Role.SCP)), None)
    if model is None or all(ord(ch) < 128 for ch in name):
        return Exchange()
    uid = str(qr.MODELS[model][0])
    ident = Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    # The query says which character set the harness reads (PS3.4 C.4.1.2.2.1): the SCP
    # may answer in it; without it, an SCP may answer in its own (Orthanc: DefaultEncoding).
    ident.SpecificCharacterSet = term
    ident.PatientID, ident.PatientName, ident.StudyInstanceUID = st.patient_id, "", st.study
    monitor = DimseMonitor()
    what = f"{model} C-FIND of the {term} patient"
    with associate(ctx.target, [ProposedContext(uid, UNCOMPRESSED)],
                   extra_handlers=monitor.handlers) as (outcome, assoc):
        if assoc is None:
            return Exchange(error=not_open(outcome, "associate for C-FIND").message)
        res = qr.find(assoc, uid, ident, 1, monitor=monitor)
    found = qr.status_findings(res, what)
    for m in res.matches:
        if "SpecificCharacterSet" not in m:
            found.append(Finding("find.character-set-missing", Severity.ERROR,
                                 f"{what}: the response holds a non-ASCII Patient Name but no "
                                 "Specific Character Set.", reference="PS3.4 C.4.1.2.2.2; PS3.5 6.1",
                                 tag="(0008,0005)"))
        elif str(m.get("PatientName", "")) != name and not _representable(name, m.get("SpecificCharacterSet")):
            found.append(Finding("find.character-set-lossy", Severity.WARNING,
                                 f"{what}: the device answered in Specific Character Set "
                                 f"{m.get('SpecificCharacterSet')!r}, which cannot hold the stored "
                                 f"Patient Name {name!r}: it came back as "
                                 f"{str(m.get('PatientName'))!r}. The stored instance is intact; "
                                 "query results lose characters.",
                                 reference="PS3.4 C.4.1.2.2.1; PS3.5 6.1", tag="(0010,0010)"))
        elif str(m.get("PatientName", "")) != name:
            found.append(Finding("find.character-set-mangled", Severity.ERROR,
                                 f"{what}: Patient Name came back as {str(m.get('PatientName'))!r} "
                                 f"(Specific Character Set {m.get('SpecificCharacterSet')!r}), "
                                 f"stored {name!r}.", reference="PS3.5 6.1", tag="(0010,0010)"))
    if not res.matches and not res.error:
        found.append(Finding("find.match-missing", Severity.ERROR,
                             f"{what}: no match for the patient just stored.", reference="PS3.4 C.2.2.2"))
    return qr.exchange(res, what, found)


def _representable(text: str, charset: object) -> bool:
    """Can *text* be encoded in the Specific Character Set *charset* (PS3.3 C.12.1.1.2)?"""
    from pydicom.charset import python_encoding

    multi = isinstance(charset, (list, tuple)) or type(charset).__name__ == "MultiValue"
    terms: list[Any] = list(charset) if multi else [str(charset or "")]  # type: ignore[call-overload]
    codecs = [python_encoding.get(str(t).strip() or "ISO_IR 6", "ascii") for t in terms] or ["ascii"]

    def fits(ch: str) -> bool:
        for codec in codecs:
            try:
                ch.encode(codec)
                return True
            except (UnicodeError, LookupError):
                continue
        return False

    return all(fits(ch) for ch in text)


# --- the Q/R study ---------------------------------------------------------------------

def ensure_qr_study(ctx: RunContext) -> tuple[RunData, str]:
    """Store the small Q/R study once per run; ('' or why it could not)."""
    data = run_data(ctx.shared)
    if data.qr_ready is not None:
        return data, data.qr_problem
    classes = _storage_classes(ctx.statement)
    preferred = [uids.sop_class_keywords()[k] for k in ("CTImageStorage", "MRImageStorage",
                                                        "SecondaryCaptureImageStorage")]
    order = [c for c in preferred if c in classes] + [c for c in classes if c not in preferred]
    chosen = [(c, str(native_syntax(classes[c]))) for c in order if native_syntax(classes[c])][:2]
    if not chosen:
        data.qr_ready, data.qr_problem = False, ("no storage SOP class is declared in a native "
                                                 "transfer syntax: the harness has no data to query")
        return data, data.qr_problem
    if len(chosen) == 1:
        chosen.append(chosen[0])
    plan = [(chosen[0], 1, "s1"), (chosen[0], 2, "s1"), (chosen[1], 3, "s2")]
    contexts = list(dict.fromkeys(ProposedContext(sop, (ts,)) for (sop, ts), _n, _s in plan))
    problem = ""
    outcome, wire = open_association(ctx.target, contexts)
    if wire is None:
        problem = "could not store the Q/R study: " + outcome.describe()
    else:
        try:
            for (sop, ts), number, series in plan:
                enc = data.instance(sop, ts, patient=data.qr_patient, name=data.qr_name,
                                    study=data.qr_study, series=data.uid("qr-series", series),
                                    number=number)
                ds = enc.dataset
                ex = store_wire(wire, ProposedContext(sop, (ts,)), sop, str(ds.SOPInstanceUID), ts,
                                encode_dataset(ds, ts), number)
                if ex.error or any(f.severity is Severity.ERROR for f in ex.findings):
                    problem = f"could not store the Q/R study: {ex.error or ex.findings[0].message}"
                    break
                data.record(enc)
        finally:
            wire.release()
    data.qr_ready, data.qr_problem = not problem, problem
    return data, problem


def _qr_items(data: RunData) -> list[Stored]:
    return sorted(data.select(patient_id=data.qr_patient), key=lambda s: s.sop_instance)


# --- query ------------------------------------------------------------------------------

def _base(model: str, level: str, data: RunData) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for key in qr.REQUIRED_KEYS[level]:
        setattr(ds, key, "")
    if level != "PATIENT" and model != "StudyRoot":
        ds.PatientID = data.qr_patient
    if level == "STUDY" and model == "StudyRoot":
        ds.PatientID = data.qr_patient
    return ds


def _kind_queries(kind: str, data: RunData, items: list[Stored]) -> tuple[str, list[tuple[dict, bool]]]:
    """(key whose values are compared, [(keys to set, should match)]) at STUDY level."""
    acc, study = data.accession, data.qr_study
    bogus = data.uid("bogus-study")
    if kind == "single-value":
        return "AccessionNumber", [({"AccessionNumber": acc}, True), ({"AccessionNumber": acc + "0"}, False)]
    if kind == "universal":
        return "StudyInstanceUID", [({"StudyDate": "", "StudyID": ""}, True)]
    if kind == "wildcard":
        return "AccessionNumber", [({"AccessionNumber": acc[:-2] + "*"}, True),
                                   ({"AccessionNumber": acc[:-1] + "?"}, True),
                                   ({"AccessionNumber": acc + "?"}, False)]
    if kind == "range":
        return "StudyDate", [({"StudyDate": "20251231-20260102"}, True),
                             ({"StudyDate": "-20260101"}, True),
                             ({"StudyDate": "20270101-20270102"}, False)]
    if kind == "uid-list":
        return "StudyInstanceUID", [({"StudyInstanceUID": [study, bogus]}, True),
                                    ({"StudyInstanceUID": [bogus, data.uid("bogus-2")]}, False)]
    if kind == "sequence":
        def seq(value: str) -> dict:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator = value, PROCEDURE_CODE[1]
            return {"ProcedureCodeSequence": [item]}
        return "StudyInstanceUID", [(seq(PROCEDURE_CODE[0]), True), (seq("NOPE"), False)]
    if kind == "case-insensitive-pn":
        return "StudyInstanceUID", [({"PatientName": data.qr_name.lower()}, True),
                                    ({"PatientName": data.qr_name.lower() + "x"}, False)]
    raise ValueError(kind)


def _query_kind(model: str, kind: str) -> Callable[[RunContext], StepResult]:
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        items = _qr_items(data)
        key, queries = _kind_queries(kind, data, items)
        uid = qr.MODELS[model][0]
        monitor = DimseMonitor()
        ex = Exchange()
        with associate(ctx.target, [ProposedContext(uid, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for C-FIND")
            # Patient Name is a patient-level key: in the hierarchical Patient Root and
            # Patient/Study Only models it is matched at the PATIENT level (PS3.4 C.4.1.2.1).
            level = "PATIENT" if kind == "case-insensitive-pn" and model != "StudyRoot" else "STUDY"
            key = qr.UNIQUE_KEY[level]
            value = data.qr_patient if level == "PATIENT" else data.qr_study
            for n, (keys, should) in enumerate(queries, start=1):
                ident = _base(model, level, data)
                if level == "PATIENT":
                    ident.PatientID = ""
                for k, v in keys.items():
                    setattr(ident, k, v)
                what = f"{model} {level} {kind} ({', '.join(f'{k}={_show(v)}' for k, v in keys.items())})"
                res = qr.find(assoc, uid, ident, n, monitor=monitor)
                expect = [value] if should else []
                forbid = [] if should else [value]
                found = qr.status_findings(res, what)
                found += qr.match_findings(res, key, what, expect=expect, forbid=forbid, kind=kind)
                found += qr.key_findings(res, level, list(qr.REQUIRED_KEYS[level]), what)
                if kind == "universal" and should:
                    for m in res.matches:
                        if str(m.get("StudyInstanceUID")) == data.qr_study and m.get("StudyDate") != STUDY_DATE:
                            found.append(Finding("find.universal-no-value", Severity.ERROR,
                                                 f"{what}: universal matching returned StudyDate "
                                                 f"{m.get('StudyDate')!r}, not the stored {STUDY_DATE}.",
                                                 reference="PS3.4 C.2.2.2.3"))
                ex.extend(qr.exchange(res, what, found, expected_match=should))
                if ex.error:
                    break
        ex.message = ex.message or f"{len(queries)} C-FIND(s) with {kind} matching as expected"
        if not ex.error and not ex.findings:
            ex.message = f"{len(queries)} C-FIND(s) with {kind} matching answered as expected"
        return result_of(ex)
    return action


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "\\".join(str(v) if not isinstance(v, Dataset) else "item" for v in value[:2])
    return str(value)


def _query_level(model: str, level: str) -> Callable[[RunContext], StepResult]:
    """Single-value matching on the unique key at *level*, with the required keys asked."""
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        items = _qr_items(data)
        target = items[0]
        uid = qr.MODELS[model][0]
        unique = qr.UNIQUE_KEY[level]
        value = {"PATIENT": target.patient_id, "STUDY": target.study, "SERIES": target.series,
                 "IMAGE": target.sop_instance}[level]
        ident = _base(model, level, data)
        if level in ("SERIES", "IMAGE"):
            ident.StudyInstanceUID = target.study
        if level == "IMAGE":
            ident.SeriesInstanceUID = target.series
        setattr(ident, unique, value)
        monitor = DimseMonitor()
        what = f"{model} {level} {unique}={value}"
        with associate(ctx.target, [ProposedContext(uid, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for C-FIND")
            res = qr.find(assoc, uid, ident, 1, monitor=monitor)
            found = qr.status_findings(res, what)
            found += qr.match_findings(res, unique, what, expect=[value], kind="single-value")
            others = {s.patient_id if level == "PATIENT" else getattr(s, {"STUDY": "study", "SERIES": "series",
                      "IMAGE": "sop_instance"}[level]) for s in items} - {value}
            found += qr.match_findings(res, unique, what, forbid=sorted(others), kind="single-value")
            found += qr.key_findings(res, level, [k for k in qr.REQUIRED_KEYS[level]], what)
            return result_of(qr.exchange(res, what, found))
    return action


def _query_cancel(model: str) -> Callable[[RunContext], StepResult]:
    """PS3.4 C.4.1.2.3: after C-CANCEL the SCP ends with Cancel (FE00), or Success if it
    had already finished."""
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        uid = qr.MODELS[model][0]
        levels = qr.MODELS[model][3]
        level = "IMAGE" if "IMAGE" in levels else levels[-1]
        ident = _base(model, level, data)
        if level in ("SERIES", "IMAGE"):
            ident.StudyInstanceUID = data.qr_study
        if level == "IMAGE":
            ident.SeriesInstanceUID = ""
        monitor = DimseMonitor()
        what = f"{model} {level} C-FIND cancelled after the first match"
        with associate(ctx.target, [ProposedContext(uid, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for C-FIND")
            res = qr.find(assoc, uid, ident, 1, monitor=monitor, cancel_after=1)
        found = []
        final = res.final
        if final is not None and final.category not in (CANCEL, SUCCESS):
            found.append(Finding("find.cancel-not-honoured", Severity.ERROR,
                                 f"{what}: ended with {final.describe()}, expected Cancel (FE00).",
                                 reference="PS3.4 C.4.1.2.3; PS3.7 9.1.2.1.7"))
        elif final is not None and final.category == SUCCESS and len(res.matches) > 1:
            # With a handful of matches the device may well have sent them all before the
            # C-CANCEL arrived, which PS3.4 allows: not conclusive, so only noted.
            found.append(Finding("find.cancel-not-observed", Severity.INFO,
                                 f"{what}: the device sent all {len(res.matches)} matches and ended "
                                 "with Success; the C-CANCEL may have arrived after it finished.",
                                 reference="PS3.4 C.4.1.2.3"))
        return result_of(qr.exchange(res, what, found, cancel_sent=res.cancel_sent))
    return action


# --- retrieve -------------------------------------------------------------------------

def _retrieve(model: str, verb: str, level: str) -> Callable[[RunContext], StepResult]:
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        items = _qr_items(data)
        target = items[0]
        expected = {"PATIENT": items, "STUDY": items,
                    "SERIES": [s for s in items if s.series == target.series],
                    "IMAGE": [target]}[level]
        index = 1 if verb == "move" else 2
        arrived, ex = _fetch(ctx, expected, level, (model, verb, str(qr.MODELS[model][index])),
                             f"C-{verb.upper()} {model} {level}")
        if not ex.error and not ex.skipped:
            ex.extend(_integrity(ctx, expected, arrived))
            ex.extend(_validity(expected, arrived))
        return result_of(ex)
    return action


def _validity(items: list[Stored], arrived: list[Dataset]) -> Exchange:
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


def _move_unknown(model: str) -> Callable[[RunContext], StepResult]:
    """PS3.4 C.4.2.1.5, Table C.4-2: a move destination the SCP does not know -> A801."""
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        uid = qr.MODELS[model][1]
        level = "STUDY"
        ident = _identifier(level, model, _qr_items(data)[0])
        monitor = DimseMonitor()
        what = f"C-MOVE {model} STUDY to unknown AE {UNKNOWN_DESTINATION!r}"
        with associate(ctx.target, [ProposedContext(uid, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for C-MOVE")
            res = rt.move(assoc, uid, ident, UNKNOWN_DESTINATION, 1, monitor=monitor)
        found: list[Finding] = []
        final = res.final
        if final is not None:
            if final.code == 0xA801:
                pass
            elif final.category == FAILURE:
                found.append(Finding("retrieve.move-unknown-destination-status", Severity.WARNING,
                                     f"{what}: refused with {final.describe()}; PS3.4 calls for "
                                     "A801 (move destination unknown).",
                                     reference="PS3.4 C.4.2.1.5, Table C.4-2",
                                     details={"status": final.code, "expected": 0xA801}))
            else:
                found.append(Finding("retrieve.move-unknown-destination-accepted", Severity.ERROR,
                                     f"{what}: answered {final.describe()} instead of refusing.",
                                     reference="PS3.4 C.4.2.1.5, Table C.4-2"))
        return result_of(Exchange(found, [rt.observation(res, what, 0, verb="move", model=model)],
                                  error=res.error, message=f"{what}: {final.describe() if final else '-'}"))
    return action


# --- worklist ------------------------------------------------------------------------

def _worklist_find(ctx: RunContext, ident: Dataset, n: int, assoc: Any,
                   monitor: DimseMonitor) -> qr.FindResult:
    return qr.find(assoc, mwl.MWL_FIND, ident, n, monitor=monitor, service="worklist")


def _worklist_universal(ctx: RunContext) -> StepResult:
    monitor = DimseMonitor()
    what = "worklist universal query"
    with associate(ctx.target, [ProposedContext(mwl.MWL_FIND, UNCOMPRESSED)],
                   extra_handlers=monitor.handlers) as (outcome, assoc):
        if assoc is None:
            return not_open(outcome, "associate for worklist C-FIND")
        res = _worklist_find(ctx, mwl.identifier(), 1, assoc, monitor)
    found = qr.status_findings(res, what, service="worklist") + mwl.return_key_findings(res, what)
    ctx.shared["services.worklist"] = res.matches
    return result_of(qr.exchange(res, what, found))


def _worklist_match(key: str) -> Callable[[RunContext], StepResult]:
    def action(ctx: RunContext) -> StepResult:
        monitor = DimseMonitor()
        with associate(ctx.target, [ProposedContext(mwl.MWL_FIND, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for worklist C-FIND")
            items = ctx.shared.get("services.worklist")
            if items is None:
                items = _worklist_find(ctx, mwl.identifier(), 1, assoc, monitor).matches
                ctx.shared["services.worklist"] = items
            values = [mwl.value_of(i, key) for i in items if mwl.value_of(i, key)]
            if not values:
                return StepResult.skipped(f"not tested: the device has no worklist item with a "
                                          f"{key} to match on")
            value = values[0]
            queries = [(value, True)]
            if key == "ScheduledProcedureStepStartDate":
                queries += [(f"{value}-{value}", True), ("19000101-19000102", False)]
            else:
                queries += [(value + "X" if key != "Modality" else "ZZ", False)]
            ex = Exchange()
            for n, (query_value, should) in enumerate(queries, start=2):
                what = f"worklist {key}={query_value}"
                res = _worklist_find(ctx, mwl.identifier(**{key: query_value}), n, assoc, monitor)
                keys_with = [mwl.item_key(i) for i in items if mwl.value_of(i, key) == value]
                keys_without = [mwl.item_key(i) for i in items if mwl.value_of(i, key) != value]
                found = qr.status_findings(res, what, service="worklist")
                returned = {mwl.item_key(m) for m in res.matches}
                exp = keys_with if should else []
                missing = [k for k in exp if k not in returned]
                extra = [k for k in returned if (k in keys_without) or (not should and k in keys_with)]
                if missing:
                    found.append(Finding("worklist.match-missing", Severity.ERROR,
                                         f"{what}: {len(missing)} item(s) with {key} {value} not "
                                         "returned: matching on this key does not work as declared.",
                                         reference="PS3.4 K.6.1.2.1; C.2.2.2; statement",
                                         details={"key": key, "missing": missing[:5]}))
                if extra:
                    found.append(Finding("worklist.match-extra", Severity.ERROR,
                                         f"{what}: {len(extra)} item(s) returned that do not match.",
                                         reference="PS3.4 K.6.1.2.1; C.2.2.2",
                                         details={"key": key, "extra": extra[:5]}))
                ex.extend(qr.exchange(res, what, found))
                if ex.error:
                    break
        ex.message = ex.message or f"{len(queries)} worklist queries on {key}"
        return result_of(ex)
    return action


# --- MPPS -----------------------------------------------------------------------------

def _mpps(final: str | None) -> Callable[[RunContext], StepResult]:
    """PS3.4 F.7.2: N-CREATE IN PROGRESS, N-SET *final*, then a further N-SET is refused.
    ``final`` None: N-CREATE with status COMPLETED must be refused (F.7.2.1)."""
    def action(ctx: RunContext) -> StepResult:
        data = run_data(ctx.shared)
        monitor = DimseMonitor()
        ids = _Ids()
        found: list[Finding] = []
        obs: dict[str, Any] = {"kind": "mpps", "final": final}
        with associate(ctx.target, [ProposedContext(pps.MPPS, UNCOMPRESSED)],
                       extra_handlers=monitor.handlers) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for MPPS")
            attrs = pps.create_attributes(data.qr_patient, data.qr_name, data.qr_study,
                                          ctx.statement.harness.ae_title)
            if final is None:
                attrs.PerformedProcedureStepStatus = "COMPLETED"
            created, instance = pps.n_create(assoc, attrs, ids(), monitor=monitor)
            if created is None:
                return StepResult.error("no valid N-CREATE response within the DIMSE timeout")
            obs["n_create"] = created.hex
            if final is None:
                if created.category == SUCCESS:
                    found.append(Finding("mpps.create-not-in-progress-accepted", Severity.WARNING,
                                         "N-CREATE with Performed Procedure Step Status COMPLETED "
                                         "was accepted; it shall be IN PROGRESS.",
                                         reference="PS3.4 F.7.2.1.2, Table F.7.2-1"))
                return StepResult(found, [obs], message=f"N-CREATE COMPLETED: {created.describe()}")
            if created.category != SUCCESS:
                return StepResult([Finding("mpps.create-failed", Severity.ERROR,
                                           f"N-CREATE (IN PROGRESS) answered {created.describe()}.",
                                           reference=f"PS3.4 F.7.2.1; {created.reference}; statement")],
                                  [obs])
            done = pps.n_set(assoc, pps.final_attributes(final, data.uid("mpps-series"),
                                                         ctx.statement.network.ae_titles[0]),
                             instance, ids())
            if done is None:
                return StepResult.error("no valid N-SET response within the DIMSE timeout")
            obs["n_set"] = done.hex
            if done.category != SUCCESS:
                return StepResult([Finding("mpps.set-failed", Severity.ERROR,
                                           f"N-SET to {final} answered {done.describe()}.",
                                           reference=f"PS3.4 F.7.2.2; {done.reference}")], [obs])
            again = Dataset()
            again.PerformedProcedureStepDescription = "changed after the end"
            late = pps.n_set(assoc, again, instance, ids())
            if late is None:
                return StepResult.error("no valid N-SET response within the DIMSE timeout")
            obs["n_set_after_end"] = late.hex
            if late.category == SUCCESS:
                found.append(Finding("mpps.update-after-end-accepted", Severity.ERROR,
                                     f"An N-SET after the step was {final} was accepted; the SCP "
                                     "shall refuse it (0110).", reference="PS3.4 F.7.2.2.2"))
            elif late.code != 0x0110:
                found.append(Finding("mpps.update-after-end-status", Severity.WARNING,
                                     f"An N-SET after the step was {final} was refused with "
                                     f"{late.describe()}; PS3.4 names 0110 (processing failure).",
                                     reference="PS3.4 F.7.2.2.2"))
        return StepResult(found, [obs], message=f"IN PROGRESS -> {final}, then refused: {late.describe()}")
    return action


# --- storage commitment ------------------------------------------------------------------

def _commitment(ctx: RunContext) -> StepResult:
    """PS3.4 J.3: N-ACTION for the Q/R study plus one instance the device never received;
    the report must commit the former and list the latter as failed."""
    data, problem = ensure_qr_study(ctx)
    if problem:
        return StepResult.skipped(f"not tested: {problem}")
    sc = ctx.statement.services.storage_commitment
    port = _harness_port(ctx)
    if sc.report_association == "new" and port is None:
        return StepResult.skipped(NO_PORT)
    items = _qr_items(data)
    bogus = (items[0].sop_class, data.uid("never-stored"))
    transaction = data.uid("transaction", str(len(ctx.shared)))
    info = scs.action_information(transaction, [(s.sop_class, s.sop_instance) for s in items] + [bogus])
    listener = HarnessListener(ctx.statement.harness.ae_title, port or 0)
    from pynetdicom import evt
    monitor = DimseMonitor()
    what = "storage commitment"
    try:
        if port is not None:
            listener.start()
        with associate(ctx.target, [ProposedContext(scs.PUSH_MODEL, UNCOMPRESSED)],
                       extra_handlers=[(evt.EVT_N_EVENT_REPORT, lambda e: listener.on_report(e, True)),
                                       *monitor.handlers]) as (outcome, assoc):
            if assoc is None:
                return not_open(outcome, "associate for storage commitment")
            status = scs.request(assoc, info, 1)
            if status is None:
                return StepResult.error("no valid N-ACTION response within the DIMSE timeout")
            obs: dict[str, Any] = {"kind": "commitment", "n_action": status.hex,
                                   "instances": len(items), "unknown_instance": bogus[1]}
            if status.category != SUCCESS:
                return StepResult([Finding("commitment.request-refused", Severity.ERROR,
                                           f"N-ACTION (request storage commitment) answered "
                                           f"{status.describe()}.",
                                           reference=f"PS3.4 J.3.2.1.2; {status.reference}; statement")],
                                  [obs])
            # Reports on either path land in the listener (the same-association handler
            # records into it too): one bounded wait while the association stays open.
            wait = sc.report_within
            if port is None and sc.report_association == "either":
                wait = min(wait, 3.0)
            report = listener.wait_report(wait)
        if report is None and port is not None:
            report = listener.wait_report(0.5)
    finally:
        listener.stop()
    if report is None and port is None and sc.report_association == "either":
        return StepResult([], [obs], message=f"{NO_PORT}; no report came on the requesting "
                          "association", outcome=Outcome.SKIPPED)
    if report is None:
        where = {"same": "on the same association", "new": "on a new association",
                 "either": "on either association"}[sc.report_association]
        return StepResult([Finding("commitment.no-report", Severity.ERROR,
                                   f"No N-EVENT-REPORT {where} within {wait:g} s of the N-ACTION.",
                                   reference="PS3.4 J.3.3; statement")], [obs])
    obs.update(event_type=report.event_type, report_association="same" if report.same_association else "new",
               committed=len((report.dataset or Dataset()).get("ReferencedSOPSequence") or []),
               failed=len((report.dataset or Dataset()).get("FailedSOPSequence") or []))
    found = scs.check_report(report, transaction, {s.sop_instance for s in items}, {bogus[1]}, what,
                             sc.report_association)
    return StepResult(found, [obs], message=f"report (event type {report.event_type}) on the "
                                            f"{obs['report_association']} association")


# --- the plan --------------------------------------------------------------------------

def plan(statement: Statement) -> list[Step]:
    """The services steps a statement implies, in run order."""
    steps: list[Step] = []
    storage = _storage_classes(statement)
    batch = StorageBatch()
    for sop, syntaxes in storage.items():
        for ts in syntaxes:
            sid = f"storage/store/{uids.keyword_of(sop)}/{uids.keyword_of(ts)}"
            batch.items[sid] = (sop, ts)
            steps.append(Step(sid, f"Store {uids.name_of(sop)} in {uids.name_of(ts)}",
                              "PS3.4 B.2.2, Table B.2-1", batch=batch))
    how = _retrieve_model(statement)
    sb = statement.services.storage
    if storage and how is not None and sb.round_trip:
        for sop in storage:
            steps.append(Step(f"storage/round-trip/{uids.keyword_of(sop)}",
                              f"{uids.name_of(sop)}: what was stored comes back intact "
                              f"(C-{how[1].upper()})", "PS3.4 B.4.1", action=_round_trip(sop)))
    if storage:
        first = next(((s, str(native_syntax(t))) for s, t in storage.items() if native_syntax(t)), None)
        for term in ("ISO_IR 192", "GB18030"):
            if first and term in statement.character_sets:
                steps.append(Step(f"storage/character-set/{term.replace(' ', '_')}",
                                  f"A patient name in {term} is stored and comes back unchanged",
                                  "PS3.3 C.12.1.1.2; PS3.5 6.1",
                                  action=_character_set(term, first[0], first[1])))
    q = statement.services.query_retrieve
    for model, (find, move, get, all_levels) in qr.MODELS.items():
        levels = q.levels.get(model) or all_levels
        if statement.declares(find, Role.SCP):
            for kind in q.matching:
                level = "PATIENT" if kind == "case-insensitive-pn" and model != "StudyRoot" else "STUDY"
                steps.append(Step(f"query/{model}/{level}/{kind}",
                                  f"{model} C-FIND, {kind} matching", "PS3.4 C.2.2.2; C.4.1",
                                  action=_query_kind(model, kind)))
            for level in levels:
                steps.append(Step(f"query/{model}/{level}/unique-key",
                                  f"{model} C-FIND at {level} level: unique key, required keys",
                                  "PS3.4 C.3; C.6", action=_query_level(model, level)))
            if q.cancel:
                steps.append(Step(f"query/{model}/cancel", f"{model} C-FIND then C-CANCEL",
                                  "PS3.4 C.4.1.2.3", action=_query_cancel(model)))
        for verb, uid in (("move", move), ("get", get)):
            if statement.declares(uid, Role.SCP):
                for level in levels:
                    steps.append(Step(f"retrieve/{verb}/{model}/{level}",
                                      f"{model} C-{verb.upper()} at {level} level",
                                      "PS3.4 C.4.2" if verb == "move" else "PS3.4 C.4.3",
                                      action=_retrieve(model, verb, level)))
    move_model = next((m for m in qr.MODELS if statement.declares(qr.MODELS[m][1], Role.SCP)), None)
    if move_model is not None:
        steps.append(Step("retrieve/move/unknown-destination",
                          "C-MOVE to an unknown destination is refused with A801",
                          "PS3.4 C.4.2.1.5, Table C.4-2", action=_move_unknown(move_model)))
    if statement.declares(mwl.MWL_FIND, Role.SCP):
        steps.append(Step("worklist/universal", "Modality Worklist: universal query, return keys",
                          "PS3.4 K.4.1; K.6.1.2.2", action=_worklist_universal))
        for key in statement.services.worklist.matching_keys:
            steps.append(Step(f"worklist/match/{key}", f"Modality Worklist: matching on {key}",
                              "PS3.4 K.6.1.2.1; C.2.2.2", action=_worklist_match(key)))
    if statement.declares(pps.MPPS, Role.SCP):
        for final in ("COMPLETED", "DISCONTINUED"):
            steps.append(Step(f"mpps/{final.lower()}", f"MPPS: IN PROGRESS -> {final}, then no "
                              "more updates", "PS3.4 F.7.2", action=_mpps(final)))
        steps.append(Step("mpps/create-not-in-progress", "MPPS: N-CREATE must be IN PROGRESS",
                          "PS3.4 F.7.2.1", action=_mpps(None)))
    if statement.declares(scs.PUSH_MODEL, Role.SCP):
        steps.append(Step("commitment/request", "Storage commitment: N-ACTION, then the report",
                          "PS3.4 J.3", action=_commitment))
    # Results group steps by the first part of their id (junit test suites, report table):
    # keep each group contiguous, in this order.
    order = ["storage", "query", "retrieve", "worklist", "mpps", "commitment"]
    return sorted(steps, key=lambda st: order.index(st.id.split("/", 1)[0]))

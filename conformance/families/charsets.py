"""Character sets: ``storage/character-set/<term>`` (PS3.3 C.12.1.1.2, PS3.5 6.1).

A patient name in a declared repertoire (ISO_IR 192, GB18030) is stored, retrieved and
queried: it must come back unchanged, and a C-FIND response holding it must carry Specific
Character Set (PS3.4 C.4.1.2.2.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.fetch import fetch, retrieve_model
from conformance.families.registry import planner
from conformance.families.session import NotOpen, exchange_of, result_of, session, step_action
from conformance.families.storage import storage_classes
from conformance.findings import Finding, Severity
from conformance.services import query as qr
from conformance.services.common import Exchange
from conformance.services.data import CHARSET_NAMES, Stored, native_syntax, run_data
from conformance.services.encoding import NoEncoder
from conformance.services.storage import store
from conformance.standard import uids
from conformance.statement.model import Role, Statement

#: The repertoires tested, where the statement declares them.
TERMS = ("ISO_IR 192", "GB18030")


def _character_set(term: str, sop: str, ts: str) -> Callable[[RunContext], StepResult]:
    """PS3.3 C.12.1.1.2, PS3.5 6.1: a name in *term*'s repertoire is stored and comes back."""
    @step_action
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
        try:
            with session(ctx, sop, "C-STORE", transfer_syntaxes=(ts,)) as s:
                ex = store(s.assoc, enc.dataset, 1, monitor=s.monitor,
                           what=f"a {term or 'default'} patient name")
        except NotOpen as exc:
            if exc.result.outcome is not None:      # not established: the harness could not test
                return exc.result
            # The storage steps judge the rejected context; this step could not run.
            return StepResult.error(f"{uids.keyword_of(sop)} in {uids.keyword_of(ts)} was rejected")
        if ex.error or ex.findings:
            return result_of(ex)
        st = data.record(enc)
        how = retrieve_model(ctx.statement)
        if how is None or not ctx.statement.services.storage.round_trip:
            ex.message = "stored; not retrieved (no C-GET or C-MOVE declared)"
            return result_of(ex)
        arrived, got = fetch(ctx, [st], "SERIES", how, f"{term} patient")
        ex.extend(got)
        if got.error or got.skipped or got.setup:
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
    what = f"{model} C-FIND of the {term} patient"
    try:
        with session(ctx, uid, "C-FIND") as s:
            res = qr.find(s.assoc, uid, ident, 1, monitor=s.monitor)
    except NotOpen as exc:
        return Exchange(error=exchange_of(exc.result).error or exc.result.message)
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


@planner("character-set", order=12)
def plan(statement: Statement) -> list[Step]:
    """One step per tested repertoire the statement declares, stored in the first declared
    storage SOP class that has a native transfer syntax."""
    storage = storage_classes(statement)
    first = next(((s, str(native_syntax(t))) for s, t in storage.items() if native_syntax(t)), None)
    if first is None:
        return []
    return [Step(f"storage/character-set/{term.replace(' ', '_')}",
                 f"A patient name in {term} is stored and comes back unchanged",
                 "PS3.3 C.12.1.1.2; PS3.5 6.1", action=_character_set(term, first[0], first[1]))
            for term in TERMS if term in statement.character_sets]


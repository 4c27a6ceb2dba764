"""Query (PS3.4 C.4.1): ``query/<model>/<LEVEL>/<matching kind>``,
``query/<model>/<LEVEL>/unique-key`` and ``query/<model>/cancel``.

Each C-FIND runs against the run's Q/R study (:mod:`conformance.families.qrdata`) and is
judged on status (PS3.4 C.4.1.1.4), matching (C.2.2.2) and the required keys returned
(C.3, C.6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydicom.dataset import Dataset

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.qrdata import ensure_qr_study, qr_items
from conformance.families.registry import planner
from conformance.families.session import Session, result_of, session, step_action
from conformance.families.refused import refused_steps
from conformance.families.setup import judge_unanswered
from conformance.families.verdict import from_monitor
from conformance.findings import Finding, Severity
from conformance.services import query as qr
from conformance.services.common import Exchange
from conformance.services.data import PROCEDURE_CODE, STUDY_DATE, RunData, Stored
from conformance.services.status import CANCEL, SUCCESS
from conformance.statement.model import Statement


def base(model: str, level: str, data: RunData) -> Dataset:
    """An identifier at *level* asking for the required keys (PS3.4 C.6)."""
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
    """(key whose values are compared, [(keys to set, should match)]) at STUDY level.

    Single-value and wildcard matching are case-sensitive for every VR but PN (PS3.4
    C.2.2.2.1, C.2.2.2.4): Accession Number (SH) in lower case, where only the stored upper
    case is correct, must match nothing. PN may be matched case-insensitively
    (``case-insensitive-pn``, C.2.2.2.1)."""
    acc, study = data.accession, data.qr_study
    bogus = data.uid("bogus-study")
    if kind == "single-value":
        return "AccessionNumber", [({"AccessionNumber": acc}, True), ({"AccessionNumber": acc + "0"}, False),
                                   ({"AccessionNumber": acc.lower()}, False)]
    if kind == "universal":
        return "StudyInstanceUID", [({"StudyDate": "", "StudyID": ""}, True)]
    if kind == "wildcard":
        return "AccessionNumber", [({"AccessionNumber": acc[:-2] + "*"}, True),
                                   ({"AccessionNumber": acc[:-1] + "?"}, True),
                                   ({"AccessionNumber": acc + "?"}, False),
                                   ({"AccessionNumber": acc[:-2].lower() + "*"}, False)]
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


def kind_level(model: str, kind: str) -> str:
    """Patient Name is a patient-level key: in the hierarchical Patient Root and
    Patient/Study Only models it is matched at the PATIENT level (PS3.4 C.4.1.2.1)."""
    return "PATIENT" if kind == "case-insensitive-pn" and model != "StudyRoot" else "STUDY"


def _query_kind(model: str, kind: str) -> Callable[[RunContext], StepResult]:
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        items = qr_items(data)
        key, queries = _kind_queries(kind, data, items)
        uid = qr.MODELS[model][0]
        ex = Exchange()
        level = kind_level(model, kind)
        key = qr.UNIQUE_KEY[level]
        value = data.qr_patient if level == "PATIENT" else data.qr_study
        for keys, should in queries:
            ident = base(model, level, data)
            if level == "PATIENT":
                ident.PatientID = ""
            for k, v in keys.items():
                setattr(ident, k, v)
            what = f"{model} {level} {kind} ({', '.join(f'{k}={show(v)}' for k, v in keys.items())})"
            res, refused = find_once(ctx, uid, ident)
            if refused is not None:
                return refused
            expect = [value] if should else []
            forbid = [] if should else [value]
            found = qr.status_findings(res, what)
            found += qr.match_findings(res, key, what, expect=expect, forbid=forbid, kind=kind)
            found += case_findings(keys, should, res, key, value, what)
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
        errors = [f for f in ex.findings if f.severity is Severity.ERROR]
        if errors:
            ex.message = f"{kind} matching does not work as declared: {errors[0].message}"
        elif not ex.error:
            ex.message = f"{len(queries)} C-FIND(s) with {kind} matching answered as expected"
        return result_of(ex)
    return action


def find_once(ctx: RunContext, uid: str, ident: Dataset) -> tuple[qr.FindResult, StepResult | None]:
    """One C-FIND on an association of its own: (result, the step's verdict if the request
    got no status). A response the harness itself lost (seen by the monitor but
    not handed over) is asked again once on a new association, so a
    harness hiccup does not cost the step."""
    res = qr.FindResult()
    for _attempt in range(2):
        with session(ctx, uid, "C-FIND") as s:
            res = qr.find(s.assoc, uid, ident, 1, monitor=s.monitor)
            refused = _unanswered(ctx, s, res, 1, uid)
            lost = bool(res.error) and len(s.monitor.answered(1)) > len(res.statuses)
        if refused is not None or not lost:
            return res, refused
    return res, None


def _unanswered(ctx: RunContext, s: Session, res: qr.FindResult, msg_id: int,
                uid: str) -> StepResult | None:
    """The verdict when the C-FIND got no status at all (abort, closed, silence), else None
    (a response the harness lost is its own hiccup, reported by the exchange)."""
    if res.final is None and res.error and not s.monitor.answered(msg_id):
        un = from_monitor(s.monitor, "C-FIND", ctx.target.timeouts.dimse)
        return judge_unanswered(ctx, "C-FIND", uid, un)
    return None


def duplicate_findings(res: qr.FindResult, key: str, value: str, what: str) -> list[Finding]:
    """A unique key identifies one entity (PS3.4 C.3.4): the SCP answers it once."""
    count = sum(1 for m in res.matches if str(m.get(key, "")) == value)
    if count <= 1:
        return []
    return [Finding("find.duplicate-answers", Severity.ERROR,
                    f"{what}: the entity with this unique key was returned {count} times; one "
                    "response per matching entity is expected.",
                    reference="PS3.4 C.3.4; C.4.1.3.1.1", details={"key": key, "count": count})]


def case_findings(keys: dict, should: bool, res: qr.FindResult, key: str, value: str,
                   what: str) -> list[Finding]:
    """A lower-case value of a non-PN key that matched the stored upper-case one."""
    text = keys.get("AccessionNumber")
    if should or not isinstance(text, str) or text == text.upper():
        return []
    if not any(str(m.get(key, "")) == value for m in res.matches):
        return []
    return [Finding("find.case-insensitive-match", Severity.ERROR,
                    f"{what}: Accession Number {text!r} matched the stored upper-case value; "
                    "matching is case-sensitive except for PN.",
                    reference="PS3.4 C.2.2.2.1; C.2.2.2.4", tag="(0008,0050)")]


def show(value: Any) -> str:
    """A query value as the messages quote it."""
    if isinstance(value, list):
        return "\\".join(str(v) if not isinstance(v, Dataset) else "item" for v in value[:2])
    return str(value)


def _query_level(model: str, level: str) -> Callable[[RunContext], StepResult]:
    """Single-value matching on the unique key at *level*, with the required keys asked."""
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        items = qr_items(data)
        target = items[0]
        uid = qr.MODELS[model][0]
        unique = qr.UNIQUE_KEY[level]
        value = {"PATIENT": target.patient_id, "STUDY": target.study, "SERIES": target.series,
                 "IMAGE": target.sop_instance}[level]
        ident = base(model, level, data)
        if level in ("SERIES", "IMAGE"):
            ident.StudyInstanceUID = target.study
        if level == "IMAGE":
            ident.SeriesInstanceUID = target.series
        setattr(ident, unique, value)
        what = f"{model} {level} {unique}={value}"
        res, refused = find_once(ctx, uid, ident)
        if refused is not None:
            return refused
        found = qr.status_findings(res, what)
        found += qr.match_findings(res, unique, what, expect=[value], kind="single-value")
        found += duplicate_findings(res, unique, value, what)
        attr = {"PATIENT": "patient_id", "STUDY": "study", "SERIES": "series",
                "IMAGE": "sop_instance"}[level]
        others = {getattr(it, attr) for it in items} - {value}
        found += qr.match_findings(res, unique, what, forbid=sorted(others), kind="single-value")
        found += qr.key_findings(res, level, [k for k in qr.REQUIRED_KEYS[level]], what)
        return result_of(qr.exchange(res, what, found))
    return action


def _query_cancel(model: str) -> Callable[[RunContext], StepResult]:
    """PS3.4 C.4.1.2.3: after C-CANCEL the SCP ends with Cancel (FE00), or Success if it
    had already finished."""
    @step_action
    def action(ctx: RunContext) -> StepResult:
        data, problem = ensure_qr_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        uid = qr.MODELS[model][0]
        levels = qr.MODELS[model][3]
        level = "IMAGE" if "IMAGE" in levels else levels[-1]
        ident = base(model, level, data)
        if level in ("SERIES", "IMAGE"):
            ident.StudyInstanceUID = data.qr_study
        if level == "IMAGE":
            ident.SeriesInstanceUID = ""
        what = f"{model} {level} C-FIND cancelled after the first match"
        with session(ctx, uid, "C-FIND") as s:
            res = qr.find(s.assoc, uid, ident, 1, monitor=s.monitor, cancel_after=1)
            refused = _unanswered(ctx, s, res, 1, uid)
            if refused is not None:
                return refused
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


@planner("query", order=20)
def plan(statement: Statement) -> list[Step]:
    """The C-FIND steps of every declared Q/R information model."""
    steps: list[Step] = []
    q = statement.services.query_retrieve
    for model, (find, _move, _get, all_levels) in qr.MODELS.items():
        steps += refused_steps(statement, str(find), f"query/{model}/refused", "find")
        if not statement.performs(find):
            continue
        levels = q.levels.get(model) or all_levels
        for kind in q.matching:
            steps.append(Step(f"query/{model}/{kind_level(model, kind)}/{kind}",
                              f"{model} C-FIND, {kind} matching", "PS3.4 C.2.2.2; C.4.1",
                              action=_query_kind(model, kind)))
        for level in levels:
            steps.append(Step(f"query/{model}/{level}/unique-key",
                              f"{model} C-FIND at {level} level: unique key, required keys",
                              "PS3.4 C.3; C.6", action=_query_level(model, level)))
        if q.cancel:
            steps.append(Step(f"query/{model}/cancel", f"{model} C-FIND then C-CANCEL",
                              "PS3.4 C.4.1.2.3", action=_query_cancel(model)))
    return steps

"""QIDO-RS checks (PS3.18 10.6, Search Transaction; query parameters PS3.18 8.3.4).

On the run's web study (see :mod:`conformance.dicomweb.common`):

- each declared level (``/studies``, ``/series``, ``/instances``, PS3.18 10.6.1) finds the
  stored entity by its unique key, 200 with ``application/dicom+json`` (PS3.18 10.6.3);
- each declared matching kind (PS3.18 8.3.4.1 with the rules of PS3.4 C.2.2.2, the same
  queries the C-FIND checks make): a query that should match returns the study, one that
  should not does not; fuzzymatching (PS3.18 8.3.4.6) is checked as: the family name alone,
  in another case, matches;
- ``includefield`` and ``includefield=all`` (PS3.18 8.3.4.3), ``limit``/``offset``
  (PS3.18 8.3.4.4): pages are disjoint, bounded, and together are the whole result;
- a malformed query (``limit=abc``) is answered 400 (PS3.18 8.3.4.4, 8.6.3);
- every answer is a valid DICOM JSON Model array (PS3.18 F.2).

Not covered: XML responses, relational queries, timezone adjustment, ``Cache-Control``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from conformance.dicomweb import jsonmodel
from conformance.dicomweb.client import WebResponse
from conformance.dicomweb.common import (
    on_web_study,
    DICOM_JSON,
    WebRun,
    accession,
    endpoint,
    finding,
    transport_error,
    web_patient,
)
from conformance.engine.model import RunContext, StepResult
from conformance.findings import Finding, Severity
from conformance.services.data import PROCEDURE_CODE, STUDY_DATE, RunData, run_data

STUDY_UID, SERIES_UID, SOP_UID = "0020000D", "0020000E", "00080018"
LEVEL_PATH = {"study": "studies", "series": "series", "instance": "instances"}
LEVEL_KEY = {"study": STUDY_UID, "series": SERIES_UID, "instance": SOP_UID}
MAX_RESULTS = 1000


def search(run: WebRun, url: str, level: str, params: list[tuple[str, str]]) -> WebResponse:
    return run.client.request("GET", f"{url}/{LEVEL_PATH[level]}", params=params, accept=DICOM_JSON)


def results(res: WebResponse, what: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The result objects of a QIDO-RS answer and the findings on its form."""
    out: list[Finding] = []
    if res.status == 204:
        return [], out
    if res.status != 200:
        out.append(finding("qido.status", Severity.ERROR,
                           f"{what}: HTTP {res.status}; a valid search is answered 200 (or 204 "
                           "when nothing matches).", "PS3.18 10.6.3", res))
        return [], out
    if res.media_type != DICOM_JSON:
        out.append(finding("qido.media-type", Severity.ERROR,
                           f"{what}: the answer is {res.content_type or '(no Content-Type)'}, not "
                           f"the {DICOM_JSON} asked for.", "PS3.18 8.7.5; 10.6.3", res))
    try:
        doc = json.loads(res.body) if res.body.strip() else []
    except ValueError:
        out.append(finding("qido.not-json", Severity.ERROR,
                           f"{what}: the body is not JSON ({res.body[:40]!r}).", "PS3.18 F.2", res))
        return [], out
    if not isinstance(doc, list):
        out.append(finding("qido.not-array", Severity.ERROR,
                           f"{what}: the body is not a JSON array of results.", "PS3.18 F.2; 10.6.3", res))
        return [], out
    for p in jsonmodel.problems(doc)[:10]:
        out.append(finding("qido.json-model", Severity.ERROR, f"{what}: {p}", "PS3.18 F.2", res))
    return [d for d in doc if isinstance(d, dict)][:MAX_RESULTS], out


def _found(items: list[dict[str, Any]], key: str) -> set[str]:
    return {str(jsonmodel.value_of(d, key)) for d in items}


def level(lv: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/qido/<level>``: the stored entity found by its unique key."""
    @on_web_study("qido_rs")
    def action(ctx: RunContext, run: WebRun, url: str) -> StepResult:
        item = run.items[0]
        params = [("StudyInstanceUID", item.study)]
        if lv in ("series", "instance"):
            params.append(("SeriesInstanceUID", item.series))
        if lv == "instance":
            params.append(("SOPInstanceUID", item.sop_instance))
        want = {"study": item.study, "series": item.series, "instance": item.sop_instance}[lv]
        what = f"QIDO-RS {lv} level by unique key"
        res = search(run, url, lv, params)
        if res.error:
            return transport_error(res, what)
        items, found = results(res, what)
        if not found and want not in _found(items, LEVEL_KEY[lv]):
            found.append(finding("qido.match-missing", Severity.ERROR,
                                 f"{what}: the stored {lv} {want} is not in the results.",
                                 "PS3.18 10.6.1; PS3.4 C.2.2.2.1", res))
        extra = _found(items, LEVEL_KEY[lv]) - {want}
        if extra:
            found.append(finding("qido.match-unexpected", Severity.ERROR,
                                 f"{what}: results for other entities ({len(extra)}) came back.",
                                 "PS3.4 C.2.2.2.1", res))
        return StepResult(found, [res.observation(what, results=len(items))],
                          message=f"{what}: {len(items)} result(s)")
    return action


def _kind_queries(kind: str, data: RunData, run: WebRun) -> list[tuple[list[tuple[str, str]], bool]]:
    """[(query parameters, should the study match)] for *kind* (PS3.4 C.2.2.2, PS3.18 8.3.4)."""
    acc, study = accession(data), run.study
    patient, name = web_patient(data)
    pid = [("PatientID", patient)]
    bogus = data.uid("web-bogus")
    if kind == "single-value":
        return [(pid + [("AccessionNumber", acc)], True), (pid + [("AccessionNumber", acc + "0")], False)]
    if kind == "universal":
        return [(pid + [("AccessionNumber", "")], True)]
    if kind == "wildcard":
        return [(pid + [("AccessionNumber", acc[:-2] + "*")], True),
                (pid + [("AccessionNumber", acc[:-1] + "?")], True),
                (pid + [("AccessionNumber", acc + "?")], False)]
    if kind == "range":
        return [(pid + [("StudyDate", "20251231-20260102")], True), (pid + [("StudyDate", "-" + STUDY_DATE)], True),
                (pid + [("StudyDate", "20270101-20270102")], False)]
    if kind == "uid-list":
        return [(pid + [("StudyInstanceUID", f"{study},{bogus}")], True),
                (pid + [("StudyInstanceUID", f"{bogus},{data.uid('web-bogus-2')}")], False)]
    if kind == "case-insensitive-pn":
        return [(pid + [("PatientName", name.lower())], True), (pid + [("PatientName", name.lower() + "x")], False)]
    if kind == "sequence":
        return [(pid + [("ProcedureCodeSequence.CodeValue", PROCEDURE_CODE[0])], True),
                (pid + [("ProcedureCodeSequence.CodeValue", "NOPE")], False)]
    if kind == "fuzzy":
        return [(pid + [("PatientName", name.split("^")[0].lower()), ("fuzzymatching", "true")], True)]
    raise ValueError(kind)


def matching(kind: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/qido/match/<kind>``: the declared matching kind at study level."""
    @on_web_study("qido_rs")
    def action(ctx: RunContext, run: WebRun, url: str) -> StepResult:
        data = run_data(ctx.shared)
        found: list[Finding] = []
        observations: list[Mapping[str, Any]] = []
        for params, should in _kind_queries(kind, data, run):
            shown = "&".join(f"{k}={v}" for k, v in params if k != "PatientID")
            what = f"QIDO-RS /studies {kind} ({shown})"
            res = search(run, url, "study", params)
            if res.error:
                return transport_error(res, what)
            items, problems = results(res, what)
            found += problems
            observations.append(res.observation(what, results=len(items), expected_match=should))
            if problems:
                continue
            hit = run.study in _found(items, STUDY_UID)
            if should and not hit:
                found.append(finding("qido.match-missing", Severity.ERROR,
                                     f"{what}: the stored study should match ({kind} matching, declared) "
                                     "but is not in the results.",
                                     "PS3.18 8.3.4; PS3.4 C.2.2.2; statement", res))
            elif not should and hit:
                found.append(finding("qido.match-unexpected", Severity.ERROR,
                                     f"{what}: the stored study should not match but is in the results: "
                                     f"{kind} matching is not done as declared.",
                                     "PS3.18 8.3.4; PS3.4 C.2.2.2; statement", res))
            if kind == "universal" and hit:
                for d in items:
                    if (jsonmodel.value_of(d, STUDY_UID) == run.study
                            and jsonmodel.value_of(d, "00080050") != accession(data)):
                        found.append(finding("qido.universal-no-value", Severity.ERROR,
                                             f"{what}: universal matching returned Accession Number "
                                             f"{jsonmodel.value_of(d, '00080050')!r}, stored "
                                             f"{accession(data)!r}.", "PS3.4 C.2.2.2.3", res))
        return StepResult(found, observations, message=f"{len(observations)} search(es), {kind} matching")
    return action


def _instance_search(run: WebRun, url: str, extra: list[tuple[str, str]]) -> WebResponse:
    item = run.items[0]
    return search(run, url, "instance", [("StudyInstanceUID", item.study),
                                         ("SOPInstanceUID", item.sop_instance), *extra])


def includefield(all_fields: bool) -> Callable[[RunContext], StepResult]:
    """``dicomweb/qido/includefield[-all]``: an attribute outside the default return set
    (Image Type, PS3.18 Table 10.6.3-5) comes back when asked for (PS3.18 8.3.4.3)."""
    @on_web_study("qido_rs")
    def action(ctx: RunContext, run: WebRun, url: str) -> StepResult:
        ds = run.items[0].dataset
        if "ImageType" not in ds:
            return StepResult.skipped("not tested: the stored instance has no Image Type")
        value = "all" if all_fields else "00080008"
        what = f"QIDO-RS /instances includefield={value}"
        res = _instance_search(run, url, [("includefield", value)])
        if res.error:
            return transport_error(res, what)
        items, found = results(res, what)
        if not found:
            if not items:
                found.append(finding("qido.match-missing", Severity.ERROR,
                                     f"{what}: the stored instance was not found.", "PS3.18 10.6.1", res))
            elif jsonmodel.values_of(items[0], "00080008") != list(ds.ImageType):
                found.append(finding("qido.includefield", Severity.ERROR,
                                     f"{what}: Image Type (0008,0008) did not come back as stored "
                                     f"({list(ds.ImageType)}); got "
                                     f"{jsonmodel.values_of(items[0], '00080008') or 'nothing'}.",
                                     "PS3.18 8.3.4.3; statement", res))
        return StepResult(found, [res.observation(what, results=len(items))], message=what)
    return action


@on_web_study("qido_rs")
def paging(ctx: RunContext, run: WebRun, url: str) -> StepResult:
    """``dicomweb/qido/paging``: limit/offset pages of the study's instances (PS3.18 8.3.4.4)."""
    stored = {i.sop_instance for i in run.items}
    seen: list[str] = []
    found: list[Finding] = []
    observations: list[Mapping[str, Any]] = []
    for offset in range(len(stored) + 1):
        what = f"QIDO-RS /instances limit=1 offset={offset}"
        res = search(run, url, "instance", [("StudyInstanceUID", run.study), ("limit", "1"),
                                             ("offset", str(offset))])
        if res.error:
            return transport_error(res, what)
        items, problems = results(res, what)
        found += problems
        observations.append(res.observation(what, results=len(items)))
        if len(items) > 1:
            found.append(finding("qido.limit-ignored", Severity.ERROR,
                                 f"{what}: {len(items)} results; limit=1 allows one.", "PS3.18 8.3.4.4", res))
        seen += [str(jsonmodel.value_of(d, SOP_UID)) for d in items]
    if not found:
        if len(seen) != len(set(seen)):
            found.append(finding("qido.paging-duplicates", Severity.ERROR,
                                 "QIDO-RS paging returned an instance on more than one page.",
                                 "PS3.18 8.3.4.4"))
        if set(seen) != stored:
            found.append(finding("qido.paging-incomplete", Severity.ERROR,
                                 f"QIDO-RS pages of limit=1 gave {len(set(seen) & stored)} of the "
                                 f"{len(stored)} stored instances (and {len(set(seen) - stored)} others).",
                                 "PS3.18 8.3.4.4"))
    return StepResult(found, observations, message=f"{len(observations)} pages")


def bad_query(ctx: RunContext) -> StepResult:
    """``dicomweb/qido/bad-query``: ``limit=abc`` is not an unsigned integer: 400 expected
    (PS3.18 8.3.4.4; 8.6.3 status codes)."""
    got = endpoint(ctx, "qido_rs")
    if isinstance(got, StepResult):
        return got
    run, _service, url = got
    what = "QIDO-RS /studies?limit=abc"
    res = search(run, url, "study", [("limit", "abc")])
    if res.error:
        return transport_error(res, what)
    found = []
    if res.status is not None and res.status < 300:
        found.append(finding("qido.bad-query-accepted", Severity.ERROR,
                             f"{what}: HTTP {res.status}; an invalid query parameter value is "
                             "answered 400 Bad Request.", "PS3.18 8.3.4.4; 8.6.3", res))
    elif res.status != 400:
        found.append(finding("qido.bad-query-status", Severity.WARNING,
                             f"{what}: refused with HTTP {res.status}, not 400 Bad Request.",
                             "PS3.18 8.6.3", res))
    return StepResult(found, [res.observation(what)], message=f"{what}: HTTP {res.status}")

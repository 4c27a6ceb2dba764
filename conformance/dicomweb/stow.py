"""STOW-RS checks (PS3.18 10.5, Store Transaction).

- PS3.18 10.5.3 (Table 10.5.3-1 in recent editions): 200 OK when every instance was stored,
  202 Accepted when some were stored with warnings or some failed, 409 Conflict when none
  was stored, 4xx for a bad request; 415 for an unsupported payload media type.
- PS3.18 10.5.3.1 (Store Instances Response Module, Table 10.5.3-2): Retrieve URL
  (0008,1190), Failed SOP Sequence (0008,1198) with Referenced SOP Class/Instance UID and
  Failure Reason (0008,1197), Referenced SOP Sequence (0008,1199) with Referenced SOP
  Class/Instance UID, Retrieve URL and, where the instance was changed, Warning Reason
  (0008,1196).
- PS3.18 10.5.1: an instance whose Study Instance UID differs from the study of the target
  URL is not stored (it appears in the Failed SOP Sequence).

Not covered: JSON or XML metadata + bulk data requests, storing compressed transfer syntaxes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conformance.dicomweb import jsonmodel
from conformance.dicomweb.client import WebResponse
from conformance.dicomweb.common import (
    DICOM_JSON,
    endpoint,
    finding,
    make_instance,
    stow,
    transport_error,
)
from conformance.engine.model import RunContext, StepResult
from conformance.findings import Finding, Severity
from conformance.services.data import run_data
from conformance.standard import uids

REF = "PS3.18 10.5.3"


def judge(res: WebResponse, sent: dict[str, str], what: str, *, expect_stored: bool = True) -> list[Finding]:
    """Findings for a STOW-RS answer to the instances *sent* (SOP Instance UID -> SOP Class).

    *expect_stored*: the instances should all be stored (else all should fail)."""
    out: list[Finding] = []
    if not res.content_type and res.body.strip():
        # RFC 7231 3.1.1.5: a payload SHOULD carry a Content-Type; the body is still read.
        out.append(finding("stow.response-no-content-type", Severity.WARNING,
                           f"{what}: the HTTP {res.status} response has a body but no Content-Type "
                           f"(the {DICOM_JSON} asked for in Accept).", "PS3.18 10.5.3; RFC 7231 3.1.1.5",
                           res))
    elif res.media_type != DICOM_JSON:
        out.append(finding("stow.response-media-type", Severity.ERROR,
                           f"{what}: the response is {res.content_type or '(no Content-Type)'}, not "
                           f"the {DICOM_JSON} asked for in Accept.", "PS3.18 8.7.5; 10.5.3", res))
    try:
        doc: Any = json.loads(res.body) if res.body.strip() else {}
    except ValueError:
        doc = None
        if res.media_type in (DICOM_JSON, ""):
            out.append(finding("stow.response-not-json", Severity.ERROR,
                               f"{what}: the {DICOM_JSON} response body is not JSON.", "PS3.18 F.2", res))
    if isinstance(doc, list) and len(doc) == 1:
        doc = doc[0]
    if doc is not None and not isinstance(doc, dict):
        out.append(finding("stow.response-not-object", Severity.ERROR,
                           f"{what}: the response is not one DICOM JSON object.", "PS3.18 10.5.3.1", res))
        doc = {}
    doc = doc or {}
    for p in jsonmodel.problems(doc)[:10]:
        out.append(finding("stow.json-model", Severity.ERROR, f"{what}: {p}", "PS3.18 F.2", res))
    ok_items = [i for i in jsonmodel.values_of(doc, "00081199") if isinstance(i, dict)]
    bad_items = [i for i in jsonmodel.values_of(doc, "00081198") if isinstance(i, dict)]
    ok = {str(jsonmodel.value_of(i, "00081155")): i for i in ok_items}
    bad = {str(jsonmodel.value_of(i, "00081155")): i for i in bad_items}
    status = res.status
    if expect_stored:
        stored_with_warnings = status == 202 and set(sent) <= set(ok) and not bad
        if status != 200 and not stored_with_warnings:
            sev = Severity.ERROR
            out.append(finding("stow.not-stored", sev,
                               f"{what}: HTTP {status} where every instance of a declared SOP class "
                               "should be stored (200 OK).", f"{REF}; statement", res,
                               failure_reasons=[jsonmodel.value_of(i, "00081197") for i in bad_items]))
        for inst, sop in sent.items():
            item = ok.get(inst)
            if item is None:
                if status == 200:
                    out.append(finding("stow.referenced-missing", Severity.ERROR,
                                       f"{what}: {inst} is not in the Referenced SOP Sequence (0008,1199) "
                                       "of a 200 OK response.", "PS3.18 10.5.3.1", res))
                continue
            if str(jsonmodel.value_of(item, "00081150")) != sop:
                out.append(finding("stow.referenced-class", Severity.ERROR,
                                   f"{what}: Referenced SOP Class UID of {inst} is "
                                   f"{jsonmodel.value_of(item, '00081150')!r}, stored {sop}.",
                                   "PS3.18 10.5.3.1", res))
            if not jsonmodel.value_of(item, "00081190"):
                out.append(finding("stow.retrieve-url-missing", Severity.WARNING,
                                   f"{what}: the Referenced SOP Sequence item of {inst} has no "
                                   "Retrieve URL (0008,1190).", "PS3.18 10.5.3.1, Table 10.5.3-2", res))
            reason = jsonmodel.value_of(item, "00081196")
            if reason is not None:
                out.append(finding("stow.warning-reason", Severity.WARNING,
                                   f"{what}: {inst} was stored with Warning Reason "
                                   f"{_hex(reason)} (coerced or discarded elements).",
                                   "PS3.18 10.5.3.1; PS3.4 B.2.3", res, warning_reason=reason))
        if status == 200 and bad:
            out.append(finding("stow.failed-in-200", Severity.ERROR,
                               f"{what}: a 200 OK response lists failed instances "
                               f"({', '.join(sorted(bad))}); 200 means all were stored.", REF, res))
    else:
        if status == 200 or set(sent) & set(ok):
            out.append(finding("stow.mismatch-stored", Severity.ERROR,
                               f"{what}: HTTP {status}; the origin server stored an instance that "
                               "should have been refused.", "PS3.18 10.5.1; 10.5.3", res))
        elif status not in (409, 202, 400):
            out.append(finding("stow.failure-status", Severity.WARNING,
                               f"{what}: refused with HTTP {status}; PS3.18 answers 409 Conflict "
                               "when no instance was stored.", REF, res))
        for inst in sent:
            item = bad.get(inst)
            if item is None and status in (409, 202):
                out.append(finding("stow.failed-missing", Severity.ERROR,
                                   f"{what}: the refused instance {inst} is not in the Failed SOP "
                                   "Sequence (0008,1198).", "PS3.18 10.5.3.1", res))
            elif item is not None and jsonmodel.value_of(item, "00081197") is None:
                out.append(finding("stow.failure-reason-missing", Severity.ERROR,
                                   f"{what}: the Failed SOP Sequence item of {inst} has no Failure "
                                   "Reason (0008,1197).", "PS3.18 10.5.3.1, Table 10.5.3-2", res))
    return out


def _hex(value: Any) -> str:
    return f"0x{value:04X}" if isinstance(value, int) else repr(value)


def store_class(sop: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/stow/<SOP class>``: one synthesized instance stored by STOW-RS."""
    def action(ctx: RunContext) -> StepResult:
        got = endpoint(ctx, "stow_rs")
        if isinstance(got, StepResult):
            return got
        run, _service, url = got
        data = run_data(ctx.shared)
        ds = make_instance(data, sop, patient=data.patient("WEB"), name=f"WEB^STOW{data.token}",
                           study=data.uid("web-stow", sop), series=data.uid("web-stow-series", sop), number=1)
        what = f"STOW-RS of {uids.keyword_of(sop)}"
        res = stow(run, url, [ds])
        if res.error:
            return transport_error(res, what)
        found = judge(res, {str(ds.SOPInstanceUID): sop}, what)
        return StepResult(found, [res.observation(what, sop_class=sop, sop_instance=str(ds.SOPInstanceUID),
                                                  patient_id=str(ds.PatientID))],
                          message=f"{what}: HTTP {res.status}")
    return action


def study_mismatch(ctx: RunContext) -> StepResult:
    """``dicomweb/stow/study-mismatch``: POST to /studies/{other} an instance of another study."""
    from conformance.dicomweb.common import first_class
    got = endpoint(ctx, "stow_rs")
    if isinstance(got, StepResult):
        return got
    run, _service, url = got
    sop = first_class(ctx)
    if sop is None:
        return StepResult.skipped("not tested: no SOP class to store")
    data = run_data(ctx.shared)
    ds = make_instance(data, sop, patient=data.patient("WEB"), name=f"WEB^MISMATCH{data.token}",
                       study=data.uid("web-mismatch"), series=data.uid("web-mismatch-series"), number=1)
    what = "STOW-RS to /studies/{another study}"
    res = stow(run, url, [ds], study=data.uid("web-other-study"))
    if res.error:
        return transport_error(res, what)
    found = judge(res, {str(ds.SOPInstanceUID): sop}, what, expect_stored=False)
    return StepResult(found, [res.observation(what)], message=f"{what}: HTTP {res.status}")

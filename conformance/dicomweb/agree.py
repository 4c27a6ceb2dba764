"""The web and DIMSE faces of one device agree, and text survives both (PS3.18 with PS3.4).

- ``dicomweb/agree/dimse-to-web``: an instance stored by C-STORE (PS3.4 B.2) is found by
  QIDO-RS (PS3.18 10.6) and read back by WADO-RS (PS3.18 10.4) unchanged;
- ``dicomweb/agree/web-to-dimse``: an instance stored by STOW-RS (PS3.18 10.5) is found by
  C-FIND (PS3.4 C.4.1) and retrieved by C-GET (PS3.4 C.4.3) unchanged;
- ``dicomweb/character-set/<term>``: a patient name in that repertoire (``张三^李四`` for
  ISO_IR 192 and GB18030) stored by STOW-RS comes back the same from QIDO-RS and from WADO-RS
  metadata (PS3.18 F.2: the JSON model is UTF-8; PS3.5 6.1).

The patient name of the agree steps is the ISO_IR 192 one when the statement declares that
character set (``character_sets``), else plain ASCII. A QIDO-RS or C-FIND answer that says it
is in a character set that cannot hold the stored name is a warning (characters lost in
query results, the instance intact), as in the C-FIND checks; any other difference is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydicom.dataset import Dataset

from conformance.dicomweb import jsonmodel, qido, wado
from conformance.dicomweb.common import (
    WebItem,
    WebRun,
    endpoint,
    finding,
    first_class,
    make_instance,
    stow,
    transport_error,
    web_run,
)
from conformance.dicomweb.stow import judge as judge_stow
from conformance.engine.model import Outcome, RunContext, Step, StepResult
from conformance.findings import Finding, Severity
from conformance.negotiation.association import ProposedContext, associate
from conformance.services import query as qr
from conformance.services import retrieve as rt
from conformance.services.compare import compare
from conformance.services.data import CHARSET_NAMES, run_data
from conformance.services.storage import encode_dataset, store_wire
from conformance.services.wire import open_association
from conformance.statement.model import Role, Statement

EXPLICIT = "1.2.840.10008.1.2.1"
UNCOMPRESSED = (EXPLICIT, "1.2.840.10008.1.2")
STUDY_ROOT_FIND, STUDY_ROOT_MOVE, STUDY_ROOT_GET, _LEVELS = qr.MODELS["StudyRoot"]
PN = "00100010"


def representable(text: str, charset: object) -> bool:
    """Whether *text* can be encoded in the Specific Character Set *charset* (PS3.5 6.1)."""
    from pydicom.charset import convert_encodings
    terms = list(charset) if isinstance(charset, (list, tuple)) else [str(charset or "")]
    try:
        codecs = convert_encodings(terms)
    except Exception:  # noqa: BLE001 - unknown term: cannot tell, treat as not representable
        return False
    for codec in codecs:
        try:
            text.replace("^", "").replace("=", "").encode(codec)
            return True
        except (UnicodeError, LookupError):
            continue
    return False


def name_findings(got: Any, name: str, charset: Any, what: str, ref: str, source: str | None = None,
                  *, lossy_allowed: bool) -> list[Finding]:
    """A Person Name that came back, held against the stored *name*."""
    if got == name or (isinstance(got, str) and got.rstrip("=") == name):
        return []
    if lossy_allowed and charset is not None and not representable(name, charset):
        return [Finding("agree.character-set-lossy", Severity.WARNING,
                        f"{what}: answered in Specific Character Set {charset!r}, which cannot hold the "
                        f"stored Patient Name {name!r}: it came back as {got!r}. The stored instance is "
                        "intact; query results lose characters.", reference=ref, tag="(0010,0010)",
                        source=source)]
    return [Finding("agree.name-changed", Severity.ERROR,
                    f"{what}: Patient Name came back as {got!r}, stored {name!r}.", reference=ref,
                    tag="(0010,0010)", source=source)]


def _name_and_charset(statement: Statement) -> tuple[str, str | None]:
    if "ISO_IR 192" in statement.character_sets:
        return "张三^李四", "ISO_IR 192"
    return "AGREE^CONFORMANCE", None


def _qido_name(run: WebRun, url: str, patient: str, study: str, name: str, what: str
               ) -> tuple[list[Finding], list[Mapping[str, Any]]]:
    res = qido.search(run, url, "study", [("PatientID", patient), ("StudyInstanceUID", study)])
    if res.error:
        return [], [res.observation(what, error=res.error)]
    items, found = qido.results(res, what)
    hit = [d for d in items if jsonmodel.value_of(d, qido.STUDY_UID) == study]
    if not found and not hit:
        found.append(finding("agree.qido-missing", Severity.ERROR,
                             f"{what}: the study is not found by QIDO-RS.", "PS3.18 10.6", res))
    for d in hit:
        charset = jsonmodel.values_of(d, "00080005") or None
        found += name_findings(jsonmodel.value_of(d, PN), name, charset, what,
                               "PS3.18 F.2; PS3.5 6.1", res.url, lossy_allowed=True)
    return found, [res.observation(what, results=len(items))]


def dimse_to_web(ctx: RunContext) -> StepResult:
    """C-STORE, then QIDO-RS and WADO-RS (instance, compared) of the same instance."""
    qido_at = endpoint(ctx, "qido_rs")
    wado_at = endpoint(ctx, "wado_rs")
    if isinstance(qido_at, StepResult):
        return qido_at
    if isinstance(wado_at, StepResult):
        return wado_at
    run = web_run(ctx)
    sop = first_class(ctx)
    if sop is None or not ctx.statement.declares(sop, Role.SCP, EXPLICIT):
        return StepResult.skipped("not tested: no SOP class declared for both C-STORE (Explicit VR "
                                  "Little Endian) and STOW-RS")
    data = run_data(ctx.shared)
    name, charset = _name_and_charset(ctx.statement)
    patient = data.patient("AGREE")
    ds = make_instance(data, sop, patient=patient, name=name, study=data.uid("agree-dimse"),
                       series=data.uid("agree-dimse-series"), number=1, charset=charset)
    ctxt = ProposedContext(sop, (EXPLICIT,))
    outcome, wire = open_association(ctx.target, [ctxt])
    if wire is None:
        return StepResult.error(f"could not associate for C-STORE: {outcome.describe()}")
    try:
        ex = store_wire(wire, ctxt, sop, str(ds.SOPInstanceUID), EXPLICIT, encode_dataset(ds, EXPLICIT), 1)
    finally:
        wire.release()
    if ex.error or any(f.severity is Severity.ERROR for f in ex.findings):
        return StepResult(ex.findings, list(ex.observations),
                          message=f"C-STORE failed: {ex.error or ex.findings[0].message}",
                          outcome=Outcome.ERROR if ex.error else None)
    found, observations = _qido_name(run, qido_at[2], patient, str(ds.StudyInstanceUID), name,
                                     "QIDO-RS of the instance stored by C-STORE")
    item = WebItem(sop, str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), ds)
    what = "WADO-RS of the instance stored by C-STORE"
    res = run.client.request("GET", f"{wado_at[2]}/studies/{item.study}/series/{item.series}/instances/"
                             f"{item.sop_instance}", accept='multipart/related; type="application/dicom"')
    observations.append(res.observation(what))
    if res.error:
        return transport_error(res, what)
    parts, problems = wado._multipart(res, what, "application/dicom")
    found += problems
    got = wado._read_part(parts[0].body) if len(parts) == 1 else None
    if not problems and got is None:
        found.append(finding("agree.wado-unreadable", Severity.ERROR,
                             f"{what}: {len(parts)} part(s), not one PS3.10 file.", "PS3.18 10.4.1.1.1", res))
    elif got is not None:
        found += compare(ds, got, where=f"{what}: ")
    return StepResult(found, observations, message=f"C-STORE, QIDO-RS, WADO-RS: {len(found)} finding(s)")


def web_to_dimse(ctx: RunContext) -> StepResult:
    """STOW-RS, then C-FIND (Study Root) and C-GET of the same instance, compared."""
    got = endpoint(ctx, "stow_rs")
    if isinstance(got, StepResult):
        return got
    run, _s, url = got
    sop = first_class(ctx)
    if sop is None:
        return StepResult.skipped("not tested: no SOP class to store")
    data = run_data(ctx.shared)
    name, charset = _name_and_charset(ctx.statement)
    patient = data.patient("AGREEW")
    ds = make_instance(data, sop, patient=patient, name=name, study=data.uid("agree-web"),
                       series=data.uid("agree-web-series"), number=1, charset=charset)
    what = "STOW-RS of the instance then found by C-FIND"
    res = stow(run, url, [ds])
    if res.error:
        return transport_error(res, what)
    found = judge_stow(res, {str(ds.SOPInstanceUID): sop}, "STOW-RS")
    observations: list[Mapping[str, Any]] = [res.observation("STOW-RS")]
    if found:
        return StepResult(found, observations, message="STOW-RS did not store the instance")
    ident = Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    if charset:
        ident.SpecificCharacterSet = charset
    ident.PatientID, ident.PatientName, ident.StudyInstanceUID = patient, "", str(ds.StudyInstanceUID)
    with associate(ctx.target, [ProposedContext(STUDY_ROOT_FIND, UNCOMPRESSED)]) as (outcome, assoc):
        if assoc is None:
            return StepResult.error(f"could not associate for C-FIND: {outcome.describe()}")
        result = qr.find(assoc, STUDY_ROOT_FIND, ident, 1)
    found += qr.status_findings(result, "C-FIND of the STOW-RS study")
    observations.append(qr.observation(result, "C-FIND of the STOW-RS study"))
    if result.error:
        return StepResult(found, observations, message=result.error, outcome=Outcome.ERROR)
    if not result.matches:
        found.append(Finding("agree.cfind-missing", Severity.ERROR,
                             "C-FIND does not find the study stored by STOW-RS.", reference="PS3.4 C.4.1"))
    for m in result.matches:
        found += name_findings(str(m.get("PatientName", "")), name, m.get("SpecificCharacterSet"),
                               "C-FIND of the STOW-RS study", "PS3.4 C.4.1.2.2.1; PS3.5 6.1",
                               lossy_allowed=True)
    verb = ""
    if ctx.statement.declares(STUDY_ROOT_GET, Role.SCP):
        verb = ", C-GET"
        found += _get_and_compare(ctx, ds, observations)
    elif ctx.statement.declares(STUDY_ROOT_MOVE, Role.SCP):
        port = ctx.target.harness_port or ctx.statement.harness.port
        if port is None:
            observations.append({"what": "C-MOVE not tried: no --harness-port (the port the device "
                                         "moves to) is known"})
        else:
            verb = ", C-MOVE"
            found += _move_and_compare(ctx, ds, port, observations)
    return StepResult(found, observations, message=f"STOW-RS, C-FIND{verb}: {len(found)} finding(s)")


def _get_and_compare(ctx: RunContext, ds: Dataset, observations: list[Mapping[str, Any]]) -> list[Finding]:
    get_ctx = ProposedContext(STUDY_ROOT_GET, UNCOMPRESSED)
    contexts = [get_ctx, *(ProposedContext(str(ds.SOPClassUID), (ts,), scu_role=False, scp_role=True)
                           for ts in UNCOMPRESSED)]
    outcome, wire = open_association(ctx.target, contexts)
    if wire is None or get_ctx not in wire.context_ids:
        if wire is not None:
            wire.abort()
        return [Finding("agree.cget-not-open", Severity.ERROR,
                        f"could not open a C-GET association: {outcome.describe()}",
                        reference="PS3.4 C.4.3; statement")]
    ident = Dataset()
    ident.QueryRetrieveLevel = "IMAGE"
    ident.StudyInstanceUID, ident.SeriesInstanceUID = ds.StudyInstanceUID, ds.SeriesInstanceUID
    ident.SOPInstanceUID = ds.SOPInstanceUID
    arrived: list[Dataset] = []
    try:
        result = rt.get_wire(wire, get_ctx, ident, 2, arrived)
    finally:
        wire.release()
    what = "C-GET of the STOW-RS instance"
    observations.append(rt.observation(result, what, len(arrived)))
    found = rt.check(result, what, expected={str(ds.SOPInstanceUID)}, arrived=arrived, service="get")
    for got in arrived:
        found += compare(ds, got, where=f"{what}: ")
    return found


def _move_and_compare(ctx: RunContext, ds: Dataset, port: int,
                      observations: list[Mapping[str, Any]]) -> list[Finding]:
    """C-MOVE (Study Root, IMAGE level) of *ds* to the harness' listener, then compare."""
    from conformance.services.listener import SETTLE, HarnessListener
    dest = ctx.statement.harness.move_destination or ctx.statement.harness.ae_title
    ident = Dataset()
    ident.QueryRetrieveLevel = "IMAGE"
    ident.StudyInstanceUID, ident.SeriesInstanceUID = ds.StudyInstanceUID, ds.SeriesInstanceUID
    ident.SOPInstanceUID = ds.SOPInstanceUID
    what = "C-MOVE of the STOW-RS instance"
    with HarnessListener(dest, port) as listener:
        with associate(ctx.target, [ProposedContext(STUDY_ROOT_MOVE, UNCOMPRESSED)]) as (outcome, assoc):
            if assoc is None:
                return [Finding("agree.cmove-not-open", Severity.ERROR,
                                f"could not open a C-MOVE association: {outcome.describe()}",
                                reference="PS3.4 C.4.2; statement")]
            result = rt.move(assoc, STUDY_ROOT_MOVE, ident, dest, 3)
        listener.wait_received(1, SETTLE * 10)
        arrived = list(listener.received)
    observations.append(rt.observation(result, what, len(arrived)))
    found = rt.check(result, what, expected={str(ds.SOPInstanceUID)}, arrived=arrived, service="move")
    for got in arrived:
        found += compare(ds, got, where=f"{what}: ")
    return found


def character_set(term: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/character-set/<term>``: STOW-RS, then QIDO-RS and WADO-RS metadata."""
    def action(ctx: RunContext) -> StepResult:
        got = endpoint(ctx, "stow_rs")
        if isinstance(got, StepResult):
            return got
        run, _s, url = got
        sop = first_class(ctx)
        if sop is None:
            return StepResult.skipped("not tested: no SOP class to store")
        data = run_data(ctx.shared)
        name = CHARSET_NAMES[term]
        patient = data.patient(f"WEBCS{len(term)}{term[-3:].strip().replace(' ', '')}")
        ds = make_instance(data, sop, patient=patient, name=name, study=data.uid("web-cs", term),
                           series=data.uid("web-cs-series", term), number=1, charset=term)
        res = stow(run, url, [ds])
        if res.error:
            return transport_error(res, f"STOW-RS of the {term} patient")
        found = judge_stow(res, {str(ds.SOPInstanceUID): sop}, f"STOW-RS of the {term} patient")
        observations: list[Mapping[str, Any]] = [res.observation(f"STOW-RS of the {term} patient")]
        if found:
            return StepResult(found, observations, message="not stored")
        qido_at = endpoint(ctx, "qido_rs")
        if not isinstance(qido_at, StepResult):
            f2, o2 = _qido_name(run, qido_at[2], patient, str(ds.StudyInstanceUID), name,
                                f"QIDO-RS of the {term} patient")
            found += f2
            observations += o2
        wado_at = endpoint(ctx, "wado_rs")
        if not isinstance(wado_at, StepResult):
            item = WebItem(sop, str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), ds)
            what = f"WADO-RS metadata of the {term} patient"
            meta = wado.metadata_of(run, wado_at[2], item)
            observations.append(meta.observation(what))
            if not meta.error:
                try:
                    doc = json.loads(meta.body)
                    obj = doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else {}
                except ValueError:
                    obj = {}
                found += name_findings(jsonmodel.value_of(obj, PN), name, None, what,
                                       "PS3.18 F.2; PS3.5 6.1", meta.url, lossy_allowed=False)
        return StepResult(found, observations, message=f"{term}: {len(found)} finding(s)")
    return action


def steps(statement: Statement) -> list[Step]:
    """The agree and character-set steps the statement implies."""
    web = statement.dicomweb
    if web is None or web.role != "origin-server":
        return []
    out: list[Step] = []
    storage = {c.sop_class for c in statement.capabilities(Role.SCP)}
    if web.stow_rs is not None:
        for term in ("ISO_IR 100", "ISO_IR 192", "GB18030"):
            if term in web.character_sets:
                out.append(Step(f"dicomweb/character-set/{term.replace(' ', '_')}",
                                f"A patient name in {term} survives STOW-RS, QIDO-RS and WADO-RS",
                                "PS3.18 F.2; PS3.5 6.1", action=character_set(term), time_limit=300.0))
    if storage and web.qido_rs is not None and web.wado_rs is not None:
        out.append(Step("dicomweb/agree/dimse-to-web", "Stored by C-STORE, found by QIDO-RS, read by "
                        "WADO-RS, unchanged", "PS3.18 10.4; 10.6; PS3.4 B.2", action=dimse_to_web,
                        time_limit=300.0))
    if web.stow_rs is not None and statement.declares(STUDY_ROOT_FIND, Role.SCP):
        out.append(Step("dicomweb/agree/web-to-dimse", "Stored by STOW-RS, found by C-FIND, retrieved "
                        "by C-GET, unchanged", "PS3.18 10.5; PS3.4 C.4.1; C.4.3", action=web_to_dimse,
                        time_limit=300.0))
    return out



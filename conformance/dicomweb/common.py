"""What the dicomweb steps of one run share: the access, the HTTP client, the data stored.

The run's data (PS3.18 10.5 STOW-RS) is one study of patient ``CONFTEST-<token>-WEB`` (the run
token of :mod:`conformance.services.data`, so nothing collides with an earlier run): two
series, three instances of the first SOP class the statement lets the harness store, in
Explicit VR Little Endian. The steps that read or search work on it; a step run alone
(``-k dicomweb/wado``) stores it first.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite

from conformance.dicomweb import jsonmodel
from conformance.dicomweb.client import ACCESS_KEY, WebAccess, WebClient, WebResponse, service_url
from conformance.dicomweb.multipart import build
from conformance.engine.model import Outcome, RunContext, StepResult
from conformance.findings import Finding, Severity
from conformance.services.data import RunData, run_data
from conformance.standard import uids
from conformance.statement.model import DicomWeb, Role, WebService

SHARED_KEY = "dicomweb.run"
EXPLICIT = "1.2.840.10008.1.2.1"
DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
PREFERRED = ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.7")


@dataclass
class WebItem:
    """One instance the harness stored (by STOW-RS or C-STORE) and may read back."""

    sop_class: str
    study: str
    series: str
    sop_instance: str
    dataset: Dataset


@dataclass
class WebRun:
    access: WebAccess
    client: WebClient
    items: list[WebItem] = field(default_factory=list)
    ready: bool | None = None
    problem: str = ""

    @property
    def study(self) -> str:
        return self.items[0].study if self.items else ""


def web_run(ctx: RunContext) -> WebRun:
    """The run's web state; the client is closed when the run ends."""
    run = ctx.shared.get(SHARED_KEY)
    if run is None:
        access = ctx.shared.get(ACCESS_KEY) or WebAccess.from_env()
        web = ctx.statement.dicomweb
        client = WebClient(access, web.authentication if web else "none")
        run = ctx.shared[SHARED_KEY] = WebRun(access, client)
        ctx.cleanups.append(client.close)
    return run


def section(ctx: RunContext) -> DicomWeb:
    web = ctx.statement.dicomweb
    assert web is not None, "dicomweb steps are planned only for statements with the section"
    return web


def endpoint(ctx: RunContext, key: str) -> tuple[WebRun, WebService, str] | StepResult:
    """(run, declared service, absolute base URL), or the set-up problem as an error result."""
    web = section(ctx)
    service = getattr(web, key)
    run = web_run(ctx)
    if service is None:
        return StepResult.skipped(f"not tested: the statement declares no {key}")
    url = service_url(service.url, run.access.origin)
    if url is None:
        # A DIMSE-only run of a statement that also declares DICOMweb: said, not failed.
        return StepResult.skipped(
            f"not tested: the statement gives {key}.url as the path {service.url!r}; give the "
            "origin server with --dicomweb-url http://HOST:PORT (or CONFORMANCE_DICOMWEB_URL)")
    missing = run.access.missing_credentials(web.authentication)
    if missing:
        return StepResult.error(f"set-up: {missing}")
    return run, service, url


def transport_error(res: WebResponse, what: str) -> StepResult:
    """No usable HTTP answer. Not connected: the harness could not test (error). Connected
    and then no answer in time, a body past the cap, or broken HTTP: the origin server
    failed a request it accepted (RFC 9112; PS3.18 8), a failure with a finding."""
    if not res.connected:
        return StepResult([], [res.observation(what)], message=f"{what}: {res.describe()}",
                          outcome=Outcome.ERROR)
    return StepResult([finding("dicomweb.no-usable-answer", Severity.ERROR,
                               f"{what}: {res.error}.", "PS3.18 8; RFC 9110", res)],
                      [res.observation(what)], message=f"{what}: {res.describe()}")


def finding(code: str, severity: Severity, message: str, reference: str, res: WebResponse | None = None,
            **details: Any) -> Finding:
    return Finding(code, severity, message, reference=reference,
                   source=res.url if res is not None else None,
                   details={k: v for k, v in details.items() if v is not None})


def encode_part(ds: Dataset) -> bytes:
    """A PS3.10 file (preamble, DICM, meta) as STOW-RS and WADO-RS carry it (PS3.18 8.6.1.2)."""
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def stow_classes(ctx: RunContext) -> list[str]:
    """The SOP classes declared for STOW-RS (default: storage classes declared SCP)."""
    web = section(ctx)
    if web.stow_rs is not None and web.stow_rs.sop_classes:
        return list(web.stow_rs.sop_classes)
    storage = set(uids.storage_sop_classes().values())
    return [c.sop_class for c in ctx.statement.capabilities(Role.SCP) if c.sop_class in storage]


def first_class(ctx: RunContext) -> str | None:
    classes = stow_classes(ctx)
    return next((c for c in PREFERRED if c in classes), classes[0] if classes else None)


def make_instance(data: RunData, sop: str, *, patient: str, name: str, study: str, series: str,
                  number: int, charset: str | None = None) -> Dataset:
    """A synthesized instance of *sop* with the run's identities, Explicit VR Little Endian."""
    return data.instance(sop, EXPLICIT, patient=patient, name=name, study=study, series=series,
                         number=number, charset=charset).dataset


def stow(run: WebRun, url: str, datasets: list[Dataset], study: str | None = None) -> WebResponse:
    """POST the instances to ``{url}/studies[/{study}]`` (PS3.18 10.5.1), JSON response."""
    ctype, body = build([(DICOM, encode_part(ds)) for ds in datasets], DICOM)
    target = f"{url}/studies" + (f"/{study}" if study else "")
    return run.client.request("POST", target, content=body, content_type=ctype, accept=DICOM_JSON)


def referenced(res: WebResponse) -> tuple[set[str], set[str]]:
    """(SOP Instance UIDs in Referenced SOP Sequence, in Failed SOP Sequence) of a STOW answer."""
    import json
    try:
        doc = json.loads(res.body or b"{}")
    except ValueError:
        return set(), set()
    if isinstance(doc, list) and doc:
        doc = doc[0]
    if not isinstance(doc, dict):
        return set(), set()
    ok = {str(jsonmodel.value_of(i, "00081155")) for i in jsonmodel.values_of(doc, "00081199")
          if isinstance(i, dict)}
    bad = {str(jsonmodel.value_of(i, "00081155")) for i in jsonmodel.values_of(doc, "00081198")
           if isinstance(i, dict)}
    return ok, bad


def accession(data: RunData) -> str:
    """The Accession Number of the run's web study (unique to the run)."""
    return f"W{data.token}"


def web_patient(data: RunData) -> tuple[str, str]:
    """(Patient ID, Patient Name) of the run's web study."""
    return data.patient("WEB"), f"WEB^CONFORMANCE{data.token}"


def ensure_web_study(ctx: RunContext) -> tuple[WebRun, str]:
    """Store the run's web study by STOW-RS once; ('' or why it could not)."""
    run = web_run(ctx)
    if run.ready is not None:
        return run, run.problem
    run.ready, run.problem = False, ""
    got = endpoint(ctx, "stow_rs")
    sop = first_class(ctx)
    if isinstance(got, StepResult):
        run.problem = f"could not store the web study: {got.message}"
        return run, run.problem
    if sop is None:
        run.problem = "no SOP class to store by STOW-RS is declared"
        return run, run.problem
    _, _, url = got
    data = run_data(ctx.shared)
    study = data.uid("web-study")
    patient, name = web_patient(data)
    datasets = [make_instance(data, sop, patient=patient, name=name,
                              study=study, series=data.uid("web-series", s), number=n)
                for n, s in ((1, "1"), (2, "1"), (3, "2"))]
    for ds in datasets:
        ds.AccessionNumber = accession(data)
    res = stow(run, url, datasets)
    ok, _bad = referenced(res)
    if res.error or res.status not in (200, 202):
        run.problem = f"could not store the web study: {res.describe()}"
        return run, run.problem
    for ds in datasets:
        if str(ds.SOPInstanceUID) in ok or res.status == 200:
            run.items.append(WebItem(sop, study, str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), ds))
    if not run.items:
        run.problem = "the origin server stored none of the web study's instances"
        return run, run.problem
    run.ready = True
    return run, ""


def on_web_study(key: str) -> Callable[[Callable[[RunContext, WebRun, str], StepResult]],
                                       Callable[[RunContext], StepResult]]:
    """A step action that needs the declared service *key* (its absolute URL) and the run's web
    study stored by STOW-RS: the set-up problem or "not tested" comes back before *fn* runs."""
    def wrap(fn: Callable[[RunContext, WebRun, str], StepResult]) -> Callable[[RunContext], StepResult]:
        @functools.wraps(fn)
        def action(ctx: RunContext) -> StepResult:
            got = endpoint(ctx, key)
            if isinstance(got, StepResult):
                return got
            run, problem = ensure_web_study(ctx)
            if problem:
                return StepResult.skipped(f"not tested: {problem}")
            return fn(ctx, run, got[2])
        return action
    return wrap

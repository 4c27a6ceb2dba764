"""WADO-RS and WADO-URI checks (PS3.18 10.4 Retrieve Transaction; PS3.18 9 URI Service).

On the run's web study (stored by STOW-RS; see :mod:`conformance.dicomweb.common`):

- instances in each declared transfer syntax (PS3.18 8.7.3.5.2, Table 8.7.3-5:
  ``multipart/related; type="application/dicom"; transfer-syntax=...``): one part per
  instance, each a PS3.10 file in the syntax asked for, compared element by element and, for
  lossless syntaxes, pixel by pixel with what was stored (PS3.4 B.4.1, as the DIMSE round
  trip);
- study retrieval: every stored instance of the study comes back (PS3.18 10.4.1.1.1);
- metadata (PS3.18 10.4.1.1.2, F.2): a valid JSON model, equal to what was stored except
  bulk data (given by BulkDataURI/InlineBinary) and Specific Character Set (JSON is UTF-8);
- frames (PS3.18 10.4.1.1.4) and bulk data (PS3.18 10.4.1.1.5) in each declared media type:
  native frames and pixel bulk data byte for byte; other media types by their signature;
- rendered resources and thumbnails (PS3.18 10.4.1.1.3, 8.7.4): the media type asked for,
  with that format's signature;
- errors: an unknown Study Instance UID is answered 404 (PS3.18 8.6.3), an Accept with only
  an undeclared media type 406 (PS3.18 8.7.5);
- WADO-URI (PS3.18 9.1-9.3): each declared contentType.

Not covered: XML metadata, range requests, rendered-resource parameters (window, viewport,
quality), multi-frame media types.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from pydicom import dcmread
from pydicom.dataset import Dataset

from conformance.dicomweb import jsonmodel
from conformance.dicomweb.client import WebResponse
from conformance.dicomweb.common import (
    on_web_study,
    DICOM,
    DICOM_JSON,
    WebItem,
    WebRun,
    endpoint,
    ensure_web_study,
    finding,
    transport_error,
)
from conformance.dicomweb.multipart import parse
from conformance.engine.model import RunContext, StepResult
from conformance.findings import Finding, Severity
from conformance.services.compare import compare
from conformance.services.encoding import LOSSLESS
from conformance.standard import uids

#: File signatures of the media types the harness recognises (the format's own specification).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"), "image/jp2": (b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51"),
    "image/jls": (b"\xff\xd8\xff",), "video/mp4": (),
}
#: Media types offered to provoke 406 when a resource does not declare them.
UNDECLARED_CANDIDATES = ("application/dicom+xml", "image/gif", "text/html")


def _instance_url(url: str, item: WebItem) -> str:
    return f"{url}/studies/{item.study}/series/{item.series}/instances/{item.sop_instance}"


def _multipart(res: WebResponse, what: str, part_type: str) -> tuple[list[Any], list[Finding]]:
    """The parts of a multipart/related answer whose parts should be *part_type*."""
    found: list[Finding] = []
    if res.status != 200:
        found.append(finding("wado.status", Severity.ERROR,
                             f"{what}: HTTP {res.status}, where the declared resource should be "
                             "answered 200.", "PS3.18 10.4.3; statement", res))
        return [], found
    mp = parse(res.content_type, res.body)
    for p in mp.problems:
        found.append(finding("wado.multipart", Severity.ERROR, f"{what}: {p}.",
                             "PS3.18 8.6.1.2; RFC 2387", res))
    if res.media_type == "multipart/related":
        declared = (res.params.get("type") or "").split(";")[0].strip().lower()
        if declared and declared != part_type:
            found.append(finding("wado.multipart-type", Severity.ERROR,
                                 f"{what}: the multipart type parameter is {declared!r}, asked "
                                 f"{part_type!r}.", "PS3.18 8.7.3; 8.7.5", res))
    for i, part in enumerate(mp.parts):
        if part.media_type and part.media_type != part_type:
            found.append(finding("wado.part-type", Severity.ERROR,
                                 f"{what}: part {i + 1} is {part.content_type!r}, asked {part_type!r}.",
                                 "PS3.18 8.7.3; 8.7.5", res))
    return mp.parts, found


def _read_part(body: bytes) -> Dataset | None:
    try:
        return dcmread(io.BytesIO(body))
    except Exception:  # noqa: BLE001 - whatever the server sent; said as a finding
        return None


def instances(ts: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/wado/instances/<syntax>``: the first instance, in *ts* ('*': as stored)."""
    @on_web_study("wado_rs")
    def action(ctx: RunContext, run: WebRun, url: str) -> StepResult:
        item = run.items[0]
        accept = f'multipart/related; type="{DICOM}"; transfer-syntax={ts}'
        label = "as stored" if ts == "*" else uids.keyword_of(ts)
        what = f"WADO-RS instance in {label}"
        res = run.client.request("GET", _instance_url(url, item), accept=accept)
        if res.error:
            return transport_error(res, what)
        parts, found = _multipart(res, what, DICOM)
        obs = res.observation(what, parts=len(parts), transfer_syntax=ts)
        if found:
            return StepResult(found, [obs], message=what)
        if len(parts) != 1:
            return StepResult([finding("wado.part-count", Severity.ERROR,
                                       f"{what}: {len(parts)} parts for one instance.",
                                       "PS3.18 10.4.1.1.1", res)], [obs], message=what)
        ds = _read_part(parts[0].body)
        if ds is None:
            return StepResult([finding("wado.not-dicom", Severity.ERROR,
                                       f"{what}: the part is not a PS3.10 file.", "PS3.18 8.7.3.5.2; PS3.10 7",
                                       res)], [obs], message=what)
        got_ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", ""))
        if ts != "*" and got_ts != ts:
            found.append(finding("wado.transfer-syntax", Severity.ERROR,
                                 f"{what}: came back in {uids.keyword_of(got_ts) or got_ts!r}, asked "
                                 f"{uids.keyword_of(ts)} (declared).", "PS3.18 8.7.3.5.2; statement", res))
        lossless = (got_ts or ts) in LOSSLESS
        found += compare(item.dataset, ds, compare_pixels=lossless, where=f"{what}: ")
        obs["came_back_in"] = got_ts
        return StepResult(found, [obs], message=f"{what}: {len(found)} difference(s)")
    return action


@on_web_study("wado_rs")
def study(ctx: RunContext, run: WebRun, url: str) -> StepResult:
    """``dicomweb/wado/study``: the whole study, every stored instance (PS3.18 10.4.1.1.1)."""
    what = "WADO-RS study"
    res = run.client.request("GET", f"{url}/studies/{run.study}",
                             accept=f'multipart/related; type="{DICOM}"')
    if res.error:
        return transport_error(res, what)
    parts, found = _multipart(res, what, DICOM)
    back = {str(getattr(ds, "SOPInstanceUID", "")) for ds in map(_read_part, (p.body for p in parts)) if ds}
    stored = {i.sop_instance for i in run.items}
    if not found and back != stored:
        found.append(finding("wado.study-incomplete", Severity.ERROR,
                             f"{what}: {len(back & stored)} of the {len(stored)} stored instances came "
                             f"back (and {len(back - stored)} others).", "PS3.18 10.4.1.1.1", res))
    return StepResult(found, [res.observation(what, parts=len(parts))], message=f"{what}: {len(parts)} part(s)")


def metadata_of(run: WebRun, url: str, item: WebItem) -> WebResponse:
    return run.client.request("GET", _instance_url(url, item) + "/metadata", accept=DICOM_JSON)


def metadata_findings(res: WebResponse, what: str, sent: Dataset) -> tuple[list[Finding], dict[str, Any] | None]:
    """The metadata answer checked (JSON model) and compared with *sent*; and the object."""
    found: list[Finding] = []
    if res.status != 200:
        return [finding("wado.status", Severity.ERROR, f"{what}: HTTP {res.status}.",
                        "PS3.18 10.4.3; statement", res)], None
    if res.media_type != DICOM_JSON:
        found.append(finding("wado.media-type", Severity.ERROR,
                             f"{what}: {res.content_type or '(no Content-Type)'}, asked {DICOM_JSON}.",
                             "PS3.18 8.7.5", res))
    try:
        doc = json.loads(res.body)
    except ValueError:
        return found + [finding("wado.not-json", Severity.ERROR, f"{what}: the body is not JSON.",
                                "PS3.18 F.2", res)], None
    found += [finding("wado.json-model", Severity.ERROR, f"{what}: {p}", "PS3.18 F.2", res)
              for p in jsonmodel.problems(doc)[:10]]
    if not isinstance(doc, list) or len(doc) != 1 or not isinstance(doc[0], dict):
        return found + [finding("wado.metadata-shape", Severity.ERROR,
                                f"{what}: not an array of one data set.", "PS3.18 10.4.1.1.2", res)], None
    obj = doc[0]
    if found:
        return found, obj
    try:
        got = jsonmodel.to_dataset(obj)
    except Exception as exc:  # noqa: BLE001 - a model pydicom cannot read: said as a finding
        return [finding("wado.json-model", Severity.ERROR, f"{what}: not readable as DICOM JSON "
                        f"({type(exc).__name__}: {str(exc)[:120]}).", "PS3.18 F.2", res)], obj
    ref = Dataset()
    ref.file_meta = sent.file_meta
    skip = {int(k, 16) for k, v in obj.items() if isinstance(v, dict)
            and ("BulkDataURI" in v or "InlineBinary" in v)} | {0x00080005}
    for elem in sent:
        if int(elem.tag) not in skip:
            ref.add(elem)
    found += compare(ref, got, compare_pixels=False, where=f"{what}: ")
    return found, obj


@on_web_study("wado_rs")
def metadata(ctx: RunContext, run: WebRun, url: str) -> StepResult:
    """``dicomweb/wado/metadata``: the JSON model of the first instance, against what was stored."""
    what = "WADO-RS instance metadata"
    res = metadata_of(run, url, run.items[0])
    if res.error:
        return transport_error(res, what)
    found, _obj = metadata_findings(res, what, run.items[0].dataset)
    return StepResult(found, [res.observation(what)], message=f"{what}: {len(found)} finding(s)")


def _frame_bytes(ds: Dataset) -> bytes:
    size = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * int(ds.BitsAllocated) // 8
    return bytes(ds.PixelData[:size])


def _signature_findings(media: str, body: bytes, what: str, res: WebResponse) -> list[Finding]:
    sigs = SIGNATURES.get(media)
    if sigs and not any(body.startswith(s) for s in sigs):
        return [finding("wado.signature", Severity.ERROR,
                        f"{what}: the {media} content does not start with that format's signature "
                        f"({body[:8]!r}).", "PS3.18 8.7.4", res)]
    return []


def frames(media: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/wado/frames/<media type>``: frame 1 of the first instance."""
    @on_web_study("wado_rs")
    def action(ctx: RunContext, run: WebRun, url: str) -> StepResult:
        item = run.items[0]
        if "PixelData" not in item.dataset:
            return StepResult.skipped("not tested: the stored instance has no Pixel Data")
        what = f"WADO-RS frame 1 as {media}"
        res = run.client.request("GET", _instance_url(url, item) + "/frames/1",
                                 accept=f'multipart/related; type="{media}"')
        if res.error:
            return transport_error(res, what)
        parts, found = _multipart(res, what, media)
        if not found and len(parts) != 1:
            found.append(finding("wado.part-count", Severity.ERROR, f"{what}: {len(parts)} parts "
                                 "for one frame.", "PS3.18 10.4.1.1.4", res))
        elif not found and media == "application/octet-stream":
            if parts[0].body != _frame_bytes(item.dataset):
                found.append(finding("wado.frame-changed", Severity.ERROR,
                                     f"{what}: the frame's {len(parts[0].body)} bytes differ from the "
                                     f"stored native frame ({len(_frame_bytes(item.dataset))} bytes).",
                                     "PS3.18 10.4.1.1.4; PS3.5 8.2", res))
        elif not found:
            found += _signature_findings(media, parts[0].body, what, res)
        return StepResult(found, [res.observation(what, parts=len(parts))], message=what)
    return action


@on_web_study("wado_rs")
def bulkdata(ctx: RunContext, run: WebRun, url: str) -> StepResult:
    """``dicomweb/wado/bulkdata``: the Pixel Data BulkDataURI of the metadata, byte for byte."""
    item = run.items[0]
    what = "WADO-RS bulk data of Pixel Data"
    meta = metadata_of(run, url, item)
    if meta.error:
        return transport_error(meta, "WADO-RS metadata (for the BulkDataURI)")
    try:
        doc = json.loads(meta.body)
        attr = doc[0].get("7FE00010", {}) if isinstance(doc, list) and doc else {}
    except (ValueError, AttributeError, IndexError):
        attr = {}
    uri = attr.get("BulkDataURI") if isinstance(attr, dict) else None
    if not isinstance(uri, str):
        return StepResult.skipped("not tested: the metadata gives Pixel Data no BulkDataURI")
    # a relative reference resolves against the metadata request's URL (RFC 3986 5.2)
    uri = urljoin(meta.url, uri)
    res = run.client.request("GET", uri, accept='multipart/related; type="application/octet-stream"')
    if res.error:
        return transport_error(res, what)
    parts, found = _multipart(res, what, "application/octet-stream")
    stored = bytes(item.dataset.PixelData)
    if not found and (len(parts) != 1 or parts[0].body.rstrip(b"\x00") != stored.rstrip(b"\x00")):
        found.append(finding("wado.bulkdata-changed", Severity.ERROR,
                             f"{what}: the bulk data differs from the stored Pixel Data "
                             f"({sum(len(p.body) for p in parts)} bytes in {len(parts)} part(s), "
                             f"stored {len(stored)}).", "PS3.18 10.4.1.1.5", res))
    return StepResult(found, [res.observation(what, parts=len(parts))], message=what)


RENDERED_SUFFIX = {"study": "", "series": "", "instance": "", "frame": "/frames/1"}


def rendered(level: str, media: str, resource: str = "rendered") -> Callable[[RunContext], StepResult]:
    """``dicomweb/wado/<rendered|thumbnail>/<level>/<media type>`` (PS3.18 10.4.1.1.3)."""
    @on_web_study("wado_rs")
    def action(ctx: RunContext, run: WebRun, url: str) -> StepResult:
        item = run.items[0]
        base = {"study": f"{url}/studies/{item.study}",
                "series": f"{url}/studies/{item.study}/series/{item.series}",
                "instance": _instance_url(url, item), "frame": _instance_url(url, item) + "/frames/1"}[level]
        what = f"WADO-RS {resource} {level} as {media}"
        res = run.client.request("GET", f"{base}/{resource}", accept=media)
        if res.error:
            return transport_error(res, what)
        found: list[Finding] = []
        body = res.body
        if res.status != 200:
            found.append(finding("wado.status", Severity.ERROR, f"{what}: HTTP {res.status} for a "
                                 f"declared {resource} resource.", "PS3.18 10.4.3; statement", res))
        elif res.media_type == "multipart/related":
            parts, found = _multipart(res, what, media)
            body = parts[0].body if parts else b""
        elif res.media_type != media:
            found.append(finding("wado.media-type", Severity.ERROR,
                                 f"{what}: answered {res.content_type or '(no Content-Type)'}, asked "
                                 f"{media} (declared).", "PS3.18 8.7.4; 8.7.5; statement", res))
        if not found:
            found += _signature_findings(media, body, what, res)
        return StepResult(found, [res.observation(what)], message=f"{what}: HTTP {res.status}")
    return action


def not_found(ctx: RunContext) -> StepResult:
    """``dicomweb/wado/not-found``: metadata of an unknown study: 404 (PS3.18 8.6.3)."""
    got = endpoint(ctx, "wado_rs")
    if isinstance(got, StepResult):
        return got
    run, _service, url = got
    from conformance.services.data import run_data
    bogus = run_data(ctx.shared).uid("web-unknown-study")
    what = "WADO-RS metadata of an unknown study"
    res = run.client.request("GET", f"{url}/studies/{bogus}/metadata", accept=DICOM_JSON)
    if res.error:
        return transport_error(res, what)
    found = []
    if res.status is not None and res.status < 300:
        found.append(finding("wado.unknown-found", Severity.ERROR,
                             f"{what}: HTTP {res.status} for a study that does not exist; "
                             "404 Not Found expected.", "PS3.18 8.6.3; 10.4.3", res))
    elif res.status != 404:
        found.append(finding("wado.unknown-status", Severity.WARNING,
                             f"{what}: HTTP {res.status}, not 404 Not Found.", "PS3.18 8.6.3", res))
    return StepResult(found, [res.observation(what)], message=f"{what}: HTTP {res.status}")


@on_web_study("wado_rs")
def not_acceptable(ctx: RunContext, run: WebRun, url: str) -> StepResult:
    """``dicomweb/wado/not-acceptable``: Accept with only a media type the metadata resource
    does not declare: 406 Not Acceptable (PS3.18 8.7.5)."""
    service = ctx.statement.dicomweb.wado_rs if ctx.statement.dicomweb else None
    declared = service.resources["metadata"].media_types if service and "metadata" in service.resources else ()
    media = next(m for m in UNDECLARED_CANDIDATES if m not in declared)
    what = f"WADO-RS metadata with Accept: {media} (undeclared)"
    res = run.client.request("GET", _instance_url(url, run.items[0]) + "/metadata", accept=media)
    if res.error:
        return transport_error(res, what)
    found = []
    if res.status == 200 and res.media_type == media:
        found.append(finding("wado.undeclared-media-type-served", Severity.WARNING,
                             f"{what}: served as {media}, which the statement does not declare.",
                             "statement", res))
    elif res.status is not None and res.status < 300:
        found.append(finding("wado.not-acceptable-ignored", Severity.ERROR,
                             f"{what}: HTTP {res.status} with {res.content_type or '(no Content-Type)'}; "
                             f"a response must be of a media type the Accept header allows, else 406.",
                             "PS3.18 8.7.5", res))
    elif res.status != 406:
        found.append(finding("wado.not-acceptable-status", Severity.WARNING,
                             f"{what}: refused with HTTP {res.status}, not 406 Not Acceptable.",
                             "PS3.18 8.7.5", res))
    return StepResult(found, [res.observation(what)], message=f"{what}: HTTP {res.status}")


def wado_uri(media: str) -> Callable[[RunContext], StepResult]:
    """``dicomweb/wado-uri/<media type>``: requestType=WADO with contentType (PS3.18 9.1-9.3)."""
    def action(ctx: RunContext) -> StepResult:
        got = endpoint(ctx, "wado_uri")
        if isinstance(got, StepResult):
            return got
        _r, _s, url = got
        run, problem = ensure_web_study(ctx)
        if problem:
            return StepResult.skipped(f"not tested: {problem}")
        item = run.items[0]
        what = f"WADO-URI as {media}"
        res = run.client.request("GET", url, params=[
            ("requestType", "WADO"), ("studyUID", item.study), ("seriesUID", item.series),
            ("objectUID", item.sop_instance), ("contentType", media)])
        if res.error:
            return transport_error(res, what)
        found: list[Finding] = []
        if res.status != 200:
            found.append(finding("wado-uri.status", Severity.ERROR, f"{what}: HTTP {res.status} for a "
                                 "declared content type.", "PS3.18 9.3; statement", res))
        elif res.media_type != media:
            found.append(finding("wado-uri.media-type", Severity.ERROR,
                                 f"{what}: answered {res.content_type or '(no Content-Type)'}.",
                                 "PS3.18 9.3.2.1; statement", res))
        elif media == DICOM:
            ds = _read_part(res.body)
            if ds is None:
                found.append(finding("wado-uri.not-dicom", Severity.ERROR, f"{what}: not a PS3.10 file.",
                                     "PS3.18 9.3.2.1", res))
            else:
                ts = str(ds.file_meta.TransferSyntaxUID)
                found += compare(item.dataset, ds, compare_pixels=ts in LOSSLESS, where=f"{what}: ")
        else:
            found += _signature_findings(media, res.body, what, res)
        return StepResult(found, [res.observation(what)], message=f"{what}: HTTP {res.status}")
    return action

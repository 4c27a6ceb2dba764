"""Probe an unknown DICOMweb origin server (PS3.18) without writing to it: what ``discover``
adds to a draft statement and what ``diff`` holds the statement's ``dicomweb`` claims against.

Read-only requests, each bounded by the access's timeouts: ``OPTIONS`` on the base URL
(Capabilities, PS3.18 8.9); ``/studies``, ``/series``, ``/instances`` with ``limit=1``
(QIDO-RS levels and paging, PS3.18 10.6, 8.3.4.4); and, when the device already holds an
instance, its metadata, the instance in each common transfer syntax, frame 1, and rendered
and thumbnail forms in the usual media types (WADO-RS, PS3.18 10.4). Not probed, because it
needs data written or matched: STOW-RS, matching kinds, includefield, character sets,
authentication schemes (the given credentials are used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from conformance.dicomweb import jsonmodel
from conformance.dicomweb.client import WebAccess, WebClient
from conformance.dicomweb.multipart import parse

#: Transfer syntaxes tried for WADO-RS instances (keywords for the draft).
PROBE_SYNTAXES = {"ExplicitVRLittleEndian": "1.2.840.10008.1.2.1",
                  "ImplicitVRLittleEndian": "1.2.840.10008.1.2",
                  "JPEGLosslessSV1": "1.2.840.10008.1.2.4.70",
                  "JPEGLSLossless": "1.2.840.10008.1.2.4.80",
                  "JPEG2000Lossless": "1.2.840.10008.1.2.4.90",
                  "RLELossless": "1.2.840.10008.1.2.5"}
RENDERED_TYPES = ("image/jpeg", "image/png", "image/gif")
FRAME_TYPES = ("application/octet-stream", "image/jpeg")
METADATA_TYPES = ("application/dicom+json", "application/dicom+xml")


@dataclass
class WebDiscovery:
    """What a read-only probe of a DICOMweb base URL showed (None: could not tell)."""

    base_url: str
    reachable: bool = False
    capabilities: bool | None = None
    qido_levels: list[str] = field(default_factory=list)
    paging: bool | None = None
    resources: dict[str, list[str]] = field(default_factory=dict)     # resource -> media types
    transfer_syntaxes: list[str] = field(default_factory=list)        # instances: UIDs that came back
    rendered_levels: list[str] = field(default_factory=list)
    instance_probed: bool = False
    notes: list[str] = field(default_factory=list)


def _syntax_of(part: bytes) -> str | None:
    """The Transfer Syntax UID of a PS3.10 file's meta information, or None."""
    from io import BytesIO

    from pydicom import dcmread
    if part[128:132] != b"DICM":
        return None
    try:
        meta = dcmread(BytesIO(part), stop_before_pixels=True).file_meta
    except Exception:  # noqa: BLE001 - whatever the server sent: not that syntax
        return None
    return str(meta.get("TransferSyntaxUID", "")) or None


def discover_web(base_url: str, access: WebAccess, scheme: str = "none") -> WebDiscovery:
    """Probe *base_url* (e.g. ``http://host:8042/dicom-web``) read-only."""
    base = base_url.rstrip("/")
    found = WebDiscovery(base)
    with WebClient(access, scheme) as client:
        opt = client.request("OPTIONS", base + "/")
        found.reachable = opt.status is not None
        if not found.reachable:
            found.notes.append(f"no answer from {base}: {opt.error}")
            return found
        found.capabilities = opt.status == 200 and bool(opt.body.strip())
        first: dict | None = None
        for level, path in (("study", "studies"), ("series", "series"), ("instance", "instances")):
            res = client.request("GET", f"{base}/{path}", params=[("limit", "1")],
                                 accept="application/dicom+json")
            if res.status in (200, 204) and (res.status == 204 or res.media_type == "application/dicom+json"):
                found.qido_levels.append(level)
                try:
                    doc = json.loads(res.body) if res.body.strip() else []
                except ValueError:
                    doc = []
                if isinstance(doc, list):
                    found.paging = (found.paging or False) or len(doc) <= 1
                    if level == "instance" and doc and isinstance(doc[0], dict):
                        first = doc[0]
        if first is None:
            found.notes.append("the device holds no instance (or QIDO-RS /instances is not served): "
                               "WADO-RS resources not probed")
            return found
        study, series, inst = (jsonmodel.value_of(first, t) for t in ("0020000D", "0020000E", "00080018"))
        if not (study and series and inst):
            found.notes.append("the QIDO-RS instance result lacks its UIDs: WADO-RS not probed")
            return found
        found.instance_probed = True
        url = f"{base}/studies/{study}/series/{series}/instances/{inst}"
        for media in METADATA_TYPES:
            res = client.request("GET", url + "/metadata", accept=media)
            if res.status == 200 and res.media_type == media:
                found.resources.setdefault("metadata", []).append(media)
        for kw, ts in PROBE_SYNTAXES.items():
            res = client.request("GET", url, accept=f'multipart/related; type="application/dicom"; transfer-syntax={ts}')
            parts = parse(res.content_type, res.body).parts if res.status == 200 else []
            if parts and _syntax_of(parts[0].body) == ts:
                found.transfer_syntaxes.append(kw)
                found.resources["instances"] = ["application/dicom"]
        for media in FRAME_TYPES:
            res = client.request("GET", url + "/frames/1", accept=f'multipart/related; type="{media}"')
            if res.status == 200 and parse(res.content_type, res.body).parts:
                found.resources.setdefault("frames", []).append(media)
        for kind in ("rendered", "thumbnail"):
            for media in RENDERED_TYPES:
                res = client.request("GET", f"{url}/{kind}", accept=media)
                if res.status == 200 and res.media_type == media:
                    found.resources.setdefault(kind, []).append(media)
        if "rendered" in found.resources:
            found.rendered_levels.append("instance")
            for level, u in (("series", f"{base}/studies/{study}/series/{series}"),
                             ("study", f"{base}/studies/{study}"), ("frame", url + "/frames/1")):
                res = client.request("GET", f"{u}/rendered", accept=found.resources["rendered"][0])
                if res.status == 200:
                    found.rendered_levels.append(level)
    return found


def draft_section(found: WebDiscovery, path: str) -> str:
    """The ``dicomweb`` YAML section of a draft statement (comments say what was observed)."""
    q = json.dumps
    out = ["", f"# DICOMweb: read-only probes of {found.base_url} (STOW-RS, matching kinds, includefield",
           "# and character sets are not probed: they need data written; fill those in).", "dicomweb:"]
    if found.capabilities is not None:
        out.append(f"  capabilities: {str(found.capabilities).lower()}   # observed: OPTIONS on the base URL")
    if found.qido_levels:
        out += ["  qido_rs:", f"    url: {q(path)}",
                f"    levels: [{', '.join(found.qido_levels)}]   # observed: limit=1 searches answered",
                "    matching: [single-value]   # UNKNOWN beyond single value: not probed"]
        if found.paging is not None:
            out.append(f"    paging: {str(found.paging).lower()}   # observed: limit=1 kept")
    if found.resources:
        out += ["  wado_rs:", f"    url: {q(path)}", "    resources:   # observed on one stored instance"]
        for res, media in found.resources.items():
            out.append(f"      {res}:")
            out.append(f"        media_types: [{', '.join(media)}]")
            if res == "instances":
                out.append(f"        transfer_syntaxes: [{', '.join(found.transfer_syntaxes)}]")
            if res == "rendered":
                out.append(f"        levels: [{', '.join(found.rendered_levels)}]")
    out += [f"# note: {n}" for n in found.notes]
    return "\n".join(out) + "\n"


def diff_web(declared: object, found: WebDiscovery) -> list[tuple[str, str, str, str]]:
    """(severity, claim, declared, observed) for each probed claim of a ``DicomWeb``
    section that the device does not bear out (error) or capability it shows undeclared
    (warning). Only what :func:`discover_web` probes is compared."""
    from conformance.standard import uids
    from conformance.statement.model import DicomWeb
    assert isinstance(declared, DicomWeb)
    out: list[tuple[str, str, str, str]] = []
    if not found.reachable:
        return [("error", "DICOMweb origin server", "declared", "no answer")]
    if found.capabilities is not None and declared.capabilities != found.capabilities:
        out.append(("error" if declared.capabilities else "warning", "Capabilities resource",
                    "served" if declared.capabilities else "not declared",
                    "served" if found.capabilities else "not served"))
    if declared.qido_rs is not None:
        for level in declared.qido_rs.levels:
            if level not in found.qido_levels:
                out.append(("error", f"QIDO-RS {level} level", "supported", "not answered"))
    if declared.wado_rs is None or not found.instance_probed:
        return out
    for name, res in declared.wado_rs.resources.items():
        seen = found.resources.get(name)
        if name == "bulkdata":
            continue                      # needs a BulkDataURI from metadata: not probed
        for media in res.media_types:
            probed = {"metadata": METADATA_TYPES, "frames": FRAME_TYPES, "rendered": RENDERED_TYPES,
                      "thumbnail": RENDERED_TYPES, "instances": ("application/dicom",)}.get(name, ())
            if media in probed and media not in (seen or []):
                out.append(("error", f"WADO-RS {name} as {media}", "supported", "not answered"))
        if name == "instances":
            for ts in res.transfer_syntaxes:
                kw = uids.keyword_of(ts)
                if kw in PROBE_SYNTAXES and kw not in found.transfer_syntaxes:
                    out.append(("error", f"WADO-RS instances in {kw}", "supported", "not delivered"))
    for name, media_list in found.resources.items():
        have = declared.wado_rs.resources.get(name)
        for media in media_list:
            if have is None or media not in have.media_types:
                out.append(("warning", f"WADO-RS {name} as {media}", "not declared", "answered"))
    return out

"""A viewer's DICOMweb needs against a PACS's DICOMweb offer (PS3.18; PS3.2 Annex A "Web
services"), for ``statement compare``.

One side's ``dicomweb`` section with ``role: user-agent`` says what it requests; the other
side's with ``role: origin-server`` (the default) what it serves. Each need the offer lacks
is a flag: a service, a QIDO-RS level or matching kind, ``includefield``/paging, a WADO-RS
resource, a media type or transfer syntax, a WADO-URI content type (error: that request
fails); an authentication scheme the server does not declare, a character set it does not
return correctly (warning). Pure: statements in, flags out. Not covered: URL layouts (each
side's base URL is configuration), STOW-RS SOP classes beyond the storage declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.standard import uids
from conformance.statement.model import DicomWeb, Statement, WebService


@dataclass(frozen=True)
class WebFlag:
    severity: str          # "error" | "warning" | "info"
    message: str


def _names(values: tuple[str, ...]) -> str:
    return ", ".join("as stored" if v == "*" else uids.keyword_of(v) for v in values)


def _service(name: str, need: WebService, offer: WebService, ua: str, os_: str) -> list[WebFlag]:
    out: list[WebFlag] = []

    def missing(what: str, wanted: tuple[str, ...], have: tuple[str, ...], ref: str,
                severity: str = "error", names: bool = False) -> None:
        lacking = tuple(w for w in wanted if w not in have and not (w != "*" and "*" in have and names))
        if lacking:
            shown = _names(lacking) if names else ", ".join(lacking)
            out.append(WebFlag(severity, f"{name}: {ua} uses {what} {shown}, which {os_} does not "
                                         f"declare ({ref})."))

    if name == "QIDO-RS":
        missing("levels", need.levels, offer.levels, "PS3.18 10.6.1")
        missing("matching", need.matching, offer.matching, "PS3.18 8.3.4")
        if need.includefield and not offer.includefield:
            out.append(WebFlag("error", f"QIDO-RS: {ua} asks for includefield, which {os_} does not "
                                        "declare (PS3.18 8.3.4.3)."))
        if need.includefield_all and not offer.includefield_all:
            out.append(WebFlag("error", f"QIDO-RS: {ua} asks for includefield=all, which {os_} does "
                                        "not declare (PS3.18 8.3.4.3)."))
        if need.paging and not offer.paging:
            out.append(WebFlag("warning", f"QIDO-RS: {ua} pages with limit/offset, which {os_} does not "
                                          "declare: large results may come back whole or cut (PS3.18 8.3.4.4)."))
    if name == "STOW-RS":
        missing("request media types", need.request_media_types, offer.request_media_types, "PS3.18 10.5.2")
        missing("SOP classes", need.sop_classes, offer.sop_classes or need.sop_classes, "PS3.18 10.5",
                names=True)
    if name == "WADO-RS":
        for res, want in need.resources.items():
            have = offer.resources.get(res)
            if have is None:
                out.append(WebFlag("error", f"WADO-RS: {ua} retrieves {res}, which {os_} does not "
                                            "declare (PS3.18 10.4.1)."))
                continue
            missing(f"{res} as", want.media_types, have.media_types, "PS3.18 8.7.3")
            if want.transfer_syntaxes:
                common = [t for t in want.transfer_syntaxes if t in have.transfer_syntaxes or "*" in want.transfer_syntaxes]
                if not common:
                    out.append(WebFlag("error", f"WADO-RS: {ua} accepts {res} only in "
                                                f"{_names(want.transfer_syntaxes)}; {os_} declares none of them "
                                                "(PS3.18 8.7.3.5.2)."))
            missing(f"{res} at levels", want.levels, have.levels, "PS3.18 10.4.1.1.3")
    if name == "WADO-URI":
        missing("content types", need.media_types, offer.media_types, "PS3.18 9.3")
    return out


def web_flags(a: Statement, b: Statement) -> list[tuple[str, str]]:
    """(severity, message) for each user agent's need the other side's origin server lacks."""
    out: list[tuple[str, str]] = []
    pairs = ((a, b, "A", "B"), (b, a, "B", "A"))
    for ua_st, os_st, ua, os_ in pairs:
        need, offer = ua_st.dicomweb, os_st.dicomweb
        if need is None or need.role != "user-agent":
            continue
        if offer is None or offer.role != "origin-server":
            message = f"{ua} uses DICOMweb (PS3.18); {os_}'s statement declares no DICOMweb origin server."
            out.append(("error", message))
            continue
        out += [(f.severity, f.message) for f in _compare(need, offer, ua, os_)]
    return out


def _compare(need: DicomWeb, offer: DicomWeb, ua: str, os_: str) -> list[WebFlag]:
    out: list[WebFlag] = []
    for key, name in (("stow_rs", "STOW-RS"), ("qido_rs", "QIDO-RS"), ("wado_rs", "WADO-RS"),
                      ("wado_uri", "WADO-URI")):
        n, o = getattr(need, key), getattr(offer, key)
        if n is None:
            continue
        if o is None:
            out.append(WebFlag("error", f"{ua} uses {name}, which {os_} does not declare (PS3.18)."))
            continue
        out += _service(name, n, o, ua, os_)
    if need.authentication != offer.authentication:
        out.append(WebFlag("warning", f"{ua} authenticates with {need.authentication!r}, {os_} declares "
                                      f"{offer.authentication!r}: configure both alike."))
    lacking = [cs or "ISO-IR 6" for cs in need.character_sets if cs not in offer.character_sets]
    if lacking:
        out.append(WebFlag("warning", f"{ua} expects names in {', '.join(lacking)}, which {os_} does not "
                                      "declare it returns correctly over the web (PS3.18 F.2; PS3.5 6.1)."))
    if need.capabilities and not offer.capabilities:
        out.append(WebFlag("warning", f"{ua} reads the Capabilities resource, which {os_} does not serve "
                                      "(PS3.18 8.9)."))
    return out

"""The ``dicomweb`` section of a statement -> :class:`~conformance.statement.model.DicomWeb`.

Runs after the JSON Schema (shapes are already right): resolves SOP class and transfer
syntax keywords and set names to UIDs and checks character set terms, collecting every
problem with its file, line and key path like the rest of the loader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.errors import Problem
from conformance.standard import uids
from conformance.statement.model import DicomWeb, WebResource, WebService
from conformance.statement.yamlsource import SourceDocument

#: resolve(value, path, kind, table, sets, sets_key) -> UIDs (the loader's resolver).
Resolve = Callable[..., list[str]]


def dicomweb_section(doc: SourceDocument, data: dict[str, Any], resolve: Resolve,
                     charset_terms: frozenset[str], problems: list[Problem]) -> DicomWeb | None:
    """The typed ``dicomweb`` section, or ``None`` when the statement has none."""
    section = data.get("dicomweb")
    if section is None:
        return None
    base = ("dicomweb",)
    for i, term in enumerate(section.get("character_sets", [])):
        if term not in charset_terms:
            hint = uids.suggest(term, sorted(charset_terms - {""}))
            extra = f"; did you mean {hint!r}?" if hint else ""
            problems.append(doc.problem(base + ("character_sets", i),
                                        f"{term!r} is not a Specific Character Set defined term "
                                        f"(PS3.3 C.12.1.1.2){extra}"))
    ts_sets = data.get("transfer_syntax_sets", {})
    sop_sets = data.get("sop_class_sets", {})

    def syntaxes(values: list[str], path: tuple[Any, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for j, ts in enumerate(values):
            if ts == "*":
                out.append("*")
                continue
            out += resolve(ts, path + (j,), "transfer syntax", uids.transfer_syntax_keywords(),
                           ts_sets, "transfer_syntax_sets")
        return tuple(dict.fromkeys(out))

    def service(key: str) -> WebService | None:
        sd = section.get(key)
        if sd is None:
            return None
        path = base + (key,)
        sops: list[str] = []
        for j, sop in enumerate(sd.get("sop_classes", [])):
            sops += resolve(sop, path + ("sop_classes", j), "SOP class", uids.sop_class_keywords(),
                            sop_sets, "sop_class_sets")
        resources = {
            name: WebResource(media_types=tuple(r.get("media_types", [])),
                              transfer_syntaxes=syntaxes(r.get("transfer_syntaxes", []),
                                                         path + ("resources", name, "transfer_syntaxes")),
                              levels=tuple(r.get("levels", [])))
            for name, r in sd.get("resources", {}).items()}
        return WebService(
            url=sd["url"], sop_classes=tuple(dict.fromkeys(sops)),
            request_media_types=tuple(sd.get("request_media_types", ["application/dicom"])),
            response_media_types=tuple(sd.get("response_media_types", ["application/dicom+json"])),
            levels=tuple(sd.get("levels", ["study", "series", "instance"])),
            matching=tuple(sd.get("matching", ["single-value", "wildcard", "range", "uid-list"])),
            includefield=sd.get("includefield", True), includefield_all=sd.get("includefield_all", False),
            paging=sd.get("paging", True), resources=resources,
            media_types=tuple(sd.get("media_types", ["image/jpeg"])), line=doc.line_of(path))

    return DicomWeb(stow_rs=service("stow_rs"), qido_rs=service("qido_rs"),
                    wado_rs=service("wado_rs"), wado_uri=service("wado_uri"),
                    authentication=section.get("authentication", "none"),
                    character_sets=tuple(section.get("character_sets", [])),
                    capabilities=section.get("capabilities", False),
                    role=section.get("role", "origin-server"))

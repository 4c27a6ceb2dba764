"""A conformance statement as a document in the shape of the PS3.2 template (PS3.2 Annex A):
overview of network services, AE specification with SOP class and presentation context
tables, association policies, configuration, character sets, security, private extensions.
Rendered to HTML or Markdown from one view, so a vendor keeps one source of truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.standard import uids
from conformance.statement.model import Role, Statement

GROUP_ORDER = ["Verification", "Transfer", "Query/Retrieve", "Workflow Management", "Print Management", "Other"]


@dataclass(frozen=True)
class ContextRow:
    name: str
    uid: str
    role: str
    transfer_syntaxes: list[tuple[str, str]]     # (name, uid)
    extended: str
    role_selection: bool


def _name(uid: str, st: Statement) -> str:
    return st.private_uids.get(uid) or uids.name_of(uid)


def statement_view(st: Statement) -> dict[str, Any]:
    """Everything both renderings show, as plain data."""
    overview: dict[str, dict[str, dict[str, bool]]] = {g: {} for g in GROUP_ORDER}
    for cap in st.transfer_capabilities:
        row = overview[uids.service_group(cap.sop_class)].setdefault(_name(cap.sop_class, st), {"SCU": False, "SCP": False})
        row[cap.role.value] = True
    contexts = {role.value: [ContextRow(_name(c.sop_class, st), c.sop_class, role.value,
                                        [(_name(t, st), t) for t in c.transfer_syntaxes],
                                        ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in c.extended_negotiation.items()) or "none",
                                        c.role_selection)
                             for c in st.capabilities(role)] for role in Role}
    sop_rows: dict[str, dict[str, Any]] = {}
    for cap in st.transfer_capabilities:
        sop_rows.setdefault(cap.sop_class, {"name": _name(cap.sop_class, st), "SCU": False, "SCP": False})[cap.role.value] = True
    return {
        "st": st, "sop_rows": sop_rows, "identity": st.identity, "network": st.network, "harness": st.harness,
        "overview": [(g, sorted(rows.items())) for g, rows in overview.items() if rows],
        "contexts": contexts,
        "character_sets": [cs or "ISO-IR 6 (default repertoire)" for cs in st.character_sets],
        "private_attributes": st.private.attributes,
        "private_uids": list(st.private.sop_classes) + list(st.private.transfer_syntaxes),
    }


def _env() -> Environment:
    env = Environment(loader=PackageLoader("conformance.reporting", "templates"),
                      autoescape=select_autoescape(["html"], default_for_string=False, default=False),
                      trim_blocks=True, lstrip_blocks=True)
    # statement_dicomweb.*.j2: SOP classes and transfer syntaxes ('*': as stored), charset terms
    env.filters["uid_name"] = lambda uid: "as stored" if uid == "*" else uids.name_of(uid)
    env.filters["charset_name"] = lambda term: term or "ISO-IR 6 (default repertoire)"
    return env


def render_statement(st: Statement, fmt: str = "html") -> str:
    """The PS3.2-shaped document, ``fmt`` "html" (self-contained, autoescaped) or "md"."""
    if fmt == "html":
        env = _env()
        env.autoescape = True
        return env.get_template("statement.html.j2").render(**statement_view(st))
    if fmt == "md":
        return _env().get_template("statement.md.j2").render(**statement_view(st), md=_md)
    raise ValueError(f"unknown format {fmt!r}")


def _md(text: object) -> str:
    """Escape a value for a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")

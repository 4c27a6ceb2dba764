"""A conformance statement as a document in the shape of the PS3.2 template (PS3.2 Annex A):
overview of network services, AE specification with SOP class and presentation context
tables, association policies, configuration, character sets, security, private extensions.
Rendered to HTML or Markdown from one view, so a vendor keeps one source of truth."""

from __future__ import annotations

import string
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.standard import uids
from conformance.statement.model import Role, Statement
from conformance.wire import tls

GROUP_ORDER = ["Verification", "Transfer", "Query/Retrieve", "Workflow Management", "Print Management", "Other"]


@dataclass(frozen=True)
class ContextRow:
    name: str
    uid: str
    role: str
    transfer_syntaxes: list[tuple[str, str]]     # (name, uid)
    extended: str
    role_selection: bool
    #: Label of the named transfer syntax set ("TS-A") when the row uses one, else "".
    ts_set: str = ""


#: Transfer syntax lists longer than this are named once (a set) and referred to by name.
SET_MIN = 3

#: PS3.2 A.4 and PS3.4 references for the services section, by the statement's key.
SERVICE_SECTIONS = (("storage", "Storage SCP behaviour", "PS3.4 B.4.1"),
                    ("query_retrieve", "Query/Retrieve SCP behaviour", "PS3.4 C.4, C.2.2.2"),
                    ("worklist", "Modality Worklist SCP behaviour", "PS3.4 K.6.1.2"),
                    ("storage_commitment", "Storage Commitment SCP behaviour", "PS3.4 J.3.3"))


def _set_label(n: int) -> str:
    letters = string.ascii_uppercase
    return "TS-" + (letters[n] if n < 26 else letters[n // 26 - 1] + letters[n % 26])


def transfer_syntax_sets(st: Statement) -> dict[tuple[str, ...], str]:
    """Each distinct transfer syntax list of more than SET_MIN entries, named once ("TS-A"),
    in order of first use: a PS3.2 document then lists 26 syntaxes once, not per SOP class."""
    out: dict[tuple[str, ...], str] = {}
    for cap in st.transfer_capabilities:
        key = tuple(cap.transfer_syntaxes)
        if len(key) > SET_MIN and key not in out:
            out[key] = _set_label(len(out))
    return out


def _plain(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and value > 0xFFFF:
        return f"({value >> 16:04X},{value & 0xFFFF:04X})"
    return str(value)


def services_rows(st: Statement) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The statement's ``services`` section as (title, reference, [(setting, value)])."""
    out = []
    for key, title, reference in SERVICE_SECTIONS:
        behaviour = getattr(st.services, key, None)
        if behaviour is None or not is_dataclass(behaviour):
            continue
        rows = [(f.name.replace("_", " "), _plain(getattr(behaviour, f.name))) for f in fields(behaviour)]
        out.append((title, reference, rows))
    return out


def _name(uid: str, st: Statement) -> str:
    return st.private_uids.get(uid) or uids.name_of(uid)


def statement_view(st: Statement) -> dict[str, Any]:
    """Everything both renderings show, as plain data."""
    overview: dict[str, dict[str, dict[str, bool]]] = {g: {} for g in GROUP_ORDER}
    for cap in st.transfer_capabilities:
        row = overview[uids.service_group(cap.sop_class)].setdefault(_name(cap.sop_class, st), {"SCU": False, "SCP": False})
        row[cap.role.value] = True
    sets = transfer_syntax_sets(st)
    contexts = {role.value: [ContextRow(_name(c.sop_class, st), c.sop_class, role.value,
                                        [(_name(t, st), t) for t in c.transfer_syntaxes],
                                        ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in c.extended_negotiation.items()) or "none",
                                        c.role_selection, sets.get(tuple(c.transfer_syntaxes), ""))
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
        "ts_sets": [(label, [(_name(t, st), t) for t in key]) for key, label in sets.items()],
        "services": services_rows(st) if st.data.get("services") else [],
        "security": security_lines(st),
    }


def security_lines(st: Statement) -> list[str]:
    """The security section (PS3.2 A.6 / PS3.15 Annex B): the declared secure transport
    connection profiles, TLS ports, client-certificate policy and AE titles over TLS."""
    sec = st.secure_transport
    if sec is None:
        return ["The TLS secure transport connection profile is supported."] if st.network.tls else []
    out = [f"Secure Transport Connection Profile: {tls.profile(k).name} ({tls.profile(k).section})"
           for k in sec.profiles]
    out.append(f"TLS port(s): {', '.join(str(p) for p in sec.ports)}")
    out.append("A client certificate is required." if sec.client_certificate_required
               else "No client certificate is required.")
    if sec.ae_titles:
        out.append(f"AE titles reachable over TLS: {', '.join(sec.ae_titles)}")
    if sec.plain_port_answers is not None:
        out.append(f"The plain port {st.network.port} {'also answers' if sec.plain_port_answers else 'does not answer'} "
                   "DICOM without TLS.")
    if sec.host_name:
        out.append(f"Certificate host name: {sec.host_name}")
    return out


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

"""SR template checks (PS3.16 Annex A): TID 1500, 2000 and 2010 and the sub-templates they
include, walked down the content tree.

A template is checked only when the document declares it (Content Template Sequence
(0040,A504): Template Identifier with Mapping Resource "DCMR", PS3.3 C.17.3 / C.18.8) or when
its IOD requires it (the Key Object Selection Document IOD uses TID 2010, PS3.3 A.35.4). The
rows are data, ``conformance/standard/data/sr_templates.json``, each citing its PS3.16 row;
the members of the context groups they name are data too,
``conformance/standard/data/sr_context_groups.json`` (written by
``bin/gen_sr_context_groups.py``).

What is checked, at each nesting level of a declared template (PS3.16 6.2 "Template Table
Structure" defines the columns):

* the root: value type CONTAINER and the document title from the template's context group;
* an item whose concept name is a row's EV code: the row's value type and relationship type
  (error); a CODE value from the row's context group; its children against the row's children;
* a required (M) row absent while its parent item exists and each INCLUDE on the way is M or
  was instantiated (an item of that sub-template is present): error. MC and UC conditions are
  not evaluated and never reported, except "at least one of rows ..." (``one_of``);
* a VM 1 row present more than once (when no INCLUDE on the way may repeat): error;
* a coded concept outside the context group a row names (PS3.16 7.2): BCID (baseline) a
  warning; DCID (defined) a warning when the group is extensible or its extensibility is not
  known here, an error when the group is non-extensible.

* at the root of a Non-Extensible template (TID 2000), a content item whose relationship
  type and value type no row of that level allows (``closed_root`` in the data): error.

Other content that no row matches is not reported: the other templates checked are
extensible, and a sub-template the data does not describe is no error (no false alarm).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod.elements import tag_str, values_of

DATA = Path(__file__).resolve().parent.parent / "standard" / "data"
TEMPLATES = DATA / "sr_templates.json"
CONTEXT_GROUPS = DATA / "sr_context_groups.json"
#: Key Object Selection Document Storage (PS3.4 B.5): its IOD requires TID 2010 (A.35.4).
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
CONTENT_TEMPLATE_SEQUENCE = 0x0040A504
CONTENT_SEQUENCE = 0x0040A730
CONCEPT_NAME = 0x0040A043
CONCEPT_CODE = 0x0040A168
#: Nesting deeper than this is not followed (the content walk reports such trees).
MAX_DEPTH = 64

Add = Callable[..., None]
Code = tuple[str, str]


@cache
def _templates() -> dict[str, Any]:
    return dict(json.loads(TEMPLATES.read_text())["templates"])


@cache
def _groups() -> dict[str, Any]:
    return dict(json.loads(CONTEXT_GROUPS.read_text())["groups"])


@cache
def context_group(cid: int) -> frozenset[Code]:
    """(code value, coding scheme) of the members of CID *cid* (PS3.16 Annex B) as kept in
    ``sr_context_groups.json``; empty when the data has no members (not checked)."""
    group = _groups().get(str(cid))
    if group is None:
        return frozenset()
    return frozenset((m[0], m[1]) for m in group["members"])


def _extensible(cid: int) -> bool | None:
    group = _groups().get(str(cid))
    return None if group is None else group.get("extensible")


def declared_template(ds: Dataset, sop_class: str | None) -> str | None:
    """The document template id this document uses and we check, or None."""
    try:
        items = ds.get(CONTENT_TEMPLATE_SEQUENCE)
        for item in items.value if items is not None else []:
            tid = values_of(item, 0x0040DB00)
            resource = values_of(item, 0x00080105)
            if tid and (not resource or resource[0] == "DCMR") \
                    and _templates().get(tid[0], {}).get("document"):
                return tid[0]
    except Exception:
        return None  # a malformed sequence is reported by the element walk
    return "2010" if sop_class == KEY_OBJECT_SELECTION else None


def _coded(item: Dataset, tag: int) -> Code | None:
    try:
        seq = item.get(tag)
        first = seq.value[0] if seq is not None and seq.value else None
    except Exception:
        return None
    if first is None:
        return None
    value = values_of(first, 0x00080100) or values_of(first, 0x00080119) or \
        values_of(first, 0x00080120)
    scheme = values_of(first, 0x00080102)
    return (value[0], scheme[0] if scheme else "") if value else None


def _first(item: Dataset, tag: int) -> str | None:
    vals = values_of(item, tag)
    return vals[0] if vals else None


def _children(item: Dataset) -> list[Dataset]:
    try:
        seq = item.get(CONTENT_SEQUENCE)
        return list(seq.value) if seq is not None and seq.value else []
    except Exception:
        return []  # reported by the element walk


@dataclass
class _Row:
    """One template row as placed at a nesting level: the row, its template, and the
    INCLUDE rows (with their template) it was reached through."""

    row: dict[str, Any]
    tid: str
    chain: tuple[tuple[dict[str, Any], str], ...]
    #: How many INCLUDEs of the chain were inherited from the levels above (cited, but
    #: already instantiated: the parent item exists).
    base: int = 0
    hits: list[int] = field(default_factory=list)

    @property
    def where(self) -> str:
        """The row cited, with the INCLUDE rows it was reached through."""
        via = ", ".join(f"TID {t} row {inc['row']}" for inc, t in self.chain)
        own = f"PS3.16 TID {self.tid} row {self.row['row']}"
        return f"{own} (included by {via})" if via else own

    @property
    def code(self) -> Code | None:
        c = self.row.get("code")
        return (c[0], c[1]) if c else None

    @property
    def label(self) -> str:
        c = self.row.get("code")
        return f"\"{c[2]}\" ({c[0]}, {c[1]})" if c else str(self.row.get("what", ""))


Chain = tuple[tuple[dict[str, Any], str], ...]


def _expand(rows: Iterable[dict[str, Any]], tid: str, chain: Chain, base: int) -> list[_Row]:
    """The rows at one nesting level, INCLUDEs replaced by the included template's rows."""
    out: list[_Row] = []
    for row in rows:
        sub = row.get("include")
        if sub is None:
            out.append(_Row(row, tid, chain, base))
        elif sub in _templates() and all(sub != t for _r, t in chain) and len(chain) < 12:
            out.extend(_expand(_templates()[sub]["rows"], sub, ((row, tid),) + chain, base))
    return out


class _Walker:
    def __init__(self, add: Add) -> None:
        self.add = add

    # -- one nesting level -------------------------------------------------------------
    def level(self, rows: list[dict[str, Any]], tid: str, items: list[Dataset], path: str,
              depth: int, chain: Chain = ()) -> None:
        placed = _expand(rows, tid, chain, len(chain))
        if not placed or depth > MAX_DEPTH:
            return
        by_code: dict[Code, list[_Row]] = {}
        for p in placed:
            if p.code is not None:
                by_code.setdefault(_normal(p.code), []).append(p)
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            name = _coded(item, CONCEPT_NAME)
            candidates = by_code.get(_normal(name), []) if name else []
            if candidates:
                self.item(self._choose(candidates, item), item, i, where, depth)
                continue
            rel, vt = _first(item, 0x0040A010), _first(item, 0x0040A040)
            for p in placed:
                if p.code is None and rel == p.row["relationship"] \
                        and vt in p.row["value_types"]:
                    self.item(p, item, i, where, depth)
                    break
        self.counts(placed, path)

    @staticmethod
    def _choose(candidates: list[_Row], item: Dataset) -> _Row:
        """Among rows with the same concept name (the measurement group of TID 1410, 1411
        and 1501), the one whose identifying child concept is present, else the one that
        names none."""
        if len(candidates) == 1:
            return candidates[0]
        seen: dict[Code, int] = {}
        for k in _children(item):
            c = _coded(k, CONCEPT_NAME)
            if c:
                seen[_normal(c)] = seen.get(_normal(c), 0) + 1
        for p in candidates:
            once = {_normal((c[0], c[1])) for c in p.row.get("identified_by", [])}
            more = {_normal((c[0], c[1])) for c in p.row.get("identified_by_repeated", [])}
            if once & seen.keys() or any(seen.get(c, 0) > 1 for c in more):
                return p
        plain = [p for p in candidates
                 if not p.row.get("identified_by") and not p.row.get("identified_by_repeated")]
        return plain[0] if plain else candidates[0]

    # -- one item matched to a row -----------------------------------------------------
    def item(self, p: _Row, item: Dataset, index: int, where: str, depth: int) -> None:
        row = p.row
        rel, vt = _first(item, 0x0040A010), _first(item, 0x0040A040)
        tag = tag_str(CONTENT_SEQUENCE)
        details = {"path": where}
        if vt not in row["value_types"]:
            self.add("sr.template-value-type", Severity.ERROR,
                     f"{p.where}: content item {p.label} at {where} must have Value Type "
                     f"{' or '.join(row['value_types'])}, found {vt or 'none'}", p.where, tag,
                     details=details)
            return
        if "relationship" in row and rel != row["relationship"]:
            self.add("sr.template-relationship", Severity.ERROR,
                     f"{p.where}: content item {p.label} at {where} must be related by "
                     f"{row['relationship']}, found {rel or 'none'}", p.where, tag,
                     details=details)
            return
        p.hits.append(index)
        if "concept_cid" in row:
            self.in_group(_coded(item, CONCEPT_NAME), row["concept_cid"],
                          row["concept_strength"], p, f"concept name of {p.label or 'the item'}",
                          where)
        if "value_cid" in row and vt == "CODE":
            self.in_group(_coded(item, CONCEPT_CODE), row["value_cid"], row["value_strength"],
                          p, f"value of {p.label}", where)
        if row.get("children"):
            self.level(row["children"], p.tid, _children(item), f"{where}.ContentSequence",
                       depth + 1, p.chain)

    def in_group(self, code: Code | None, cid: int, strength: str, p: _Row, what: str,
                 where: str) -> None:
        """PS3.16 7.2: a BCID group is a suggestion, a DCID group is the value set to use
        (a non-extensible one may not be extended)."""
        members = context_group(cid)
        if code is None or not members or _normal(code) in members or code in members:
            return
        ext = _extensible(cid)
        name = _groups().get(str(cid), {}).get("name", "")
        if strength == "DCID" and ext is False:
            sev, kind = Severity.ERROR, "a defined, non-extensible context group"
        elif strength == "DCID":
            sev, kind = Severity.WARNING, ("a defined context group (extensible)" if ext
                                           else "a defined context group")
        else:
            sev, kind = Severity.WARNING, "a baseline context group (other codes allowed)"
        self.add("sr.template-concept-not-in-cid", sev,
                 f"{p.where}: {what} at {where} ({code[0]}, {code[1]}) is not in "
                 f"CID {cid} {name}, which the row names as {strength}: {kind}",
                 f"{p.where}; PS3.16 CID {cid}", tag_str(CONTENT_SEQUENCE),
                 details={"path": where, "cid": cid, "strength": strength})

    # -- presence and multiplicity -----------------------------------------------------
    @staticmethod
    def _active(p: _Row, placed: list[_Row]) -> bool:
        """Every INCLUDE on the way is M, or the included template is instantiated here."""
        own = p.chain[:len(p.chain) - p.base]  # innermost first; the inherited tail is met
        for k, (inc, _tid) in enumerate(own):
            if inc.get("requirement") == "M":
                continue
            suffix = p.chain[k:]
            if not any(q.hits and q.chain[len(q.chain) - len(suffix):] == suffix
                       for q in placed if len(q.chain) >= len(suffix)):
                return False
        return True

    def counts(self, placed: list[_Row], path: str) -> None:
        tag = tag_str(CONTENT_SEQUENCE)
        for p in placed:
            row = p.row
            if row["requirement"] == "M" and not p.hits and self._active(p, placed):
                self.add("sr.template-row-missing", Severity.ERROR,
                         f"{p.where}: {path} has no {row.get('relationship', '')} "
                         f"{'/'.join(row['value_types'])} content item {p.label} "
                         "(required, M)", p.where, tag, details={"path": path})
            group = row.get("one_of")
            if group and row["row"] == group[0] and self._active(p, placed) and not any(
                    q.hits for q in placed if q.tid == p.tid and q.chain == p.chain
                    and q.row["row"] in group):
                self.add("sr.template-row-missing", Severity.ERROR,
                         f"{p.where}: {path} has none of rows {', '.join(group)} of TID "
                         f"{p.tid} (MC: at least one is required)", p.where, tag,
                         details={"path": path})
            own = p.chain[:len(p.chain) - p.base]
            single = row.get("vm") == "1" and all(i.get("vm", "1") == "1" for i, _t in own)
            if single and len(p.hits) > 1:
                self.add("sr.template-row-repeated", Severity.ERROR,
                         f"{p.where}: content item {p.label} may appear once (VM 1) in "
                         f"{path}, found {len(p.hits)}", p.where, tag, details={"path": path})


@cache
def _srt_to_sct() -> dict[str, str]:
    return dict(json.loads(CONTEXT_GROUPS.read_text()).get("srt_to_sct", {}))


def _normal(code: Code | None) -> Code:
    """SNOMED codes in the retired SRT form compare as their SCT equivalents (PS3.16 8)."""
    if code is None:
        return ("", "")
    if code[1] == "SRT":
        sct = _srt_to_sct().get(code[0])
        if sct:
            return (sct, "SCT")
    return code


def check(add: Add, ds: Dataset, sop_class: str | None) -> None:
    """Template findings for the document *ds* (see the module docstring)."""
    tid = declared_template(ds, sop_class)
    if tid is None:
        return
    t = _templates()[tid]
    root = t["root"]
    where = f"PS3.16 TID {tid} row {root['row']}"
    vt = _first(ds, 0x0040A040)
    if vt != root["value_type"]:
        add("sr.template-root-value-type", Severity.ERROR,
            f"{where} ({t['name']}): the root content item must be {root['value_type']}, "
            f"found {vt or 'none'}", where, tag_str(0x0040A040))
    walker = _Walker(add)
    title = _coded(ds, CONCEPT_NAME)
    root_row = _Row({"row": root["row"], "what": "the document title"}, tid, ())
    if title is not None:
        walker.in_group(title, root["cid"], root["strength"], root_row, "document title",
                        "the root")
    walker.level(t["rows"], tid, _children(ds), "ContentSequence", 1)
    closed = t.get("closed_root")
    if closed is not None:
        _outside_rows(add, tid, t["name"], closed, _children(ds))


def _outside_rows(add: Add, tid: str, name: str, closed: dict[str, list[str] | None],
                  items: list[Dataset]) -> None:
    """Root children of a Non-Extensible template that no row allows: a relationship type no
    row of the root level uses, or a value type no row with that relationship has (``None``:
    any, where an included template is not fully described here)."""
    for i, item in enumerate(items):
        rel, vt = _first(item, 0x0040A010), _first(item, 0x0040A040)
        kinds = closed.get(rel or "", [])
        if rel in closed and (kinds is None or vt in kinds):
            continue
        allowed = "; ".join(f"{r} {'/'.join(v) if v else '(any)'}" for r, v in closed.items())
        add("sr.template-outside-rows", Severity.ERROR,
            f"PS3.16 TID {tid} ({name}) is Non-Extensible: root content item "
            f"ContentSequence[{i}] ({rel or 'no relationship'} {vt or 'no value type'}) "
            f"matches no row of the root (allowed: {allowed})",
            f"PS3.16 TID {tid}", tag_str(CONTENT_SEQUENCE),
            details={"path": f"ContentSequence[{i}]"})

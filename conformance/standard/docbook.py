"""Build an IOD index (the format of ``iod_index.json.gz``) from the standard's DocBook XML.

Used by ``conformance standard update --docbook DIR``.  The DocBook files (``part03.xml``,
``part04.xml``, ``part06.xml`` from https://dicom.nema.org/medical/dicom/<edition>/source/
docbook/) are read by the offline spec reader of dicom-validator 0.9 (optional extra
``dicom-conformance[docbook]``; its network code, which only downloads these files, is not
used).  This module converts its output to our index and parses conditions with
:mod:`conformance.standard.conditions`, exactly as ``bin/build_standard_index.py`` does.

What is read:

* PS3.6 chapter 6 (Registry of DICOM Data Elements): only because dicom-validator's PS3.3
  reader needs it; VR and VM still come from pydicom's dictionary at run time.
* PS3.4 Annex B.5 (Standard SOP Classes table): SOP Class UID -> PS3.3 IOD section.
* PS3.3 Annex A: each IOD's module table ("Table A.x-1": module, section, usage M/C/U with
  the condition text of C modules).
* PS3.3 module and macro tables (Annex C and the macros they include): attribute name, tag,
  type, description; ">" nesting into sequence children; "Include ..." rows expanded in place;
  the condition sentence of 1C/2C attributes ("Required if ..."); "Enumerated Values:" /
  "Defined Terms:" variable lists written in the attribute's own description cell; the
  number of items of a sequence where the description states it unconditionally.

What is NOT read: enumerated values or defined terms given in a separate section or table
(only the inline lists); the condition of a conditional "Include" row (its attributes are
flattened into the module with their own types); functional group macros of multi-frame
IODs (dicom-validator keeps them as a placeholder; the shipped index has no model for them
either); repeating groups (60xx, 50xx) are dropped; retired IODs without a module table.
Verified only on a small synthetic DocBook fixture (tests/iod/test_docbook.py) built to the
structure dicom-validator expects, not on a real NEMA edition (not downloadable here).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conformance.standard.condition_text import condition_sentence, item_count
from conformance.standard.conditions import tags_in
from conformance.standard.index_tables import IndexTables

PARTS = ("part03.xml", "part04.xml", "part06.xml")
EXTRA_HINT = "pip install 'dicom-conformance[docbook]'"


class DocbookError(Exception):
    """A missing or unreadable DocBook file, or a structure the reader does not know."""


def check_folder(folder: str | Path) -> Path:
    """The folder as a Path; DocbookError naming the first missing file."""
    d = Path(folder)
    if not d.is_dir():
        raise DocbookError(f"DocBook folder not found: {d} (needs {', '.join(PARTS)})")
    for name in PARTS:
        if not (d / name).is_file():
            raise DocbookError(f"missing DocBook file {d / name}")
    return d


def edition_of(part03: Path) -> str:
    """The edition ("2025b") named in the head of part03.xml (its subtitle reads
    "DICOM PS3.3 2025b - Information Object Definitions"); "unknown" if none."""
    with open(part03, "rb") as fh:
        head = fh.read(8192).decode("utf-8", "replace")
    m = re.search(r"PS3\.3\s+(\d{4}[a-z])\b", head) or re.search(r"\b(\d{4}[a-e])\b", head)
    return m.group(1) if m else "unknown"


def _slug(name: str) -> str:
    name = re.sub(r"\s+(IOD|Information Object(?:ion)? Definition)$", "", name.strip())
    name = re.sub(r"\s+Module$", "", name)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _tag(tag_id: str) -> int | None:
    m = re.fullmatch(r"\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)", tag_id.strip())
    return int(m.group(1) + m.group(2), 16) if m else None


# --- reading -----------------------------------------------------------------------------

def _readers(folder: Path) -> tuple[Any, Any, Any]:
    try:
        from dicom_validator.spec_reader.part3_reader import Part3Reader
        from dicom_validator.spec_reader.part4_reader import Part4Reader
        from dicom_validator.spec_reader.part6_reader import Part6Reader
    except ImportError as exc:
        raise DocbookError(f"reading DocBook needs dicom-validator 0.9 ({exc}); "
                           f"{EXTRA_HINT}") from None

    class Part3(Part3Reader):  # type: ignore[misc, valid-type]
        """Also keeps each attribute's description text and inline term lists, which
        dicom-validator turns into its own condition objects and drops."""

        def _handle_regular_attribute(self, columns, current_descriptions, last_tag_id,
                                      tag_name):
            tag_id = self._find_text(columns[1])
            result = super()._handle_regular_attribute(columns, current_descriptions,
                                                       last_tag_id, tag_name)
            entry = current_descriptions[-1].get(tag_id) if tag_id else None
            if entry is not None:
                entry["desc"] = self._find_all_text(columns[3])
                for vl in columns[3].iter(self.docbook_ns + "variablelist"):
                    title = vl.find(self.docbook_ns + "title")
                    label = " ".join((title.text or "").split()) if title is not None else ""
                    key = {"Enumerated Values:": "enumerated",
                           "Defined Terms:": "defined"}.get(label)
                    if key and key not in entry:
                        terms = [self.cleaned_value(self._find_all_text(t))
                                 for t in vl.iter(self.docbook_ns + "term")]
                        entry[key] = [t for t in terms if t]
            return result

    part6 = Part6Reader(folder)
    p3 = Part3(folder, part6.data_elements())
    return p3, Part4Reader(folder), part6


def read_docbook(folder: str | Path) -> dict[str, Any]:
    """The index (same structure as the shipped one) built from the DocBook in *folder*."""
    d = check_folder(folder)
    edition = edition_of(d / "part03.xml")
    p3, p4, _ = _readers(d)
    from dicom_validator.spec_reader.spec_reader import SpecReaderError

    try:
        iod_info = p3.iod_descriptions()
        module_info = p3.module_descriptions()
        chapters = p4.iod_chapters()
    except SpecReaderError as exc:  # names the file (missing, XML syntax error, no table)
        raise DocbookError(f"{exc} (in {d})") from None
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        # A structure the reader does not expect (another DocBook layout).
        raise DocbookError(f"unexpected DocBook structure in {d}/part03.xml or part04.xml: "
                           f"{type(exc).__name__}: {exc}") from None
    return _convert(iod_info, module_info, chapters, edition, d)


def _convert(iod_info: dict, module_info: dict, chapters: dict, edition: str,
             folder: Path) -> dict[str, Any]:
    import pydicom

    tables = IndexTables()
    conditions, stats = tables.conditions, tables.stats
    cond_id = tables.cond_id

    def term_id(terms: list[str] | None) -> int:
        """Hexadecimal enumerated values ("0010H") as the shipped index stores them (decimal)."""
        return tables.term_id([str(int(t[:-1], 16)) if re.fullmatch(r"[0-9A-F]{4}H", t) else t
                               for t in terms or []])

    def nodes(desc: dict, seen: tuple[str, ...]) -> list:
        out: list = []
        for tag_id, entry in desc.items():
            if tag_id == "include":
                for inc in entry:
                    ref = inc.get("ref", "")
                    if ref == "FuncGroup":
                        stats["functional_group_placeholders_skipped"] += 1
                        continue
                    if ref in seen or ref not in module_info:
                        stats["includes_unresolved_or_recursive"] += 1
                        continue
                    stats["includes_expanded"] += 1
                    for n in nodes(module_info[ref] or {}, seen + (ref,)):
                        if not any(o[0] == n[0] for o in out):
                            out.append(n)
                continue
            tag = _tag(tag_id)
            if tag is None:
                stats["rows_dropped_repeating_group"] += 1
                continue
            if any(o[0] == tag for o in out):
                continue
            text = entry.get("desc", "")
            atype = entry.get("type", "")
            cid = cond_id(condition_sentence(text)) if atype in ("1C", "2C") else -1
            if cid >= 0 and tag in tags_in(conditions[cid]["expr"]):
                stats["conditions_self_referencing_dropped"] += 1
                cid = cond_id(conditions[cid]["text"] + " [refers to the attribute itself]")
            if atype in ("1C", "2C"):
                stats["conditional_attributes"] += 1
                stats["conditional_without_text"] += cid < 0
            children = nodes(entry.get("items") or {}, seen)
            node = [tag, atype, cid, term_id(entry.get("enumerated")),
                    term_id(entry.get("defined")), children]
            items = item_count(text) if "items" in entry else None
            if items:
                node.append(items)
                stats["sequences_with_item_count"] += 1
            out.append(node)
            stats["rows"] += 1
        return out

    modules: dict[str, dict] = {}
    section_key: dict[str, str] = {}
    iods: dict[str, dict] = {}
    iod_key_of: dict[str, str] = {}
    for chapter, iod in sorted(iod_info.items()):
        ikey = _slug(iod["title"] or chapter) or chapter
        if ikey in iods:
            ikey = f"{ikey}-{chapter}"
        iod_key_of[chapter] = ikey
        entries = []
        for name, m in iod["modules"].items():
            ref = m.get("ref")
            if not ref:
                continue
            if ref not in section_key:
                mkey = _slug(name) or ref
                if mkey in modules:
                    mkey = f"{mkey}-{ref}"
                section_key[ref] = mkey
                modules[mkey] = {"name": name if name.endswith("Module") else f"{name} Module",
                                 "ref": f"PS3.3 {ref}",
                                 "attrs": nodes(module_info.get(ref) or {}, (ref,))}
            use = " ".join((m.get("use") or "").split())
            usage = use[:1].upper() if use[:1].upper() in "MCU" and use else "U"
            text = None
            if usage == "C":
                text = re.sub(r"^C\s*[-\u2013\u2014]?\s*", "", use) or None
                stats["conditional_modules"] += 1
                stats["conditional_modules_without_text"] += text is None
            entries.append([section_key[ref], usage, cond_id(text)])
        iods[ikey] = {"name": iod["title"], "ref": f"PS3.3 {chapter}", "modules": entries}

    sop_classes = {uid: iod_key_of[ch] for ch, uids in chapters.items() if ch in iod_key_of
                   for uid in uids}
    stats["sop_classes_without_iod"] = sum(len(u) for ch, u in chapters.items()
                                           if ch not in iod_key_of)
    return {
        "about": {
            "edition": edition,
            "sources": [
                (f"{folder.resolve()} (DocBook, edition {edition}): part03.xml (Annex A IOD "
                 "module tables, module/macro attribute tables), part04.xml (Table B.5-1 SOP "
                 "class -> IOD), part06.xml (data dictionary, for the reader only)"),
                _dv_version() + " spec_reader (offline DocBook parsing)",
                f"pydicom {pydicom.__version__}: VR/VM at run time",
            ],
            "built_by": "conformance standard update --docbook",
            "node_layout": "[tag, type, condition_id, enumerated_values_id, defined_terms_id, "
                           "children, optional [min items, max items or null]]; ids index "
                           "'conditions' and 'terms', -1 = none",
            "stats": dict(stats),
        },
        "sop_classes": sop_classes,
        "iods": iods,
        "modules": modules,
        "conditions": conditions,
        "terms": tables.terms,
    }


def _dv_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return f"dicom-validator {version('dicom-validator')}"
    except PackageNotFoundError:
        return "dicom-validator"

#!/usr/bin/env python
"""Write ``conformance/standard/data/sr_context_groups.json``: the members of the PS3.16
context groups (CIDs) that the rows of ``sr_templates.json`` name, and nothing else.

Reproducible from pinned inputs: the members come from pydicom's tables generated from PS3.16
(``pydicom/sr/_cid_dict.py`` and ``_concepts_dict.py``; the version of pydicom is written into
the file; pydicom does not record the PS3.16 edition). The SRT->SCT pairs come from
``pydicom/sr/_snomed_dict.py`` (PS3.16 Annex O, "SNOMED CT retired SRT codes"), reduced to
the members written. Extensibility is not in pydicom's tables: it is taken from
``EXTENSIBILITY`` below, each entry with its source; a group not listed there is "unknown"
(the check treats it as extensible: a warning, never an error).

Usage::

    python bin/gen_sr_context_groups.py          # rewrite the data file
    python bin/gen_sr_context_groups.py --check  # exit 1 when the file is not up to date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "conformance" / "standard" / "data"

#: CID -> (extensible, source). Only what a source states.
EXTENSIBILITY: dict[int, tuple[bool, str]] = {
    7021: (True, "DCMTK dcmsr/libcmr/cid7021.cc, generated from PS3.16 2024c"),
    244: (True, "DCMTK dcmsr/libcmr/cid244.cc, generated from PS3.16 2024c"),
    7000: (True, "PS3.16 CID 7000: 'may be extended with any of the concepts included in "
                 "LOINC group' (HL7 dicom-terminology-in-fhir ValueSet CID_7000, 20220628)"),
}

#: Codes a group's own text keeps valid besides its members (CID 7001: "In previous releases
#: of the Standard, this Context Group included codes of DCMR ... the support of equivalent
#: DCMR codes is recommended for backward compatibility").
LEGACY: dict[int, list[list[str]]] = {
    7001: [["121060", "DCM", "History"], ["121062", "DCM", "Request"],
           ["121064", "DCM", "Current Procedure Descriptions"],
           ["121066", "DCM", "Prior Procedure Descriptions"],
           ["121068", "DCM", "Previous Findings"], ["121070", "DCM", "Findings"],
           ["121072", "DCM", "Impressions"], ["121074", "DCM", "Recommendations"],
           ["121076", "DCM", "Conclusions"], ["121078", "DCM", "Addendum"],
           ["121109", "DCM", "Indications for Procedure"],
           ["121110", "DCM", "Patient Presentation"], ["121113", "DCM", "Complications"],
           ["121111", "DCM", "Summary"], ["121180", "DCM", "Key Images"]],
}


def named_cids(templates: dict[str, Any]) -> set[int]:
    out: set[int] = set()

    def rows(items: list[dict[str, Any]]) -> None:
        for r in items:
            for key in ("concept_cid", "value_cid"):
                if key in r:
                    out.add(int(r[key]))
            rows(r.get("children", []))

    for t in templates.values():
        if "root" in t:
            out.add(int(t["root"]["cid"]))
        rows(t["rows"])
    return out


def members(cid: int) -> list[list[str]]:
    from pydicom.sr._cid_dict import cid_concepts
    from pydicom.sr._concepts_dict import concepts

    out = []
    for scheme, keywords in cid_concepts.get(cid, {}).items():
        for kw in keywords:
            for code, (meaning, cids) in concepts.get(scheme, {}).get(kw, {}).items():
                if cid in cids:
                    out.append([code, scheme, meaning])
    return sorted(out)


def build() -> dict[str, Any]:
    import pydicom
    from pydicom.sr._cid_dict import name_for_cid
    from pydicom.sr._snomed_dict import mapping

    templates = json.loads((DATA / "sr_templates.json").read_text())["templates"]
    groups: dict[str, Any] = {}
    sct_members: set[str] = set()
    for cid in sorted(named_cids(templates)):
        m = members(cid) + LEGACY.get(cid, [])
        ext = EXTENSIBILITY.get(cid)
        groups[str(cid)] = {
            "name": name_for_cid.get(cid, ""),
            "extensible": ext[0] if ext else None,
            "extensible_source": ext[1] if ext else "not stated in the sources used: unknown",
            "members": m,
        }
        if LEGACY.get(cid):
            groups[str(cid)]["legacy_source"] = (
                f"PS3.16 CID {cid} note: equivalent DCMR codes of earlier releases")
        if not m:
            groups[str(cid)]["note"] = (
                "no members in pydicom's tables (the group refers to an external code system, "
                "e.g. RFC 5646 or ISO 3166): not checked")
        sct_members.update(code for code, scheme, _m in m if scheme == "SCT")
    srt_to_sct = {srt: sct for srt, sct in sorted(mapping["SRT"].items()) if sct in sct_members}
    return {
        "about": ("Members of the PS3.16 context groups named by sr_templates.json, written by "
                  "bin/gen_sr_context_groups.py from pydicom's tables generated from PS3.16. "
                  "extensible: true / false as a cited source states, null when unknown."),
        "source": f"pydicom {pydicom.__version__} (pydicom/sr/_cid_dict.py, _concepts_dict.py, "
                  "_snomed_dict.py); the PS3.16 edition is not recorded by pydicom",
        "groups": groups,
        "srt_to_sct": srt_to_sct,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    target = DATA / "sr_context_groups.json"
    if args.check:
        same = target.exists() and target.read_text() == text
        print("up to date" if same else f"{target} differs from what the generator writes")
        return 0 if same else 1
    target.write_text(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

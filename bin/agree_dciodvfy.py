#!/usr/bin/env python
"""Agreement with dciodvfy on real public files: per file, errors only we report and errors
only dciodvfy reports, grouped by finding code / dciodvfy message.  A measurement, not a test.

Usage::

    python bin/agree_dciodvfy.py [--real] [--detail] [FOLDER...]

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


def main() -> None:
    sys.path.insert(0, str(ROOT / "bin"))
    from bench_validate import real_corpus

    from conformance.iod import validate_file
    from conformance.iod.reading import looks_like_dicom

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--detail", action="store_true", help="list every disagreeing file")
    args = ap.parse_args()
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

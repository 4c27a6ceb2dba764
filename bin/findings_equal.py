#!/usr/bin/env python
"""Findings equality: the validator of another checkout (e.g. main, before a speed change)
and this one give the same findings, file by file.  A regression check, not a benchmark.

Usage::

    python bin/findings_equal.py --ref /work/main [--mutants 600] [--no-real] [--keep DIR]

The corpus is the real public files of ``bin/bench_validate.py --real`` (pydicom's test
files, pydicom-data, deid-data where installed), one synthesized instance of every storage
SOP class (``conformance synthesize``, built with the reference checkout so both see the
same bytes) and N deterministic byte mutants of all of them (the mutator of
``bench_validate.py``).  Each checkout validates every file in a fresh interpreter with
``validate_file``, set up as a ``conformance validate`` worker is (``_init_worker``); the
findings (code, severity, message, reference, tag, module, IOD, details; in order) are
compared per file.  Exit 0 when identical, 1 otherwise (the first differences are printed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bin"))

_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import conformance
assert conformance.__file__.startswith(sys.argv[1]), conformance.__file__
from conformance.cli.validate_cmd import _init_worker
from conformance.iod.validator import validate_file
_init_worker({})  # the settings of a `conformance validate` worker
out = open(sys.argv[3], "w")
for p in open(sys.argv[2]).read().split("\\n"):
    fs = validate_file(p)
    rows = None if fs is None else [
        [f.code, f.severity.value, f.message, f.reference, f.tag, f.module, f.iod,
         json.loads(json.dumps(f.details, default=str, sort_keys=True))] for f in fs]
    out.write(json.dumps([p, rows]) + "\\n")
"""

_SYNTH = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from conformance.iod import synthesize
from conformance.standard.iod_index import load_index
folder = Path(sys.argv[2])
for i, uid in enumerate(load_index().storage_sop_classes()):
    try:
        synthesize(uid).save_as(folder / f"s{i:03d}.dcm", enforce_file_format=True)
    except Exception:
        pass
"""


def findings(tree: Path, listing: Path, out: Path) -> dict[str, object]:
    subprocess.run([sys.executable, "-c", _CHILD, str(tree), str(listing), str(out)],
                   check=True, cwd=tree)
    return {path: rows for path, rows in map(json.loads, out.read_text().splitlines())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", type=Path, required=True, help="checkout to compare with")
    ap.add_argument("--mutants", type=int, default=600)
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the corpus in DIR")
    args = ap.parse_args()
    from bench_validate import mutate, real_corpus

    with tempfile.TemporaryDirectory(prefix="findings-equal-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        synth = folder / "synth"
        synth.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-c", _SYNTH, str(args.ref.resolve()), str(synth)],
                       check=True, cwd=args.ref)
        n_synth = len(list(synth.glob("*.dcm")))
        sources = ([] if args.no_real else real_corpus()) + sorted(synth.glob("*.dcm"))
        mdir = folder / "mutants"
        mdir.mkdir(exist_ok=True)
        datas = [p.read_bytes() for p in sources]
        mutants = []
        for i in range(args.mutants):
            p = mdir / f"m{i:05d}.dcm"
            p.write_bytes(mutate(datas[i % len(datas)], i))
            mutants.append(p)
        paths = [str(p) for p in sources + mutants]
        listing = folder / "files.txt"
        listing.write_text("\n".join(paths))
        ref = findings(args.ref.resolve(), listing, folder / "ref.jsonl")
        ours = findings(ROOT, listing, folder / "ours.jsonl")
    differ = [p for p in paths if ref.get(p) != ours.get(p)]
    total = sum(len(v) for v in ref.values() if isinstance(v, list))
    print(f"{len(paths)} files ({len(sources) - n_synth} real, {n_synth} synthesized, "
          f"{len(mutants)} mutants), {total} findings from {args.ref}: "
          f"{len(differ)} file(s) differ")
    for p in differ[:10]:
        a, b = ref.get(p) or [], ours.get(p) or []
        print(f"- {p}: ref {len(a)} findings, ours {len(b)}")
        for row in [r for r in a if r not in b][:3]:
            print(f"    only ref:  {row}")
        for row in [r for r in b if r not in a][:3]:
            print(f"    only ours: {row}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

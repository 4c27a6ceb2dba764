#!/usr/bin/env python
"""Benchmark: files/s of our IOD validator (all cores) vs dciodvfy (one process per file, as
it is used) vs a bare pydicom ``dcmread`` loop (the floor of any pydicom-based validator),
plus peak RSS when validating one large multi-frame file.  A benchmark, not a test.

Usage::

    python bin/bench_validate.py [--files 1000] [--repeat 3] [--big-gib 1.0] [--jobs N]
                                 [--real] [--mutants 2000]

``--real`` adds a corpus of real public files: pydicom's and pynetdicom's test files plus,
when installed, the PyPI packages pydicom-data and deid-data (``pip install pydicom-data
deid-data``) and the example of Debian's dicom3tools.
``--mutants N`` validates N deterministic byte mutants (flips, truncations, corrupted
lengths, inserted junk) of the real and synthesized files in one pool and prints the wall
time and the peak RSS of the largest worker.

The corpus is synthesized deterministically into a temporary folder (64x64 16-bit images of
several IODs, about 9 kB each, like the 9.4 kB CT files of ../shared/PEERS.md) and removed
afterwards.  The large file is sparse: its Pixel Data is a hole, which costs no disk writes
and shows that pixel data is not read.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DCIODVFY = "/usr/bin/dciodvfy"
KINDS = ["1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4",
         "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.6.1",
         "1.2.840.10008.5.1.4.1.1.1"]


def make_corpus(folder: Path, n: int) -> list[Path]:
    from pydicom.uid import generate_uid

    from conformance.iod import synthesize

    bases = []
    for uid in KINDS:
        ds = synthesize(uid)
        if "Rows" in ds:
            ds.Rows = ds.Columns = 64
            bits = ds.BitsAllocated
            size = 64 * 64 * ds.SamplesPerPixel * bits // 8
            ds.PixelData = bytes(size)
        bases.append(ds)
    paths = []
    for i in range(n):
        ds = bases[i % len(bases)]
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["bench", str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        p = folder / f"f{i:05d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


_OURS_CHILD = """
import os, resource, sys, time
t = time.perf_counter()
from conformance.cli.validate_cmd import _init_worker, _validate_one, _widen_result_pipe
from conformance.cli.lean import lean_start, start_up_done
lean_start()  # as the console script's `conformance validate` does
from multiprocessing import get_context
from conformance.iod.warm import warm_up
paths = open(sys.argv[1]).read().split("\\n")
warm_up()  # as `conformance validate` does before its pool forks
start_up_done()
pool = get_context("fork").Pool(int(sys.argv[2]), initializer=_init_worker, initargs=({},))
_widen_result_pipe(pool)
for _ in pool.imap_unordered(_validate_one, paths, chunksize=16):
    pass
pool.close()
pool.join()
wall = time.perf_counter() - t
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
me = resource.getrusage(resource.RUSAGE_SELF)
print(len(paths) / wall, kids.ru_utime + kids.ru_stime, me.ru_utime + me.ru_stime)
"""


#: Our child processes run with byte-compiled modules, as an installed package does (pip
#: compiles on install); an environment with PYTHONDONTWRITEBYTECODE (a sandbox, a source
#: checkout) would otherwise compile every module from source at each start (~40 ms).
_PYCACHE = tempfile.mkdtemp(prefix="bench-validate-pyc-")
atexit.register(shutil.rmtree, _PYCACHE, True)


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    return env


def bench_ours(paths: list[Path], jobs: int) -> tuple[float, float]:
    """Cold, as a user runs it: a fresh interpreter; imports, the IOD definitions (built once
    in the parent, inherited by the forked workers) and the pool start are all timed.
    Returns (files/s by wall clock, CPU seconds per file of the workers: user + sys)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(str(p) for p in paths))
    try:
        out = subprocess.run([sys.executable, "-c", _OURS_CHILD, fh.name, str(jobs)],
                             env=_child_env(),
                             capture_output=True, text=True, check=True, cwd=ROOT)
    finally:
        os.unlink(fh.name)
    rate, workers, _parent = map(float, out.stdout.split()[-3:])
    return rate, workers / len(paths)


def bench_ours_warm(paths: list[Path]) -> float:
    """One process, second pass: IOD definitions (built lazily, per process, on first use of
    each IOD) and the OS cache are warm; what a long run costs per file and per core
    (files per CPU second)."""
    import warnings

    from conformance.iod import validate_file

    from conformance.iod import elements

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in paths:
            validate_file(p)
        for memo in ("_ELEMENT_MEMO", "_STRING_MEMO", "_VALUES_MEMO"):
            getattr(elements, memo, {}).clear()  # values' memos cold as in a first pass
        start = time.process_time()
        for p in paths:
            validate_file(p)
    return len(paths) / (time.process_time() - start)


def bench_cli(paths: list[Path], jobs: int) -> tuple[float, float]:
    """``conformance validate --jobs N --format json`` as a user runs it (its start-up, pool
    and report included): files/s by wall clock, CPU seconds per file of the command and its
    workers."""
    cli = Path(sys.executable).with_name("conformance")
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([str(cli), "validate", "--jobs", str(jobs), "--format", "json",
                    *map(str, paths)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, cwd=ROOT, env=_child_env())
    return (len(paths) / (time.perf_counter() - start),
            (_children_cpu() - cpu) / len(paths))


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def bench_dciodvfy(paths: list[Path]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _children_cpu()
    for p in paths:
        subprocess.run([DCIODVFY, str(p)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    return (len(paths) / (time.perf_counter() - start),
            (_children_cpu() - cpu) / len(paths))


def bench_dcmread(paths: list[Path]) -> tuple[float, float]:
    import pydicom

    start, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        with contextlib.suppress(Exception):  # corrupt public test files: time still counts
            pydicom.dcmread(p, force=True)
    return (len(paths) / (time.perf_counter() - start),
            (time.process_time() - cpu) / len(paths))


_RSS_CHILD = """
import sys, time
from conformance.iod import validate_file
t = time.perf_counter()
findings = validate_file(sys.argv[1]) if sys.argv[1] != "-" else []
dt = time.perf_counter() - t
errors = sum(1 for f in findings or [] if f.severity.value == "error")
# VmHWM (peak RSS of this process image); ru_maxrss would carry the parent's peak over exec.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(hwm, dt, errors)
"""


def big_file(path: Path, gib: float) -> Path:
    import struct

    from pydicom.uid import generate_uid  # noqa: F401

    from conformance.iod import synthesize

    ds = synthesize("1.2.840.10008.5.1.4.1.1.7.3")  # multi-frame grayscale word SC
    frames = max(1, int(gib * 2**30 / (512 * 512 * 2)))
    ds.Rows = ds.Columns = 512
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = 0x00182001  # Page Number Vector (SC Multi-frame Vector)
    ds.PageNumberVector = [str(i + 1) for i in range(frames)]
    del ds.PixelData
    ds.save_as(path, enforce_file_format=True)
    length = 512 * 512 * 2 * frames
    with open(path, "ab") as fh:
        fh.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, length))
        fh.truncate(fh.tell() + length)
    return path


def peak_rss(arg: str) -> tuple[int, float, int]:
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, arg], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    kib, seconds, errors = out.stdout.split()
    return int(kib), float(seconds), int(errors)


def real_corpus() -> list[Path]:
    """DICOM files of pydicom's test data and, where installed, of pynetdicom's tests,
    pydicom-data, deid-data and dicom3tools' example (the corpus of issue 14)."""
    import importlib.util

    import pydicom

    from conformance.iod.reading import looks_like_dicom

    roots = [Path(pydicom.__file__).parent / "data" / "test_files"]
    for mod, sub in (("pynetdicom", "tests/dicom_files"), ("deid_data", ""),
                     ("data_store", "data")):
        spec = importlib.util.find_spec(mod)
        if spec and spec.submodule_search_locations:
            roots.append(Path(next(iter(spec.submodule_search_locations))) / sub)
    roots.append(Path("/usr/share/doc/dicom3tools/examples"))  # Debian's dicom3tools
    roots = [r for r in roots if r.is_dir()]
    out = []
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                with open(p, "rb") as fh:
                    if looks_like_dicom(fh.read(256))[0]:
                        out.append(p)
    return out


def bench_table(paths: list[Path], jobs: int, repeat: int) -> None:
    """Each round runs ours, dciodvfy, the bare read loop and the CLI in turn (the order rotating
    from round to round, so that load from other users falls on all of them); the table
    gives the range over the rounds of files/s (wall), CPU ms per file (user + sys: of the
    workers for ours, of the dciodvfy processes, of the loop, of the command and its workers
    for the CLI) and the 1-minute load average
    at the start of each measurement."""
    import warnings

    rows = [
        (f"ours (validate, {jobs} processes, cold)", lambda: bench_ours(paths, jobs)),
        ("dciodvfy (one process per file)", lambda: bench_dciodvfy(paths)),
        ("bare pydicom dcmread loop (1 process)", lambda: bench_dcmread(paths)),
        (f"conformance validate --jobs {jobs} (CLI)", lambda: bench_cli(paths, jobs)),
    ]
    got: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in rows}
    bench_ours(paths[:8], jobs)         # untimed: fills the byte-code cache (_child_env)
    bench_cli(paths[:8], jobs)
    for r in range(repeat):
        for name, fn in rows[r % len(rows):] + rows[:r % len(rows)]:
            load = os.getloadavg()[0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rate, cpu = fn()
            got[name].append((rate, cpu, load))
    warm = bench_ours_warm(paths)

    def span(vals: list[float], fmt: str, median: bool = False) -> str:
        lo, hi = min(vals), max(vals)
        text = format(lo, fmt) if f"{lo:{fmt}}" == f"{hi:{fmt}}" else f"{lo:{fmt}}-{hi:{fmt}}"
        return f"{text} (median {statistics.median(vals):{fmt}})" if median else text

    print(f"\n| {'validator':40} | files/s (wall) | CPU ms/file | load avg  |")
    print(f"|{'-' * 42}|----------------|-------------|-----------|")
    for name, vals in got.items():
        print(f"| {name:40} | {span([v[0] for v in vals], '.0f'):>14} | "
              f"{span([1000 * v[1] for v in vals], '.2f'):>11} | "
              f"{span([v[2] for v in vals], '.1f'):>9} |")
    print(f"| {'ours, 1 process, warm (files per CPU s)':40} | {warm:14.0f} | "
          f"{1000 / warm:11.2f} |           |")
    ours, ref, floor, cli = (got[name] for name, _ in rows)
    for label, mine in (("ours", ours), ("CLI", cli)):
        ratio = [o[0] / d[0] for o, d in zip(mine, ref)]
        wall_core = [100 * o[0] / jobs / f[0] for o, f in zip(mine, floor)]
        cpu_core = [100 * f[1] / o[1] for o, f in zip(mine, floor)]
        print(f"\nper round, {label}: / dciodvfy = {span(ratio, '.1f', True)}x (target >= 5x); "
              f"per core / bare dcmread: by wall {span(wall_core, '.0f')}%, by CPU per file "
              f"{span(cpu_core, '.0f', True)}% (target >= 40%)")
    print(f"warm, one process / bare dcmread = "
          f"{100 * warm * statistics.median(f[1] for f in floor):.0f}% (CPU)")


def mutate(data: bytes, i: int) -> bytes:
    import random
    rng = random.Random(f"mutant-{i}")
    buf = bytearray(data)
    lo = min(132, len(buf) - 1)
    kind = i % 4
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(lo, len(buf))] = rng.randrange(256)
    elif kind == 1:
        del buf[rng.randrange(1, len(buf)):]
    elif kind == 2:
        pos = rng.randrange(lo, max(lo + 1, len(buf) - 4))
        buf[pos:pos + 4] = rng.randbytes(4)
    else:
        pos = rng.randrange(lo, len(buf))
        buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
    return bytes(buf)


_MUTANT_CHILD = """
import resource, sys, time
from multiprocessing import get_context
from conformance.cli.validate_cmd import _init_worker, _validate_one, _widen_result_pipe
paths = open(sys.argv[1]).read().split()
t = time.perf_counter()
with get_context("fork").Pool(int(sys.argv[2]), initializer=_init_worker,
                              initargs=({},)) as pool:
    n = sum(1 for _ in pool.imap_unordered(_validate_one, paths, chunksize=4))
print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def bench_mutants(folder: Path, sources: list[Path], n: int, jobs: int) -> None:
    mdir = folder / "mutants"
    mdir.mkdir()
    datas = [p.read_bytes() for p in sources]
    paths = []
    for i in range(n):
        p = mdir / f"m{i:05d}.dcm"
        p.write_bytes(mutate(datas[i % len(datas)], i))
        paths.append(str(p))
    listing = folder / "mutants.txt"
    listing.write_text("\n".join(paths))
    out = subprocess.run([sys.executable, "-c", _MUTANT_CHILD, str(listing), str(jobs)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    count, seconds, kib = out.stdout.split()
    print(f"\n{count} mutants of {len(sources)} files, {jobs} processes: {float(seconds):.1f} s "
          f"(target < 60 s); peak RSS of the largest worker {int(kib) / 1024:.0f} MiB "
          "(target < 1 GB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--big-gib", type=float, default=1.0)
    ap.add_argument("--real", action="store_true", help="also the real public corpus")
    ap.add_argument("--mutants", type=int, default=0, help="validate N byte mutants")
    ap.add_argument("--real-copies", type=int, default=1,
                    help="list the real corpus N times (a larger run: the one-off start-up "
                         "weighs less; repeated values hit the validator's memos more)")
    ap.add_argument("--only-real", action="store_true",
                    help="with --real: skip the synthesized table and the large file")
    args = ap.parse_args()
    if not os.access(DCIODVFY, os.X_OK):
        sys.exit(f"{DCIODVFY} not found: apt-get install dicom3tools")
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder, args.files)
        avg = statistics.mean(p.stat().st_size for p in paths)
        print(f"corpus: {len(paths)} files, mean {avg / 1000:.1f} kB, "
              f"{len(KINDS)} IODs; {os.cpu_count()} cores; range over {args.repeat} rounds")
        if not (args.real and args.only_real):
            bench_table(paths, args.jobs, args.repeat)
        if args.real:
            real = real_corpus()
            size = sum(p.stat().st_size for p in real)
            print(f"\nreal public corpus: {len(real)} files, {size / 2**20:.1f} MiB "
                  "(pydicom and pynetdicom test files, pydicom-data, deid-data, dicom3tools "
                  "example, where installed)"
                  + (f", listed {args.real_copies} times" if args.real_copies > 1 else ""))
            bench_table(real * args.real_copies, args.jobs, args.repeat)
        if args.mutants:
            bench_mutants(folder, (real_corpus() if args.real else []) + paths[:20],
                          args.mutants, args.jobs)
        if args.real and args.only_real:
            return
        big = big_file(folder / "big.dcm", args.big_gib)
        base_kib, _, _ = peak_rss("-")
        kib, seconds, errors = peak_rss(str(big))
        print(f"\nlarge multi-frame file: {big.stat().st_size / 2**30:.2f} GiB, validated in "
              f"{seconds * 1000:.0f} ms with {errors} error(s); peak RSS {kib / 1024:.1f} MiB "
              f"(interpreter + imports alone: {base_kib / 1024:.1f} MiB; target < 100 MB)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Benchmark: files/s of our IOD validator (all cores) vs dciodvfy (one process per file, as
it is used) vs a bare pydicom ``dcmread`` loop (the floor of any pydicom-based validator),
plus peak RSS when validating one large multi-frame file.  A benchmark, not a test.

Usage::

    python bin/bench_validate.py [--files 1000] [--repeat 3] [--big-gib 1.0] [--jobs N]

The corpus is synthesized deterministically into a temporary folder (64x64 16-bit images of
several IODs, about 9 kB each, like the 9.4 kB CT files of ../shared/PEERS.md) and removed
afterwards.  The large file is sparse: its Pixel Data is a hole, which costs no disk writes
and shows that pixel data is not read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
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


def bench_ours(paths: list[Path], jobs: int) -> float:
    from conformance.cli.validate_cmd import _init_worker, _validate_one

    start = time.perf_counter()
    with get_context("fork").Pool(jobs, initializer=_init_worker, initargs=({},)) as pool:
        for _ in pool.imap_unordered(_validate_one, [str(p) for p in paths], chunksize=16):
            pass
    return len(paths) / (time.perf_counter() - start)


def bench_dciodvfy(paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        subprocess.run([DCIODVFY, str(p)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return len(paths) / (time.perf_counter() - start)


def bench_dcmread(paths: list[Path]) -> float:
    import pydicom

    start = time.perf_counter()
    for p in paths:
        pydicom.dcmread(p)
    return len(paths) / (time.perf_counter() - start)


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--big-gib", type=float, default=1.0)
    args = ap.parse_args()
    if not os.access(DCIODVFY, os.X_OK):
        sys.exit(f"{DCIODVFY} not found: apt-get install dicom3tools")
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        folder = Path(tmp)
        paths = make_corpus(folder, args.files)
        avg = statistics.mean(p.stat().st_size for p in paths)
        print(f"corpus: {len(paths)} files, mean {avg / 1000:.1f} kB, "
              f"{len(KINDS)} IODs; {os.cpu_count()} cores; median of {args.repeat} runs")
        rows = [
            (f"ours (validate_file, {args.jobs} processes)", lambda: bench_ours(paths, args.jobs)),
            ("dciodvfy (one process per file)", lambda: bench_dciodvfy(paths)),
            ("bare pydicom dcmread loop (1 process)", lambda: bench_dcmread(paths)),
        ]
        results = {}
        for name, fn in rows:
            results[name] = statistics.median(fn() for _ in range(args.repeat))
        ours, ref, floor = results.values()
        print(f"\n| {'validator':44} | files/s |")
        print(f"|{'-' * 46}|---------|")
        for name, rate in results.items():
            print(f"| {name:44} | {rate:7.0f} |")
        print(f"\nours / dciodvfy = {ours / ref:.2f}x (target >= 2x); "
              f"ours / bare dcmread = {100 * ours / floor:.0f}% (target >= 20%)")
        big = big_file(folder / "big.dcm", args.big_gib)
        base_kib, _, _ = peak_rss("-")
        kib, seconds, errors = peak_rss(str(big))
        print(f"\nlarge multi-frame file: {big.stat().st_size / 2**30:.2f} GiB, validated in "
              f"{seconds * 1000:.0f} ms with {errors} error(s); peak RSS {kib / 1024:.1f} MiB "
              f"(interpreter + imports alone: {base_kib / 1024:.1f} MiB; target < 100 MB)")


if __name__ == "__main__":
    main()

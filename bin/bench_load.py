#!/usr/bin/env python3
"""Benchmark: the harness as a storage load generator (the load family's runner) against N
parallel DCMTK ``storescu`` processes, the same data sets, into DCMTK ``storescp --fork`` on
loopback.  Aggregate throughput side by side.  A benchmark, not a test: nothing asserts on time.

    python bin/bench_load.py [--associations 4] [--instances 250] [--repeat 3]

The instances come from the load family's payload (a synthesized CT, 64x64 16-bit by default,
~9 kB, like bin/bench_store.py), one unique SOP Instance UID each; storescu gets the very
same data sets as files (File Meta Information + the data set bytes), N processes with M files
each, one association per process.  Throughput is instances / wall time from the start of the
first association to the end of the last, for both.  Runs are interleaved (the machine is
shared) and the best of each is shown.  Target (issue 13): harness >= 0.8x storescu's.

Measured 2026-11-30, 2 shared cores (load average ~5), 9 kB CT instances: 4 x 250: harness 3826
instances/s, 4 storescu 1376 (2.8x); 8 x 125: harness 994, 8 storescu 757 (1.3x).  storescu
parses each file and starts a process per association; the harness sends one encoded template
with a new UID spliced in (no encoding per instance).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info

from conformance.load.payload import Payloads, uuid_uid
from conformance.load.runner import run_load
from conformance.negotiation.target import Target
from conformance.testing import StoreSCP, dcmtk_tool

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def write_files(payloads: Payloads, folder: Path, n: int, m: int) -> list[list[Path]]:
    tpl = payloads.templates[(CT, EXPLICIT_LE)]
    out = []
    for a in range(n):
        sub = folder / f"a{a}"
        sub.mkdir()
        files = []
        for i in range(m):
            uid = uuid_uid()
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = CT
            meta.MediaStorageSOPInstanceUID = uid
            meta.TransferSyntaxUID = EXPLICIT_LE
            buf = DicomBytesIO()
            buf.write(b"\x00" * 128 + b"DICM")
            write_file_meta_info(buf, meta, enforce_standard=True)
            path = sub / f"f{i:05d}.dcm"
            path.write_bytes(buf.getvalue() + tpl.instance(uid))
            files.append(path)
        out.append(files)
    return out


def storescu_run(peer: StoreSCP, groups: list[list[Path]]) -> float:
    """N storescu processes at once, one association each; wall seconds."""
    exe = dcmtk_tool("storescu")
    env = dict(os.environ, TCP_NODELAY="1")
    t = time.perf_counter()
    procs = [subprocess.Popen([exe, "-aec", peer.ae_title, "-aet", "CONFORMANCE", peer.host,
                               str(peer.port), *map(str, files)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for files in groups]
    for p in procs:
        if p.wait(timeout=600) != 0:
            raise SystemExit(f"storescu failed with exit code {p.returncode}")
    return time.perf_counter() - t


def harness_run(peer: StoreSCP, payloads: Payloads, n: int, m: int) -> tuple[float, int]:
    target = Target(peer.host, peer.port, peer.ae_title)
    t = time.perf_counter()
    r = run_load(target, payloads, n, m, time_limit=600)
    wall = time.perf_counter() - t
    if r.succeeded != n * m:
        raise SystemExit(f"harness stored {r.succeeded} of {n * m}: {dict(r.statuses)} "
                         f"{r.broken[:2]}")
    return wall, r.succeeded


def clear(folder: Path) -> None:
    for p in folder.iterdir():
        if p.is_file():
            p.unlink()
        else:
            shutil.rmtree(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--associations", type=int, default=4)
    ap.add_argument("--instances", type=int, default=250, help="per association")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", type=int, default=64, help="Rows = Columns of the 16-bit CT "
                    "(0: as synthesized, 4x4)")
    args = ap.parse_args()
    n, m = args.associations, args.instances
    payloads = Payloads()
    from conformance.iod.synth import synthesize
    ds = synthesize(CT)
    if args.size:
        ds.Rows = ds.Columns = args.size
        ds.PixelData = bytes(args.size * args.size * 2)
    payloads.add(CT, EXPLICIT_LE, dataset=ds)
    size = len(payloads.templates[(CT, EXPLICIT_LE)].raw)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, \
            StoreSCP("STORESCP", extra_args=["--fork"]) as peer:
        groups = write_files(payloads, Path(tmp), n, m)
        print(f"{n} associations x {m} C-STOREs = {n * m} instances of {size} bytes; "
              f"storescp --fork on loopback; {os.cpu_count()} cores; best of {args.repeat}")
        ours, theirs = [], []
        for _ in range(args.repeat):
            clear(peer.output_dir)
            wall, _stored = harness_run(peer, payloads, n, m)
            ours.append(n * m / wall)
            written = sum(1 for _ in peer.output_dir.iterdir())
            if written != n * m:
                raise SystemExit(f"storescp wrote {written} files of {n * m}")
            clear(peer.output_dir)
            theirs.append(n * m / storescu_run(peer, groups))
        print("\n| load generator                                   | instances/s |")
        print("|--------------------------------------------------|-------------|")
        print(f"| harness (load/c-store runner, {n} threads)         | {max(ours):11.0f} |")
        print(f"| {n} parallel DCMTK storescu processes              | {max(theirs):11.0f} |")
        print(f"\nharness / storescu = {max(ours) / max(theirs):.2f}x (target >= 0.8x); all "
              f"runs: harness {[round(x) for x in ours]}, storescu "
              f"{[round(x) for x in theirs]}")


if __name__ == "__main__":
    main()

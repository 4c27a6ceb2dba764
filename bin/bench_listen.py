#!/usr/bin/env python3
"""Benchmark: receiving from DCMTK storescu on loopback, one association, the same files:
DCMTK storescp, the harness storage SCP (``conformance listen``) with validation off and on,
and a minimal pynetdicom SCP writing raw bytes. Also the validator's own per-file time.
A benchmark, not a test: nothing asserts on time. TCP_NODELAY=1 for every DCMTK process.

    python bin/bench_listen.py [--files 500] [--repeat 3]

Figures: files/s from storescu's start to the last file written (and, validation on, to the
last instance validated), median of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

from conformance.iod import synthesize, validate_file
from conformance.listen import ListenConfig, ListenSession
from conformance.statement import load_statement
from conformance.testing import StoreSCP, dcmtk_tool, free_port

ROOT = Path(__file__).resolve().parents[1]
CT = "1.2.840.10008.5.1.4.1.1.2"


def make_files(folder: Path, count: int) -> list[Path]:
    """*count* CT instances of about 9.4 kB (64 x 64 x 16 bit), distinct UIDs."""
    ds = synthesize(CT)
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = (np.arange(64 * 64, dtype="<u2") % 4000).tobytes()
    paths = []
    for i in range(count):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / f"ct{i:04}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def storescu(port: int, files: list[Path], called: str) -> float:
    """Seconds storescu takes to send *files* in one association."""
    env = {**os.environ, "TCP_NODELAY": "1"}
    start = time.perf_counter()
    done = subprocess.run([dcmtk_tool("storescu"), "-aec", called, "127.0.0.1", str(port), *map(str, files)],
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"storescu failed: {done.stderr[-500:]}")
    return time.perf_counter() - start


def bench_storescp(files: list[Path]) -> float:
    with StoreSCP("STORESCP") as scp:
        seconds = storescu(scp.port, files, "STORESCP")
        received = len(list(scp.output_dir.iterdir()))
    assert received == len(files), received
    return len(files) / seconds


#: CPU milliseconds per file of the last harness run: (listen process, validation workers).
CPU: dict[str, list[tuple[float, float]]] = {}


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of processes *pids* so far (/proc/PID/stat, Linux)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])          # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def bench_harness(files: list[Path], validate: bool) -> float:
    """Files/s; also notes the CPU time per file (listen process, worker processes), which a
    shared machine's load disturbs far less than the wall-clock rate."""
    statement = load_statement(ROOT / "statements" / "dcmtk-storescu.yaml")
    out = Path(tempfile.mkdtemp(prefix="bench-listen-"))
    try:
        session = ListenSession(ListenConfig(statement, out, expect_instances=len(files), timeout=600,
                                             validate=validate)).start()
        executor = getattr(session, "executor", None)
        workers = list(getattr(executor, "_processes", None) or {})
        cpu0, wcpu0 = time.process_time(), _cpu_seconds(workers)
        start = time.perf_counter()
        storescu(session.port, files, statement.harness.ae_title)
        session.wait()                      # all arrived (and, with validation, validated)
        seconds = time.perf_counter() - start
        cpu, wcpu = time.process_time() - cpu0, _cpu_seconds(workers) - wcpu0
        results = session.stop("bench")
        assert results.exit_code() == 0, results.counts()
        name = f"harness SCP, validation {'on' if validate else 'off'}"
        CPU.setdefault(name, []).append((1000 * cpu / len(files), 1000 * wcpu / len(files)))
        return len(files) / seconds
    finally:
        shutil.rmtree(out, ignore_errors=True)


def bench_pynetdicom(files: list[Path]) -> float:
    """The minimal pynetdicom SCP of ../shared/PEERS.md: write the raw data set bytes."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
    from pynetdicom.sop_class import CTImageStorage

    from conformance.testing.oracle import nodelay as _nodelay

    out = Path(tempfile.mkdtemp(prefix="bench-pynetdicom-"))
    count = {"n": 0}
    lock = threading.Lock()

    def on_store(event: evt.Event) -> int:
        with lock:
            count["n"] += 1
            n = count["n"]
        (out / f"{n}.raw").write_bytes(event.request.DataSet.getvalue())
        return 0x0000

    ae = AE(ae_title="PYNETDICOM")
    ae.add_supported_context(CTImageStorage, ALL_TRANSFER_SYNTAXES)
    for sop in __import__("pynetdicom").sop_class._STORAGE_CLASSES.values():
        ae.add_supported_context(sop, ALL_TRANSFER_SYNTAXES)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, on_store), (evt.EVT_CONN_OPEN, _nodelay)])
    try:
        seconds = storescu(port, files, "PYNETDICOM")
    finally:
        server.shutdown()
        shutil.rmtree(out, ignore_errors=True)
    return len(files) / seconds


def validator_rate(files: list[Path]) -> float:
    validate_file(files[0])                 # load the standard index once
    start = time.perf_counter()
    for path in files:
        validate_file(path)
    return len(files) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="Run only the receivers whose name contains this "
                        "(e.g. 'harness'); the storescp row always runs, as the reference.")
    parser.add_argument("--no-validator", action="store_true", help="Skip the validator-alone figure.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-listen-files-"))
    try:
        files = make_files(folder, args.files)
        size = statistics.mean(p.stat().st_size for p in files)
        rows = {"DCMTK storescp": lambda: bench_storescp(files),
                "harness SCP, validation off": lambda: bench_harness(files, False),
                "harness SCP, validation on": lambda: bench_harness(files, True),
                "minimal pynetdicom SCP (raw bytes)": lambda: bench_pynetdicom(files)}
        rows = {n: fn for n, fn in rows.items() if args.only in n or n == "DCMTK storescp"}
        # Alternate the receivers run by run (a shared machine's load then falls on all alike).
        runs: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeat):
            for name, fn in rows.items():
                runs[name].append(fn())
        figures = {name: statistics.median(r) for name, r in runs.items()}
        base = figures["DCMTK storescp"]
        print(f"{args.files} CT files of {size / 1000:.1f} kB, storescu -> receiver on loopback, one association, "
              f"median of {args.repeat}")
        print("| receiver | files/s | vs storescp |")
        print("|---|---|---|")
        for name, rate in figures.items():
            spread = f" ({min(runs[name]):,.0f}-{max(runs[name]):,.0f})" if len(runs[name]) > 1 else ""
            print(f"| {name} | {rate:,.0f}{spread} | {rate / base:.2f}x |")
        if CPU:
            print("\nCPU ms per file (median; a shared machine's load disturbs these far less than files/s):")
            print("| receiver | listen process | validation workers |")
            print("|---|---|---|")
            for name, pairs in CPU.items():
                own, work = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
                print(f"| {name} | {own:.2f} ({min(p[0] for p in pairs):.2f}-{max(p[0] for p in pairs):.2f}) "
                      f"| {work:.2f} |")
        if args.no_validator:
            return
        own = statistics.median(validator_rate(files) for _ in range(args.repeat))
        print(f"\nvalidator alone (one process, conformance.iod.validate_file): {own:,.0f} files/s "
              f"({1000 / own:.2f} ms/file)")
        on, off = figures.get("harness SCP, validation on"), figures.get("harness SCP, validation off")
        if on and off:
            print(f"validation on costs {1000 / on - 1000 / off:.2f} ms/file over validation off")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

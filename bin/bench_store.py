#!/usr/bin/env python3
"""Benchmark: C-STORE throughput into DCMTK storescp on loopback, same files, one association:
DCMTK storescu, a plain pynetdicom send loop, and the harness' storage path. A benchmark,
not a test: nothing asserts on time.

    python bin/bench_store.py [--files 500] [--repeat 3] [--nagle]

The files are CT instances from the harness' synthesizer (64 x 64 x 16 bit, about 9.4 kB,
Explicit VR Little Endian), written once to a temporary folder. storescp runs with
TCP_NODELAY=1 (the launcher sets it), and so does storescu here. The pynetdicom loop sets
TCP_NODELAY on its socket too (conformance.testing.oracle.nodelay); ``--nagle``
adds a run without it, on a tenth of the files, to show what Nagle costs.

Where the time goes (cProfile, 300 files, 2026-11-26):

- Nagle: without TCP_NODELAY every round trip waits for the delayed ACK, about 40 ms:
  pynetdicom 21 files/s instead of about 300. Fixed where the socket is made
  (``_nodelay`` on EVT_CONN_OPEN; ``socket.TCP_NODELAY`` in conformance.services.wire).
- Polling: with Nagle gone, the pynetdicom loop spends 6.0 of 6.3 s blocked in
  ``_thread.lock.acquire``: each PDU crosses two threads (DUL reactor, association reactor)
  through queues polled with 1 ms sleeps (``DULServiceProvider._run_loop_delay``). The
  same loop also loses a fast C-STORE-RSP now and then (the reactor race of PEERS.md item
  3). Not fixable from outside pynetdicom without replacing its reactors, so the harness'
  storage path does not use them: conformance.services.wire sends request, reads response,
  in one thread on a blocking socket (0.06 s of 0.13 s in ``recv``, waiting for storescp).
- Encoding twice: ``send_c_store(path)`` still decodes and re-encodes the file with pydicom
  (about 1 s per 300 files); the harness sends the file's data set bytes as read
  (conformance.services.storage.read_for_store).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid
from pynetdicom import AE, evt

from conformance.iod import synthesize
from conformance.testing.oracle import nodelay as _nodelay
from conformance.negotiation.target import Target
from conformance.services.encoding import encode, top_copy
from conformance.services.storage import store_files
from conformance.testing.peers import StoreSCP, child_env, dcmtk_tool

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"


def make_files(folder: Path, count: int) -> list[str]:
    base = encode(synthesize(CT), EXPLICIT).dataset
    paths = []
    for i in range(count):
        ds = top_copy(base)
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["bench", str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / f"ct{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


def run_storescu(scp: StoreSCP, paths: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([dcmtk_tool("storescu"), "-aec", scp.ae_title, scp.host, str(scp.port), *paths],
                   check=True, env=child_env(), capture_output=True, timeout=600)
    return time.perf_counter() - start


HICCUPS = {"pynetdicom": 0}


def run_pynetdicom(scp: StoreSCP, paths: list[str], nodelay: bool = True) -> float:
    """One association, ``send_c_store(path)`` per file. pynetdicom's reactor can lose a
    fast response (../shared/PEERS.md item 3): such a run is counted and made again."""
    for _attempt in range(3):
        ae = AE(ae_title="BENCH")
        ae.dimse_timeout = 5
        ae.add_requested_context(CT, [EXPLICIT])
        handlers = [(evt.EVT_CONN_OPEN, _nodelay)] if nodelay else []
        start = time.perf_counter()
        assoc = ae.associate(scp.host, scp.port, ae_title=scp.ae_title, evt_handlers=handlers)
        assert assoc.is_established, "pynetdicom could not associate"
        ok = True
        for path in paths:
            status = assoc.send_c_store(path)
            if status.get("Status") != 0:
                ok = False
                HICCUPS["pynetdicom"] += 1
                break
        if assoc.is_established:
            assoc.release()
        elapsed = time.perf_counter() - start
        ae.shutdown()
        if ok:
            return elapsed
    raise RuntimeError("pynetdicom lost a response in three runs in a row")


def run_harness(scp: StoreSCP, paths: list[str], wrap: Any = None) -> float:
    """Seconds for the harness's C-STORE SCU to send *paths* (over TLS when *wrap* is a
    socket wrapper from ``conformance.wire.tls.requestor_wrap``)."""
    target = Target(scp.host, scp.port, scp.ae_title, "BENCH", wrap=wrap)
    start = time.perf_counter()
    results = store_files(target, paths)
    elapsed = time.perf_counter() - start
    bad = [r for r in results if r.error or r.findings]
    assert not bad, bad[0]
    return elapsed


def print_rates(files: int, times: dict[str, list[float]], base_name: str) -> float:
    """Table rows: each sender's files/s (median of its runs) and its ratio to *base_name*;
    returns the base's files/s."""
    base = files / statistics.median(times[base_name])
    for name, values in times.items():
        rate = files / statistics.median(values)
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nagle", action="store_true", help="also a pynetdicom run without TCP_NODELAY")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        paths = make_files(Path(tmp), args.files)
        size = sum(os.path.getsize(p) for p in paths) / len(paths)
        runs = {"DCMTK storescu": run_storescu, "plain pynetdicom loop": run_pynetdicom,
                "harness (conformance.services.wire)": run_harness}
        times: dict[str, list[float]] = {name: [] for name in runs}
        with StoreSCP("STORESCP") as scp:
            for _ in range(args.repeat):
                for name, fn in runs.items():
                    times[name].append(fn(scp, paths))
            nagle = run_pynetdicom(scp, paths[: max(1, args.files // 10)], nodelay=False) if args.nagle else None
    print(f"{args.files} CT files of {size / 1024:.1f} kB, one association, storescp on loopback "
          f"(TCP_NODELAY=1), median of {args.repeat}:")
    print("| sender -> DCMTK storescp | files/s | vs storescu |")
    print("|---|---|---|")
    base = print_rates(args.files, times, "DCMTK storescu")
    if HICCUPS["pynetdicom"]:
        print(f"(pynetdicom lost a C-STORE response {HICCUPS['pynetdicom']} time(s); those runs were made again)")
    if nagle is not None:
        n = max(1, args.files // 10)
        print(f"| plain pynetdicom loop, Nagle on ({n} files) | {n / nagle:,.0f} | {n / nagle / base:.3f}x |")


if __name__ == "__main__":
    main()

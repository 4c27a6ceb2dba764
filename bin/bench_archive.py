#!/usr/bin/env python
"""Benchmark: archive-mode validation (``validate --results``) on local processes and on a Dask
LocalCluster with the same cores, side by side with dciodvfy (one process per file) and a bare
pydicom ``dcmread`` loop, in one run.  Also: where a worker's time goes, and the peak RSS of the
run's processes at two corpus sizes (flat in the number of files).  A benchmark, not a test.

Usage::

    python bin/bench_archive.py [--files 10000] [--cores N] [--dciodvfy-sample 500]

The corpus is synthesized by ``bin/bench_validate.py`` (64x64 images of five IODs, ~9 kB
each) into a temporary folder and removed afterwards.  dciodvfy runs on a sample of the files
(one process per file, ``--cores`` at a time) and its rate is extrapolated: say so when quoting.
The Dask figure excludes the cluster's start-up time, which is printed separately.

Measured 2026-11-30 on the shared 2-core machine (other engineers' tests running; the load
average is given, figures move a lot with it), 10,000 files:

- load 1.0: ours local 2378 files/s, LocalCluster 1511, dciodvfy 153 (sample of 500), bare
  dcmread 3570 (2 processes): local = 15.6x dciodvfy, 67% of dcmread, cluster 64% of local;
- load 5-7: ours local 543, LocalCluster 763, dciodvfy 81, dcmread 1231: 6.7x, 44%, 140%;
- load 3-5: ours local 1306, LocalCluster 926, dciodvfy 172, dcmread 6055: 7.6x, 22%, 71%
  (the runs are sequential, so each line met a different load: read ratios with care).
  In interleaved A/B runs of 5,000 files the two schedulers were within noise of each other
  (e.g. 412 vs 427, 303 vs 323 files/s): no structural gap was found.

Cluster vs local (2026-12-01, same machine, shared; ``--repeat 5 --untuned``, each pair run
back to back in alternating order, 10,000 files).  The wall-clock ratio per pair moves with
the other engineers' load (88-137% in one run), so the CPU of all processes per file (driver,
scheduler, nannies, workers; ``psutil``) is printed too: it does not depend on how much CPU
others take.  Found: Dask's cost is per task (~5 ms of driver CPU each, where a
LocalCluster's scheduler runs) plus the workers' statistical profiler (10 ms sampling).

- before (64 files a task, Dask defaults): local CPU / LocalCluster CPU per file 83-87%;
  wall per pair 57-101%, and 64% best vs best in the 2026-11-30 figures above;
- tasks of >= 256 files (batches joined), profiler and GIL monitor off: CPU 91-97% (median
  95%), wall per pair 88%, 90%, 94%, 121%, 137% (median 94%; best vs best 1,859 vs 1,986
  files/s); the workers' busy share (time inside validate_one / wall x workers) 90-92% in both,
  so no idle gaps are left; tasks of 256 with the profiler on: CPU 90-94%.
  In that run: dciodvfy 232 files/s (8.6x), bare dcmread 7,686 files/s in 2 processes (ours 26%
  of it); both moved a lot between runs (153-232, 3,570-7,686).

- peak RSS per worker: 74 MiB at 2,000, 10,000 and 100,000 files (flat); the driver 85-123
  MiB; the JSONL about 200 bytes a file (19 MB for 100,000 files).
- where the time goes (local, 10,000 files): 89-93% of the cores' time is inside
  validate_one; of a file's time, validate_file (pydicom parse + checks, w14's) is 0.7 ms of
  0.75 ms; our record + JSON 0.04 ms after replacing dataclasses.asdict (which was 40% of a
  worker's time) and counting info findings per code (15 kB -> 200 B a record).  Inside
  validate_file (cProfile): modules._check_rules ~37%, pydicom dcmread ~35%, elements.walk ~18%.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bin"))

import bench_validate  # the shared corpus synthesizer

DCIODVFY = "/usr/bin/dciodvfy"

# Runs archive-mode validation in a fresh interpreter, so its peak RSS (and its workers') is
# its own: ru_maxrss of RUSAGE_CHILDREN is the largest of the waited-for descendants.
_PRELUDE = """
import json, resource, sys, time

def _tree_cpu():
    # CPU seconds (user + system) of this process and every live descendant
    import psutil
    me = psutil.Process()
    total = 0.0
    for p in [me] + me.children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total

def _measure(sched, folder, results, batch):
    # validate the folder with the scheduler; wall, CPU of the driver and of the process tree
    from conformance.archive.listing import Source
    from conformance.archive.run import validate_archive
    from conformance.archive.store import ResultStore
    t = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    tree0 = _tree_cpu()
    with ResultStore(results, force=True) as store:
        out = validate_archive([Source("path", folder)], store, sched, batch_size=batch)
    wall = time.perf_counter() - t
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    busy = sum(json.loads(line)["ms"] for line in open(results)) / 1000
    return {"wall": wall, "files": out.validated, "busy": busy, "tree_cpu": _tree_cpu() - tree0,
            "driver_cpu": u0.ru_utime + u0.ru_stime - c0.ru_utime - c0.ru_stime}
"""

_CHILD = _PRELUDE + """
from conformance.archive.schedulers import LocalProcesses
folder, results, jobs, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
sched = LocalProcesses(jobs)
list(sched.run(iter([[]] * jobs * 2), {}))  # start the workers (fork, load the index)
startup = time.perf_counter() - t0
run = _measure(sched, folder, results, batch)
sched.close()
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(dict(run, driver_kib=me, worker_kib=kids, startup=startup)))
"""


def ours_local(folder: Path, results: Path, jobs: int, batch: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(results), str(jobs),
                          str(batch)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.splitlines()[-1])


_CHILD_DASK = _PRELUDE + """
from conformance.archive import schedulers
folder, results, jobs, batch, tuned = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                       int(sys.argv[4]), sys.argv[5] == "1")
if not tuned:
    schedulers.LOCAL_CLUSTER_CONFIG = {}
if int(sys.argv[6]):
    schedulers.DaskScheduler.task_files = int(sys.argv[6])
t0 = time.perf_counter()
sched = schedulers.DaskScheduler(f"local:{jobs}")
startup = time.perf_counter() - t0
run = _measure(sched, folder, results, batch)
rss = sched.run_on_workers(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sched.close()
print(json.dumps(dict(run, startup=startup, worker_kib=max(rss.values()))))
"""


def ours_dask(folder: Path, results: Path, jobs: int, batch: int, tuned: bool = True,
              task_files: int = 0) -> dict:
    """A LocalCluster in a fresh interpreter, like :func:`ours_local` (same footing: its own
    driver process, its own start-up)."""
    out = subprocess.run([sys.executable, "-c", _CHILD_DASK, str(folder), str(results),
                          str(jobs), str(batch), "1" if tuned else "0", str(task_files)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.splitlines()[-1])


def _read(paths: list[str]) -> int:
    import pydicom
    for p in paths:
        pydicom.dcmread(p)
    return len(paths)


def _busy(run: dict, workers: int) -> str:
    """Share of the workers' wall time spent inside validate_one (the rest: waiting for work,
    passing results, or descheduled by the machine's other load)."""
    return f"{100 * run['busy'] / (run['wall'] * workers):.0f}%"


def _cpu_per_k(run: dict) -> float:
    """CPU seconds of the driver and all its worker processes per 1,000 files validated."""
    return 1000 * run["tree_cpu"] / max(1, run["files"])


def dcmread_rate(paths: list[str], jobs: int) -> float:
    chunks = [paths[i:i + 64] for i in range(0, len(paths), 64)]
    t = time.perf_counter()
    if jobs == 1:
        _read(paths)
    else:
        with get_context("fork").Pool(jobs) as pool:
            sum(pool.imap_unordered(_read, chunks))
    return len(paths) / (time.perf_counter() - t)


def dciodvfy_rate(paths: list[str], jobs: int) -> float:
    def one(p: str) -> None:
        subprocess.run([DCIODVFY, p], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
    t = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, paths))
    return len(paths) / (time.perf_counter() - t)


def time_split(paths: list[str], rounds: int = 3) -> tuple[float, float, float]:
    """ms per file: validate_file alone, our record + JSON on top (best of *rounds*,
    alternating, so a busy spell does not land on one side only), bytes of JSONL a file."""
    from conformance.archive.work import validate_batch, warm_up
    from conformance.iod.validator import validate_file
    warm_up()
    sample = paths[:500]
    validate_batch(sample[:20])
    bare, full, text = [], [], ""
    for _ in range(rounds):
        t = time.perf_counter()
        for p in sample:
            validate_file(p)
        bare.append((time.perf_counter() - t) / len(sample) * 1000)
        t = time.perf_counter()
        text = validate_batch(sample)
        full.append((time.perf_counter() - t) / len(sample) * 1000)
    return min(bare), min(full) - min(bare), len(text) / len(sample)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--dciodvfy-sample", type=int, default=500)
    ap.add_argument("--big", type=int, default=20, help="large multi-frame files (sparse)")
    ap.add_argument("--big-gib", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours; the best is shown "
                    "(the machine is shared: the best is the least disturbed)")
    ap.add_argument("--dask-task-files", type=int, default=0, help="files per Dask task, at "
                    "least (default: DaskScheduler.task_files)")
    ap.add_argument("--untuned", action="store_true", help="also run a LocalCluster with "
                    "Dask's default worker profiler and GIL monitor (same task size), in the "
                    "same pairs")
    args = ap.parse_args()
    if not os.access(DCIODVFY, os.X_OK):
        sys.exit(f"{DCIODVFY} not found: apt-get install dicom3tools")
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        small = Path(tmp) / "small"
        small.mkdir()
        t = time.perf_counter()
        paths = [str(p) for p in bench_validate.make_corpus(folder, args.files)]
        for p in paths[: args.files // 5]:
            os.link(p, small / os.path.basename(p))
        print(f"corpus: {len(paths)} files of {len(bench_validate.KINDS)} IODs, "
              f"made in {time.perf_counter() - t:.0f} s; {args.cores} cores, batch "
              f"{args.batch}")
        rows: list[tuple[str, float, str]] = []
        runs: dict[str, list[dict]] = {"local": [], "dask": []}
        runs["untuned"] = []
        for i in range(args.repeat):  # interleaved pairs, order flipped each time
            order = ["local", "dask", "untuned"] if i % 2 == 0 else ["untuned", "dask", "local"]
            if not args.untuned:
                order.remove("untuned")
            for name in order:
                jsonl = Path(tmp) / f"{name}.jsonl"
                runs[name].append(
                    ours_local(folder, jsonl, args.cores, args.batch) if name == "local" else
                    ours_dask(folder, jsonl, args.cores, args.batch, tuned=name == "dask",
                              task_files=args.dask_task_files))
            la = os.getloadavg()[0]
            rates = {k: v[-1]["files"] / v[-1]["wall"] for k, v in runs.items() if v}
            extra = (f", untuned {rates['untuned']:.0f} ({100 * rates['untuned'] / rates['local']:.0f}%)"
                     if "untuned" in rates else "")
            print(f"pair {i + 1} (load {la:.1f}): local {rates['local']:.0f} files/s, "
                  f"LocalCluster {rates['dask']:.0f} files/s = "
                  f"{100 * rates['dask'] / rates['local']:.0f}% of local{extra}; CPU of all "
                  f"processes per 1,000 files: local {_cpu_per_k(runs['local'][-1]):.2f} s, "
                  f"LocalCluster {_cpu_per_k(runs['dask'][-1]):.2f} s (driver "
                  f"{runs['local'][-1]['driver_cpu']:.1f} s vs {runs['dask'][-1]['driver_cpu']:.1f}"
                  " s: the LocalCluster's scheduler runs in the driver); time inside "
                  f"validate_one / (wall x workers): local {_busy(runs['local'][-1], args.cores)}, "
                  f"LocalCluster {_busy(runs['dask'][-1], args.cores)}", flush=True)
        local = max(runs["local"], key=lambda r: r["files"] / r["wall"])
        dask = max(runs["dask"], key=lambda r: r["files"] / r["wall"])
        rows.append((f"ours, archive mode, {args.cores} local processes",
                     local["files"] / local["wall"],
                     f"+ {local['startup']:.1f} s workers' start-up"))
        rows.append((f"ours, archive mode, Dask LocalCluster {args.cores} workers",
                     dask["files"] / dask["wall"],
                     f"+ {dask['startup']:.1f} s cluster start-up"))
        sample = paths[:: max(1, len(paths) // args.dciodvfy_sample)][: args.dciodvfy_sample]
        rows.append((f"dciodvfy, 1 process per file, {args.cores} at a time",
                     dciodvfy_rate(sample, args.cores),
                     f"sample of {len(sample)} files, extrapolated"))
        rows.append((f"bare pydicom dcmread loop, {args.cores} processes",
                     dcmread_rate(paths, args.cores), ""))
        rows.append(("bare pydicom dcmread loop, 1 process", dcmread_rate(paths, 1), ""))
        small_run = ours_local(small, Path(tmp) / "small.jsonl", args.cores, args.batch)
        print(f"\n| {'run':58} | files/s | {args.files} files in | note")
        print(f"|{'-' * 60}|---------|{'-' * (len(str(args.files)) + 11)}|------")
        for name, rate, note in rows:
            print(f"| {name:58} | {rate:7.0f} | {args.files / rate:9.1f} s | {note}")
        r = {name: rate for name, rate, _ in rows}
        ours, dk, dv, floor = (rows[0][1], rows[1][1], rows[2][1], rows[3][1])
        print(f"\nlocal / dciodvfy = {ours / dv:.1f}x (target >= 10x); local / bare dcmread "
              f"({args.cores} processes) = {100 * ours / floor:.0f}% (target >= 60%); "
              f"cluster / local = {100 * dk / ours:.0f}% best vs best (target >= 85%)")
        pairs = sorted(d["files"] / d["wall"] / (lo["files"] / lo["wall"])
                       for lo, d in zip(runs["local"], runs["dask"]))
        print("cluster / local per pair: " + ", ".join(f"{100 * p:.0f}%" for p in pairs)
              + f"; median {100 * pairs[len(pairs) // 2]:.0f}%")
        cpu = sorted(_cpu_per_k(lo) / _cpu_per_k(d) for lo, d in zip(runs["local"], runs["dask"]))
        print("CPU efficiency, local CPU per file / LocalCluster CPU per file (all processes, "
              "insensitive to the other engineers' load): " + ", ".join(f"{100 * c:.0f}%" for c in cpu)
              + f"; median {100 * cpu[len(cpu) // 2]:.0f}%")
        del r
        print(f"peak RSS, local run: {len(paths) // 5} files: worker "
              f"{small_run['worker_kib'] / 1024:.0f} MiB, driver "
              f"{small_run['driver_kib'] / 1024:.0f} MiB; {len(paths)} files: worker "
              f"{local['worker_kib'] / 1024:.0f} MiB, driver {local['driver_kib'] / 1024:.0f} "
              f"MiB; Dask worker ({len(paths)} files) {dask['worker_kib'] / 1024:.0f} MiB")
        big = Path(tmp) / "big"
        big.mkdir()
        for i in range(args.big):
            bench_validate.big_file(big / f"big{i:03d}.dcm", args.big_gib)
        big_run = ours_local(big, Path(tmp) / "big.jsonl", args.cores, args.batch)
        print(f"large multi-frame files: {args.big} x {args.big_gib:g} GiB (sparse Pixel Data, "
              f"never read): {big_run['files'] / big_run['wall']:.0f} files/s, worker peak RSS "
              f"{big_run['worker_kib'] / 1024:.0f} MiB")
        print(f"local run: time inside validate_one summed over files {local['busy']:.1f} s = "
              f"{100 * local['busy'] / (local['wall'] * args.cores):.0f}% of {args.cores} cores x "
              f"{local['wall']:.1f} s wall (the rest: listing, IPC, writing, idle)")
        bare, extra, size = time_split(paths)
        print(f"where a worker's time goes (1 process, 500 files): validate_file "
              f"{bare:.2f} ms/file (the validator: pydicom parse + checks), record + JSON "
              f"{extra:.2f} ms/file, {size:.0f} bytes of JSONL a file")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: wall time, peak memory and exit code of `conformance` on hostile input files and
arguments (the bad-input cases of the "hostile networks" issue), one subprocess each.

    .venv/bin/python bin/bench_hostile_inputs.py            # this checkout
    PYTHONPATH=/path/to/old bin/bench_hostile_inputs.py     # another version, side by side

Each case runs with a 4 GiB address-space limit and a 120 s timeout so an unbounded reader
ends (as a MemoryError or a timeout) instead of taking the machine. No network is used: the
AE-title and host cases name port 104 on loopback or a name that is refused before any lookup.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "statements" / "reference-device.yaml"
LIMIT = 4 * 1024 ** 3


def _alias_bomb() -> str:
    lines = ["format: conformance-statement/1", 'a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join([*lines, "identity: *a9"]) + "\n"


def _results(folder: Path) -> bytes:
    subprocess.run([sys.executable, "-m", "conformance", "demo", "--out", str(folder / "run"), "-q",
                    "-k", "storage/character-set"], capture_output=True, timeout=300, check=True)
    return (folder / "run" / "results.jsonl").read_bytes()


def cases(folder: Path) -> dict[str, list[str]]:
    (folder / "bomb.yaml").write_text(_alias_bomb())
    with open(folder / "huge.yaml", "wb") as handle:
        handle.write(REFERENCE.read_bytes() + b"\nextra_list:\n")     # 50 MB of short list items
        handle.writelines(b"  - item %d with some text to fill the line up\n" % n for n in range(1_030_000))
    (folder / "long-ae.yaml").write_text(
        REFERENCE.read_text().replace("ae_titles: [REFERENCE]", f"ae_titles: [{'A' * 10_000}]"))
    data = _results(folder)
    cut = next(i for i, b in enumerate(data) if b >= 0xC2) + 1
    (folder / "cut.jsonl").write_bytes(data[:cut])
    return {
        "statement check: 548-byte alias bomb": ["statement", "check", "bomb.yaml"],
        "statement check: 50 MB statement": ["statement", "check", "huge.yaml"],
        "statement check: 10,000-char AE title": ["statement", "check", "long-ae.yaml"],
        "discover --called-ae of 10,000 chars": ["discover", "--port", "104", "--called-ae", "A" * 10_000],
        "discover --host with a 70-char label": ["discover", "--port", "104", "--host", "a" * 70 + ".invalid"],
        "report: results cut inside a UTF-8 char": ["report", "cut.jsonl", "--out", "cut-report"],
    }


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def measure(args: list[str], folder: Path) -> tuple[float, float, int | str, bool]:
    """(wall s, peak RSS MB, exit code or 'timeout', traceback printed?)."""
    start = time.perf_counter()
    with open(folder / "stderr", "w+b") as err:
        proc = subprocess.Popen([sys.executable, "-m", "conformance", *args], cwd=folder,
                                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_limit)  # noqa: PLW1509
        deadline = start + 120
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -1
                break
            time.sleep(0.02)
        proc.returncode = 0          # reaped by wait4; keep Popen from waiting again
        err.seek(0)
        traceback = b"Traceback" in err.read()
    wall = time.perf_counter() - start
    code: int | str = "timeout" if status == -1 else os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, code, traceback


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'case':42} {'wall s':>7} {'peak MB':>8} {'exit':>7}  traceback")
        for name, args in cases(folder).items():
            wall, peak, code, traceback = measure(args, folder)
            print(f"{name:42} {wall:7.2f} {peak:8.0f} {code!s:>7}  {'yes' if traceback else 'no'}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: fuzz cases per second against the reference device, DCMTK storescp +xa and
Orthanc 1.10 on loopback (every area, the liveness check after each case included). Each case
is one connection, a set-up association where the area needs one, the malformed bytes, the
wait for the device's reaction (at most --answer-wait s: a device that waits for more bytes
costs that much) and a fresh association with a C-ECHO. A benchmark, not a test: nothing
asserts on time. The reference device runs in this process (it shares the interpreter).

    python bin/bench_fuzz.py [--cases 200] [--answer-wait 0.5] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.reference import ReferenceDevice
from conformance.statement import load_statement
from conformance.testing.peers import Orthanc, StoreSCP, free_port

ROOT = Path(__file__).resolve().parents[1]


def run(statement: str, port: int, args: argparse.Namespace) -> tuple[float, dict, Counter]:
    out = Path(tempfile.mkdtemp(prefix="bench-fuzz-"))
    start = time.perf_counter()
    CliRunner().invoke(cli, ["fuzz", statement, "--port", str(port), "--out", str(out), "--max-cases",
                             str(args.cases), "--seed", str(args.seed), "--answer-wait", str(args.answer_wait),
                             "--give-up", "5", "-q"])
    took = time.perf_counter() - start
    summary = json.loads((out / "fuzz.json").read_text())
    steps = json.loads((out / "results.json").read_text())["steps"]
    codes = Counter(f["code"] for s in steps for f in s.get("findings", []))
    return took, summary["areas"], codes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=200, help="--max-cases per device (split over 4 areas)")
    parser.add_argument("--answer-wait", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    reference = load_statement(ROOT / "statements" / "reference-device.yaml")
    devices = [("reference device", str(ROOT / "statements" / "reference-device.yaml"),
                lambda: ReferenceDevice(reference)),
               ("storescp +xa", str(ROOT / "statements" / "dcmtk-storescp.yaml"),
                lambda: StoreSCP(accept_all_transfer_syntaxes=True)),
               ("Orthanc 1.10", str(ROOT / "statements" / "orthanc-1.10.yaml"),
                lambda: Orthanc(harness_ae_title="CONFORMANCE", harness_port=free_port()))]
    print(f"answer wait {args.answer_wait} s, seed {args.seed}, up to {args.cases} cases per device\n")
    print(f"{'device':<17} {'cases':>6} {'s':>7} {'cases/s':>8}  " + "  ".join(
        f"{a:>12}" for a in ("associate-rq", "p-data", "command-set", "data-set")) + "  findings")
    for name, statement, make in devices:
        with make() as device:
            took, areas, codes = run(statement, device.port, args)
        sent = sum(a["cases"] + a["shrinking"] for a in areas.values())
        per_area = "  ".join(f"{areas.get(a, {}).get('cases', 0) / max(areas.get(a, {}).get('seconds', 0), 1e-9):>9.1f}/s"
                             for a in ("associate-rq", "p-data", "command-set", "data-set"))
        found = ", ".join(f"{c} x{n}" for c, n in sorted(codes.items())) or "none"
        print(f"{name:<17} {sent:>6} {took:>7.2f} {sent / took:>8.1f}  {per_area}  {found}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: the full negotiation suite against a real Orthanc 1.10 on loopback, with the
presentation contexts packed up to 128 per association (PS3.8 9.3.2.2) versus one association
per SOP class. Prints the figures side by side. A benchmark, not a test: nothing asserts on time.

The probes go through conformance.wire (one thread, about 1-3 ms an association);
through pynetdicom's requestor the same packed suite took 2.9 s and the per-SOP-class one
5.5 s (measured 2026-11-26 before the switch), most of it pynetdicom's per-association cost.

    python bin/bench_negotiation.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from conformance.engine import RunContext, RunOptions, run
from conformance.negotiation.packing import pack, per_sop_class
from conformance.families.negotiation import ContextProbe
from conformance.negotiation.target import Target
from conformance.statement import load_statement
from conformance.suite import build_plan
from conformance.testing.peers import Orthanc

ROOT = Path(__file__).resolve().parents[1]


def associations(steps, packing: str) -> int:
    probe = next(s.batch for s in steps if isinstance(s.batch, ContextProbe))
    contexts = [c for s in steps if s.batch is probe for c in probe.proposals[s.id][0]]
    batched = len(per_sop_class(contexts) if packing == "per-sop-class" else pack(contexts))
    return batched + sum(1 for s in steps if s.action is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    statement = load_statement(ROOT / "statements" / "orthanc-1.10.yaml")
    steps = build_plan(statement, ["negotiation/"])
    with Orthanc(ae_title=statement.network.ae_titles[0]) as orthanc:
        target = Target(orthanc.host, orthanc.port, orthanc.ae_title, statement.harness.ae_title)
        rows = []
        for packing in ("packed", "per-sop-class"):
            times, counts = [], None
            for _ in range(args.repeat):
                start = time.perf_counter()
                results = run(RunContext(statement, target, RunOptions(packing=packing)), steps)
                times.append(time.perf_counter() - start)
                counts = results.counts()
            rows.append((packing, associations(steps, packing), statistics.median(times), min(times), counts))
    contexts = len({c for s in steps if isinstance(s.batch, ContextProbe) for c in s.batch.proposals[s.id][0]})
    print(f"Orthanc 1.10 negotiation suite: {len(steps)} steps, {contexts} presentation contexts probed, "
          f"median of {args.repeat} runs, loopback")
    print(f"{'strategy':<15} {'associations':>12} {'median s':>9} {'best s':>8}  outcome counts")
    for packing, assocs, median, best, counts in rows:
        print(f"{packing:<15} {assocs:>12} {median:>9.2f} {best:>8.2f}  {counts}")
    print(f"speed-up of packing: {rows[1][2] / rows[0][2]:.1f}x")


if __name__ == "__main__":
    main()

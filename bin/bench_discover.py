#!/usr/bin/env python3
"""Benchmark: `conformance discover` against the real peers on loopback (Orthanc 1.10, DCMTK
storescp +xa, dcmqrscp). Prints the time of a full discovery and the associations it took.
Target (issue 7): Orthanc in at most 3 s. A benchmark, not a test: nothing asserts on time.

    python bin/bench_discover.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from conformance.negotiation.discover import discover
from conformance.negotiation.target import Target
from conformance.testing.peers import DcmQrSCP, Orthanc, StoreSCP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'device':<16} {'median s':>9} {'best s':>7} {'associations':>13} {'SCP classes':>12} {'role sel.':>10}")
    for name, peer in (("Orthanc 1.10", Orthanc()), ("storescp +xa", StoreSCP(accept_all_transfer_syntaxes=True)),
                       ("dcmqrscp", DcmQrSCP())):
        with peer:
            target = Target(peer.host, peer.port, peer.ae_title, "CONFORMANCE")
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                found = discover(target)
                times.append(time.perf_counter() - start)
        print(f"{name:<16} {statistics.median(times):>9.2f} {min(times):>7.2f} {found.associations:>13} "
              f"{len(found.accepted):>12} {len(found.role_selection):>10}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: DICOM over TLS (PS3.15 Annex B) into DCMTK ``storescp +tls`` on loopback, the
harness side by side with DCMTK's own client. A benchmark, not a test: nothing asserts on time.

    python bin/bench_tls.py [--files 500] [--repeat 3] [--handshakes 50]

Two figures:

- Association set-up over TLS: TCP connect + TLS handshake (with client certificate) +
  A-ASSOCIATE-RQ/AC + C-ECHO + A-RELEASE, one association at a time. Harness: the wire
  requestor with ``conformance.wire.tls.requestor_wrap``, in process. DCMTK: one
  ``echoscu +tls`` process per association, so its figure includes a process start; the plain
  ``echoscu`` (no TLS) process time is printed as that overhead's measure.
- C-STORE throughput over TLS, one association, the same files: ``storescu +tls`` vs the
  harness's storage path (``conformance.services.storage.store_files`` with ``Target.wrap``).

Certificates (RSA, made with trustme for this run), storescp ``+tls KEY CERT +cf CA`` with its
default Non-downgrading BCP 195 profile and required client certificate; TCP_NODELAY=1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trustme  # noqa: E402 - test extra: certificates for this run only

from conformance.negotiation.target import Target  # noqa: E402
from conformance.testing.peers import StoreSCP, TlsStoreSCP, child_env, dcmtk_tool  # noqa: E402
from conformance.wire import tls  # noqa: E402
from conformance.wire.contexts import ProposedContext  # noqa: E402
from conformance.wire.requestor import open_association  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_store import make_files, print_rates, run_harness  # noqa: E402

ECHO = ProposedContext("1.2.840.10008.1.1", ("1.2.840.10008.1.2",))


def make_pki(folder: Path) -> dict[str, str]:
    rsa = trustme.KeyType.RSA
    ca = trustme.CA(key_type=rsa)
    server = ca.issue_cert("localhost", "127.0.0.1", key_type=rsa)
    client = ca.issue_cert("bench-client", key_type=rsa)
    files = {name: str(folder / f"{name}.pem") for name in ("ca", "srv", "srvkey", "cli", "clikey")}
    ca.cert_pem.write_to_path(files["ca"])
    server.cert_chain_pems[0].write_to_path(files["srv"])
    server.private_key_pem.write_to_path(files["srvkey"])
    client.cert_chain_pems[0].write_to_path(files["cli"])
    client.private_key_pem.write_to_path(files["clikey"])
    return files


def harness_setup_ms(scp: StoreSCP, opts: tls.TlsOptions, n: int) -> list[float]:
    wrap = tls.requestor_wrap(tls.client_context(opts), "127.0.0.1")
    target = Target(scp.host, scp.port, scp.ae_title, "BENCH", wrap=wrap)
    out = []
    for _ in range(n):
        start = time.perf_counter()
        outcome, assoc = open_association(target, [ECHO])
        assert assoc is not None, outcome
        assert assoc.send_c_echo(ECHO).status == 0
        assoc.release()
        out.append((time.perf_counter() - start) * 1000)
    return out


def dcmtk_echo_ms(scp: StoreSCP, pki: dict[str, str] | None, n: int) -> list[float]:
    tls_args = ["+tls", pki["clikey"], pki["cli"], "+cf", pki["ca"]] if pki else []
    out = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run([dcmtk_tool("echoscu"), *tls_args, "-aec", scp.ae_title, scp.host, str(scp.port)],
                       check=True, env=child_env(), capture_output=True, timeout=60)
        out.append((time.perf_counter() - start) * 1000)
    return out


def storescu_tls(scp: StoreSCP, pki: dict[str, str], paths: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([dcmtk_tool("storescu"), "+tls", pki["clikey"], pki["cli"], "+cf", pki["ca"],
                    "-aec", scp.ae_title, scp.host, str(scp.port), *paths],
                   check=True, env=child_env(), capture_output=True, timeout=600)
    return time.perf_counter() - start


def harness_store_tls(scp: StoreSCP, opts: tls.TlsOptions, paths: list[str]) -> float:
    return run_harness(scp, paths, tls.requestor_wrap(tls.client_context(opts), "127.0.0.1"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--handshakes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        folder = Path(tmp)
        pki = make_pki(folder)
        opts = tls.TlsOptions(pki["ca"], pki["cli"], pki["clikey"])
        (folder / "files").mkdir()
        paths = make_files(folder / "files", args.files)
        size = sum(os.path.getsize(p) for p in paths) / len(paths)
        with TlsStoreSCP(pki["srvkey"], pki["srv"], pki["ca"]) as scp, StoreSCP("STORESCP") as plain:
            ours = harness_setup_ms(scp, opts, args.handshakes)
            theirs = dcmtk_echo_ms(scp, pki, max(5, args.handshakes // 5))
            overhead = dcmtk_echo_ms(plain, None, max(5, args.handshakes // 5))
            stores: dict[str, list[float]] = {"DCMTK storescu +tls": [], "harness over TLS": []}
            for _ in range(args.repeat):
                stores["DCMTK storescu +tls"].append(storescu_tls(scp, pki, paths))
                stores["harness over TLS"].append(harness_store_tls(scp, opts, paths))
    print("Shared machine (2 cores, other work running): single figures are noisy.")
    print("Association set-up over TLS (connect + handshake + A-ASSOCIATE + C-ECHO + release), median ms:")
    print("| client -> storescp +tls | ms |")
    print("|---|---|")
    print(f"| harness (in process), {len(ours)} associations | {statistics.median(ours):.1f} |")
    print(f"| DCMTK echoscu +tls (one process each), {len(theirs)} runs | {statistics.median(theirs):.1f} |")
    print(f"| DCMTK echoscu, no TLS, to plain storescp (process overhead) | {statistics.median(overhead):.1f} |")
    print()
    print(f"C-STORE over TLS: {args.files} CT files of {size / 1024:.1f} kB, one association, median of {args.repeat}:")
    print("| sender -> storescp +tls | files/s | vs storescu +tls |")
    print("|---|---|---|")
    print_rates(args.files, stores, "DCMTK storescu +tls")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: what the web path costs. The same CT files into and out of one Orthanc (with
its DICOMweb plugin) through STOW-RS/WADO-RS and through its DIMSE port. A benchmark, not a
test: nothing asserts on time.

    python bin/bench_dicomweb.py [--files 200] [--repeat 3] [--batch 50]

Store (each method gets its own copies of the files, new UIDs, so nothing is a duplicate):
DCMTK storescu (one association), the harness' C-STORE path (conformance.services.wire),
STOW-RS by the harness' client one instance per request, and STOW-RS with --batch instances
per multipart request. Retrieve the study stored by storescu: WADO-RS one instance per
request, WADO-RS the whole study in one multipart response, the harness' C-GET (one
association), DCMTK getscu. Orthanc and DCMTK run with TCP_NODELAY=1; loopback only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from conformance.dicomweb.client import WebAccess, WebClient
from conformance.dicomweb.common import DICOM
from conformance.dicomweb.multipart import build, parse
from conformance.iod import synthesize
from conformance.negotiation.association import ProposedContext
from conformance.negotiation.target import Target
from conformance.services import retrieve as rt
from conformance.services.encoding import encode, top_copy
from conformance.services.storage import store_files
from conformance.services.wire import open_association
from conformance.testing.peers import Orthanc, child_env, dcmtk_tool, free_port

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
GET = "1.2.840.10008.5.1.4.1.2.2.3"


def make_files(folder: Path, count: int, tag: str) -> tuple[list[Path], str]:
    base = encode(synthesize(CT), EXPLICIT).dataset
    study = generate_uid(entropy_srcs=["bench-web", tag])
    series = generate_uid(entropy_srcs=["bench-web-series", tag])
    paths = []
    (folder / tag).mkdir()
    for i in range(count):
        ds = top_copy(base)
        ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = f"CONFBENCH{tag}", study, series
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["bench-web", tag, str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / tag / f"ct{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths, study


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def storescu(o: Orthanc, paths: list[Path]) -> None:
    subprocess.run([dcmtk_tool("storescu"), "-aet", "CONFORMANCE", "-aec", o.ae_title, o.host, str(o.port),
                    *map(str, paths)], check=True, env=child_env(), capture_output=True, timeout=600)


def harness_store(o: Orthanc, paths: list[Path]) -> None:
    bad = [r for r in store_files(Target(o.host, o.port, o.ae_title), list(map(str, paths)))
           if r.error or r.findings]
    assert not bad, bad[0]


def stow(client: WebClient, url: str, paths: list[Path], batch: int) -> None:
    for i in range(0, len(paths), batch):
        ctype, body = build([(DICOM, p.read_bytes()) for p in paths[i:i + batch]], DICOM)
        res = client.request("POST", f"{url}/studies", content=body, content_type=ctype,
                             accept="application/dicom+json")
        assert res.status == 200, res.describe()


def wado_each(client: WebClient, url: str, study: str, uids: list[tuple[str, str]]) -> None:
    for series, inst in uids:
        res = client.request("GET", f"{url}/studies/{study}/series/{series}/instances/{inst}",
                             accept=f'multipart/related; type="{DICOM}"')
        assert res.status == 200 and len(parse(res.content_type, res.body).parts) == 1, res.describe()


def wado_study(client: WebClient, url: str, study: str, count: int) -> None:
    res = client.request("GET", f"{url}/studies/{study}", accept=f'multipart/related; type="{DICOM}"')
    assert res.status == 200 and len(parse(res.content_type, res.body).parts) == count, res.describe()


def harness_get(o: Orthanc, study: str, count: int) -> None:
    get = ProposedContext(GET, (EXPLICIT,))
    outcome, wire = open_association(Target(o.host, o.port, o.ae_title),
                                     [get, ProposedContext(CT, (EXPLICIT,), scu_role=False, scp_role=True)])
    assert wire is not None, outcome.describe()
    ident = Dataset()
    ident.QueryRetrieveLevel, ident.StudyInstanceUID = "STUDY", study
    arrived: list[Dataset] = []
    try:
        rt.get_wire(wire, get, ident, 1, arrived)
    finally:
        wire.release()
    assert len(arrived) == count, len(arrived)


def getscu(o: Orthanc, study: str, out: Path) -> None:
    out.mkdir(exist_ok=True)
    subprocess.run([dcmtk_tool("getscu"), "-aet", "CONFORMANCE", "-aec", o.ae_title, "-S", "-od", str(out),
                    "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study}", o.host, str(o.port)],
                   check=True, env=child_env(), capture_output=True, timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    n = args.files
    store_t: dict[str, list[float]] = {}
    get_t: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp, \
            Orthanc(harness_ae_title="CONFORMANCE", harness_port=free_port(), dicomweb=True) as o:
        folder = Path(tmp)
        client = WebClient(WebAccess(origin=o.http_url, timeout=60))
        url = o.dicomweb_url
        for r in range(args.repeat):
            sets = {name: make_files(folder, n, f"{name}{r}") for name in ("scu", "h", "s1", "sb")}
            store_t.setdefault("DIMSE: DCMTK storescu, one association", []).append(
                timed(storescu, o, sets["scu"][0]))
            store_t.setdefault("DIMSE: harness C-STORE (services.wire)", []).append(
                timed(harness_store, o, sets["h"][0]))
            store_t.setdefault("STOW-RS: harness, 1 instance per request", []).append(
                timed(stow, client, url, sets["s1"][0], 1))
            store_t.setdefault(f"STOW-RS: harness, {args.batch} per request", []).append(
                timed(stow, client, url, sets["sb"][0], args.batch))
            study = sets["scu"][1]
            from pydicom import dcmread
            uids = [(str(d.SeriesInstanceUID), str(d.SOPInstanceUID))
                    for d in (dcmread(p, stop_before_pixels=True) for p in sets["scu"][0])]
            get_t.setdefault("WADO-RS: 1 instance per request", []).append(
                timed(wado_each, client, url, study, uids))
            get_t.setdefault("WADO-RS: whole study, one response", []).append(
                timed(wado_study, client, url, study, n))
            get_t.setdefault("DIMSE: harness C-GET (services.wire)", []).append(
                timed(harness_get, o, study, n))
            get_t.setdefault("DIMSE: DCMTK getscu", []).append(
                timed(getscu, o, study, folder / f"get{r}"))
        client.close()
        size = sum(p.stat().st_size for p in sets["scu"][0]) / n / 1024
    for title, table in (("store into Orthanc 1.10.1", store_t), ("retrieve from Orthanc 1.10.1", get_t)):
        print(f"\n{n} CT files of {size:.1f} kB, {title} (DICOMweb plugin 1.7), loopback, median of {args.repeat}:")
        print("| path | files/s | vs first row |")
        print("|---|---|---|")
        base = None
        for name, values in table.items():
            rate = n / statistics.median(values)
            base = base or rate
            print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()

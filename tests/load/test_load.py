"""The load family against real peers (storescp, dcmqrscp, Orthanc) and its pure parts."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset

from conformance.engine import RunContext, run
from conformance.engine.results import RunResults
from conformance.load.measure import judge_rejections, percentile
from conformance.load.payload import UID_LENGTH, Payloads
from conformance.negotiation.target import Target
from conformance.reporting.view import build_view
from conformance.reporting.writers import render_html
from conformance.statement import load_statement
from conformance.statement.model import Load, LoadTargets, Statement
from conformance.suite import build_plan
from conformance.testing import DcmQrSCP, Orthanc, Peer, StoreSCP

ROOT = Path(__file__).resolve().parents[2]
CT = "1.2.840.10008.5.1.4.1.1.2"


def _with_load(name: str, load: Load, max_associations: int | None = None) -> Statement:
    st = load_statement(ROOT / "statements" / name)
    net = dataclasses.replace(st.network, max_associations=max_associations)
    return dataclasses.replace(st, load=load, network=net)


def _run(st: Statement, peer: Peer, ctx: RunContext | None = None) -> RunResults:
    target = Target(peer.host, peer.port, called_ae=st.network.ae_titles[0],
                    calling_ae=st.harness.ae_title)
    return run(ctx or RunContext(st, target), build_plan(st, ["load"]))


def _load_obs(results: RunResults) -> dict:
    (step,) = [s for s in results.steps if s.id == "load/c-store"]
    return next(o for o in step.observations if o.get("kind") == "load")


@pytest.fixture(scope="module")
def storescp() -> Iterator[StoreSCP]:
    """storescp forking one process per association, so associations run at once."""
    with StoreSCP("STORESCP", accept_all_transfer_syntaxes=True,
                  extra_args=["--fork"]) as peer:
        yield peer


def test_percentile_is_nearest_rank():
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95
    assert percentile(values, 100) == 100 and percentile([], 50) is None


def test_each_instance_gets_its_own_uid_and_decodes():
    p = Payloads()
    tpl = p.add(CT)
    a, b = tpl.instance("2.25." + "1" * (UID_LENGTH - 5)), tpl.instance("2.25." + "2" * 39)
    ds = read_dataset(DicomBytesIO(a), False, True)  # Explicit VR Little Endian
    assert ds.SOPInstanceUID == "2.25." + "1" * 39 and ds.StudyInstanceUID == p.study_uid
    assert read_dataset(DicomBytesIO(b), False, True).SOPInstanceUID.endswith("2" * 39)


REJECT_LIMIT = {"result": 2, "source": 3, "reason": 2, "meaning": "local-limit-exceeded"}
REJECT_OTHER = {"result": 1, "source": 1, "reason": 1, "meaning": "no-reason-given"}


def test_rejections_within_the_declared_maximum_fail():
    (f,) = judge_rejections(4, 8, [REJECT_LIMIT])
    assert f.code == "load.association-rejected" and f.severity.value == "error"
    (f,) = judge_rejections(4, None, [REJECT_LIMIT])
    assert f.code == "load.association-rejected"


def test_rejections_beyond_the_maximum_must_say_local_limit_exceeded():
    assert judge_rejections(4, 2, [REJECT_LIMIT, REJECT_LIMIT]) == []
    (f,) = judge_rejections(4, 2, [REJECT_LIMIT, REJECT_OTHER])
    assert f.code == "load.rejection-reason" and f.severity.value == "warning"
    codes = {f.code for f in judge_rejections(4, 3, [REJECT_LIMIT, REJECT_LIMIT])}
    assert codes == {"load.association-rejected"}


@pytest.mark.peer
def test_storescp_stores_every_instance_of_the_declared_load(storescp, tmp_path):
    before = {p.name for p in storescp.output_dir.iterdir()}
    st = _with_load("dcmtk-storescp.yaml", Load(4, 25, sop_classes=(CT,)))
    ctx = RunContext(st, Target(storescp.host, storescp.port, "STORESCP"))
    results = _run(st, storescp, ctx)
    (step,) = results.steps
    assert step.outcome == "pass", step.message
    o = _load_obs(results)
    written = [p for p in storescp.output_dir.iterdir() if p.name not in before]
    assert o["accepted"] == 4 and o["succeeded"] == 100 and len(written) == 100
    uids = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in written}
    assert len(uids) == 100  # unique UIDs
    assert o["left_on_device"]["instances"] == {"CTImageStorage": 100}
    patient = o["left_on_device"]["patient_id"]
    assert patient.startswith("CONFTEST-") and patient.endswith("-LOAD")
    assert {pydicom.dcmread(p, stop_before_pixels=True).PatientID for p in written} == {patient}
    # The run's test data inventory asks every shared value with created_on_device().
    created = [item for v in ctx.shared.values() if hasattr(v, "created_on_device")
               for item in v.created_on_device()]
    assert created == [{"patient_id": patient, "series": 1, "instances": 100,
                        "study_uid": o["left_on_device"]["study_instance_uid"]}]
    lat = o["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    page = render_html(build_view(results))
    assert "Storage load" in page and "<svg" in page and o["left_on_device"][
        "study_instance_uid"] in page
    json.dumps(o)  # the observation is recorded as JSON


@pytest.mark.peer
def test_a_target_above_what_the_device_achieves_fails(storescp):
    st = _with_load("dcmtk-storescp.yaml", Load(
        2, 10, sop_classes=(CT,),
        targets=LoadTargets(throughput=1e7, p95_latency_ms=0.001)))
    results = _run(st, storescp)
    (step,) = results.steps
    assert step.outcome == "fail"
    assert {f.code for f in step.findings} == {"load.throughput-below-target",
                                               "load.latency-above-target"}


@pytest.mark.peer
def test_associations_beyond_the_declared_maximum_are_rejected_as_local_limit(tmp_path):
    with DcmQrSCP("DCMQRSCP", max_associations=2) as peer:
        st = _with_load("dcmtk-dcmqrscp.yaml", Load(4, 5, sop_classes=(CT,)),
                        max_associations=2)
        results = _run(st, peer)
        peer_log = peer.log_path.read_text(errors="replace")
    o = _load_obs(results)
    (step,) = results.steps
    assert o["accepted"] == 2, step.message
    assert [(r["result"], r["source"], r["reason"]) for r in o["rejections"]] == [(2, 3, 2)] * 2
    # dcmqrscp's own race, seen in about 1 run in 6 on a busy 2-core machine: two of its
    # forked children storing into one study at once, one answers 0xC000 after "DB: Cannot
    # open file ... Index database error" in its log. The device really failed those
    # C-STOREs, so the verdict is fail; anything else must pass.
    failed = o["failed"]
    if failed and "Index database error" in peer_log:
        assert step.outcome == "fail"
        assert [s for s in o["statuses"] if not s.startswith("0x0000")] == ["0xC000 failure"]
        assert {f.code for f in step.findings} == {"load.store-failed"}
    else:
        assert step.outcome == "pass", [f.message for f in step.findings]
    assert o["succeeded"] + failed == 10


@pytest.mark.peer
def test_orthanc_takes_a_concurrent_load():
    with Orthanc("ORTHANC") as peer:
        st = _with_load("orthanc-1.10.yaml", Load(3, 10, sop_classes=(CT,)))
        results = _run(st, peer)
        with urllib.request.urlopen(f"{peer.http_url}/statistics", timeout=10) as rsp:
            stats = json.load(rsp)
    (step,) = results.steps
    assert step.outcome == "pass", step.message
    assert _load_obs(results)["succeeded"] == 30 and stats["CountInstances"] == 30


def _statement_with_load(tmp_path: Path, section: str) -> Path:
    text = (ROOT / "statements" / "dcmtk-storescp.yaml").read_text()
    path = tmp_path / "storescp-load.yaml"
    path.write_text(text + "\nload:\n" + section)
    return path


def test_the_load_section_resolves_keywords_and_says_where_a_name_is_wrong(tmp_path):
    from conformance.errors import InputError

    st = load_statement(_statement_with_load(
        tmp_path, "  associations: 3\n  instances_per_association: 7\n"
                  "  sop_classes: [CTImageStorage]\n  targets: {p95_latency_ms: 50}\n"))
    assert st.load == Load(3, 7, sop_classes=(CT,), targets=LoadTargets(p95_latency_ms=50))
    bad = _statement_with_load(tmp_path, "  associations: 3\n  instances_per_association: 7\n"
                                         "  sop_classes: [CTImageStorag]\n")
    with pytest.raises(InputError) as err:
        load_statement(bad)
    assert "CTImageStorage" in str(err.value) and "load" in str(err.value)
    assert f"{bad}:" in str(err.value)  # file:line


@pytest.mark.peer
def test_conformance_run_k_load_writes_the_load_section(storescp, tmp_path):
    from click.testing import CliRunner

    from conformance.cli.main import cli

    path = _statement_with_load(tmp_path, "  associations: 2\n  instances_per_association: 5\n"
                                          "  sop_classes: [CTImageStorage]\n")
    r = CliRunner().invoke(cli, ["run", str(path), "--port", str(storescp.port), "-k", "load",
                                 "--out", str(tmp_path / "out"), "-q"])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Storage load" in page and "10 CTImageStorage instance(s)" in page


@pytest.mark.peer
def test_the_time_limit_ends_the_load_and_says_so(storescp):
    import time

    st = _with_load("dcmtk-storescp.yaml", Load(2, 100000, sop_classes=(CT,), time_limit=1))
    t = time.monotonic()
    results = _run(st, storescp)
    assert time.monotonic() - t < 15
    (step,) = results.steps
    o = _load_obs(results)
    assert step.outcome == "pass" and o["stopped_by_time"]
    assert 0 < o["attempted"] < 200000
    assert [f.code for f in step.findings] == ["load.time-limit"]


def test_a_load_of_a_sop_class_the_statement_does_not_declare_is_a_setup_error(storescp):
    mr_enhanced = "1.2.840.10008.5.1.4.1.1.4.1"
    st = _with_load("dcmtk-storescp.yaml", Load(1, 1, sop_classes=(mr_enhanced,)))
    st = dataclasses.replace(st, transfer_capabilities=tuple(
        c for c in st.transfer_capabilities if c.sop_class != mr_enhanced))
    (step,) = _run(st, storescp).steps
    assert step.outcome == "error" and "does not declare" in step.message

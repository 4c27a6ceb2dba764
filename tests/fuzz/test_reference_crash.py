"""The fuzzer against the reference device with its injected crash (an implementation version
name over 16 characters takes its listener down for a moment): the crash is found, the case
is shrunk to the minimal one, saved, and replays to the same effect."""

from __future__ import annotations

import json
import time

import pytest

from conformance.fuzz.case import load
from conformance.reference import Misbehaviour
from conformance.wire.pdu import ASSOCIATE_RQ, AssociateRequest, decode
from tests.fuzz.conftest import FAST, STATEMENTS, findings, fuzz, summary

STATEMENT = str(STATEMENTS / "reference-device.yaml")
CRASHING = Misbehaviour(crash_on_long_version_name=0.5)


@pytest.fixture
def crashing(start_reference):
    return start_reference(CRASHING)


def _crash_run(device, out, seed="0"):
    return fuzz(STATEMENT, "--port", str(device.port), "--out", str(out), "--area", "associate-rq",
                "--max-cases", "60", "--seed", seed, *FAST, "--give-up", "0.4")


def test_the_crash_is_found_and_the_case_shrunk_to_the_minimal_one(crashing, tmp_path):
    result = _crash_run(crashing, tmp_path)
    assert result.exit_code == 1, result.output
    errors = [f for f in findings(tmp_path) if f["severity"] == "error"]
    assert [f["code"] for f in errors] == ["fuzz.listener-dropped"]
    assert "conformance fuzz --replay" in errors[0]["message"]
    assert crashing.crashes >= 1
    case, meta = load(tmp_path / "cases" / "associate-rq-crash.bin")
    rq = decode(ASSOCIATE_RQ, case.payload[6:])
    assert isinstance(rq, AssociateRequest)
    # minimal: one character over the limit, nothing else changed from the well-formed request
    assert len(rq.implementation_version_name or "") == 17
    assert case.label == "implementation-version-name" and not case.setup
    assert meta["first_case_bytes"] >= case.size
    assert "shrunk" in meta["shrink"]


def test_the_saved_case_replays_to_the_same_effect(crashing, start_reference, tmp_path):
    assert _crash_run(crashing, tmp_path).exit_code == 1
    saved = tmp_path / "cases" / "associate-rq-crash.bin"
    before = crashing.crashes
    time.sleep(0.6)                                   # the watchdog brings the device back
    again = fuzz("--replay", str(saved), "--port", str(crashing.port), "--give-up", "0.4")
    assert again.exit_code == 1, again.output
    assert "did NOT answer" in again.output
    assert crashing.crashes == before + 1
    healthy = start_reference()
    survived = fuzz("--replay", str(saved), "--port", str(healthy.port), "--give-up", "2")
    assert survived.exit_code == 0, survived.output
    assert "answered again" in survived.output


def test_the_same_seed_sends_the_same_cases(start_reference, tmp_path):
    device = start_reference()
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = fuzz(STATEMENT, "--port", str(device.port), "--out", str(out), "--max-cases", "20",
                      "--seed", "5", *FAST)
        assert result.exit_code == 0, result.output
        runs.append(out)
    a, b = (sorted(p.name for p in (r / "cases").glob("*.bin")) for r in runs)
    assert a == b
    for name in a:
        assert (runs[0] / "cases" / name).read_bytes() == (runs[1] / "cases" / name).read_bytes()


def test_a_healthy_device_gives_no_error_and_the_case_bound_holds(start_reference, tmp_path):
    device = start_reference()
    result = fuzz(STATEMENT, "--port", str(device.port), "--out", str(tmp_path), "--max-cases", "40", *FAST)
    assert result.exit_code == 0, result.output
    assert not [f for f in findings(tmp_path) if f["severity"] == "error"]
    areas = summary(tmp_path)["areas"]
    assert set(areas) == {"associate-rq", "p-data", "command-set", "data-set"}
    assert all(0 < a["cases"] <= 10 for a in areas.values())
    # the reference device takes an A-ASSOCIATE-RQ whose item runs past the PDU: reported
    assert any(f["code"] == "fuzz.accepted-invalid" for f in findings(tmp_path))


def test_the_time_limit_ends_the_campaign(start_reference, tmp_path):
    device = start_reference()
    start = time.monotonic()
    result = fuzz(STATEMENT, "--port", str(device.port), "--out", str(tmp_path), "--max-cases", "100000",
                  "--time-limit", "2", *FAST)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - start < 30
    assert sum(a["cases"] for a in summary(tmp_path)["areas"].values()) < 100000


def test_a_device_that_is_down_before_the_cases_cannot_be_tested(tmp_path):
    from conformance.testing import free_port

    result = fuzz(STATEMENT, "--port", str(free_port()), "--out", str(tmp_path), "--max-cases", "4", *FAST,
                  "--return-wait", "0.3")
    assert result.exit_code == 3, result.output


def test_a_bad_case_file_is_bad_input(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"\x01\x00")
    bad.with_suffix(".json").write_text(json.dumps({"format": 99}))
    result = fuzz("--replay", str(bad), "--port", "104")
    assert result.exit_code == 2
    assert "x.json" in result.output and "format" in result.output
    missing = fuzz("--replay", str(tmp_path / "none.bin"), "--port", "104")
    assert missing.exit_code == 2 and "not found" in missing.output


def test_a_device_that_stays_down_keeps_the_case_unshrunk_and_ends_the_run(start_reference, tmp_path):
    device = start_reference(Misbehaviour(crash_on_long_version_name=0))
    result = fuzz(STATEMENT, "--port", str(device.port), "--out", str(tmp_path), "--max-cases", "240",
                  *FAST, "--give-up", "0.4", "--return-wait", "0.3")
    assert result.exit_code == 1, result.output
    errors = [f for f in findings(tmp_path) if f["code"] == "fuzz.listener-dropped"]
    assert len(errors) == 1 and "not shrunk" in errors[0]["message"]
    _case, meta = load(tmp_path / "cases" / "associate-rq-crash.bin")
    assert meta["first_case_bytes"] == _case.size
    steps = {s["id"]: s for s in json.loads((tmp_path / "results.json").read_text())["steps"]}
    assert steps["fuzz/p-data"]["outcome"] == "error"
    assert device.crashes == 1

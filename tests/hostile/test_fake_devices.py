"""Fake devices that answer the harness badly (tests/hostile/devices.py), each run through
`conformance run`, `discover` and `diff` via the real entry point in a subprocess, with short
timeouts (connect 2 s, ACSE 3 s, DIMSE 3 s): each ends with its finding (PS3.8 / PS3.7), the
documented exit code, and no traceback, within the subprocess's time limit (no timed
assertion: a hang fails by the limit).
"""

from __future__ import annotations

import pytest

from tests.hostile.devices import CASES, run_case

#: Exit codes (README): 0 conforms / matches, 1 the device deviates, 3 could not test.
DEVIATES, COULD_NOT_TEST = 1, 3

#: (case, command) -> (exit code, a finding code that must be reported, or text that must
#: be printed). Default: (1, the case's code).
EXPECT: dict[tuple[str, str], tuple[int, str]] = {
    # accepted, then silent: the run stops at the liveness C-ECHO; discover/diff meet the
    # unanswered A-RELEASE-RQ of the negotiation pass first
    ("ac-huge-max-length-then-silent", "run"): (COULD_NOT_TEST, "does not answer a C-ECHO"),
    ("ac-huge-max-length-then-silent", "discover"): (DEVIATES, "protocol.no-release-reply"),
    ("ac-huge-max-length-then-silent", "diff"): (DEVIATES, "protocol.no-release-reply"),
    ("drip-one-byte-every-2s", "run"): (COULD_NOT_TEST, "does not answer a C-ECHO"),
    ("drip-one-byte-every-2s", "discover"): (COULD_NOT_TEST, "no C-ECHO response"),
    ("drip-one-byte-every-2s", "diff"): (COULD_NOT_TEST, "no C-ECHO response"),
    ("silent", "run"): (COULD_NOT_TEST, "device unreachable"),
    ("silent", "discover"): (COULD_NOT_TEST, "no answer to A-ASSOCIATE-RQ"),
    ("silent", "diff"): (COULD_NOT_TEST, "no answer to A-ASSOCIATE-RQ"),
    # discover/diff probe C-FIND only by a query matching nothing: the flood is met in a run
    ("c-find-pending-flood", "discover"): (DEVIATES, "dimse.too-many-responses"),
    ("c-find-pending-flood", "diff"): (DEVIATES, "dimse.too-many-responses"),
}


def expected(case: str, command: str) -> tuple[int, str]:
    return EXPECT.get((case, command), (DEVIATES, CASES[case].code))


@pytest.mark.parametrize("command", ["run", "discover", "diff"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_device(case: str, command: str, tmp_path) -> None:
    got = run_case(case, command, tmp_path, limit=90)
    exit_code, what = expected(case, command)
    assert got.exit_code is not None, f"{command} did not end within 90 s:\n{got.output[-2000:]}"
    assert not got.traceback, got.output[-3000:]
    assert not got.harness_errors, got.harness_errors[:5]
    assert got.exit_code == exit_code, got.output[-3000:]
    assert what in got.codes or what in got.output, (got.codes, got.output[-3000:])


def test_a_well_behaved_fake_device_conforms(tmp_path) -> None:
    """The baseline: the same fake without a misbehaviour passes (so each case's finding
    comes from its misbehaviour, not from the fake)."""
    for command in ("run", "discover", "diff"):
        got = run_case("good", command, tmp_path / command, limit=90)
        assert got.exit_code == 0, got.output[-3000:]
        assert not [c for c in got.codes if c.startswith(("protocol.", "dimse."))], got.codes

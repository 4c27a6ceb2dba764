"""Deliberately wrong statements (tests/data/statements/*-wrong.yaml) against the real
devices: the harness flags exactly the wrong claims, each on its own step with the right
finding code, and nothing else fails."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from conformance.exitcodes import ExitCode
from conformance.findings import Severity
from tests.interop.conftest import WRONG, codes, describe, outcome_ids, run_statement

pytestmark = pytest.mark.peer

#: Warnings a deliberately small statement draws besides its wrong claims: the device's
#: other capabilities are undeclared (the statement is incomplete), and a device's known
#: wrong rejection reasons (result 3 where PS3.8 Table 9-18 asks for 4).
INCOMPLETE = {"negotiation.undeclared-sop-class-accepted", "negotiation.undeclared-ts-accepted"}
RESULT_3_FOR_4 = "negotiation.wrong-rejection-reason"


@dataclass(frozen=True)
class Wrong:
    statement: str
    peer: str
    #: step id -> the error finding codes it must carry (and the only failed steps).
    failed: dict[str, set[str]]
    #: step id -> warning codes that must be there (wrong claims of warning severity).
    warned: dict[str, set[str]] = field(default_factory=dict)
    #: the exact set of warning codes of the whole run.
    warning_codes: frozenset[str] = frozenset()
    #: the exact steps carrying negotiation.wrong-rejection-reason.
    result_3_steps: frozenset[str] = frozenset()


CASES = [
    Wrong("orthanc-wrong.yaml", "orthanc",
          failed={
              "negotiation/called-ae-title": {"negotiation.called-ae-not-checked"},
              "negotiation/association-parameters": {"negotiation.max-pdu-receive-mismatch"},
              "negotiation/accept/CTImageStorage/HTJ2KLossless": {"negotiation.declared-ts-rejected"},
              "negotiation/accept/PhotoacousticImageStorage/ExplicitVRLittleEndian":
                  {"negotiation.declared-ts-rejected"},
              "negotiation/accept/ModalityWorklistInformationModelFind/ImplicitVRLittleEndian":
                  {"negotiation.declared-ts-rejected"},
              "negotiation/role-selection/PhotoacousticImageStorage":
                  {"negotiation.role-selection-refused"},
          },
          warned={"negotiation/association-parameters": {"negotiation.implementation-class-uid-mismatch"}},
          warning_codes=frozenset(INCOMPLETE | {RESULT_3_FOR_4,
                                                "negotiation.implementation-class-uid-mismatch"}),
          # CTImageStorage: Orthanc's real deviation (unknown transfer syntaxes -> 3). For the
          # wrongly claimed Photoacoustic and worklist classes, 3 is the right answer (the
          # device does not support them at all): no warning, the accept steps fail instead.
          result_3_steps=frozenset({"negotiation/undeclared-ts/CTImageStorage"})),
    Wrong("storescp-wrong.yaml", "storescp_plain",
          failed={
              "negotiation/calling-ae-title": {"negotiation.calling-ae-not-checked"},
              "negotiation/accept/CTImageStorage/JPEGBaseline8Bit": {"negotiation.declared-ts-rejected"},
              "negotiation/accept/CTImageStorage/JPEG2000Lossless": {"negotiation.declared-ts-rejected"},
              "negotiation/accept/StudyRootQueryRetrieveInformationModelFind/ImplicitVRLittleEndian":
                  {"negotiation.declared-ts-rejected"},
              "negotiation/role-selection/CTImageStorage": {"negotiation.role-selection-refused"},
          },
          warned={"negotiation/association-parameters":
                  {"negotiation.implementation-version-name-mismatch"}},
          warning_codes=frozenset(INCOMPLETE | {"negotiation.implementation-version-name-mismatch"}),
          # storescp's reasons are right: 4 for CTImageStorage, and 3 for the Q/R class it
          # does not support at all (the wrong claim fails its accept step instead).
          result_3_steps=frozenset()),
    Wrong("dcmqrscp-wrong.yaml", "dcmqrscp",
          failed={
              "negotiation/called-ae-title": {"negotiation.called-ae-checked"},
              "negotiation/association-parameters": {"negotiation.max-pdu-receive-mismatch"},
              "negotiation/accept/CTImageStorage/JPEGLosslessSV1": {"negotiation.declared-ts-rejected"},
              "negotiation/accept/StorageCommitmentPushModel/ImplicitVRLittleEndian":
                  {"negotiation.declared-ts-rejected"},
          },
          warning_codes=frozenset(INCOMPLETE | {RESULT_3_FOR_4}),
          # CTImageStorage: dcmqrscp's real deviation (compressed storage -> 3); storage
          # commitment follows from the wrong claim.
          result_3_steps=frozenset({"negotiation/undeclared-ts/CTImageStorage"})),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.statement)
def test_wrong_statement_is_flagged_claim_by_claim(case: Wrong, request):
    peer = request.getfixturevalue(case.peer)
    results = run_statement(WRONG / case.statement, peer)
    assert outcome_ids(results, "fail") == set(case.failed), describe(results)
    assert outcome_ids(results, "error") == set() and results.counts()["not run"] == 0
    for step_id, expected in case.failed.items():
        step = results.step(step_id)
        assert step is not None, step_id
        assert {f.code for f in step.findings if f.severity is Severity.ERROR} == expected, step
    for step_id, expected in case.warned.items():
        step = results.step(step_id)
        assert step is not None, step_id
        assert {f.code for f in step.findings if f.severity is Severity.WARNING} == expected, step
    assert codes(results, Severity.WARNING) == case.warning_codes
    assert {s.id for s, f in results.findings(Severity.WARNING)
            if f.code == RESULT_3_FOR_4} == case.result_3_steps
    assert results.exit_code() is ExitCode.DEVIATION

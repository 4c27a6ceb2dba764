"""The negotiation family against the reference device, with each deviation it can fake.

These prove the harness catches each kind of deviation (fast, in-process). Real peers are
tested in tests/interop.
"""

from __future__ import annotations

from conformance.engine import RunContext, RunOptions, run
from conformance.exitcodes import ExitCode
from conformance.findings import Severity
from conformance.reference import Misbehaviour
from conformance.suite import build_plan

from tests.conftest import target_for

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def run_against(device, statement, patterns=(), strict=False, **timeouts):
    return run(RunContext(statement, target_for(device, **timeouts), RunOptions(strict=strict)),
               build_plan(statement, patterns))


def failing(results):
    return {s.id for s in results.steps if s.outcome == "fail"}


def codes(results, severity=None):
    return {(s.id, f.code) for s, f in results.findings(severity)}


def test_a_device_true_to_its_statement_passes_every_step(start_reference, reference_statement):
    results = run_against(start_reference(), reference_statement)
    assert results.counts()["pass"] == len(results.steps) > 200
    assert results.findings() == []
    assert results.exit_code() is ExitCode.OK


def test_rejected_declared_transfer_syntax_fails_exactly_those_steps(start_reference, reference_statement):
    device = start_reference(Misbehaviour(reject_transfer_syntaxes=frozenset({(CT, JPEG_LOSSLESS_SV1)})))
    results = run_against(device, reference_statement)
    # The same false claim fails its negotiation step and its storage step (nothing stored).
    assert failing(results) == {"negotiation/accept/CTImageStorage/JPEGLosslessSV1",
                                "storage/store/CTImageStorage/JPEGLosslessSV1"}
    assert codes(results) == {("negotiation/accept/CTImageStorage/JPEGLosslessSV1", "negotiation.declared-ts-rejected"),
                              ("storage/store/CTImageStorage/JPEGLosslessSV1", "storage.context-rejected")}
    assert results.exit_code() is ExitCode.DEVIATION


def test_undeclared_capability_is_a_warning_that_only_strict_fails(start_reference, reference_statement):
    device = start_reference(Misbehaviour(accept_extra=frozenset({(CT, JPEG_BASELINE)})))
    results = run_against(device, reference_statement, ["negotiation/undeclared-ts/CTImageStorage"])
    assert codes(results, Severity.WARNING) == {("negotiation/undeclared-ts/CTImageStorage",
                                                 "negotiation.undeclared-ts-accepted")}
    assert results.exit_code() is ExitCode.OK
    strict = run_against(device, reference_statement, ["negotiation/undeclared-ts/CTImageStorage"], strict=True)
    assert strict.exit_code() is ExitCode.DEVIATION


def test_undeclared_sop_class_accepted_is_flagged(start_reference, reference_statement):
    rt = "1.2.840.10008.5.1.4.1.1.481.1"  # RT Image Storage, not declared by the reference device
    device = start_reference(Misbehaviour(accept_extra=frozenset({(rt, "1.2.840.10008.1.2")})))
    results = run_against(device, reference_statement, ["negotiation/undeclared-sop-class/"])
    assert codes(results) == {("negotiation/undeclared-sop-class/RTImageStorage",
                               "negotiation.undeclared-sop-class-accepted")}


def test_device_ignoring_called_ae_title_is_flagged(start_reference, reference_statement):
    results = run_against(start_reference(Misbehaviour(ignore_called_ae=True)), reference_statement,
                          ["negotiation/called-ae-title"])
    assert codes(results) == {("negotiation/called-ae-title", "negotiation.called-ae-not-checked")}


def test_wrong_called_ae_title_is_rejected_with_reason_7(start_reference, reference_statement):
    results = run_against(start_reference(), reference_statement, ["negotiation/called-ae-title"])
    [step] = results.steps
    assert step.outcome == "pass" and step.observations[0]["reject_reason"] == 7


def test_statement_claiming_other_association_parameters_is_flagged(start_reference, reference_statement):
    from dataclasses import replace
    wrong = replace(reference_statement, network=replace(reference_statement.network, max_pdu_receive=65536,
                                                         implementation_version_name="OTHER_1"))
    results = run_against(start_reference(statement=reference_statement), wrong,
                          ["negotiation/association-parameters"])
    assert codes(results) == {("negotiation/association-parameters", "negotiation.max-pdu-receive-mismatch"),
                              ("negotiation/association-parameters", "negotiation.implementation-version-name-mismatch")}


def test_a_device_that_hangs_after_association_ends_the_step_as_error(start_reference, reference_statement):
    device = start_reference(Misbehaviour(hang_after_association=True))
    results = run_against(device, reference_statement, ["negotiation/verification", "negotiation/called-ae-title"],
                          dimse=1.0)
    echo, ae = results.steps
    assert echo.outcome == "error" and "C-ECHO" in echo.message
    # the liveness check after a silent step is a C-ECHO too (a device that accepts associations
    # but answers nothing is down): the rest of the run is not run against it, never passed
    assert ae.outcome != "pass", (ae.outcome, ae.message)
    assert results.exit_code() is ExitCode.COULD_NOT_TEST


def test_a_device_that_aborts_every_request_fails_the_verification_claim(start_reference, reference_statement):
    """README "Verdict rules": an A-ABORT answering a claimed request is a failure naming
    the claim; the device aborts C-ECHO under every calling AE title, so it is not the
    site's set-up."""
    results = run_against(start_reference(Misbehaviour(abort_after_association=True)), reference_statement,
                          ["negotiation/verification"], dimse=5.0)
    [echo] = results.steps
    assert echo.outcome == "fail", echo.message
    assert echo.message.startswith("C-ECHO (Verification) claimed; the device aborted the association")


def test_selection_by_pattern(reference_statement):
    ids = [s.id for s in build_plan(reference_statement, ["negotiation/accept/CTImageStorage"])]
    assert ids and all(i.startswith("negotiation/accept/CTImageStorage/") for i in ids)
    globbed = [s.id for s in build_plan(reference_statement, ["*/accept/*/RLELossless"])]
    assert "negotiation/accept/MRImageStorage/RLELossless" in globbed
    assert all(i.endswith("/RLELossless") for i in globbed)


def test_per_sop_class_packing_gives_the_same_results(start_reference, reference_statement):
    device = start_reference(Misbehaviour(reject_transfer_syntaxes=frozenset({(MR, "1.2.840.10008.1.2.5")})))
    packed = run_against(device, reference_statement, ["negotiation/accept", "negotiation/undeclared"])
    naive = run(RunContext(reference_statement, target_for(device), RunOptions(packing="per-sop-class")),
                build_plan(reference_statement, ["negotiation/accept", "negotiation/undeclared"]))
    assert [(s.id, s.outcome) for s in packed.steps] == [(s.id, s.outcome) for s in naive.steps]
    assert codes(packed) == codes(naive) != set()


def test_each_declared_verification_transfer_syntax_is_checked(start_reference, reference_statement):
    verification, explicit = "1.2.840.10008.1.1", "1.2.840.10008.1.2.1"
    device = start_reference(Misbehaviour(reject_transfer_syntaxes=frozenset({(verification, explicit)})))
    results = run_against(device, reference_statement, ["negotiation/verification"])
    [step] = results.steps
    assert step.outcome == "fail"
    assert [f.details["transfer_syntax"] for f in step.findings] == [explicit]


def test_an_unsupported_declared_class_gets_no_wrong_reason_warning(start_reference, reference_statement):
    """Result 3 is right for a SOP class the device does not support at all; only the
    accept steps fail (the statement is wrong), the undeclared-ts step has nothing to add."""
    from dataclasses import replace
    from conformance.statement.model import Role, TransferCapability
    rt_image = "1.2.840.10008.5.1.4.1.1.481.1"
    wrong = replace(reference_statement, transfer_capabilities=reference_statement.transfer_capabilities + (
        TransferCapability(rt_image, Role.SCP, ("1.2.840.10008.1.2",)),))
    results = run_against(start_reference(), wrong, ["negotiation/*RTImageStorage*"])
    assert failing(results) == {"negotiation/accept/RTImageStorage/ImplicitVRLittleEndian"}
    assert codes(results, Severity.WARNING) == set()


def test_step_ids_use_the_keywords_statements_use(reference_statement):
    from conformance.standard import uids
    keywords = set(uids.sop_class_keywords())
    for step in build_plan(reference_statement, ["negotiation/undeclared-sop-class/"]):
        name = step.id.rsplit("/", 1)[1]
        assert name in keywords or uids.is_valid_uid(name), step.id

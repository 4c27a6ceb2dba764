"""The device's answer to an A-ASSOCIATE-RQ checked against PS3.8 9.3.3-9.3.4
(conformance/wire/answers.py), and the per-target record of violations (wire/outcome.py)."""

from __future__ import annotations

from conformance.wire import pdu
from conformance.wire.answers import accept_violations, reject_violations
from conformance.wire.outcome import DeviceRecord, Violation

CT, IMPLICIT, EXPLICIT = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
PROPOSED = [pdu.RequestedContext(1, CT, [IMPLICIT]), pdu.RequestedContext(3, CT, [EXPLICIT])]


def _ac(*answers: pdu.ContextAnswer) -> pdu.AssociateAccept:
    ac = pdu.harness_identity(pdu.AssociateAccept("DEVICE", "HARNESS", contexts=list(answers)))
    raw = pdu.encode_associate_ac(ac)  # type: ignore[arg-type]
    decoded = pdu.decode(raw[0], raw[6:])
    assert isinstance(decoded, pdu.AssociateAccept)
    return decoded


def _codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


def test_a_well_formed_accept_has_no_violation() -> None:
    assert accept_violations(_ac(pdu.ContextAnswer(1, 0, IMPLICIT), pdu.ContextAnswer(3, 4, "")), PROPOSED) == []


def test_an_even_or_unproposed_context_id_is_named() -> None:
    got = accept_violations(_ac(pdu.ContextAnswer(2, 0, IMPLICIT), pdu.ContextAnswer(99, 0, IMPLICIT)), PROPOSED)
    assert _codes(got) == ["protocol.context-id-not-proposed"] * 2 + ["protocol.context-not-answered"]
    assert "2 of the 2 presentation contexts" in got[2].message
    assert "ID 2 (an even ID" in got[0].message and "ID 99, which" in got[1].message
    assert got[0].reference.startswith("PS3.8 9.3.3.2")


def test_a_transfer_syntax_never_proposed_is_named() -> None:
    got = accept_violations(_ac(pdu.ContextAnswer(1, 0, EXPLICIT), pdu.ContextAnswer(3, 4, "")), PROPOSED)
    assert _codes(got) == ["protocol.transfer-syntax-not-proposed"]
    assert EXPLICIT in got[0].message and IMPLICIT in got[0].message


def test_a_rejected_context_may_name_no_transfer_syntax() -> None:
    assert accept_violations(_ac(pdu.ContextAnswer(1, 3, ""), pdu.ContextAnswer(3, 3, "")), PROPOSED) == []


def test_the_codec_problems_of_an_accept_become_violations() -> None:
    raw = bytearray(pdu.encode_associate_ac(pdu.harness_identity(pdu.AssociateAccept("DEVICE", "HARNESS"))))  # type: ignore[arg-type]
    raw[10] = 0xE9                                     # a non-ASCII byte in the called AE title
    decoded = pdu.decode(raw[0], bytes(raw[6:]))
    assert isinstance(decoded, pdu.AssociateAccept)
    got = accept_violations(decoded, PROPOSED[:0])
    assert _codes(got) == ["protocol.malformed-pdu"] and "AE title" in got[0].message


def test_reject_values_table_9_21_does_not_define() -> None:
    assert reject_violations(pdu.AssociateReject(1, 1, 7)) == []
    got = reject_violations(pdu.AssociateReject(9, 7, 99))
    assert _codes(got) == ["protocol.undefined-value"] * 2
    assert "result 9" in got[0].message and "source 7 and reason 99" in got[1].message


def test_a_short_reject_is_malformed() -> None:
    rj = pdu.decode(pdu.ASSOCIATE_RJ, b"\x00\x01")
    assert isinstance(rj, pdu.AssociateReject)
    assert _codes(reject_violations(rj)) == ["protocol.malformed-pdu"]


def test_the_record_reports_once_per_step_and_no_release_once_per_run() -> None:
    record = DeviceRecord()
    bad = Violation("protocol.malformed-pdu", "x", "PS3.8")
    assert record.add(bad) and not record.add(bad)
    assert record.add(Violation("protocol.no-release-reply", "y", "PS3.8"))
    assert _codes(record.take()) == ["protocol.malformed-pdu", "protocol.no-release-reply"]
    assert record.add(bad) and not record.add(Violation("protocol.no-release-reply", "y", "PS3.8"))
    assert _codes(record.take()) == ["protocol.malformed-pdu"] and record.take() == []


def test_a_step_that_met_a_protocol_error_fails_unless_it_is_a_site_problem() -> None:
    from conformance.engine.model import Outcome, StepResult
    from conformance.engine.runner import with_violations
    from conformance.wire.target import Target

    target = Target("127.0.0.1", 104, "DEVICE")
    target.record.add(Violation("protocol.malformed-pdu", "the device sent x", "PS3.8 9.3"))
    could_not_test = with_violations(StepResult.error("no answer"), target)
    assert could_not_test.final_outcome() is Outcome.FAIL
    assert [f.code for f in could_not_test.findings] == ["protocol.malformed-pdu"]
    assert with_violations(StepResult.error("no answer"), target).final_outcome() is Outcome.ERROR  # taken once
    target.record.add(Violation("protocol.malformed-pdu", "the device sent x", "PS3.8 9.3"))
    setup = with_violations(StepResult(message="configure", outcome=Outcome.SETUP), target)
    assert setup.final_outcome() is Outcome.SETUP and setup.findings

"""The cases are what they claim: every case a strategy marks plainly invalid is out of form by
the harness's own codec (an independent reading of the same bytes), the stress cases of the
set-up association are well-formed, and a saved case loads back byte for byte."""

from __future__ import annotations

import struct

from hypothesis import given, settings

from conformance.fuzz import assoc_cases, command_cases, dataset_cases, pdata_cases
from conformance.fuzz.case import Case, load, save
from conformance.fuzz.profile import Profile
from conformance.wire import dimse
from conformance.wire.pdu import ASSOCIATE_RQ, P_DATA_TF, decode_pdu

PROFILE = Profile("DEVICE", "FUZZER", ("1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.2"))
#: Invalid by a rule the codec does not check (context counts and IDs are the acceptor's business).
NOT_CODEC_RULES = {"no-presentation-context", "too-many-contexts"}


def _pdus(raw: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 6 <= len(raw):
        length = struct.unpack_from(">I", raw, pos + 2)[0]
        out.append(raw[pos:pos + 6 + length])
        pos += 6 + length
    return out


@settings(max_examples=150, deadline=None)
@given(assoc_cases.cases(PROFILE))
def test_an_invalid_associate_rq_is_out_of_form_for_the_codec(case: Case) -> None:
    assert case.payload[0] == ASSOCIATE_RQ and not case.setup
    if case.invalid and case.label not in NOT_CODEC_RULES:
        _pdu, problems = decode_pdu(case.payload)
        assert problems, case.what
    if case.label == "too-many-contexts":
        assert case.payload.count(bytes([0x20, 0])) > 128


@settings(max_examples=100, deadline=None)
@given(pdata_cases.cases(PROFILE))
def test_an_invalid_p_data_is_out_of_form_for_the_codec(case: Case) -> None:
    _pdu, problems = decode_pdu(case.setup)
    assert not problems                      # the set-up association itself is well-formed
    if case.invalid and case.label != "unaccepted-context":
        first = case.payload[:6 + struct.unpack_from(">I", case.payload, 2)[0]]
        assert first[0] == P_DATA_TF
        assert decode_pdu(first)[1], case.what


@settings(max_examples=100, deadline=None)
@given(command_cases.cases(PROFILE))
def test_a_command_set_case_is_one_well_formed_pdv_around_the_command(case: Case) -> None:
    (pdu,) = _pdus(case.payload)
    decoded, problems = decode_pdu(pdu)
    assert not problems
    command = dimse.parse(decoded.values[0].data)      # type: ignore[union-attr]
    if case.label == "missing-element":
        assert len([e for e in (0x0002, 0x0100, 0x0110, 0x0800) if e in command.fields]) == 3
    if case.label in ("element-length-overrun", "foreign-group"):
        assert command.problems


@settings(max_examples=60, deadline=None)
@given(dataset_cases.cases(PROFILE))
def test_a_data_set_case_is_a_c_store_on_the_storage_context(case: Case) -> None:
    command_pdu, data_pdu = _pdus(case.payload)
    command = dimse.parse(decode_pdu(command_pdu)[0].values[0].data)   # type: ignore[union-attr]
    assert command.field == dimse.C_STORE_RQ and command.has_data_set
    assert command.text(0x0002) in PROFILE.storage_classes
    assert decode_pdu(data_pdu)[0].values[0].context_id == 3             # type: ignore[union-attr]


def test_a_saved_case_loads_back_byte_for_byte(tmp_path) -> None:
    case = Case("p-data", "x", "what", "PS3.8 9.3.5", b"\x01setup", b"\x04payload", True)
    path = save(case, tmp_path, "one", {"seed": 3})
    again, meta = load(path)
    assert again == case and meta["seed"] == 3
    assert path.read_bytes() == case.setup + case.payload
    assert meta["replay"].endswith(str(path))


@settings(max_examples=30, deadline=None)
@given(dataset_cases.deep_sequence(PROFILE))
def test_a_deep_sequence_case_nests_as_deep_as_it_says(case: Case) -> None:
    depth = int(case.what.split("nested ")[1].split()[0])
    assert 1 <= depth <= 300
    assert case.payload.count(struct.pack("<HH", 0x0008, 0x1115) + b"SQ") == depth

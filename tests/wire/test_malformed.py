"""Malformed PDUs decode to problems of form, never to an exception (PS3.8 9.3, Annex F;
PS3.5 6.2 AE, 9.1 UID)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynetdicom.tests import encoded_pdu_items as golden

from conformance.wire import dimse, pdu

VECTORS = ["a_associate_rq", "a_associate_rq_role", "a_associate_rq_user_id_ext_neg", "a_associate_ac",
           "a_associate_rj", "a_release_rq", "a_abort", "p_data_tf"]


def problems_of(raw: bytes) -> list[str]:
    _pdu, problems = pdu.decode_pdu(raw)
    return problems


@pytest.mark.parametrize("name", VECTORS)
def test_every_truncation_is_reported_never_raised(name):
    raw = getattr(golden, name)
    for cut in range(len(raw)):
        assert problems_of(raw[:cut]), f"{name} cut at {cut} reported nothing"


def _rq_body() -> bytearray:
    return bytearray(golden.a_associate_rq[6:])


def _decode_rq(body: bytes | bytearray) -> pdu.AssociateRequest:
    got = pdu.decode(pdu.ASSOCIATE_RQ, bytes(body))
    assert isinstance(got, pdu.AssociateRequest)
    return got


def test_an_item_whose_length_runs_past_the_pdu_is_named_with_its_offset():
    body = _rq_body()
    struct.pack_into(">H", body, 68 + 2, 0x0400)     # application context item claims 1024 bytes
    rq = _decode_rq(body)
    assert any("item 0x10 at offset 68" in p and "past the end" in p for p in rq.problems), rq.problems


def test_a_sub_item_past_its_presentation_context_item():
    body = _rq_body()
    ctx = 68 + 4 + 21                                  # after the application context item
    assert body[ctx] == 0x20
    struct.pack_into(">H", body, ctx + 8 + 2, 0x0100)  # abstract syntax sub-item claims 256 bytes
    rq = _decode_rq(body)
    assert any("presentation context 1" in p and "past the end" in p for p in rq.problems), rq.problems


def test_unknown_item_types_are_reported():
    extra = struct.pack(">BBH", 0x99, 0, 2) + b"\x00\x00"
    rq = _decode_rq(bytes(_rq_body()) + extra)
    assert "A-ASSOCIATE-RQ: unknown item type 0x99" in rq.problems
    user = pdu.AssociateRequest("A", "B", max_pdu=1, extra=[(0x7A, b"xx")])
    again = _decode_rq(pdu.encode_associate_rq(user)[6:])
    assert any("unknown user information sub-item type 0x7A" in p for p in again.problems)
    assert pdu.decode(0x42, b"") is None
    assert any("unknown PDU type 0x42" in p for p in problems_of(b"\x42\x00\x00\x00\x00\x00"))


@pytest.mark.parametrize("title, ok", [(b"GOOD_AE         ", True), (b"\xc3\xa9CHO           ", False),
                                       (b"BAD\\AE          ", False), (b"TAB\tAE          ", False),
                                       (b"                ", False)])
def test_ae_titles_outside_the_ae_repertoire(title, ok):
    body = _rq_body()
    body[20:36] = title
    rq = _decode_rq(body)
    complaints = [p for p in rq.problems if "calling AE title" in p]
    assert (not complaints) is ok, complaints


def test_an_over_long_uid_and_a_non_uid():
    long_uid = "1." + "2" * 70
    rq = pdu.AssociateRequest("A", "B", max_pdu=16384, contexts=[pdu.RequestedContext(1, long_uid, ["1.2.x"])])
    got = _decode_rq(pdu.encode_associate_rq(rq)[6:])
    assert any("UID of 72 characters, more than 64" in p for p in got.problems)
    assert any("'1.2.x' is not a UID" in p for p in got.problems)
    assert got.contexts[0].abstract_syntax == long_uid        # still read


@pytest.mark.parametrize("raw, words", [
    (b"\x07\x00\x00\x00\x00\x03\x00\x00\x02", "A-ABORT of 3 bytes, not 4"),
    (b"\x03\x00\x00\x00\x00\x06\x00\x01\x01\x01\x00\x00", "A-ASSOCIATE-RJ of 6 bytes"),
    (b"\x05\x00\x00\x00\x00\x00", "A-RELEASE-RQ of 0 bytes"),
    (b"\x04\x00\x00\x00\x00\x07\x00\x00\x00\x01\x01\x03\x00", "under 2"),
    (b"\x04\x00\x00\x00\x00\x07\x00\x00\x00\x09\x01\x03\x00", "past the PDU"),
    (b"\x04\x00\x00\x00\x00\x00", "without any PDV"),
])
def test_bad_lengths_of_fixed_pdus_and_pdvs(raw, words):
    assert any(words in p for p in problems_of(raw)), problems_of(raw)


def test_a_maximum_length_sub_item_of_the_wrong_size():
    head = pdu.encode_associate_rq(pdu.AssociateRequest("A", "B"))[6:][:-4]      # no user information
    user = b"\x51\x00\x00\x02\x40\x00"                                       # 2 bytes, not 4
    rq = _decode_rq(head + struct.pack(">BBH", 0x50, 0, len(user)) + user)
    assert any("maximum length sub-item of 2 bytes, not 4" in p for p in rq.problems), rq.problems
    assert rq.max_pdu is None


def test_an_association_request_without_user_information_is_reported():
    rq = _decode_rq(pdu.encode_associate_rq(pdu.AssociateRequest("A", "B"))[6:][:-4])
    assert any("no user information item" in p for p in rq.problems)


def test_a_truncated_command_set_is_reported():
    raw = dimse.encode_command({0x0100: dimse.C_ECHO_RQ, 0x0110: 1, 0x0002: "1.2.840.10008.1.1"})
    cmd = dimse.parse(raw[:-1])
    assert any("runs past the end" in p for p in cmd.problems)
    assert cmd.field == dimse.C_ECHO_RQ


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(raw):
    got, problems = pdu.decode_pdu(raw)
    assert got is None or isinstance(problems, list)
    dimse.parse(raw)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(golden.a_associate_rq) - 1), st.integers(0, 255))
def test_any_corrupted_byte_of_a_request_never_raises(pos, value):
    raw = bytearray(golden.a_associate_rq)
    raw[pos] = value
    pdu.decode_pdu(bytes(raw))

"""decode(encode(x)) == x for every PDU type and for command sets; messages cut into
fragments within any maximum length come back whole through one Association (PS3.8 9.3,
Annex E; PS3.7 E.1)."""

from __future__ import annotations

import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.wire import dimse, pdu
from conformance.wire.association import Association

AE_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="\\")
ae_titles = st.builds(lambda a, b: (a + b).strip() or "A",
                      st.text(AE_CHARS, min_size=1, max_size=1),
                      st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_- "), max_size=15))
uids = st.lists(st.integers(min_value=0, max_value=99999), min_size=2, max_size=8).map(
    lambda parts: ".".join(str(p) for p in parts)).filter(lambda u: len(u) <= 64)
version_names = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."), min_size=1, max_size=16)
roles = st.dictionaries(uids, st.tuples(st.integers(0, 1), st.integers(0, 1)), max_size=3)
extra = st.lists(st.tuples(st.sampled_from(sorted(pdu.OTHER_USER_ITEMS)), st.binary(max_size=20)), max_size=3)


def _ids(n: int) -> list[int]:
    return [2 * i + 1 for i in range(n)]


requests = st.builds(
    lambda called, calling, ctxs, r, mx, impl, ver, ex: pdu.AssociateRequest(
        called, calling, contexts=[pdu.RequestedContext(i, a, ts) for i, (a, ts) in zip(_ids(len(ctxs)), ctxs)],
        roles=r, max_pdu=mx, implementation_class_uid=impl, implementation_version_name=ver, extra=ex),
    ae_titles, ae_titles, st.lists(st.tuples(uids, st.lists(uids, min_size=1, max_size=4)), min_size=1,
                                    max_size=6),  # PS3.8 9.3.2: one or more contexts
    roles, st.integers(0, 2**32 - 1), uids, version_names, extra)

accepts = st.builds(
    lambda called, calling, answers, r, mx, impl, ver: pdu.AssociateAccept(
        called, calling, contexts=[pdu.ContextAnswer(i, res, ts if res == 0 else "")
                                   for i, (res, ts) in zip(_ids(len(answers)), answers)],
        roles=r, max_pdu=mx, implementation_class_uid=impl, implementation_version_name=ver),
    ae_titles, ae_titles, st.lists(st.tuples(st.integers(0, 4), uids), max_size=6),
    roles, st.integers(0, 2**32 - 1), uids, version_names)


@settings(max_examples=150, deadline=None)
@given(requests)
def test_a_associate_rq_round_trip(rq):
    raw = pdu.encode_associate_rq(rq)
    got, problems = pdu.decode_pdu(raw)
    assert problems == [] and got == rq


@settings(max_examples=150, deadline=None)
@given(accepts)
def test_a_associate_ac_round_trip(ac):
    got, problems = pdu.decode_pdu(pdu.encode_associate_ac(ac))
    assert problems == [] and got == ac


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_fixed_pdus_round_trip(a, b, c):
    assert pdu.decode_pdu(pdu.encode_associate_rj(a, b, c)) == (pdu.AssociateReject(a, b, c), [])
    assert pdu.decode_pdu(pdu.encode_abort(a, b)) == (pdu.Abort(a, b), [])
    assert pdu.decode_pdu(pdu.encode_release_rq()) == (pdu.ReleaseRequest(), [])
    assert pdu.decode_pdu(pdu.encode_release_rp()) == (pdu.ReleaseReply(), [])


pdvs = st.lists(st.builds(pdu.PresentationDataValue, st.integers(0, 255), st.integers(0, 3),
                          st.binary(max_size=64)), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(pdvs)
def test_p_data_tf_round_trip(values):
    assert pdu.decode_pdu(pdu.encode_p_data_tf(values)) == (pdu.PDataTF(values), [])


commands = st.fixed_dictionaries(
    {0x0100: st.sampled_from(sorted(dimse.NAMES)), 0x0110: st.integers(0, 65535)},
    optional={0x0002: uids, 0x1000: uids, 0x0900: st.integers(0, 65535), 0x0600: ae_titles,
              0x0902: st.text(st.sampled_from("abc XYZ.0123"), max_size=40), 0x1020: st.integers(0, 65535)})


@settings(max_examples=200, deadline=None)
@given(commands)
def test_command_set_round_trip(fields):
    cmd = dimse.parse(dimse.encode_command(fields))
    assert cmd.problems == []
    for elem, value in fields.items():
        if isinstance(value, int):
            assert cmd.us(elem) == value
        else:
            assert cmd.text(elem) == value.strip()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=3000), st.booleans()), min_size=1, max_size=4),
       st.sampled_from([0, 8, 16, 100, 1000, 16384]))
def test_messages_cut_within_any_maximum_length_come_back_whole(messages, max_pdu):
    """Several messages sent in one write, each cut into PDVs within *max_pdu* (0: none), are
    reassembled in order; PDVs after the end of one message are kept for the next."""
    left, right = socket.socketpair()
    try:
        sender, receiver = Association(left, peer_max_pdu=max_pdu), Association(right)
        receiver.contexts = {1: ("1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.1.2.1")}
        out = b""
        for n, (data, with_data) in enumerate(messages, start=1):
            fields = {0x0100: dimse.C_STORE_RQ, 0x0110: n, 0x0002: "1.2.840.10008.5.1.4.1.1.7"}
            out += pdu.fragment(1, dimse.encode_command({**fields, 0x0800: 0 if with_data else 0x0101}), True, max_pdu)
            if with_data:
                out += pdu.fragment(1, data, False, max_pdu)
        # everything in as few P-DATA-TF as possible: merge the PDUs' PDVs into one PDU
        merged, problems = [], []
        pos = 0
        while pos < len(out):
            length = int.from_bytes(out[pos + 2:pos + 6], "big")
            body = out[pos + 6:pos + 6 + length]
            merged += [pdu.PresentationDataValue(c, h, body[s:e]) for c, h, s, e in pdu.iter_pdvs(body, problems)]
            pos += 6 + length
        assert problems == []
        sender.send_bytes(pdu.encode_p_data_tf(merged))
        for n, (data, with_data) in enumerate(messages, start=1):
            msg = receiver.read_message(2)
            assert msg.command.message_id == n
            assert msg.data == (data if with_data else b"")
    finally:
        left.close()
        right.close()

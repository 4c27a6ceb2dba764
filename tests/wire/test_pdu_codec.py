"""The PDU codec against golden bytes, both directions (PS3.8 9.3).

The golden PDUs are pynetdicom's own test vectors (``pynetdicom.tests.encoded_pdu_items``,
shipped in its wheel: an independent encoder, read at test time, not copied here); pynetdicom's
PDU classes are the independent decoder of what the harness encodes.
"""

from __future__ import annotations

import pytest
from pynetdicom import pdu as pn
from pynetdicom.tests import encoded_dimse_msg as dimse_golden
from pynetdicom.tests import encoded_pdu_items as golden

from conformance.wire import dimse, pdu
from conformance.wire.contexts import ProposedContext
from conformance.wire.identity import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION, MAX_PDU_RECEIVE
from conformance.wire.requestor import associate_rq
from conformance.wire.target import Target

VERIFICATION, CT, MR = "1.2.840.10008.1.1", "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
IMPLICIT, EXPLICIT, BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
PYNETDICOM_090 = "1.2.826.0.1.3680043.9.3811.0.9.0"
DCMTK_360 = "1.2.276.0.7230010.3.0.3.6.0"


def decoded(raw: bytes) -> pdu.Pdu:
    got, problems = pdu.decode_pdu(raw)
    assert got is not None and problems == [], problems
    return got


def test_a_associate_rq_golden_decodes_and_reencodes_byte_for_byte():
    rq = decoded(golden.a_associate_rq)
    assert isinstance(rq, pdu.AssociateRequest)
    assert (rq.called_ae, rq.calling_ae, rq.protocol_version) == ("ANY-SCP", "ECHOSCU", 1)
    assert rq.application_context == "1.2.840.10008.3.1.1.1"
    assert rq.contexts == [pdu.RequestedContext(1, VERIFICATION, [IMPLICIT])]
    assert (rq.max_pdu, rq.implementation_class_uid, rq.implementation_version_name) == (
        16382, PYNETDICOM_090, "PYNETDICOM_090")
    assert pdu.encode_associate_rq(rq) == golden.a_associate_rq


def test_a_associate_rq_with_role_selection_user_identity_and_extended_negotiation():
    role = decoded(golden.a_associate_rq_role)
    assert isinstance(role, pdu.AssociateRequest)
    assert role.calling_ae == "GETSCU" and role.roles == {CT: (0, 1)}
    assert role.contexts == [pdu.RequestedContext(1, CT, [EXPLICIT])]
    user = decoded(golden.a_associate_rq_user_id_user_pass)
    assert isinstance(user, pdu.AssociateRequest)
    assert user.contexts[0].transfer_syntaxes == [EXPLICIT, BIG, IMPLICIT]   # as in the bytes
    assert (user.max_pdu, user.implementation_class_uid, user.implementation_version_name) == (
        16384, DCMTK_360, "OFFIS_DCMTK_360")
    assert user.other_items == [pdu.USER_IDENTITY_RQ]
    assert b"p4ssw0rd" in dict(user.extra)[pdu.USER_IDENTITY_RQ]
    ext = decoded(golden.a_associate_rq_user_id_ext_neg)
    assert isinstance(ext, pdu.AssociateRequest)
    assert [c.id for c in ext.contexts] == [1, 3, 5] and ext.contexts[2].abstract_syntax == MR
    assert ext.other_items == [pdu.USER_IDENTITY_RQ, pdu.ASYNC_OPS, pdu.SOP_EXTENDED, pdu.SOP_EXTENDED]


def test_user_information_sub_items_keep_their_order():
    """Asynchronous operations window and user identity come back in the order they came."""
    rq = decoded(golden.a_associate_rq_user_async)
    assert isinstance(rq, pdu.AssociateRequest) and rq.other_items == [pdu.USER_IDENTITY_RQ, pdu.ASYNC_OPS]
    assert pdu.encode_associate_rq(rq) == golden.a_associate_rq_user_async


@pytest.mark.parametrize("name", ["a_associate_rq_user_async", "a_associate_rq_role",
                                  "a_associate_rq_user_id_user_pass", "a_associate_rq_user_id_ext_neg",
                                  "a_associate_ac_no_ts"])
def test_sub_items_in_another_order_reencode_to_the_same_content(name):
    """pynetdicom orders some user information sub-items differently (PS3.7 D.3.3 fixes none
    but the maximum length first); the harness' encoding carries the same content, as
    pynetdicom's own decoder reads it."""
    first = decoded(getattr(golden, name))
    encode = pdu.encode_associate_ac if isinstance(first, pdu.AssociateAccept) else pdu.encode_associate_rq
    again = encode(first)  # type: ignore[arg-type]
    assert decoded(again) == first
    theirs = pn.A_ASSOCIATE_AC() if isinstance(first, pdu.AssociateAccept) else pn.A_ASSOCIATE_RQ()
    theirs.decode(again)
    original = type(theirs)()
    original.decode(getattr(golden, name))
    assert sorted(map(str, theirs.user_information.user_data)) == sorted(map(str, original.user_information.user_data))
    assert [(i.context_id, getattr(i, "result", None), getattr(i, "abstract_syntax", None))
            for i in theirs.presentation_context] == \
           [(i.context_id, getattr(i, "result", None), getattr(i, "abstract_syntax", None))
            for i in original.presentation_context]


def test_a_associate_ac_golden_decodes_and_reencodes_byte_for_byte():
    ac = decoded(golden.a_associate_ac)
    assert isinstance(ac, pdu.AssociateAccept)
    assert ac.contexts == [pdu.ContextAnswer(1, 0, IMPLICIT)]
    assert (ac.max_pdu, ac.implementation_class_uid, ac.implementation_version_name) == (
        16384, DCMTK_360, "OFFIS_DCMTK_360")
    assert pdu.encode_associate_ac(ac) == golden.a_associate_ac
    zero = decoded(golden.a_associate_ac_zero_ts)
    assert isinstance(zero, pdu.AssociateAccept)
    assert zero.contexts == [pdu.ContextAnswer(1, 0, EXPLICIT), pdu.ContextAnswer(3, 3, "")]
    assert pdu.encode_associate_ac(zero) == golden.a_associate_ac_zero_ts
    no_ts = decoded(golden.a_associate_ac_no_ts)
    assert isinstance(no_ts, pdu.AssociateAccept) and no_ts.contexts[0].result != 0


def test_a_mislabelled_pdu_length_in_a_golden_vector_is_reported_not_trusted():
    """pynetdicom's ``a_associate_ac_user`` says 184 bytes follow its header while 198 do, so
    its user information item runs past the PDU: the codec reports both, and still reads
    what is there."""
    ac, problems = pdu.decode_pdu(golden.a_associate_ac_user)
    assert isinstance(ac, pdu.AssociateAccept)
    assert any("PDU length 184 but 198" in p for p in problems)
    assert any("item 0x50" in p and "past the end" in p for p in problems)
    assert ac.contexts and ac.contexts[0].result == 0


@pytest.mark.parametrize("name, expected, encode", [
    ("a_associate_rj", pdu.AssociateReject(1, 1, 1), lambda: pdu.encode_associate_rj(1, 1, 1)),
    ("a_release_rq", pdu.ReleaseRequest(), pdu.encode_release_rq),
    ("a_release_rp", pdu.ReleaseReply(), pdu.encode_release_rp),
    ("a_abort", pdu.Abort(0, 0), lambda: pdu.encode_abort(0, 0)),
    ("a_p_abort", pdu.Abort(2, 4), lambda: pdu.encode_abort(2, 4)),
])
def test_fixed_size_pdus_both_directions(name, expected, encode):
    raw = getattr(golden, name)
    assert decoded(raw) == expected
    assert encode() == raw


@pytest.mark.parametrize("name, field, extra", [
    ("p_data_tf", dimse.C_ECHO_RSP, {0x0120: 1, 0x0900: 0}),
    ("p_data_tf_rq", dimse.C_ECHO_RQ, {0x0110: 1}),
    ("p_data_tf_n_event_report", dimse.N_EVENT_REPORT_RQ, {0x0110: 1, 0x1002: 3}),
])
def test_p_data_tf_golden_both_directions(name, field, extra):
    raw = getattr(golden, name)
    got = decoded(raw)
    assert isinstance(got, pdu.PDataTF) and len(got.values) == 1
    pdv = got.values[0]
    assert (pdv.context_id, pdv.is_command, pdv.is_last) == (1, True, True)
    cmd = dimse.parse(pdv.data)
    assert cmd.problems == [] and cmd.field == field and not cmd.has_data_set
    assert all(cmd.us(elem) == value for elem, value in extra.items())
    assert pdu.encode_p_data_tf(got.values) == raw


@pytest.mark.parametrize("name", ["c_echo_rq_cmd", "c_echo_rsp_cmd", "c_store_rq_cmd", "c_store_rsp_cmd"])
def test_command_sets_golden_both_directions(name):
    """A command set re-encoded from its decoded fields is the same bytes (PS3.7 E.1: the
    elements in order, group length first)."""
    raw = getattr(dimse_golden, name)
    command = raw[1:]                    # after the message control header byte
    cmd = dimse.parse(command)
    assert cmd.problems == []
    assert dimse.encode_command({e: v for e, v in cmd.fields.items() if e != 0x0000}) == command


def test_pynetdicom_reads_the_harness_a_associate_rq_as_sent():
    contexts = [ProposedContext(VERIFICATION, (IMPLICIT,)), ProposedContext(CT, (EXPLICIT, IMPLICIT)),
                ProposedContext(MR, (EXPLICIT,), scu_role=False, scp_role=True)]
    raw = associate_rq(Target("127.0.0.1", 104, "CALLED", "CALLING"), contexts)
    theirs = pn.A_ASSOCIATE_RQ()
    theirs.decode(raw)
    assert (theirs.called_ae_title, theirs.calling_ae_title) == ("CALLED", "CALLING")
    got = [(cx.context_id, cx.abstract_syntax, list(cx.transfer_syntax)) for cx in theirs.presentation_context]
    assert got == [(1, VERIFICATION, [IMPLICIT]), (3, CT, [EXPLICIT, IMPLICIT]), (5, MR, [EXPLICIT])]
    user = theirs.user_information
    assert (user.maximum_length, user.implementation_class_uid, user.implementation_version_name) == (
        MAX_PDU_RECEIVE, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION)
    assert [(r.sop_class_uid, r.scu_role, r.scp_role) for r in user.role_selection.values()] == [(MR, False, True)]


def test_pynetdicom_reads_the_harness_a_associate_ac():
    ac = pdu.harness_identity(pdu.AssociateAccept("ANY-SCP", "ECHOSCU", contexts=[
        pdu.ContextAnswer(1, 0, EXPLICIT), pdu.ContextAnswer(3, 3, "")], roles={CT: (0, 1)}))
    theirs = pn.A_ASSOCIATE_AC()
    theirs.decode(pdu.encode_associate_ac(ac))  # type: ignore[arg-type]
    assert [(cx.context_id, cx.result) for cx in theirs.presentation_context] == [(1, 0), (3, 3)]
    assert str(theirs.presentation_context[0].transfer_syntax) == EXPLICIT
    assert theirs.user_information.maximum_length == MAX_PDU_RECEIVE

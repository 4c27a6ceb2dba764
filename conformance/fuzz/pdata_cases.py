"""Malformed P-DATA-TF PDUs on an accepted association (PS3.8 9.3.5, Annex E), carrying a
C-ECHO-RQ on the Verification context (PS3.7 9.3.5).

Plainly invalid (a Success answer is reported): a PDV whose length runs past its PDU, a PDV
length under 2 (PS3.8 9.3.5.1: the length counts the context ID and the header), a message on
a presentation context that was never accepted. Stress only: the echo cut into fragments of
any size (valid: PS3.8 E.2), a P-DATA-TF without PDV, a data fragment before the command, a
PDU header announcing up to 4 GiB, unknown PDU types (PS3.8 9.2: answered by A-ABORT).
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from conformance.fuzz.case import Case
from conformance.fuzz.profile import ECHO_ID, Profile
from conformance.standard.uids import VERIFICATION
from conformance.wire.dimse import C_ECHO_RQ, NO_DATA_SET, encode_command
from conformance.wire.pdu import P_DATA_TF, PresentationDataValue, encode_p_data_tf

AREA = "p-data"
COMMAND_LAST = 0x03


def echo_command(msg_id: int = 1) -> bytes:
    """A well-formed C-ECHO-RQ command set (PS3.7 9.3.5.1)."""
    return encode_command({0x0002: VERIFICATION, 0x0100: C_ECHO_RQ, 0x0110: msg_id, 0x0800: NO_DATA_SET})


def _pdv(context_id: int, header: int, data: bytes, length: int | None = None) -> bytes:
    return struct.pack(">IBB", len(data) + 2 if length is None else length, context_id, header) + data


def _pdu(kind: int, body: bytes, length: int | None = None) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body) if length is None else length) + body


def _case(profile: Profile, label: str, what: str, reference: str, payload: bytes, invalid: bool = False) -> Case:
    return Case(AREA, label, what, reference, profile.echo_setup(), payload, invalid)


@st.composite
def fragmented_echo(draw: st.DrawFn, profile: Profile) -> Case:
    cmd = echo_command()
    cuts = sorted(set(draw(st.lists(st.integers(1, len(cmd) - 1), max_size=12))))
    parts = [cmd[a:b] for a, b in zip([0, *cuts], [*cuts, len(cmd)])]
    per_pdu = draw(st.integers(1, 4))
    pdvs = [PresentationDataValue(ECHO_ID, 0x01 | (0x02 if i == len(parts) - 1 else 0), p)
            for i, p in enumerate(parts)]
    payload = b"".join(encode_p_data_tf(pdvs[i:i + per_pdu]) for i in range(0, len(pdvs), per_pdu))
    return _case(profile, "fragmented-echo", f"a C-ECHO-RQ cut into {len(parts)} fragments, {per_pdu} per PDU",
                 "PS3.8 9.3.5, E.2", payload)


@st.composite
def pdv_length_overrun(draw: st.DrawFn, profile: Profile) -> Case:
    cmd = echo_command()
    extra = draw(st.integers(1, 0xFFFFFFFF - len(cmd) - 2))
    payload = _pdu(P_DATA_TF, _pdv(ECHO_ID, COMMAND_LAST, cmd, len(cmd) + 2 + extra))
    return _case(profile, "pdv-length-overrun", f"a PDV whose length runs {extra} byte(s) past its P-DATA-TF",
                 "PS3.8 9.3.5.1", payload, invalid=True)


@st.composite
def pdv_length_short(draw: st.DrawFn, profile: Profile) -> Case:
    length = draw(st.integers(0, 1))
    payload = _pdu(P_DATA_TF, _pdv(ECHO_ID, COMMAND_LAST, b"", length) + _pdv(ECHO_ID, COMMAND_LAST, echo_command()))
    return _case(profile, "pdv-length-short", f"a PDV of length {length} (at least 2: context ID and header)",
                 "PS3.8 9.3.5.1", payload, invalid=True)


@st.composite
def unaccepted_context(draw: st.DrawFn, profile: Profile) -> Case:
    cid = draw(st.integers(0, 255).filter(lambda c: c != ECHO_ID))
    payload = _pdu(P_DATA_TF, _pdv(cid, COMMAND_LAST, echo_command()))
    return _case(profile, "unaccepted-context", f"a C-ECHO-RQ on presentation context {cid}, never accepted",
                 "PS3.8 9.3.5.1; PS3.7 9.3.5", payload, invalid=True)


@st.composite
def empty_p_data(draw: st.DrawFn, profile: Profile) -> Case:
    count = draw(st.integers(1, 8))
    payload = _pdu(P_DATA_TF, b"") * count + _pdu(P_DATA_TF, _pdv(ECHO_ID, COMMAND_LAST, echo_command()))
    return _case(profile, "empty-p-data", f"{count} P-DATA-TF without any PDV (one or more required), then a "
                 "C-ECHO-RQ", "PS3.8 9.3.5", payload)


@st.composite
def data_before_command(draw: st.DrawFn, profile: Profile) -> Case:
    junk = draw(st.binary(min_size=0, max_size=64))
    header = draw(st.sampled_from([0x00, 0x02]))
    payload = (_pdu(P_DATA_TF, _pdv(ECHO_ID, header, junk))
               + _pdu(P_DATA_TF, _pdv(ECHO_ID, COMMAND_LAST, echo_command())))
    return _case(profile, "data-before-command", f"a data set fragment of {len(junk)} bytes before any command",
                 "PS3.7 6.3.1; PS3.8 E.2", payload)


@st.composite
def huge_pdu_length(draw: st.DrawFn, profile: Profile) -> Case:
    length = draw(st.one_of(st.just(0xFFFFFFFF), st.integers(1 << 20, 0xFFFFFFFF)))
    sent = draw(st.binary(max_size=64))
    return _case(profile, "huge-pdu-length", f"a P-DATA-TF header announcing {length} bytes, {len(sent)} sent",
                 "PS3.8 9.3.5", _pdu(P_DATA_TF, sent, length))


@st.composite
def unknown_pdu_type(draw: st.DrawFn, profile: Profile) -> Case:
    kind = draw(st.one_of(st.just(0x00), st.integers(0x08, 0xFF)))
    body = draw(st.binary(max_size=64))
    return _case(profile, "unknown-pdu-type", f"a PDU of unknown type 0x{kind:02X} ({len(body)} bytes)",
                 "PS3.8 9.2 (Evt19)", _pdu(kind, body))


def cases(profile: Profile) -> st.SearchStrategy[Case]:
    """Every kind of malformed P-DATA-TF above, one per case."""
    return st.one_of(*(make(profile) for make in (
        pdv_length_overrun, pdv_length_short, unaccepted_context, fragmented_echo, empty_p_data,
        data_before_command, huge_pdu_length, unknown_pdu_type)))

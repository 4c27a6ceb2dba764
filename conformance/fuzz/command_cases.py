"""Malformed DIMSE command sets (PS3.7 6.3.1, 9.3.5.1, Annex E), sent as one well-formed
PDV on the Verification context.

The base is a C-ECHO-RQ: Command Group Length, Affected SOP Class UID, Command Field, Message
ID, Command Data Set Type (PS3.7 Table 9.3-12 / E.1-1), each element written as Implicit VR
Little Endian. Plainly invalid (a Success answer is reported): a mandatory element missing, a
US element of a length other than 2, a Command Group Length that does not match, an element
running past the command set, an element outside group 0000, an undefined Command Field (PS3.7
C.5.3: "unrecognized operation"), an Affected SOP Class UID that is not a UID. Stress only:
unknown group-0000 elements.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from conformance.fuzz.case import Case
from conformance.fuzz.profile import ECHO_ID, Profile
from conformance.standard.uids import VERIFICATION
from conformance.wire.dimse import C_ECHO_RQ, NAMES, NO_DATA_SET, VR
from conformance.wire.pdu import PresentationDataValue, encode_p_data_tf

AREA = "command-set"
MANDATORY = {0x0002: "Affected SOP Class UID", 0x0100: "Command Field", 0x0110: "Message ID",
             0x0800: "Command Data Set Type"}
US_ELEMENTS = {0x0100: "Command Field", 0x0110: "Message ID", 0x0800: "Command Data Set Type"}


def _elements() -> list[tuple[int, int, bytes]]:
    """(group, element, value) of a well-formed C-ECHO-RQ, without the group length."""
    uid = VERIFICATION.encode() + (b"\x00" if len(VERIFICATION) % 2 else b"")
    return [(0, 0x0002, uid), (0, 0x0100, struct.pack("<H", C_ECHO_RQ)), (0, 0x0110, struct.pack("<H", 1)),
            (0, 0x0800, struct.pack("<H", NO_DATA_SET))]


def encode(elements: list[tuple[int, int, bytes]], group_length: int | None = None,
           lengths: dict[int, int] | None = None) -> bytes:
    """A command set from *elements*; *group_length* and per-element *lengths* override the
    true values (the malformations)."""
    body = b"".join(struct.pack("<HHI", g, e, (lengths or {}).get(e, len(v))) + v for g, e, v in elements)
    return struct.pack("<HHII", 0, 0, 4, len(body) if group_length is None else group_length) + body


def _case(profile: Profile, label: str, what: str, reference: str, command: bytes, invalid: bool = True) -> Case:
    payload = encode_p_data_tf([PresentationDataValue(ECHO_ID, 0x03, command)])
    return Case(AREA, label, what, reference, profile.echo_setup(), payload, invalid)


@st.composite
def missing_element(draw: st.DrawFn, profile: Profile) -> Case:
    gone = draw(st.sampled_from(sorted(MANDATORY)))
    elements = [x for x in _elements() if x[1] != gone]
    return _case(profile, "missing-element", f"a C-ECHO-RQ without (0000,{gone:04X}) {MANDATORY[gone]}",
                 "PS3.7 9.3.5.1", encode(elements))


@st.composite
def wrong_us_length(draw: st.DrawFn, profile: Profile) -> Case:
    elem = draw(st.sampled_from(sorted(US_ELEMENTS)))
    value = draw(st.binary(max_size=8).filter(lambda b: len(b) != 2))
    elements = [(g, e, value if e == elem else v) for g, e, v in _elements()]
    return _case(profile, "wrong-vr-length", f"(0000,{elem:04X}) {US_ELEMENTS[elem]} (VR US) of {len(value)} "
                 "bytes, not 2", "PS3.7 E.1; PS3.5 6.2 (US)", encode(elements))


@st.composite
def wrong_group_length(draw: st.DrawFn, profile: Profile) -> Case:
    elements = _elements()
    true = len(encode(elements)) - 12
    value = draw(st.integers(0, 0xFFFFFFFF).filter(lambda v: v != true))
    return _case(profile, "wrong-group-length", f"Command Group Length {value} for {true} bytes of elements",
                 "PS3.7 E.1 (0000,0000)", encode(elements, group_length=value))


@st.composite
def element_overrun(draw: st.DrawFn, profile: Profile) -> Case:
    elements = _elements()
    elem = draw(st.sampled_from([e for _g, e, _v in elements]))
    length = draw(st.one_of(st.just(0xFFFFFFFF), st.integers(64, 0xFFFFFFFE)))
    return _case(profile, "element-length-overrun", f"(0000,{elem:04X}) with length {length}, past the end of "
                 "the command set", "PS3.7 E.1; PS3.5 7.1", encode(elements, lengths={elem: length}))


@st.composite
def foreign_group(draw: st.DrawFn, profile: Profile) -> Case:
    group = draw(st.integers(1, 0xFFFF))
    value = draw(st.binary(max_size=16))
    elements = [*_elements(), (group, draw(st.integers(0, 0xFFFF)), value)]
    return _case(profile, "foreign-group", f"an element of group {group:04X} in the command set",
                 "PS3.7 6.3.1 (command sets hold group 0000 only)", encode(elements))


@st.composite
def undefined_command_field(draw: st.DrawFn, profile: Profile) -> Case:
    field = draw(st.integers(0, 0xFFFF).filter(lambda f: f not in NAMES))
    elements = [(g, e, struct.pack("<H", field) if e == 0x0100 else v) for g, e, v in _elements()]
    return _case(profile, "undefined-command-field", f"Command Field 0x{field:04X}, defined by no DIMSE service",
                 "PS3.7 E.1; C.5.3 (unrecognized operation)", encode(elements))


@st.composite
def not_a_uid(draw: st.DrawFn, profile: Profile) -> Case:
    raw = draw(st.one_of(st.binary(min_size=1, max_size=64), st.text("0123456789.", min_size=65,
                                                                    max_size=400).map(str.encode)))
    raw += b"\x00" if len(raw) % 2 else b""
    elements = [(g, e, raw if e == 0x0002 else v) for g, e, v in _elements()]
    return _case(profile, "sop-class-not-a-uid", f"Affected SOP Class UID {raw[:24]!r}... ({len(raw)} bytes), "
                 "not a UID of at most 64 characters", "PS3.5 9.1; PS3.7 9.3.5.1", encode(elements))


@st.composite
def unknown_elements(draw: st.DrawFn, profile: Profile) -> Case:
    known = set(VR) | {0x0000}
    extra = draw(st.lists(st.tuples(st.integers(1, 0xFFFF).filter(lambda e: e not in known),
                                    st.binary(max_size=32)), max_size=6, unique_by=lambda t: t[0]))
    elements = sorted([*_elements(), *((0, e, v) for e, v in extra)], key=lambda x: x[1])
    return _case(profile, "unknown-elements", f"{len(extra)} undefined group-0000 element(s)", "PS3.7 E.1",
                 encode(elements), invalid=False)


def cases(profile: Profile) -> st.SearchStrategy[Case]:
    """Every kind of malformed command set above, one per case."""
    return st.one_of(*(make(profile) for make in (
        missing_element, wrong_us_length, wrong_group_length, element_overrun, foreign_group,
        undefined_command_field, not_a_uid, unknown_elements)))

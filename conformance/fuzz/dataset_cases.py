"""Malformed data sets in a C-STORE-RQ (PS3.4 B.2.2, PS3.7 9.3.1) of a Storage SOP class the
statement declares as SCP, on a context proposed in Explicit VR Little Endian (PS3.5 7.1.2).

The base data set is small and hand-encoded so every byte can be patched: SOP Class and
Instance UID, Patient's Name and ID (``CONFTEST-FUZZ``: a test patient), Study and Series
Instance UID. Plainly invalid (a Success status is reported: the device stored what cannot be
read): a VR that PS3.5 Table 6.2-1 does not define, an odd value length (PS3.5 7.1.1: even), a
value length past the end of the data set, an undefined length on an element that is neither
SQ nor OB/OW/UN (PS3.5 7.1.2), a data set cut inside an element. Stress only: sequences nested
up to 300 deep, a value multiplicity in the tens of thousands, bytes that are not UTF-8 under
Specific Character Set ISO_IR 192 (PS3.5 6.1).
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from conformance.fuzz.case import Case
from conformance.fuzz.profile import STORE_ID, Profile
from conformance.wire.dimse import C_STORE_RQ, encode_command
from conformance.wire.pdu import PresentationDataValue, encode_p_data_tf

AREA = "data-set"
#: VRs whose length field is 4 bytes after two reserved bytes in explicit VR (PS3.5 7.1.2).
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
VALID_VRS = LONG_VRS | {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT",
                        b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQ_END = (0xFFFE, 0xE000), (0xFFFE, 0xE00D), (0xFFFE, 0xE0DD)
INSTANCE_ROOT = "2.25.1"
Element = tuple[int, int, bytes, bytes]   # group, element, VR, value


def element(group: int, elem: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    """One data element in Explicit VR Little Endian (PS3.5 7.1.2), *length* overriding."""
    n = len(value) if length is None else length
    if vr in LONG_VRS or len(vr) != 2 or not vr.isalpha():
        return struct.pack("<HH2sHI", group, elem, vr, 0, n) + value
    return struct.pack("<HH2sH", group, elem, vr, n & 0xFFFF) + value


def _pad(value: bytes, vr: bytes) -> bytes:
    return value + (b"\x00" if vr == b"UI" else b" ") if len(value) % 2 else value


def base(sop_class: str, instance: str) -> list[Element]:
    return [(0x0008, 0x0016, b"UI", _pad(sop_class.encode(), b"UI")),
            (0x0008, 0x0018, b"UI", _pad(instance.encode(), b"UI")),
            (0x0010, 0x0010, b"PN", _pad(b"CONFTEST^FUZZ", b"PN")),
            (0x0010, 0x0020, b"LO", _pad(b"CONFTEST-FUZZ", b"LO")),
            (0x0020, 0x000D, b"UI", _pad(f"{INSTANCE_ROOT}.2".encode(), b"UI")),
            (0x0020, 0x000E, b"UI", _pad(f"{INSTANCE_ROOT}.3".encode(), b"UI"))]


def encode(elements: list[Element]) -> bytes:
    return b"".join(element(g, e, vr, v) for g, e, vr, v in elements)


def _store(profile: Profile, sop_class: str, instance: str, data: bytes) -> bytes:
    command = encode_command({0x0002: sop_class, 0x0100: C_STORE_RQ, 0x0110: 1, 0x0700: 0, 0x0800: 0x0000,
                              0x1000: instance})
    return (encode_p_data_tf([PresentationDataValue(STORE_ID, 0x03, command)])
            + encode_p_data_tf([PresentationDataValue(STORE_ID, 0x02, data)]))


@st.composite
def _frame(draw: st.DrawFn, profile: Profile) -> tuple[str, str, list[Element]]:
    sop_class = draw(st.sampled_from(profile.storage_classes))
    instance = f"{INSTANCE_ROOT}.{draw(st.integers(1, 10**12))}"
    return sop_class, instance, base(sop_class, instance)


def _case(profile: Profile, sop_class: str, instance: str, label: str, what: str, reference: str, data: bytes,
          invalid: bool) -> Case:
    return Case(AREA, label, what, reference, profile.store_setup(sop_class),
                _store(profile, sop_class, instance, data), invalid)


@st.composite
def bad_vr(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    i = draw(st.integers(2, len(elements) - 1))
    vr = draw(st.binary(min_size=2, max_size=2).filter(lambda v: v not in VALID_VRS))
    g, e, _vr, v = elements[i]
    elements[i] = (g, e, vr, v)
    return _case(profile, sop, inst, "bad-vr", f"({g:04X},{e:04X}) with VR {vr!r}, not a VR of PS3.5",
                 "PS3.5 6.2, 7.1.2", encode(elements), True)


@st.composite
def odd_length(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    i = draw(st.integers(2, len(elements) - 1))
    g, e, vr, v = elements[i]
    elements[i] = (g, e, vr, v + b"X")
    return _case(profile, sop, inst, "odd-length", f"({g:04X},{e:04X}) of odd length {len(v) + 1}",
                 "PS3.5 7.1.1", encode(elements), True)


@st.composite
def length_overrun(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    i = draw(st.integers(2, len(elements) - 1))
    g, e, vr, v = elements[i]
    extra = draw(st.integers(1, 0xFFFF - len(v)))
    data = encode(elements[:i]) + element(g, e, vr, v, len(v) + extra) + encode(elements[i + 1:])
    return _case(profile, sop, inst, "length-overrun", f"({g:04X},{e:04X}) whose length runs past the data set",
                 "PS3.5 7.1.2", data, True)


@st.composite
def undefined_length(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    i = draw(st.integers(2, len(elements) - 1))
    g, e, vr, v = elements[i]
    data = (encode(elements[:i]) + struct.pack("<HH2sHI", g, e, b"UT" if draw(st.booleans()) else vr, 0, UNDEFINED)
            + v + encode(elements[i + 1:]))
    return _case(profile, sop, inst, "undefined-length", f"({g:04X},{e:04X}) of undefined length, not a sequence",
                 "PS3.5 7.1.2, 7.5", data, True)


@st.composite
def truncated(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    data = encode(elements)
    cut = draw(st.integers(1, len(data) - 1))
    boundaries, pos = set(), 0
    for g, e, vr, v in elements:
        pos += len(element(g, e, vr, v))
        boundaries.add(pos)
    cut = cut if cut not in boundaries else cut - 1
    return _case(profile, sop, inst, "truncated", f"the data set cut after {cut} of {len(data)} bytes, inside an "
                 "element", "PS3.5 7.1", data[:cut], True)


def _nested(depth: int) -> bytes:
    """(0008,1115) Referenced Series Sequence nested *depth* times, undefined lengths."""
    inner = element(0x0008, 0x1155, b"UI", _pad(b"1.2.3", b"UI"))
    for _ in range(depth):
        inner = (struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, UNDEFINED) + struct.pack("<HHI", *ITEM, UNDEFINED)
                 + inner + struct.pack("<HHI", *ITEM_END, 0) + struct.pack("<HHI", *SEQ_END, 0))
    return inner


@st.composite
def deep_sequence(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    depth = draw(st.integers(1, 300))
    data = encode(elements[:2]) + _nested(depth) + encode(elements[2:])
    return _case(profile, sop, inst, "deep-sequence", f"a sequence nested {depth} deep (undefined lengths)",
                 "PS3.5 7.5", data, False)


@st.composite
def huge_vm(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    count = draw(st.integers(2, 30000))
    value = _pad(b"\\".join([b"ORIGINAL"] * count), b"CS")[:0xFFFE]   # the 2-byte length field's limit
    data = element(0x0008, 0x0008, b"CS", value) + encode(elements)
    values = value.count(b"\\") + 1
    return _case(profile, sop, inst, "huge-vm", f"Image Type with {values} values", "PS3.5 6.4",
                 data, False)


@st.composite
def bad_charset(draw: st.DrawFn, profile: Profile) -> Case:
    sop, inst, elements = draw(_frame(profile))
    name = draw(st.binary(min_size=1, max_size=64).filter(lambda b: not _utf8(b)))
    elements[2] = (0x0010, 0x0010, b"PN", _pad(name, b"PN"))
    data = element(0x0008, 0x0005, b"CS", b"ISO_IR 192") + encode(elements)
    return _case(profile, sop, inst, "bad-character-set", f"Patient's Name bytes {name[:16]!r} that are not UTF-8 "
                 "under ISO_IR 192", "PS3.5 6.1", data, False)


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def cases(profile: Profile) -> st.SearchStrategy[Case]:
    """Every kind of malformed data set above, one per case (needs a declared Storage SCP class)."""
    return st.one_of(*(make(profile) for make in (
        bad_vr, odd_length, length_overrun, undefined_length, truncated, deep_sequence, huge_vm, bad_charset)))

"""Malformed A-ASSOCIATE-RQ PDUs (PS3.8 9.3.2, Annex D; PS3.7 D.3.3), built from the wire
codec's encoder (:func:`conformance.wire.pdu.encode_associate_rq`) and then cut or patched.

Plainly invalid (``invalid=True``; an A-ASSOCIATE-AC in answer is reported): an item whose
length runs past the PDU, a PDU length shorter than its content, no presentation context
item (PS3.8 9.3.2: one or more), more than 128 presentation contexts (PS3.8 9.3.2.2: IDs
are odd 1-255, so they repeat). Stress only (the device must survive; any answer is
allowed): unknown item types (PS3.8 9.3.1 has them ignored), over-long UIDs, odd AE title
bytes, odd maximum lengths (PS3.8 D.1), long implementation version names (PS3.7 D.3.3.2.3:
1-16 characters), odd protocol versions, item lengths cut short.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from conformance.fuzz.case import Case
from conformance.fuzz.profile import Profile
from conformance.standard.uids import IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION
from conformance.wire.pdu import (
    AssociateRequest,
    RequestedContext,
    encode_associate_rq,
    harness_identity,
)

AREA = "associate-rq"
#: Offsets in an A-ASSOCIATE-RQ PDU (PS3.8 Table 9-11): called and calling AE title fields.
CALLED_AE, CALLING_AE = 10, 26
#: Item types PS3.8 and PS3.7 D.3.3 define at the top level and in user information.
KNOWN_ITEMS = {0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59}
UNKNOWN_ITEMS = [t for t in range(256) if t not in KNOWN_ITEMS]
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
UID_TEXT = st.text(alphabet="0123456789.", min_size=65, max_size=300)


def _base(profile: Profile, contexts: int = 1) -> AssociateRequest:
    rq = AssociateRequest(profile.called_ae, profile.calling_ae, contexts=[
        RequestedContext(2 * i + 1, VERIFICATION, [IMPLICIT_VR_LITTLE_ENDIAN]) for i in range(contexts)])
    harness_identity(rq)
    return rq


def _encode(rq: AssociateRequest) -> bytes:
    return encode_associate_rq(rq)


def items(pdu: bytes) -> list[tuple[int, int, int]]:
    """(type, offset, length) of the top-level items of an A-ASSOCIATE-RQ PDU."""
    out, pos = [], 6 + 68
    while pos + 4 <= len(pdu):
        kind, _r, length = struct.unpack_from(">BBH", pdu, pos)
        out.append((kind, pos, length))
        pos += 4 + length
    return out


def _case(label: str, what: str, reference: str, payload: bytes, invalid: bool = False) -> Case:
    return Case(AREA, label, what, reference, b"", payload, invalid)


def _patched_length(pdu: bytes, offset: int, length: int) -> bytes:
    return pdu[:offset + 2] + struct.pack(">H", length & 0xFFFF) + pdu[offset + 4:]


@st.composite
def item_length_overrun(draw: st.DrawFn, profile: Profile) -> Case:
    pdu = _encode(_base(profile))
    kind, offset, length = draw(st.sampled_from(items(pdu)))
    past = len(pdu) - (offset + 4 + length)          # bytes after the item: it must run past them all
    extra = draw(st.integers(past + 1, 0xFFFF - length))
    return _case("item-length-overrun", f"item 0x{kind:02X} whose length ({length + extra}) runs {extra - past} "
                 "byte(s) past the end of the A-ASSOCIATE-RQ", "PS3.8 9.3.2", _patched_length(pdu, offset, length + extra),
                 invalid=True)


@st.composite
def item_length_short(draw: st.DrawFn, profile: Profile) -> Case:
    pdu = _encode(_base(profile))
    kind, offset, length = draw(st.sampled_from([i for i in items(pdu) if i[2] > 0]))
    cut = draw(st.integers(1, length))
    return _case("item-length-short", f"item 0x{kind:02X} with length {length - cut} instead of {length} (the rest "
                 "read as further items)", "PS3.8 9.3.2", _patched_length(pdu, offset, length - cut))


@st.composite
def pdu_length_short(draw: st.DrawFn, profile: Profile) -> Case:
    pdu = _encode(_base(profile))
    body = len(pdu) - 6
    cut = draw(st.integers(1, body - 68 - 1))
    patched = pdu[:2] + struct.pack(">I", body - cut) + pdu[6:]
    return _case("pdu-length-short", f"PDU length {body - cut} while its items need {body} bytes (the last item "
                 "runs past the PDU; the rest follows as garbage)", "PS3.8 9.3.2", patched, invalid=True)


def no_contexts(profile: Profile) -> st.SearchStrategy[Case]:
    rq = _base(profile)
    rq.contexts = []
    return st.just(_case("no-presentation-context", "no presentation context item", "PS3.8 9.3.2", _encode(rq),
                         invalid=True))


@st.composite
def too_many_contexts(draw: st.DrawFn, profile: Profile) -> Case:
    count = draw(st.integers(129, 300))
    return _case("too-many-contexts", f"{count} presentation contexts (IDs repeat: at most 128 odd IDs 1-255)",
                 "PS3.8 9.3.2.2", _encode(_base(profile, count)), invalid=True)


@st.composite
def odd_context_items(draw: st.DrawFn, profile: Profile) -> Case:
    rq = _base(profile)
    ctx_id = draw(st.sampled_from([0, 2, 254, 255, 1]))
    syntaxes = draw(st.lists(st.sampled_from([IMPLICIT_VR_LITTLE_ENDIAN, "", "1.2.3"]), max_size=3))
    rq.contexts.append(RequestedContext(ctx_id, draw(st.sampled_from([VERIFICATION, "", "1.2"])), syntaxes))
    return _case("odd-context-item", f"an extra presentation context {ctx_id} with transfer syntaxes {syntaxes}",
                 "PS3.8 9.3.2.2", _encode(rq))


@st.composite
def long_uids(draw: st.DrawFn, profile: Profile) -> Case:
    rq = _base(profile)
    uid = draw(UID_TEXT)
    where = draw(st.sampled_from(["abstract syntax", "transfer syntax", "application context",
                                  "implementation class UID"]))
    if where == "abstract syntax":
        rq.contexts.append(RequestedContext(3, uid, [IMPLICIT_VR_LITTLE_ENDIAN]))
    elif where == "transfer syntax":
        rq.contexts.append(RequestedContext(3, VERIFICATION, [uid]))
    elif where == "application context":
        rq.application_context = uid
    else:
        rq.implementation_class_uid = uid
    return _case("uid-too-long", f"{where} UID of {len(uid)} characters (at most 64)", "PS3.5 9.1; PS3.8 9.3.2",
                 _encode(rq))


@st.composite
def version_name(draw: st.DrawFn, profile: Profile) -> Case:
    rq = _base(profile)
    name = draw(st.one_of(st.text(alphabet=PRINTABLE, max_size=16), st.text(alphabet=PRINTABLE, min_size=17,
                                                                             max_size=300)))
    rq.implementation_version_name = name
    if not name:
        rq.extra.append((0x55, b""))
        rq.implementation_version_name = None
    return _case("implementation-version-name", f"implementation version name of {len(name)} characters (1-16)",
                 "PS3.7 D.3.3.2.3", _encode(rq))


@st.composite
def max_length(draw: st.DrawFn, profile: Profile) -> Case:
    rq = _base(profile)
    value = draw(st.one_of(st.sampled_from([0, 1, 2, 6, 7, 8, 0xFFFFFFFF, 0x80000000]),
                           st.integers(0, 0xFFFFFFFF)))
    rq.max_pdu = value
    return _case("maximum-length", f"maximum length received of {value}", "PS3.8 D.1", _encode(rq))


@st.composite
def unknown_items(draw: st.DrawFn, profile: Profile) -> Case:
    rq = _base(profile)
    kinds = draw(st.lists(st.sampled_from(UNKNOWN_ITEMS), min_size=1, max_size=4))
    values = [draw(st.binary(max_size=64)) for _ in kinds]
    user_kind = draw(st.sampled_from([k for k in UNKNOWN_ITEMS if k > 0x59]))
    rq.extra.append((user_kind, draw(st.binary(max_size=32))))
    pdu = _encode(rq)
    user = next(off for kind, off, _l in items(pdu) if kind == 0x50)
    added = b"".join(struct.pack(">BBH", k, 0, len(v)) + v for k, v in zip(kinds, values))
    body = pdu[6:user] + added + pdu[user:]
    out = pdu[:2] + struct.pack(">I", len(body)) + body
    return _case("unknown-items", f"unknown item types {[f'0x{k:02X}' for k in kinds]} and user information "
                 f"sub-item 0x{user_kind:02X} (to be ignored)", "PS3.8 9.3.1", out)


@st.composite
def ae_titles(draw: st.DrawFn, profile: Profile) -> Case:
    pdu = bytearray(_encode(_base(profile)))
    field = draw(st.sampled_from([CALLED_AE, CALLING_AE]))
    raw = draw(st.one_of(st.binary(min_size=16, max_size=16), st.just(b" " * 16), st.just(b"\x00" * 16)))
    pdu[field:field + 16] = raw
    name = "called" if field == CALLED_AE else "calling"
    return _case("ae-title", f"{name} AE title bytes {raw!r}", "PS3.8 9.3.2; PS3.5 6.2 (AE)", bytes(pdu))


@st.composite
def protocol_version(draw: st.DrawFn, profile: Profile) -> Case:
    rq = _base(profile)
    rq.protocol_version = draw(st.integers(0, 0xFFFF).filter(lambda v: v != 1))
    return _case("protocol-version", f"protocol version 0x{rq.protocol_version:04X}", "PS3.8 9.3.2",
                 _encode(rq))


def cases(profile: Profile) -> st.SearchStrategy[Case]:
    """Every kind of malformed A-ASSOCIATE-RQ above, one per case."""
    return st.one_of(*(make(profile) for make in (
        item_length_overrun, pdu_length_short, no_contexts, too_many_contexts, item_length_short,
        odd_context_items, long_uids, version_name, max_length, unknown_items, ae_titles, protocol_version)))


__all__ = ["AREA", "cases", "items"]

"""The upper layer's PDUs, both directions, one codec (PS3.8 section 9.3, Annex D; PS3.7 D.3.3).

Encoders build A-ASSOCIATE-RQ/AC/RJ, P-DATA-TF (a message part cut into fragments within the
peer's maximum length, PS3.8 9.3.5 and Annex E), A-RELEASE-RQ/RP and A-ABORT. :func:`decode`
reads any of them from a PDU's type and body and **never raises**: what it could not read, or
read but found out of form (an item whose length runs past the end of the PDU, an unknown item
type, an AE title with characters PS3.5 does not allow, a UID longer than 64 characters, a
fixed field of the wrong length...), comes back as a list of problems, each naming the PDU and
byte offset, so a check can report a device's malformed PDU instead of the harness crashing on
it. What was readable is still decoded.

Plain ``struct`` over bytes, no per-item objects: about a tenth of the cost of pynetdicom's PDU
classes, which matters for the probes that open dozens of associations of 128 contexts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from conformance.wire.identity import (
    APPLICATION_CONTEXT,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION,
    MAX_PDU_RECEIVE,
)

# PDU types (PS3.8 Table 9-11)
ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT = 0x04, 0x05, 0x06, 0x07
PDU_NAMES = {ASSOCIATE_RQ: "A-ASSOCIATE-RQ", ASSOCIATE_AC: "A-ASSOCIATE-AC", ASSOCIATE_RJ: "A-ASSOCIATE-RJ",
             P_DATA_TF: "P-DATA-TF", RELEASE_RQ: "A-RELEASE-RQ", RELEASE_RP: "A-RELEASE-RP", ABORT: "A-ABORT"}

# Item types (PS3.8 Tables 9-12 to 9-17; PS3.7 D.3.3)
APPLICATION_CONTEXT_ITEM, CONTEXT_RQ_ITEM, CONTEXT_AC_ITEM = 0x10, 0x20, 0x21
ABSTRACT_SYNTAX_ITEM, TRANSFER_SYNTAX_ITEM, USER_INFORMATION_ITEM = 0x30, 0x40, 0x50
MAX_LENGTH, IMPLEMENTATION_UID, ASYNC_OPS, ROLE_SELECTION = 0x51, 0x52, 0x53, 0x54
IMPLEMENTATION_NAME, SOP_EXTENDED, SOP_COMMON_EXTENDED, USER_IDENTITY_RQ, USER_IDENTITY_AC = (
    0x55, 0x56, 0x57, 0x58, 0x59)
#: User information sub-items the harness keeps as raw values (PS3.7 D.3.3.3, D.3.3.5-D.3.3.7).
OTHER_USER_ITEMS = {ASYNC_OPS, SOP_EXTENDED, SOP_COMMON_EXTENDED, USER_IDENTITY_RQ, USER_IDENTITY_AC}

_ITEM_HEADER = struct.Struct(">BBH")
_UID_CHARS = "0123456789."

#: Fixed part of an A-ASSOCIATE-RQ/AC body after the 6-byte header (PS3.8 Table 9-11).
ASSOCIATE_FIXED = 68


@dataclass
class RequestedContext:
    """One presentation context item of an A-ASSOCIATE-RQ (PS3.8 9.3.2.2)."""

    id: int
    abstract_syntax: str
    transfer_syntaxes: list[str]


@dataclass
class ContextAnswer:
    """One presentation context item of an A-ASSOCIATE-AC (PS3.8 9.3.3.2): result per Table
    9-18 and the transfer syntax (meaningful on acceptance only)."""

    id: int
    result: int
    transfer_syntax: str = ""


@dataclass
class Associate:
    """The fields A-ASSOCIATE-RQ and -AC share (PS3.8 9.3.2, 9.3.3) and the user information
    sub-items (PS3.8 D.1, PS3.7 D.3.3)."""

    called_ae: str
    calling_ae: str
    protocol_version: int = 1
    application_context: str = APPLICATION_CONTEXT
    #: SOP class UID -> (SCU role, SCP role) (PS3.7 D.3.3.4).
    roles: dict[str, tuple[int, int]] = field(default_factory=dict)
    max_pdu: int | None = None
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    #: Other user information sub-items in order, raw: (type, value).
    extra: list[tuple[int, bytes]] = field(default_factory=list)
    #: Problems of form found when decoding (empty for a well-formed PDU).
    problems: list[str] = field(default_factory=list)

    @property
    def other_items(self) -> list[int]:
        """Types of the other user information sub-items (0x53 asynchronous operations, 0x56
        SOP class extended negotiation, 0x57 common extended negotiation, 0x58 user identity)."""
        return [kind for kind, _v in self.extra]


@dataclass
class AssociateRequest(Associate):
    """An A-ASSOCIATE-RQ as data (PS3.8 9.3.2)."""

    contexts: list[RequestedContext] = field(default_factory=list)


@dataclass
class AssociateAccept(Associate):
    """An A-ASSOCIATE-AC as data (PS3.8 9.3.3)."""

    contexts: list[ContextAnswer] = field(default_factory=list)


@dataclass
class AssociateReject:
    """A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21)."""

    result: int
    source: int
    reason: int
    problems: list[str] = field(default_factory=list)


@dataclass
class PresentationDataValue:
    """One PDV of a P-DATA-TF (PS3.8 9.3.5.1, E.2): context ID, message control header (bit 0
    command, bit 1 last fragment), fragment."""

    context_id: int
    header: int
    data: bytes

    @property
    def is_command(self) -> bool:
        return bool(self.header & 0x01)

    @property
    def is_last(self) -> bool:
        return bool(self.header & 0x02)


@dataclass
class PDataTF:
    """P-DATA-TF (PS3.8 9.3.5)."""

    values: list[PresentationDataValue] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class ReleaseRequest:
    """A-RELEASE-RQ (PS3.8 9.3.6)."""

    problems: list[str] = field(default_factory=list)


@dataclass
class ReleaseReply:
    """A-RELEASE-RP (PS3.8 9.3.7)."""

    problems: list[str] = field(default_factory=list)


@dataclass
class Abort:
    """A-ABORT (PS3.8 9.3.8, Table 9-26): source 0 service user, 2 service provider."""

    source: int
    reason: int
    problems: list[str] = field(default_factory=list)


Pdu = (AssociateRequest | AssociateAccept | AssociateReject | PDataTF | ReleaseRequest | ReleaseReply
       | Abort)


# --- encoding ---------------------------------------------------------------------------------

def _item(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _ae(title: str) -> bytes:
    return title.encode("ascii", "replace")[:16].ljust(16, b" ")


def _pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def _user_information(a: Associate) -> bytes:
    user = b""
    if a.max_pdu is not None:
        user += _item(MAX_LENGTH, struct.pack(">I", a.max_pdu))
    if a.implementation_class_uid is not None:
        user += _item(IMPLEMENTATION_UID, a.implementation_class_uid.encode("ascii", "replace"))
    for uid, (scu, scp) in a.roles.items():
        raw = uid.encode("ascii", "replace")
        user += _item(ROLE_SELECTION, struct.pack(">H", len(raw)) + raw + bytes([scu & 0xFF, scp & 0xFF]))
    if a.implementation_version_name is not None:
        user += _item(IMPLEMENTATION_NAME, a.implementation_version_name.encode("ascii", "replace"))
    for kind, value in a.extra:
        user += _item(kind, value)
    return _item(USER_INFORMATION_ITEM, user)


def _associate_head(a: Associate) -> bytes:
    return (struct.pack(">HH", a.protocol_version, 0) + _ae(a.called_ae) + _ae(a.calling_ae) + b"\x00" * 32
            + _item(APPLICATION_CONTEXT_ITEM, a.application_context.encode("ascii", "replace")))


def encode_associate_rq(rq: AssociateRequest) -> bytes:
    """A-ASSOCIATE-RQ (PS3.8 9.3.2): fixed part, application context, presentation contexts
    in order, user information (maximum length first, PS3.8 D.1; implementation class UID,
    role selections, implementation version name, then the other sub-items in their order)."""
    parts = [_associate_head(rq)]
    pack = _ITEM_HEADER.pack
    for ctx in rq.contexts:
        subs = [ctx.abstract_syntax.encode("ascii", "replace")]
        subs += [ts.encode("ascii", "replace") for ts in ctx.transfer_syntaxes]
        sub = b"".join([pack(ABSTRACT_SYNTAX_ITEM, 0, len(subs[0])), subs[0]]
                       + [pack(TRANSFER_SYNTAX_ITEM, 0, len(t)) + t for t in subs[1:]])
        parts += [pack(CONTEXT_RQ_ITEM, 0, len(sub) + 4), bytes((ctx.id & 0xFF, 0, 0, 0)), sub]
    parts.append(_user_information(rq))
    return _pdu(ASSOCIATE_RQ, b"".join(parts))


def encode_associate_ac(ac: AssociateAccept) -> bytes:
    """A-ASSOCIATE-AC (PS3.8 9.3.3): one presentation context item per proposed context,
    with a transfer syntax sub-item (empty unless accepted)."""
    body = _associate_head(ac)
    for ans in ac.contexts:
        sub = _item(TRANSFER_SYNTAX_ITEM, ans.transfer_syntax.encode("ascii", "replace"))
        body += _item(CONTEXT_AC_ITEM, struct.pack(">BBBB", ans.id, 0, ans.result, 0) + sub)
    return _pdu(ASSOCIATE_AC, body + _user_information(ac))


def harness_identity(a: Associate) -> Associate:
    """*a* with the harness's user information (:mod:`conformance.wire.identity`) filled in."""
    a.max_pdu = MAX_PDU_RECEIVE if a.max_pdu is None else a.max_pdu
    a.implementation_class_uid = a.implementation_class_uid or IMPLEMENTATION_CLASS_UID
    a.implementation_version_name = a.implementation_version_name or IMPLEMENTATION_VERSION
    return a


def encode_associate_rj(result: int, source: int, reason: int) -> bytes:
    """A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21)."""
    return _pdu(ASSOCIATE_RJ, bytes([0, result & 0xFF, source & 0xFF, reason & 0xFF]))


def encode_release_rq() -> bytes:
    return _pdu(RELEASE_RQ, b"\x00" * 4)


def encode_release_rp() -> bytes:
    return _pdu(RELEASE_RP, b"\x00" * 4)


def encode_abort(source: int = 2, reason: int = 0) -> bytes:
    """A-ABORT (PS3.8 9.3.8): source 0 service user, 2 service provider (Table 9-26)."""
    return _pdu(ABORT, bytes([0, 0, source & 0xFF, reason & 0xFF]))


def encode_p_data_tf(values: list[PresentationDataValue]) -> bytes:
    """One P-DATA-TF carrying *values* as given (PS3.8 9.3.5)."""
    body = b"".join(struct.pack(">IBB", len(v.data) + 2, v.context_id, v.header) + v.data for v in values)
    return _pdu(P_DATA_TF, body)


def fragment(context_id: int, payload: bytes | memoryview, command: bool, max_pdu: int) -> bytes:
    """P-DATA-TF PDUs carrying one message part (command set or data set), one PDV each, every
    PDU within the peer's Maximum Length Received *max_pdu* (0: unlimited) (PS3.8 9.3.5, E.2;
    the maximum length counts the PDVs' item headers, not the PDU header, PS3.8 D.1)."""
    room = max((max_pdu - 6) if max_pdu else len(payload) or 1, 2)
    out = bytearray()
    pos, total = 0, len(payload)
    while True:
        chunk = payload[pos:pos + room]
        pos += len(chunk)
        last = pos >= total
        header = (0x01 if command else 0x00) | (0x02 if last else 0x00)
        out += struct.pack(">BBIIBB", P_DATA_TF, 0, len(chunk) + 6, len(chunk) + 2, context_id, header)
        out += chunk
        if last:
            return bytes(out)


# --- decoding ---------------------------------------------------------------------------------

def iter_items(data: bytes, pos: int, end: int, where: str, problems: list[str]) -> Iterator[tuple[int, bytes]]:
    """(item type, value) of the items in ``data[pos:end]`` (PS3.8 9.3.2-9.3.3: type, reserved,
    2-byte length). An item whose length runs past *end* is reported and cut at *end*;
    trailing bytes too few for an item header are reported."""
    unpack = _ITEM_HEADER.unpack_from
    while pos + 4 <= end:
        kind, _reserved, length = unpack(data, pos)
        stop = pos + 4 + length
        if stop > end:
            problems.append(f"{where}: item 0x{kind:02X} at offset {pos} has length {length}, which runs "
                            f"{stop - end} byte(s) past the end of its container")
            stop = end
        yield kind, data[pos + 4:stop]
        pos += 4 + length
    if pos < end:
        problems.append(f"{where}: {end - pos} trailing byte(s) at offset {pos}, too few for an item")


def text(raw: bytes) -> str:
    """An ASCII field without its padding (trailing NULs or spaces); bad bytes replaced."""
    return raw.decode("ascii", "replace").strip("\x00 ")


def _uid(raw: bytes, where: str, problems: list[str]) -> str:
    """A UID (PS3.5 9.1; PS3.8 Annex F): digits and dots, at most 64 characters."""
    value = text(raw)
    if len(value) > 64:
        problems.append(f"{where}: UID of {len(value)} characters, more than 64 (PS3.5 9.1)")
    if not value or value.strip(_UID_CHARS):
        problems.append(f"{where}: {value!r} is not a UID (PS3.5 9.1: digits and '.')")
    return value


def _ae_title(raw: bytes, where: str, problems: list[str]) -> str:
    """An AE title field (PS3.8 9.3.2, PS3.5 Table 6.2-1 AE: 16 bytes, no control characters
    or backslash, not all spaces)."""
    if any(b < 0x20 or b > 0x7E or b == 0x5C for b in raw.rstrip(b"\x00")):
        problems.append(f"{where}: {raw!r} has characters an AE title may not have (PS3.5 6.2, AE)")
    value = text(raw)
    if not value:
        problems.append(f"{where}: the AE title is all spaces (PS3.5 6.2, AE)")
    return value


def _user_items(item: bytes, a: Associate, where: str, problems: list[str]) -> None:
    for kind, value in iter_items(item, 0, len(item), f"{where} user information", problems):
        if kind == MAX_LENGTH:
            if len(value) != 4:
                problems.append(f"{where}: maximum length sub-item of {len(value)} bytes, not 4 (PS3.8 D.1)")
            else:
                a.max_pdu = struct.unpack(">I", value)[0]
        elif kind == IMPLEMENTATION_UID:
            a.implementation_class_uid = _uid(value, f"{where} implementation class UID", problems)
        elif kind == IMPLEMENTATION_NAME:
            a.implementation_version_name = text(value)
            if not 1 <= len(value) <= 16:
                problems.append(f"{where}: implementation version name of {len(value)} bytes, not 1-16 "
                                "(PS3.7 D.3.3.2.3)")
        elif kind == ROLE_SELECTION:
            ulen = struct.unpack_from(">H", value, 0)[0] if len(value) >= 2 else 0
            if len(value) != 4 + ulen:
                problems.append(f"{where}: role selection sub-item of {len(value)} bytes does not hold "
                                f"its UID of {ulen} bytes and two role bytes (PS3.7 D.3.3.4)")
            if len(value) >= 4 + ulen:
                uid = _uid(value[2:2 + ulen], f"{where} role selection", problems)
                a.roles[uid] = (value[2 + ulen], value[3 + ulen])
        elif kind in OTHER_USER_ITEMS:
            a.extra.append((kind, value))
        else:
            a.extra.append((kind, value))
            problems.append(f"{where}: unknown user information sub-item type 0x{kind:02X}")


def _decode_associate(body: bytes, accept: bool) -> AssociateRequest | AssociateAccept:
    name = "A-ASSOCIATE-AC" if accept else "A-ASSOCIATE-RQ"
    problems: list[str] = []
    a: AssociateRequest | AssociateAccept
    if len(body) < ASSOCIATE_FIXED:
        problems.append(f"{name} of {len(body)} bytes is shorter than its fixed part ({ASSOCIATE_FIXED})")
        a = AssociateAccept("", "") if accept else AssociateRequest("", "")
        a.problems = problems
        return a
    version = struct.unpack_from(">H", body, 0)[0]
    called = _ae_title(body[4:20], f"{name} called AE title", problems)
    calling = _ae_title(body[20:36], f"{name} calling AE title", problems)
    a = (AssociateAccept if accept else AssociateRequest)(called, calling, version, application_context="")
    seen_user = seen_context = False
    for kind, item in iter_items(body, ASSOCIATE_FIXED, len(body), name, problems):
        if kind == APPLICATION_CONTEXT_ITEM:
            if seen_context:
                problems.append(f"{name}: a second application context item (PS3.8 9.3.2: exactly one)")
            seen_context = True
            a.application_context = _uid(item, f"{name} application context", problems)
        elif kind == (CONTEXT_AC_ITEM if accept else CONTEXT_RQ_ITEM):
            if len(item) < 4:
                problems.append(f"{name}: presentation context item of {len(item)} bytes, shorter than 4")
                continue
            where = f"{name} presentation context {item[0]}"
            if isinstance(a, AssociateAccept):
                answer = ContextAnswer(item[0], item[2])
                if len(item) >= 8 and item[4] == TRANSFER_SYNTAX_ITEM and 8 + (item[6] << 8 | item[7]) == len(item):
                    value = item[8:]           # the common shape, read without the generic loop
                    answer.transfer_syntax = text(value) if not value or item[2] else _uid(value, where, problems)
                    a.contexts.append(answer)
                    continue
                for skind, value in iter_items(item, 4, len(item), where, problems):
                    if skind == TRANSFER_SYNTAX_ITEM:
                        answer.transfer_syntax = text(value) if not value or item[2] else \
                            _uid(value, where, problems)
                    else:
                        problems.append(f"{where}: unexpected sub-item type 0x{skind:02X}")
                a.contexts.append(answer)
            else:
                ctx = RequestedContext(item[0], "", [])
                abstract = 0
                for skind, value in iter_items(item, 4, len(item), where, problems):
                    if skind == ABSTRACT_SYNTAX_ITEM:
                        abstract += 1
                        ctx.abstract_syntax = _uid(value, f"{where} abstract syntax", problems)
                    elif skind == TRANSFER_SYNTAX_ITEM:
                        ctx.transfer_syntaxes.append(_uid(value, f"{where} transfer syntax", problems))
                    else:
                        problems.append(f"{where}: unexpected sub-item type 0x{skind:02X}")
                _check_requested_context(ctx, abstract, a.contexts, where, problems)
                a.contexts.append(ctx)
        elif kind == USER_INFORMATION_ITEM:
            seen_user = True
            _user_items(item, a, name, problems)
        else:
            problems.append(f"{name}: unknown item type 0x{kind:02X}")
    if not seen_user:
        problems.append(f"{name}: no user information item (PS3.8 9.3.2, D.1: maximum length is required)")
    if not accept:
        if not seen_context:
            problems.append(f"{name}: no application context item (PS3.8 9.3.2: exactly one)")
        if not a.contexts:
            problems.append(f"{name}: no presentation context item (PS3.8 9.3.2: one or more)")
    a.problems = problems
    return a


def _check_requested_context(ctx: RequestedContext, abstract: int, earlier: list[RequestedContext] | list[ContextAnswer],
                             where: str, problems: list[str]) -> None:
    """PS3.8 9.3.2.2: an odd presentation context ID (1-255), unique in the request; one
    abstract syntax sub-item and one or more transfer syntax sub-items."""
    cid = ctx.id
    if cid % 2 == 0:
        problems.append(f"{where}: the presentation context ID {cid} is even (PS3.8 9.3.2.2: odd, 1-255)")
    elif any(c.id == cid for c in earlier):
        problems.append(f"{where}: the presentation context ID {cid} is used twice (PS3.8 9.3.2.2)")
    if abstract != 1:
        problems.append(f"{where}: {abstract} abstract syntax sub-items (PS3.8 9.3.2.2: exactly one)")
    if not ctx.transfer_syntaxes:
        problems.append(f"{where}: no transfer syntax sub-item (PS3.8 9.3.2.2: one or more)")


def _fixed(body: bytes, name: str) -> tuple[bytes, list[str]]:
    problems = [] if len(body) == 4 else [f"{name} of {len(body)} bytes, not 4 (PS3.8 9.3)"]
    return (body + b"\x00" * 4)[:4], problems


def iter_pdvs(body: bytes, problems: list[str], pos: int = 0) -> Iterator[tuple[int, int, int, int]]:
    """(context ID, header, start, end) of each PDV in a P-DATA-TF body from *pos* on (PS3.8
    9.3.5.1): the fragment is ``body[start:end]``. A PDV whose length is under 2 or runs past
    the PDU is reported and ends the iteration."""
    n = len(body)
    while pos + 6 <= n:
        length, cid, header = struct.unpack_from(">IBB", body, pos)
        end = pos + 4 + length
        if length < 2 or end > n:
            problems.append(f"P-DATA-TF: PDV at offset {pos} has length {length}, "
                            + ("under 2" if length < 2 else f"running {end - n} byte(s) past the PDU"))
            return
        yield cid, header, pos + 6, end
        pos = end
    if pos < n:
        problems.append(f"P-DATA-TF: {n - pos} trailing byte(s) at offset {pos}, too few for a PDV")
    elif n == 0:
        problems.append("P-DATA-TF without any PDV (PS3.8 9.3.5: one or more)")


def decode(kind: int, body: bytes) -> Pdu | None:
    """Any PDU from its type and its body (the bytes after the 6-byte header). ``None`` for an
    unknown PDU type; otherwise the PDU, with ``problems`` listing what was out of form."""
    if kind in (ASSOCIATE_RQ, ASSOCIATE_AC):
        return _decode_associate(body, kind == ASSOCIATE_AC)
    if kind == P_DATA_TF:
        pdu = PDataTF()
        for cid, header, start, end in iter_pdvs(body, pdu.problems):
            pdu.values.append(PresentationDataValue(cid, header, body[start:end]))
        return pdu
    if kind == ASSOCIATE_RJ:
        raw, problems = _fixed(body, "A-ASSOCIATE-RJ")
        return AssociateReject(raw[1], raw[2], raw[3], problems)
    if kind == ABORT:
        raw, problems = _fixed(body, "A-ABORT")
        return Abort(raw[2], raw[3], problems)
    if kind == RELEASE_RQ:
        return ReleaseRequest(_fixed(body, "A-RELEASE-RQ")[1])
    if kind == RELEASE_RP:
        return ReleaseReply(_fixed(body, "A-RELEASE-RP")[1])
    return None


def decode_pdu(data: bytes) -> tuple[Pdu | None, list[str]]:
    """A whole PDU (header and body) -> (PDU or ``None``, problems of the framing and the body)."""
    if len(data) < 6:
        return None, [f"{len(data)} byte(s), shorter than a PDU header (6)"]
    kind, _r, length = struct.unpack_from(">BBI", data, 0)
    framing: list[str] = []
    if length != len(data) - 6:
        framing.append(f"PDU length {length} but {len(data) - 6} byte(s) follow the header")
    pdu = decode(kind, data[6:6 + length])
    if pdu is None:
        return None, framing + [f"unknown PDU type 0x{kind:02X}"]
    return pdu, framing + pdu.problems

"""multipart/related bodies (RFC 2387, RFC 2046 5.1; PS3.18 8.6.1.2 and 8.7.3).

WADO-RS answers instances, frames and bulk data, and STOW-RS takes its request, as
``multipart/related; type="..."; boundary=...``. :func:`parse` splits a body into parts and
says what is wrong with it instead of raising: no boundary parameter, a boundary that never
occurs in the body, a missing close delimiter, a part without a header block.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from conformance.dicomweb.client import HasContentType, media_type_of


@dataclass
class Part(HasContentType):
    """One body part: its headers (lower-case names) and its bytes."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Multipart:
    parts: list[Part] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse(content_type: str, body: bytes) -> Multipart:
    """The parts of a multipart/related *body* sent with *content_type*."""
    out = Multipart()
    media, params = media_type_of(content_type)
    if media != "multipart/related":
        out.problems.append(f"Content-Type is {content_type or '(none)'!r}, not multipart/related")
        return out
    boundary = params.get("boundary")
    if not boundary:
        out.problems.append("the multipart/related Content-Type has no boundary parameter "
                            "(RFC 2046 5.1.1)")
        return out
    delim = b"--" + boundary.encode("latin-1", "replace")
    first = body.find(delim)
    if first < 0:
        out.problems.append(f"the boundary {boundary!r} of the Content-Type never occurs in the "
                            "body (RFC 2046 5.1.1)")
        return out
    pos = first + len(delim)
    closed = False
    for _ in range(100_000):           # bounded: at most that many parts
        if body[pos:pos + 2] == b"--":
            closed = True
            break
        nl = body.find(b"\r\n", pos)
        if nl < 0:
            break
        start = nl + 2
        nxt = body.find(b"\r\n" + delim, start)
        if nxt < 0:
            out.problems.append("the last body part is not followed by a delimiter line "
                                "(RFC 2046 5.1.1)")
            _add(out, body[start:])
            break
        _add(out, body[start:nxt])
        pos = nxt + 2 + len(delim)
    if not closed and not out.problems:
        out.problems.append("the body has no close delimiter ('--boundary--', RFC 2046 5.1.1)")
    return out


def _add(out: Multipart, raw: bytes) -> None:
    head, sep, data = raw.partition(b"\r\n\r\n")
    if not sep:
        if raw.startswith(b"\r\n"):        # no header fields at all: default type (RFC 2046)
            out.parts.append(Part({}, raw[2:]))
            return
        out.problems.append("a body part has no blank line between its headers and its data")
        out.parts.append(Part({}, raw))
        return
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    out.parts.append(Part(headers, data))


def build(parts: Sequence[tuple[str, bytes]], media_type: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a multipart/related request with *parts* of (type, bytes)."""
    boundary = f"conformance-{uuid.uuid4().hex}"
    chunks = []
    for ctype, data in parts:
        chunks.append(f"--{boundary}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return f'multipart/related; type="{media_type}"; boundary={boundary}', body

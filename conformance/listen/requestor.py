"""The harness as association requestor inside a listen session: C-STORE sub-operations of a
C-MOVE to the move destination (PS3.4 C.4.2.3.1), and the storage commitment N-EVENT-REPORT
on a new association (PS3.4 J.3.3). Association set-up and the exchange are
:mod:`conformance.wire.requestor` (shared with the services family)."""

from __future__ import annotations

import struct
from typing import Any

from conformance.wire.dimse import Command
from conformance.wire.requestor import RequestorAssociation


def request(wire: RequestorAssociation, context_id: int, fields: dict[int, Any], data: bytes | None,
            timeout: float) -> tuple[Command, bytes]:
    """Send one DIMSE request and wait (bounded) for its response: (command, data set bytes).
    Raises :class:`conformance.wire.association.WireError` (typed ``end``)."""
    return wire.exchange(context_id, fields, data, timeout)


def dataset_bytes(path: str) -> bytes | None:
    """The data set of a PS3.10 file written with a File Meta group length, without its
    preamble and meta information; ``None`` if the file does not have that layout."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[128:132] != b"DICM" or raw[132:136] != b"\x02\x00\x00\x00":
        return None
    group_length = struct.unpack_from("<I", raw, 140)[0]
    return raw[144 + group_length:]

"""The harness as association requestor inside a listen session: C-STORE sub-operations of a
C-MOVE to the move destination (PS3.4 C.4.2.3.1), and the storage commitment N-EVENT-REPORT
on a new association (PS3.4 J.3.3). Association set-up is :func:`conformance.services.wire.
open_association` (shared with the services family), and so is reading the response
(``WireAssociation.read_message``); this adds sending any DIMSE request.
"""

from __future__ import annotations

import struct

from conformance.listen import dimse
from conformance.listen.dimse import Command
from conformance.listen.pdu import p_data
from conformance.services.wire import WireAssociation, WireError


def request(wire: WireAssociation, context_id: int, fields: dict[int, object], data: bytes | None,
            timeout: float) -> tuple[Command, bytes]:
    """Send one DIMSE request and wait (bounded) for its response: (command, data set bytes)."""
    fields = dict(fields)
    fields[0x0800] = dimse.NO_DATA_SET if data is None else 0x0000
    out = p_data(context_id, dimse.encode_command(fields), True, wire.max_pdu)
    if data is not None:
        out += p_data(context_id, data, False, wire.max_pdu)
    try:
        wire.sock.sendall(out)
    except OSError as exc:
        wire._broken()
        raise WireError(f"could not send: {exc}") from None
    _cid, response, dataset = wire.read_message(timeout)
    return Command(response), dataset or b""


def dataset_bytes(path: str) -> bytes | None:
    """The data set of a PS3.10 file written with a File Meta group length, without its
    preamble and meta information; ``None`` if the file does not have that layout."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[128:132] != b"DICM" or raw[132:136] != b"\x02\x00\x00\x00":
        return None
    group_length = struct.unpack_from("<I", raw, 140)[0]
    return raw[144 + group_length:]

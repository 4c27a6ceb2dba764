"""The harness as association requestor inside a listen session: C-STORE sub-operations of a
C-MOVE to the move destination (PS3.4 C.4.2.3.1), and the storage commitment N-EVENT-REPORT
on a new association (PS3.4 J.3.3). Association set-up is :func:`conformance.services.wire.
open_association` (shared with the services family); this adds sending any DIMSE request
on it and reading the response.
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
    command, payload = bytearray(), bytearray()
    cmd: Command | None = None
    for _ in range(100000):
        kind, body = wire.read_pdu(timeout)
        if kind == 0x07:
            wire.is_established, wire.is_aborted = False, True
            raise WireError("the peer aborted the association")
        if kind != 0x04:
            raise WireError(f"unexpected PDU type 0x{kind:02X} while waiting for a response")
        pos = 0
        while pos + 6 <= len(body):
            length, _cid, header = struct.unpack_from(">IBB", body, pos)
            part = body[pos + 6:pos + 4 + length]
            pos += 4 + length
            if header & 0x01:
                command += part
                if header & 0x02:
                    cmd = dimse.parse(bytes(command))
                    if not cmd.has_data_set:
                        return cmd, b""
            else:
                payload += part
                if header & 0x02 and cmd is not None:
                    return cmd, bytes(payload)
    raise WireError("no complete response")


def dataset_bytes(path: str) -> bytes | None:
    """The data set of a PS3.10 file written with a File Meta group length, without its
    preamble and meta information; ``None`` if the file does not have that layout."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[128:132] != b"DICM" or raw[132:136] != b"\x02\x00\x00\x00":
        return None
    group_length = struct.unpack_from("<I", raw, 140)[0]
    return raw[144 + group_length:]

"""DIMSE messages over the synchronous upper layer: command sets and their data sets.

Command sets are group 0000 in Implicit VR Little Endian (PS3.7 6.3.1, E.1); their elements
are encoded from the small table below (PS3.7 Table E.1-1). A message is a command set and,
when Command Data Set Type (0000,0800) is not 0x0101, one data set (PS3.7 6.3.1); both are
carried in P-DATA-TF fragments (PS3.8 9.3.5, Annex E).

Data sets of the services other than storage are decoded with pydicom (through pynetdicom's
``dsutils``); storage data sets are never decoded on the network thread: their fragments go
straight to the file (see :mod:`conformance.listen.storage`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from io import BytesIO
from typing import BinaryIO

from pydicom.dataset import Dataset
from pynetdicom.dsutils import decode, encode

from conformance.services.wire import parse_command

# Command Field values (PS3.7 Table E.1-1 and E.2-1)
C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_GET_RQ, C_GET_RSP = 0x0010, 0x8010
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
N_EVENT_REPORT_RQ, N_EVENT_REPORT_RSP = 0x0100, 0x8100
N_GET_RQ, N_SET_RQ, N_SET_RSP = 0x0110, 0x0120, 0x8120
N_ACTION_RQ, N_ACTION_RSP = 0x0130, 0x8130
N_CREATE_RQ, N_CREATE_RSP = 0x0140, 0x8140
N_DELETE_RQ = 0x0150
C_CANCEL_RQ = 0x0FFF
NO_DATA_SET = 0x0101

NAMES = {C_STORE_RQ: "C-STORE-RQ", C_GET_RQ: "C-GET-RQ", C_FIND_RQ: "C-FIND-RQ",
         C_MOVE_RQ: "C-MOVE-RQ", C_ECHO_RQ: "C-ECHO-RQ", N_EVENT_REPORT_RQ: "N-EVENT-REPORT-RQ",
         N_GET_RQ: "N-GET-RQ", N_SET_RQ: "N-SET-RQ", N_ACTION_RQ: "N-ACTION-RQ",
         N_CREATE_RQ: "N-CREATE-RQ", N_DELETE_RQ: "N-DELETE-RQ", C_CANCEL_RQ: "C-CANCEL-RQ"}

#: Element number -> VR of the command elements the harness writes (PS3.7 Table E.1-1).
_VR = {0x0002: "UI", 0x0003: "UI", 0x0100: "US", 0x0110: "US", 0x0120: "US", 0x0600: "AE",
       0x0700: "US", 0x0800: "US", 0x0900: "US", 0x0902: "LO", 0x1000: "UI", 0x1001: "UI",
       0x1002: "US", 0x1008: "US", 0x1020: "US", 0x1021: "US", 0x1022: "US", 0x1023: "US",
       0x1030: "AE", 0x1031: "US"}

IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
#: Transfer syntaxes in which the harness decodes and encodes non-storage data sets.
DATASET_SYNTAXES = (EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE)


def encode_command(fields: dict[int, object]) -> bytes:
    """Command set from element number -> value (str for UI/AE/LO, int for US)."""
    body = bytearray()
    for elem in sorted(fields):
        value = fields[elem]
        vr = _VR[elem]
        if vr == "US":
            raw = struct.pack("<H", int(value))  # type: ignore[call-overload]
        else:
            raw = str(value).encode("ascii", "replace")
            if len(raw) % 2:
                raw += b"\x00" if vr == "UI" else b" "
        body += struct.pack("<HHI", 0x0000, elem, len(raw)) + raw
    return struct.pack("<HHII", 0x0000, 0x0000, 4, len(body)) + bytes(body)


@dataclass
class Command:
    """A decoded command set with typed accessors."""

    fields: dict[int, bytes]

    def us(self, elem: int, default: int = 0) -> int:
        raw = self.fields.get(elem)
        return struct.unpack("<H", raw[:2])[0] if raw and len(raw) >= 2 else default

    def text(self, elem: int) -> str:
        return self.fields.get(elem, b"").decode("ascii", "replace").strip("\x00 ")

    @property
    def field(self) -> int:
        return self.us(0x0100)

    @property
    def message_id(self) -> int:
        return self.us(0x0110)

    @property
    def has_data_set(self) -> bool:
        return self.us(0x0800, NO_DATA_SET) != NO_DATA_SET

    @property
    def name(self) -> str:
        return NAMES.get(self.field, f"command 0x{self.field:04X}")


@dataclass
class Message:
    """A complete DIMSE message. ``data`` holds the data set bytes unless they were streamed
    to ``sink`` (storage)."""

    context_id: int
    command: Command
    data: bytes = b""
    sink: BinaryIO | None = None
    data_length: int = 0
    extra: dict = field(default_factory=dict)


def decode_data_set(raw: bytes, transfer_syntax: str) -> Dataset:
    """Data set bytes in *transfer_syntax* (one of :data:`DATASET_SYNTAXES`) -> Dataset."""
    implicit = transfer_syntax == IMPLICIT_LE
    little = transfer_syntax != EXPLICIT_BE
    return decode(BytesIO(raw), implicit, little, deflated=transfer_syntax == DEFLATED_LE)


def encode_data_set(ds: Dataset, transfer_syntax: str) -> bytes:
    implicit = transfer_syntax == IMPLICIT_LE
    little = transfer_syntax != EXPLICIT_BE
    raw = encode(ds, implicit, little, deflated=transfer_syntax == DEFLATED_LE)
    if raw is None:
        raise ValueError("the data set cannot be encoded")
    return raw


def parse(raw: bytes) -> Command:
    return Command(parse_command(raw))

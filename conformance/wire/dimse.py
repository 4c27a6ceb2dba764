"""DIMSE messages: command sets and their data sets (PS3.7 section 6.3, 9.3, 10.3, Annex E).

Command sets are group 0000 in Implicit VR Little Endian (PS3.7 6.3.1, E.1); the harness
encodes them from the small table below (PS3.7 Table E.1-1) and decodes any command set to
element number -> raw value, never raising (elements running past the end are reported in
``Command.problems``). A message is a command set and, when Command Data Set Type
(0000,0800) is not 0x0101, one data set (PS3.7 6.3.1); both travel in P-DATA-TF fragments
(:func:`conformance.wire.pdu.fragment`; reassembly with its limits is
:meth:`conformance.wire.association.Association.read_message`).

Data sets of non-storage services are decoded with pydicom (through pynetdicom's ``dsutils``);
storage data sets are never decoded on the network thread.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, BinaryIO

from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom.dsutils import decode, encode

# Command Field values (PS3.7 Table E.1-1 and E.2-1)
C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_GET_RQ, C_GET_RSP = 0x0010, 0x8010
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
N_EVENT_REPORT_RQ, N_EVENT_REPORT_RSP = 0x0100, 0x8100
N_GET_RQ, N_GET_RSP, N_SET_RQ, N_SET_RSP = 0x0110, 0x8110, 0x0120, 0x8120
N_ACTION_RQ, N_ACTION_RSP = 0x0130, 0x8130
N_CREATE_RQ, N_CREATE_RSP = 0x0140, 0x8140
N_DELETE_RQ, N_DELETE_RSP = 0x0150, 0x8150
C_CANCEL_RQ = 0x0FFF
NO_DATA_SET = 0x0101
#: Messages after whose command set no data set may follow (Command Data Set Type 0101H),
#: with the section that says so (PS3.7 9.3, 10.3).
NO_DATA_SET_MESSAGES = {C_ECHO_RQ: "PS3.7 9.3.5.1", C_ECHO_RSP: "PS3.7 9.3.5.2", C_STORE_RSP: "PS3.7 9.3.1.2",
                        C_CANCEL_RQ: "PS3.7 9.3.2.3", N_DELETE_RQ: "PS3.7 10.3.6.1",
                        N_DELETE_RSP: "PS3.7 10.3.6.2"}
#: Longest command set the harness accepts (a command set has a few dozen short elements).
MAX_COMMAND = 65536

_REQUESTS = {C_STORE_RQ: "C-STORE", C_GET_RQ: "C-GET", C_FIND_RQ: "C-FIND", C_MOVE_RQ: "C-MOVE",
             C_ECHO_RQ: "C-ECHO", N_EVENT_REPORT_RQ: "N-EVENT-REPORT", N_GET_RQ: "N-GET",
             N_SET_RQ: "N-SET", N_ACTION_RQ: "N-ACTION", N_CREATE_RQ: "N-CREATE", N_DELETE_RQ: "N-DELETE"}
NAMES = {**{f: f"{n}-RQ" for f, n in _REQUESTS.items()}, **{f | 0x8000: f"{n}-RSP" for f, n in _REQUESTS.items()},
         C_CANCEL_RQ: "C-CANCEL-RQ"}

#: Element number -> VR of the command elements the harness writes (PS3.7 Table E.1-1).
VR = {0x0002: "UI", 0x0003: "UI", 0x0100: "US", 0x0110: "US", 0x0120: "US", 0x0600: "AE",
      0x0700: "US", 0x0800: "US", 0x0900: "US", 0x0901: "AT", 0x0902: "LO", 0x0903: "US",
      0x1000: "UI", 0x1001: "UI", 0x1002: "US", 0x1005: "AT", 0x1008: "US", 0x1020: "US",
      0x1021: "US", 0x1022: "US", 0x1023: "US", 0x1030: "AE", 0x1031: "US"}

IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
#: Transfer syntaxes in which the harness decodes and encodes non-storage data sets.
DATASET_SYNTAXES = (EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED_LE)


def _value(vr: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        raw = value
    elif vr == "US":
        return struct.pack("<H", int(value))
    elif vr == "AT":
        values = value if isinstance(value, (list, tuple)) else [value]
        return b"".join(struct.pack("<HH", int(v) >> 16, int(v) & 0xFFFF) for v in values)
    else:
        raw = str(value).encode("ascii", "replace")
    if len(raw) % 2:
        raw += b"\x00" if vr == "UI" else b" "
    return raw


def encode_command(fields: dict[int, Any]) -> bytes:
    """Command set from element number -> value (str for UI/AE/LO, int for US, or already
    encoded bytes), with its Command Group Length (0000,0000) (PS3.7 E.1)."""
    body = b"".join(struct.pack("<HHI", 0x0000, elem, len(raw)) + raw
                    for elem, raw in ((e, _value(VR.get(e, "UN"), fields[e])) for e in sorted(fields)))
    return struct.pack("<HHII", 0x0000, 0x0000, 4, len(body)) + body


def parse_command(raw: bytes, problems: list[str] | None = None) -> dict[int, bytes]:
    """Element number -> value of a command set (group 0000, Implicit VR LE). Never raises:
    an element of another group or one running past the end is noted in *problems*."""
    out: dict[int, bytes] = {}
    pos, end = 0, len(raw)
    while pos + 8 <= end:
        group, elem, length = struct.unpack_from("<HHI", raw, pos)
        pos += 8
        if problems is not None:
            if group != 0x0000:
                problems.append(f"command set: element ({group:04X},{elem:04X}) is not in group 0000 (PS3.7 E.1)")
            if pos + length > end:
                problems.append(f"command set: element (0000,{elem:04X}) of length {length} runs past the end")
        out[elem] = raw[pos:pos + length]
        pos += length
    if problems is not None and pos != end:
        problems.append(f"command set: {end - pos} trailing byte(s)")
    return out


@dataclass
class Command:
    """A decoded command set with typed accessors."""

    fields: dict[int, bytes]
    problems: list[str] = field(default_factory=list)

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
    def responding_to(self) -> int:
        return self.us(0x0120)

    @property
    def status(self) -> int:
        return self.us(0x0900, 0xFFFF)

    @property
    def has_data_set(self) -> bool:
        return self.us(0x0800, NO_DATA_SET) != NO_DATA_SET

    @property
    def is_request(self) -> bool:
        return not self.field & 0x8000

    @property
    def name(self) -> str:
        return NAMES.get(self.field, f"command 0x{self.field:04X}")


def parse(raw: bytes) -> Command:
    problems: list[str] = []
    return Command(parse_command(raw, problems), problems)


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
    """Data set bytes in *transfer_syntax* -> Dataset (PS3.5 section 10: the encapsulated
    syntaxes encode their data set in Explicit VR Little Endian, as does a private one here)."""
    syntax = UID(transfer_syntax)
    try:
        implicit, little, deflated = syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_deflated
    except ValueError:
        implicit, little, deflated = False, True, False
    with warnings.catch_warnings():         # what the device sent is judged by the checks, not printed
        warnings.simplefilter("ignore")
        return decode(BytesIO(raw), implicit, little, deflated=deflated)


def encode_data_set(ds: Dataset, transfer_syntax: str) -> bytes:
    implicit = transfer_syntax == IMPLICIT_LE
    little = transfer_syntax != EXPLICIT_BE
    raw = encode(ds, implicit, little, deflated=transfer_syntax == DEFLATED_LE)
    if raw is None:
        raise ValueError("the data set cannot be encoded")
    return raw

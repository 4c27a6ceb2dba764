"""Reading a file for validation without loading pixel data (PS3.10 7, PS3.5 7.5, A.4).

The data set is parsed by pydicom up to (not including) Pixel Data; the Pixel Data element
header is then read by hand and, for encapsulated data, its item headers are walked with
seeks, so that a multi-gigabyte file is checked with a few kilobytes of memory.  Corrupt,
truncated and non-DICOM input becomes a finding, never an exception.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from conformance.findings import Finding, Severity
from conformance.iod.elements import interned

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
TRANSFER_SYNTAX_UID = 0x00020010
#: Values larger than this are not read (their length is still checked): a 500 MB private
#: blob or overlay must not cost 500 MB of memory.
DEFER_SIZE = 2**20


@dataclass
class PixelHeader:
    """What the Pixel Data element header says: tag, VR, length (None = undefined)."""

    tag: int
    vr: str | None
    length: int | None
    fragments: int = 0
    offset_table: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ReadResult:
    dataset: Dataset | None
    meta: FileMetaDataset | None
    has_preamble: bool
    pixel: PixelHeader | None
    findings: list[Finding]
    not_dicom: bool = False
    #: Deepest sequence nesting of the data set (from the byte scan).
    depth: int = 0


def _f(code: str, message: str, source: str, ref: str = "PS3.10 7.1",
       severity: Severity = Severity.ERROR) -> Finding:
    return Finding(code, severity, message, reference=ref, source=source)


def transfer_syntax_of(meta: Dataset | None) -> Any:
    """``meta.get("TransferSyntaxUID")`` (pydicom converts the element the same way) without
    the keyword lookup: None without File Meta Information or without the element."""
    if meta is None:
        return None
    tag = interned(TRANSFER_SYNTAX_UID)
    return meta[tag].value if tag in meta._dict else None


def damaged_prefix(head: bytes) -> bool:
    """A 128-byte preamble followed by File Meta Information, but no "DICM" (PS3.10 7.1)."""
    return len(head) >= 140 and head[128:132] != b"DICM" and head[132:134] == b"\x02\x00" \
        and head[134] < 0x10 and head[136:138].isalpha() and head[136:138].isupper()


class _DicmPrefix(io.RawIOBase):
    """A file whose bytes 128-131 read as "DICM", so that pydicom reads a file with a
    damaged prefix (the damage itself is a finding)."""

    def __init__(self, fp: BinaryIO) -> None:
        self.fp = fp

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fp.seek(offset, whence)

    def tell(self) -> int:
        return self.fp.tell()

    def readinto(self, buf: Any) -> int:
        at = self.fp.tell()
        data = self.fp.read(len(buf))
        if at < 132 and at + len(data) > 128:
            fixed = bytearray(data)
            for i in range(max(at, 128), min(at + len(data), 132)):
                fixed[i - at] = b"DICM"[i - 128]
            data = bytes(fixed)
        buf[:len(data)] = data
        return len(data)


def looks_like_dicom(head: bytes) -> tuple[bool, bool]:
    """(is DICOM, has preamble) from the first 132+ bytes of a file."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True, True
    if damaged_prefix(head):
        return True, True
    if len(head) >= 8:
        group, elem = struct.unpack("<HH", head[:4])
        if group in (0x0002, 0x0008) and elem < 0x0100:
            return True, False
    return False, False


def skip_reason(path: str | os.PathLike[str]) -> str:
    """Why :func:`looks_like_dicom` does not take the file at *path* for DICOM (PS3.10 7.1:
    a 128-byte preamble then "DICM"; or, without them, a data set starting with a File Meta
    or group 0008 element)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    if not head:
        return "empty file"
    if len(head) < 8:
        return f"{len(head)} byte(s): too short for a DICOM data element"
    shown = head[128:132] if len(head) >= 132 else b""
    return ("no \"DICM\" prefix at byte 128" + (f" (found {shown!r})" if shown else
                                                " (file shorter than 132 bytes)")
            + f" and no group 0002/0008 element at byte 0 (found {head[:4].hex(' ')})")


def _read_pixel_header(fp: BinaryIO, little: bool, implicit: bool, size: int) -> PixelHeader | None:
    start = fp.tell()
    head = fp.read(8)
    if len(head) < 8:
        return None
    e = "<" if little else ">"
    group, elem = struct.unpack(e + "HH", head[:4])
    tag = (group << 16) | elem
    if tag not in PIXEL_TAGS:
        return None
    vr: str | None
    if implicit:
        vr, length = None, struct.unpack(e + "L", head[4:8])[0]
    else:
        vr = head[4:6].decode("latin-1")
        if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ", "UT", "UC", "UR", "SV", "UV"):
            more = fp.read(4)
            if len(more) < 4:
                return PixelHeader(tag, vr, 0, problems=[("file.truncated",
                                   "file ends inside the Pixel Data element header")])
            length = struct.unpack(e + "L", more)[0]
        else:
            length = struct.unpack(e + "H", head[6:8])[0]
    hdr = PixelHeader(tag, vr, None if length == 0xFFFFFFFF else length)
    if hdr.length is not None:
        if fp.tell() + hdr.length > size:
            hdr.problems.append(("file.truncated",
                                 f"Pixel Data declares {hdr.length} bytes but only "
                                 f"{size - fp.tell()} remain in the file"))
        return hdr
    # Encapsulated (PS3.5 A.4): items (FFFE,E000) then a sequence delimiter (FFFE,E0DD).
    first = True
    while True:
        item = fp.read(8)
        if len(item) < 8:
            hdr.problems.append(("pixel.encapsulation",
                                 "encapsulated Pixel Data has no sequence delimiter (truncated)"))
            break
        ig, ie, ilen = struct.unpack(e + "HHL", item)
        if (ig, ie) == (0xFFFE, 0xE0DD):
            break
        if (ig, ie) != (0xFFFE, 0xE000) or ilen == 0xFFFFFFFF:
            hdr.problems.append(("pixel.encapsulation",
                                 f"unexpected element ({ig:04X},{ie:04X}) inside encapsulated "
                                 "Pixel Data"))
            break
        if first:
            hdr.offset_table = True
            first = False
        else:
            hdr.fragments += 1
        if fp.tell() + ilen > size:
            hdr.problems.append(("file.truncated", "file ends inside a Pixel Data fragment"))
            break
        fp.seek(ilen, os.SEEK_CUR)
    if hdr.fragments == 0 and not hdr.problems:
        hdr.problems.append(("pixel.encapsulation",
                             "encapsulated Pixel Data has no fragment after the offset table"))
    del start
    return hdr


def _scan_encoding(fp: BinaryIO, preamble: bool, size: int, source: str,
                   findings: list[Finding]) -> int:
    """The byte-level checks of :mod:`conformance.iod.encoding`, as findings; returns the
    deepest sequence nesting (the reader's recursion is sized from it), or minus the number
    of elements when there are more than :data:`MAX_READ_ELEMENTS`."""
    from conformance.iod import encoding

    def report(code: str, message: str, ref: str, tag: str | None) -> None:
        findings.append(Finding(code, Severity.ERROR, message, reference=ref, tag=tag,
                                source=source))

    try:
        with _file_bytes(fp) as data:
            start, tsuid = encoding.scan_meta(fp, 132 if preamble else 0, report)
            ts = UID(tsuid) if tsuid else None
            if ts == pydicom.uid.DeflatedExplicitVRLittleEndian:
                return 0
            if ts is not None and ts.is_transfer_syntax:
                implicit, little = ts.is_implicit_VR, ts.is_little_endian
            else:  # no (known) transfer syntax: guess from the first element, as readers do
                fp.seek(start)
                head = fp.read(8)
                implicit = not (len(head) == 8 and encoding._looks_explicit(head))
                little = True
            stats: dict[str, int] = {}
            depth = encoding.scan(data, start, size, implicit, little, report, stats)
            if stats.get("elements", 0) > MAX_READ_ELEMENTS:
                return -stats["elements"]  # too many to build as pydicom objects
            return depth
    except (OSError, struct.error, ValueError) as exc:
        report("file.unreadable", f"encoding scan stopped: {exc}", "PS3.5 7", None)
        return 0
    finally:
        fp.seek(0)


@contextmanager
def _file_bytes(fp: BinaryIO) -> Iterator[bytes | mmap.mmap]:
    """The bytes of the file *fp*: those of an in-memory file (a file up to
    :data:`SCAN_IN_MEMORY`, read once by :func:`read_for_validation`), else a read-only map
    of the file (only the pages holding what is read are touched), closed afterwards."""
    if isinstance(fp, io.BytesIO):
        yield fp.getvalue()
        return
    mapped = mmap.mmap(getattr(fp, "fp", fp).fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield mapped
    finally:
        mapped.close()


#: Files up to this size are scanned from memory (one read); larger ones with seeks.
SCAN_IN_MEMORY = 256 * 2**10
#: Most data elements (all nesting levels) read with pydicom: each costs about a kilobyte
#: as a Python object, so this bounds a worker's memory whatever the file declares.
MAX_READ_ELEMENTS = 500_000
#: Deepest sequence nesting read with pydicom (its reader recurses per level); deeper data
#: sets are reported, not read, so that no legal but extreme file can crash a worker.
MAX_READ_DEPTH = 2000


def recursion_limit(depth: int) -> int:
    """A recursion limit that reads and walks *depth* nested sequences (a few frames each)."""
    return 1000 + 12 * depth


def _read_plain(fp: BinaryIO) -> Dataset | None:
    """A file the byte scan found clean, built straight from its bytes by
    :mod:`conformance.iod.raw_dataset` (the objects ``dcmread`` would build, without its
    per-element overhead), *fp* left where ``dcmread`` would leave it; ``None`` (and *fp* at
    the start) when it needs ``dcmread``."""
    from conformance.iod import raw_dataset

    try:
        with _file_bytes(fp) as buf:
            ds, end = raw_dataset.read_body(fp, buf, DEFER_SIZE)
    except raw_dataset.NotPlain:
        fp.seek(0)
        return None
    fp.seek(end)
    return ds


def read_for_validation(path: str | os.PathLike[str]) -> ReadResult:
    """Read *path* for validation; never raises for bad content (only for OS errors)."""
    source = str(path)
    with open(path, "rb") as fp:
        size = os.fstat(fp.fileno()).st_size
        if size <= SCAN_IN_MEMORY:
            # One read; the byte scan and the readers' many small reads then work in memory
            # (cheaper than the same reads through the file object).
            fp = io.BytesIO(fp.read())  # type: ignore[assignment]
        head = fp.read(256)
        is_dicom, preamble = looks_like_dicom(head)
        if not is_dicom:
            return ReadResult(None, None, False, None, [], not_dicom=True)
        fp.seek(0)
        findings: list[Finding] = []
        damaged = damaged_prefix(head)
        if damaged:
            findings.append(_f("file.damaged-prefix",
                               f"bytes 128-131 are {head[128:132]!r}, not the \"DICM\" prefix; "
                               "read as a PS3.10 file", source))
            fp = _DicmPrefix(fp)  # type: ignore[assignment]
            if size <= SCAN_IN_MEMORY:
                fp = io.BytesIO(fp.read())  # type: ignore[assignment]  # (prefix mended)
        if not preamble:
            findings.append(_f("file.no-preamble",
                               "no 128-byte preamble and DICM prefix (not a PS3.10 file)",
                               source, severity=Severity.WARNING))
        scanned = len(findings)
        depth = _scan_encoding(fp, preamble, size, source, findings)
        plain = preamble and not damaged and len(findings) == scanned
        if depth < 0:
            findings.append(_f("file.too-many-elements", f"{-depth} data elements; data sets "
                               f"with more than {MAX_READ_ELEMENTS} are not read for the IOD "
                               "checks (memory bound); the encoding checks above ran",
                               source, ref="PS3.5 7", severity=Severity.WARNING))
            return ReadResult(None, None, preamble, None, findings)
        if depth > MAX_READ_DEPTH:
            findings.append(_f("file.too-deep", f"sequences nested {depth} deep; data sets "
                               f"deeper than {MAX_READ_DEPTH} are not read for the IOD checks",
                               source, ref="PS3.5 7.5", severity=Severity.WARNING))
            return ReadResult(None, None, preamble, None, findings)
        limit = sys.getrecursionlimit()
        try:
            # pydicom's reader recurses a few frames per nesting level (PS3.5 7.5 sets no
            # depth limit): size the limit from the depth the scan measured.
            sys.setrecursionlimit(max(limit, recursion_limit(depth)))
            ds = _read_plain(fp) if plain else None
            if ds is None:
                ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not preamble,
                                     defer_size=DEFER_SIZE)
            meta = getattr(ds, "file_meta", None)
            tsuid = transfer_syntax_of(meta)
            if tsuid and str(tsuid) == pydicom.uid.DeflatedExplicitVRLittleEndian:
                # Deflated data sets are inflated in memory by pydicom anyway: read it whole.
                fp.seek(0)
                ds = pydicom.dcmread(fp, force=not preamble)
        except Exception as exc:  # pydicom raises many types for corrupt input
            findings.append(_f("file.unreadable", f"the data set cannot be parsed: {exc}",
                               source, ref="PS3.5 7"))
            return ReadResult(None, None, preamble, None, findings)
        finally:
            sys.setrecursionlimit(limit)
        pixel = None
        last = next(reversed(ds._dict.values()), None) if len(ds._dict) else None  # type: ignore[call-overload]  # noqa: E501
        if last is not None and isinstance(getattr(last, "value", None), bytes) and \
                last.length != 0xFFFFFFFF and len(last.value) < last.length:
            findings.append(_f("file.truncated",
                               f"file ends inside element ({last.tag >> 16:04X},"
                               f"{last.tag & 0xFFFF:04X}): {len(last.value)} of {last.length} "
                               "bytes present", source, ref="PS3.10 7"))
        tsuid = transfer_syntax_of(meta)
        deflated = bool(tsuid) and UID(str(tsuid)) == pydicom.uid.DeflatedExplicitVRLittleEndian
        if not deflated:
            try:
                implicit, little = ds.original_encoding
                at = fp.tell()
                pixel = _read_pixel_header(fp, little is not False, bool(implicit), size)
                end = at
                if last is not None and isinstance(last, RawDataElement) and \
                        last.length != 0xFFFFFFFF and last.value_tell:
                    end = last.value_tell + last.length
                if pixel is None and 0 < size - end < 12:
                    findings.append(_f("file.truncated",
                                       f"{size - end} trailing byte(s) are not a complete "
                                       "element header", source, ref="PS3.5 7.1"))
            except (OSError, struct.error) as exc:
                findings.append(_f("file.unreadable", f"Pixel Data header unreadable: {exc}",
                                   source, ref="PS3.5 7"))
        return ReadResult(ds, meta, preamble, pixel, findings, depth=depth)

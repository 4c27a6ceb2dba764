"""The encoding layer, scanned from the bytes (PS3.5 7, PS3.10 7.1), without pydicom.

pydicom's reader keeps the last of two equal tags, accepts any order, and trusts declared
lengths; what it builds can therefore look clean where the bytes are not.  :func:`scan` walks
the encoded data set once, iteratively (an explicit stack, so a legal 10,000-deep nest costs
no recursion), seeking past values instead of reading them, and reports:

* data elements not in ascending tag order, and duplicated tags, per data set or item
  (PS3.5 7.1);
* a defined-length sequence or item whose content does not end exactly where its length
  says, and values running past their container or the end of the file (PS3.5 7.5);
* File Meta Information elements whose explicit VR differs from the dictionary, and a File
  Meta Information Group Length that does not match (PS3.10 7.1);
* a data set whose first element is not encoded the way the transfer syntax says (explicit vs
  implicit VR, byte order; PS3.5 10);
* bytes after the last element of the data set that are not a complete element (PS3.5 7).

Bounded: at most :data:`MAX_ELEMENTS` headers are visited per file.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable
from typing import BinaryIO

from conformance.standard.iod_index import dictionary_entry

#: Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT",
                      "UV"})
VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN",
                 "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}) | LONG_VRS
MAX_ELEMENTS = 2_000_000
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD

#: The bytes scanned: ``bytes`` or a read-only ``mmap`` of the file.
Buffer = bytes | mmap.mmap
#: Pre-compiled header layouts, little and big endian: (group, element), 4- and 2-byte length.
_LE = (struct.Struct("<HH").unpack_from, struct.Struct("<L").unpack_from,
       struct.Struct("<H").unpack_from)
_BE = (struct.Struct(">HH").unpack_from, struct.Struct(">L").unpack_from,
       struct.Struct(">H").unpack_from)
#: The two VR bytes of every valid VR -> its text (saves a decode per element).
VR_TEXT = {v.encode("ascii"): v for v in VRS}
#: The two VR bytes of every valid VR -> (its text, whether its header has a 4-byte length).
_HEADERS = {b: (v, v in LONG_VRS) for b, v in VR_TEXT.items()}
_DELIMITERS = frozenset({ITEM, ITEM_END, SEQ_END})
#: Pixel Data, Float Pixel Data and Double Float Pixel Data: encapsulated when of undefined
#: length (PS3.5 A.4).
_PIXEL_DATA = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})

Report = Callable[[str, str, str, str | None], None]  # code, message, reference, tag


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def scan_meta(fp: BinaryIO, start: int, report: Report) -> tuple[int, str | None]:
    """Check the File Meta Information (explicit VR little endian, PS3.10 7.1) starting at
    *start*; returns the offset where the data set begins and the Transfer Syntax UID."""
    ts: str | None = None
    fp.seek(start)
    pos = start
    group_length: int | None = None
    body_start: int | None = None
    last = -1
    while True:
        head = fp.read(8)
        if len(head) < 8:
            break
        group, elem = struct.unpack("<HH", head[:4])
        if group != 0x0002:
            break
        tag = (group << 16) | elem
        vr = head[4:6].decode("latin-1", "replace")
        if vr in LONG_VRS:
            more = fp.read(4)
            if len(more) < 4:
                break
            length = struct.unpack("<L", more)[0]
            header = 12
        else:
            length = struct.unpack("<H", head[6:8])[0]
            header = 8
        if tag <= last:
            report("meta.tag-order", f"File Meta Information element {_tag(tag)} is not in "
                   "ascending order (or is repeated)", "PS3.10 7.1 / PS3.5 7.1", _tag(tag))
        last = tag
        entry = dictionary_entry(tag)
        if vr not in VRS:  # any element, known or not: the group is explicit VR (PS3.10 7.1)
            said = f" (the dictionary says {entry[0]})" if entry is not None else ""
            report("meta.vr", f"File Meta Information element {_tag(tag)} has VR bytes "
                   f"{bytes(head[4:6])!r}, not a VR{said}", "PS3.10 7.1 / PS3.5 7.1.2",
                   _tag(tag))
        elif entry is not None and vr not in entry[0].split(" or "):
            report("meta.vr", f"File Meta Information element {_tag(tag)} has VR {vr!r}; the "
                   f"dictionary says {entry[0]}", "PS3.10 7.1 (Table 7.1-1)", _tag(tag))
        if length == UNDEFINED:
            break
        if tag == 0x00020000 and length == 4:
            group_length = struct.unpack("<L", fp.read(4))[0]
            body_start = pos + header + 4
        elif tag == 0x00020010 and length < 256:
            ts = fp.read(length).decode("latin-1").rstrip("\x00 ")
        else:
            fp.seek(length, os.SEEK_CUR)
        pos += header + length
    if group_length is not None and body_start is not None and \
            body_start + group_length != pos:
        report("meta.group-length", f"File Meta Information Group Length is {group_length}; "
               f"the group has {pos - body_start} bytes", "PS3.10 7.1", "(0002,0000)")
    return pos, ts


def _looks_explicit(head: bytes) -> bool:
    return head[4:6].decode("latin-1", "replace") in VRS


def scan(buf: Buffer, start: int, size: int, implicit: bool, little: bool,
         report: Report, stats: dict[str, int] | None = None) -> int:
    """Walk the data set in *buf* (the file's bytes, or a read-only ``mmap`` of it: only the
    element headers are touched) from *start* to *size* (see the module docstring); returns
    the deepest sequence nesting seen; *stats* gets the number of element headers visited."""
    depth = 0
    size = min(size, len(buf))
    first = buf[start:start + 8]
    if len(first) == 8:
        g_le = struct.unpack("<H", first[:2])[0]
        g_be = struct.unpack(">H", first[:2])[0]
        if little and g_le > 0x00FF and g_be <= 0x00FF:
            report("encoding.transfer-syntax-mismatch", "the data set is big endian but the "
                   "transfer syntax is little endian", "PS3.5 10 / PS3.10 7.1", None)
            return depth
        if not little and g_be > 0x00FF and g_le <= 0x00FF:
            report("encoding.transfer-syntax-mismatch", "the data set is little endian but "
                   "the transfer syntax is big endian", "PS3.5 10 / PS3.10 7.1", None)
            return depth
        if implicit and _looks_explicit(first):
            report("encoding.transfer-syntax-mismatch", "the data set is explicit VR but the "
                   "transfer syntax is Implicit VR Little Endian", "PS3.5 10 / A.1", None)
            return depth
        if not implicit and not _looks_explicit(first):
            report("encoding.transfer-syntax-mismatch", "the data set is implicit VR but the "
                   "transfer syntax is explicit VR", "PS3.5 10 / A.2", None)
            return depth
    tag_s, long_s, short_s = (_LE if little else _BE)
    # Container frames: [end offset or None, last tag, kind ("ds", "item", "seq", "frag"),
    # implicit, path].  The inner loop walks one container with its frame in locals and
    # leaves it to enter or end another (the last tag seen is stored back on entering).
    stack: list[list] = [[size, -1, "ds", implicit, ""]]
    pos = start
    count = 0
    try:
        while stack:
            frame = stack[-1]
            end, last, kind, imp, where = frame
            limit = end if end is not None else size
            while True:
                if end is not None and pos >= end:
                    if pos > end:
                        report("encoding.length-mismatch", f"content of a defined-length "
                               f"{'item' if kind == 'item' else 'sequence'} ends {pos - end} "
                               "byte(s) after its declared length", "PS3.5 7.5", where or None)
                    stack.pop()
                    if kind == "ds":
                        return depth
                    break
                count += 1
                if count > MAX_ELEMENTS:
                    report("encoding.too-many-elements", f"more than {MAX_ELEMENTS} element "
                           "headers; the rest of the encoding was not scanned", "PS3.5 7", None)
                    return depth
                if pos + 8 > size:
                    if kind == "ds" and pos < size:
                        report("encoding.trailing-data", f"{size - pos} byte(s) after the last "
                               "element are not a complete element header", "PS3.5 7.1", None)
                    elif kind != "ds":
                        report("encoding.truncated", "the file ends inside a sequence or item",
                               "PS3.5 7.5", where or None)
                    return depth
                group, elem = tag_s(buf, pos)
                tag = (group << 16) | elem
                if group == 0xFFFE and tag in _DELIMITERS:
                    length = long_s(buf, pos + 4)[0]
                    pos += 8
                    if tag == ITEM:
                        if kind != "seq" and kind != "frag":
                            report("encoding.unexpected-item", "an Item outside a sequence",
                                   "PS3.5 7.5", where or None)
                            return depth
                        if kind == "frag" or length == 0:
                            if length == UNDEFINED or pos + length > size:
                                report("encoding.length-overrun", "a Pixel Data fragment runs "
                                       "past the end of the file", "PS3.5 A.4", where or None)
                                return depth
                            pos += length
                            continue
                        item_end = None if length == UNDEFINED else pos + length
                        if item_end is not None and end is not None and item_end > end:
                            report("encoding.length-overrun", "an Item runs past its sequence",
                                   "PS3.5 7.5", where or None)
                            return depth
                        frame[1] = last
                        stack.append([item_end, -1, "item", imp, where + "[]."])
                    elif tag == ITEM_END:
                        if kind != "item" or end is not None:
                            report("encoding.unexpected-delimiter", "an Item Delimitation Item "
                                   "outside an undefined-length Item", "PS3.5 7.5", where or None)
                            return depth
                        stack.pop()
                    else:
                        if (kind != "seq" and kind != "frag") or end is not None:
                            report("encoding.unexpected-delimiter", "a Sequence Delimitation "
                                   "Item outside an undefined-length sequence", "PS3.5 7.5",
                                   where or None)
                            return depth
                        stack.pop()
                    break
                if tag > last:
                    last = tag
                elif tag < last:
                    report("encoding.tag-order", f"element {_tag(tag)} follows {_tag(last)}: "
                           "data elements shall be in ascending tag order", "PS3.5 7.1",
                           where + _tag(tag))
                else:
                    report("encoding.duplicate-tag", f"element {_tag(tag)} appears twice in the "
                           "same data set", "PS3.5 7.1", where + _tag(tag))
                if imp:
                    length = long_s(buf, pos + 4)[0]
                    entry = dictionary_entry(tag)
                    vr = entry[0] if entry else "UN"
                    pos += 8
                else:
                    vr_bytes = buf[pos + 4:pos + 6]
                    header = _HEADERS.get(vr_bytes)
                    if header is None:
                        report("encoding.bad-vr", f"element {_tag(tag)} has VR bytes "
                               f"{bytes(vr_bytes)!r}, not a VR", "PS3.5 7.1.2", where + _tag(tag))
                        return depth
                    vr, long = header
                    if long:
                        if pos + 12 > size:
                            report("encoding.truncated", "the file ends inside an element header",
                                   "PS3.5 7.1", where + _tag(tag))
                            return depth
                        length = long_s(buf, pos + 8)[0]
                        pos += 12
                    else:
                        length = short_s(buf, pos + 6)[0]
                        pos += 8
                if length == UNDEFINED:
                    if tag in _PIXEL_DATA:
                        # Encapsulated (PS3.5 A.4): fragments follow as Items.
                        frame[1] = last
                        stack.append([None, -1, "frag", imp, where + _tag(tag)])
                        break
                    if vr != "SQ" and vr != "UN" and not imp:
                        report("encoding.undefined-length", f"element {_tag(tag)} ({vr}) has "
                               "an undefined length", "PS3.5 7.1.1", where + _tag(tag))
                        return depth
                if vr == "SQ" or length == UNDEFINED:
                    # UN with undefined length holds implicit VR little endian items (PS3.5
                    # 6.2.2).
                    seq_end = None if length == UNDEFINED else pos + length
                    if seq_end is not None and seq_end > limit:
                        report("encoding.length-overrun", f"sequence {_tag(tag)} runs past its "
                               "container or the end of the file", "PS3.5 7.5",
                               where + _tag(tag))
                        return depth
                    frame[1] = last
                    stack.append([seq_end, -1, "seq", imp or vr == "UN", where + _tag(tag)])
                    depth = max(depth, len(stack) // 2)
                    break
                if pos + length > limit:
                    report("encoding.length-overrun", f"element {_tag(tag)} declares {length} "
                           f"bytes; only {max(limit - pos, 0)} remain in its container",
                           "PS3.5 7.1", where + _tag(tag))
                    return depth
                pos += length
        return depth
    finally:
        if stats is not None:
            stats["elements"] = count

"""Build pydicom data sets straight from bytes the encoding scan found clean (PS3.5 7.1, 7.5).

``pydicom.dcmread`` builds each data set through a generator and ``Dataset.__init__`` (a dozen
``__setattr__`` calls per data set and per sequence item).  For a file whose encoding
:func:`conformance.iod.encoding.scan` has just walked without a finding, :func:`read_body`
builds the same objects directly: the same ``RawDataElement`` for each element (tag, VR,
length, value, value offset, encoding flags), the same ``Sequence`` of ``Dataset`` items for
each undefined-length sequence (parsed at once, as pydicom does; defined-length sequences stay
raw bytes that pydicom parses on first access), the same original encoding and character set
on each data set, the same stop before Pixel Data and the same deferral of large top-level
values; and the File Meta Information as pydicom's ``_read_file_meta_info`` builds it.

The values of defined-length sequences, which pydicom parses on first access, are parsed by
the same reader in validation workers (:func:`convert_sequence`, pydicom's SQ converter
there).

Anything outside that plain case (no or unknown transfer syntax, deflate, command set
elements, no data set, an undefined-length element that is not a sequence, a header that does
not parse) raises :class:`NotPlain` and the caller reads the file with ``dcmread`` instead;
``tests/iod/test_raw_dataset.py`` checks that both give equal trees on every test file.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import MutableSequence
from typing import Any, BinaryIO

from pydicom import values
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import (DataElement, RawDataElement, convert_raw_data_element,
                              empty_value_for_VR)
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.fileutil import path_from_pathlike
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian
from pydicom.valuerep import VR
from pydicom.values import convert_SQ, convert_string

from conformance.iod.elements import INTERNED_TAGS, interned
# The byte scan's constants: pydicom's 4-byte-length VRs are the same 13 (PS3.5 7.1.2);
# VR_TEXT decodes the VRs pydicom knows (pydicom decodes with "iso8859", a slow codec lookup).
from conformance.iod.encoding import (ITEM, ITEM_END, LONG_VRS, SEQ_END, UNDEFINED, VR_TEXT,
                                      Buffer)
# The tags pydicom's ``stop_before_pixels`` stops at (top level only).
from conformance.iod.reading import PIXEL_TAGS, transfer_syntax_of

CHARSET = 0x00080005
GROUP_LENGTH = 0x00020000
#: Where the File Meta Information starts: after the preamble and "DICM" (PS3.10 7.1).
META_START = 132


class NotPlain(Exception):
    """The bytes need pydicom's tolerant reader (see the module docstring)."""


#: Per class: the attributes of a fresh instance, and those of them that are mutable (other
#: than ``_dict``), which each data set gets a copy of.
_LAYOUTS: dict[type[Dataset], tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}
_new = object.__new__


def _layout(cls: type[Dataset]) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    """The attributes of a fresh *cls* (``Dataset``, ``FileMetaDataset`` or ``FileDataset``,
    whose per-file attributes :func:`_file_dataset` sets) and the mutable ones among them."""
    found = _LAYOUTS.get(cls)
    if found is None:
        fresh = cls(io.BytesIO(), {}) if cls is FileDataset else cls()  # type: ignore[call-arg]
        template = dict(fresh.__dict__)
        found = _LAYOUTS[cls] = (template, tuple(
            (k, v) for k, v in template.items()
            if isinstance(v, (dict, list, set)) and k != "_dict"))
    return found


def _dataset(elements: dict[BaseTag, Any], parent_encoding: str | MutableSequence[str],
             cls: type[Dataset] = Dataset) -> Any:
    """``cls(elements, parent_encoding=...)`` without its ``__setattr__`` calls: the
    attributes a fresh *cls* has, in its order, with fresh copies of the mutable ones."""
    layout = _layout(cls)
    ds = _new(cls)
    d = ds.__dict__
    d.update(layout[0])
    for key, value in layout[1]:
        d[key] = value.copy()
    d["_dict"] = elements
    d["_parent_encoding"] = parent_encoding
    return ds


#: ``RawDataElement(tag, VR, length, value, value_tell, is_implicit_VR, is_little_endian)``
#: as the tuple it is, without the named tuple's Python-level ``__new__`` (one call per
#: element read); only while its fields are the nine of pydicom 3.0.
_RAW_FIELDS = ("tag", "VR", "length", "value", "value_tell", "is_implicit_VR",
               "is_little_endian", "is_raw", "is_buffered")
_FAST_RAW = RawDataElement._fields == _RAW_FIELDS and \
    RawDataElement._field_defaults == {"is_raw": True, "is_buffered": False}
_tuple_new = tuple.__new__


class _Reader:
    def __init__(self, buf: Buffer, little: bool, defer_size: int) -> None:
        self.buf = buf
        self.little = little
        e = "<" if little else ">"
        self.tag_s = struct.Struct(e + "HH").unpack_from
        self.long_s = struct.Struct(e + "L").unpack_from
        self.short_s = struct.Struct(e + "H").unpack_from
        self.defer_size = defer_size

    def implicit_at(self, pos: int, assumed: bool, in_sequence: bool) -> bool:
        """pydicom's ``_is_implicit_vr`` on the data set starting at *pos*."""
        if in_sequence and assumed:
            return True
        vr = self.buf[pos + 4:pos + 6]
        if len(vr) < 2:
            return assumed
        found = not (0x40 < vr[0] < 0x5B and 0x40 < vr[1] < 0x5B)
        if found != assumed:
            if found and in_sequence:
                return True
            raise NotPlain("the data set's first element contradicts the transfer syntax")
        return found

    def dataset(self, pos: int, end: int | None, implicit: bool,
                encoding: str | MutableSequence[str], top: bool, group_only: int | None = None
                ) -> tuple[dict[BaseTag, Any], int, bool]:
        """Elements of the data set at *pos* up to *end* (None: to an Item Delimitation Item,
        or, at the top, to the end of the buffer, Pixel Data or, with *group_only*, the first
        element of another group); returns them, the offset after the data set and the VR
        encoding used."""
        buf, tag_s, long_s, short_s = self.buf, self.tag_s, self.long_s, self.short_s
        little = self.little
        tags, fast_raw = INTERNED_TAGS, _FAST_RAW
        implicit = self.implicit_at(pos, implicit, not top)
        elements: dict[BaseTag, Any] = {}
        size = len(buf)
        stop = size if end is None else end
        while pos < stop:
            if pos + 8 > size:
                raise NotPlain("the data set ends inside an element header")
            group, elem = tag_s(buf, pos)
            tag = (group << 16) | elem
            if tag == ITEM_END:
                if top or end is not None:
                    raise NotPlain("an Item Delimitation Item where none belongs")
                return elements, pos + 8, implicit
            if top and (tag in PIXEL_TAGS or (group_only is not None and group != group_only)):
                return elements, pos, implicit
            vr: str | None
            if implicit:
                vr = None
                length = long_s(buf, pos + 4)[0]
                pos += 8
            else:
                vr = VR_TEXT.get(buf[pos + 4:pos + 6])  # pydicom: .decode(default_encoding)
                if vr is None:  # pydicom has its own ways with bytes that are not a VR
                    raise NotPlain("VR bytes that are not a VR")
                if vr in LONG_VRS:
                    length = long_s(buf, pos + 8)[0]
                    pos += 12
                else:
                    length = short_s(buf, pos + 6)[0]
                    pos += 8
            btag = tags.get(tag) or interned(tag)
            if length != UNDEFINED:
                if pos + length > size:
                    raise NotPlain("a value runs past the end of the data")
                if top and length > self.defer_size and tag != CHARSET:
                    value: Any = None
                elif length:
                    value = buf[pos:pos + length]
                else:
                    value = empty_value_for_VR(vr, raw=True)
                if tag == CHARSET:
                    encoding = convert_encodings(convert_string(value or b"", little))
                elements[btag] = _tuple_new(RawDataElement, (
                    btag, vr, length, value, pos, implicit, little, True, False)) if fast_raw \
                    else RawDataElement(btag, vr, length, value, pos, implicit, little)
                pos += length
                continue
            # Undefined length: only sequences are plain here (PS3.5 7.5.2, 6.2.2).
            if vr == "UN":
                vr = "SQ"  # pydicom's infer_sq_for_un_vr (default on)
            if vr is None:
                try:
                    vr = dictionary_VR(tag)
                except KeyError:
                    if pos + 4 <= size and tag_s(buf, pos) == (0xFFFE, 0xE000):
                        vr = "SQ"
            if vr != "SQ":
                raise NotPlain("an undefined-length element that is not a sequence")
            value_tell = pos
            seq, pos = self.sequence(pos, implicit, encoding)
            elements[btag] = DataElement(btag, vr, seq, value_tell, is_undefined_length=True)
        if end is not None and pos != end:
            raise NotPlain("a data set does not end at its declared length")
        if end is None and not top:
            raise NotPlain("an undefined-length item without its delimiter")
        return elements, pos, implicit

    def sequence(self, pos: int, implicit: bool, encoding: str | MutableSequence[str],
                 end: int | None = None, offset: int = 0) -> tuple[Sequence, int]:
        """A sequence's items, as pydicom's ``read_sequence``: an undefined-length sequence
        at *pos* (*end* None, up to its Sequence Delimitation Item) or the value of a
        defined-length one, from *pos* to *end*, whose items' positions pydicom counts from
        *offset* (the value's position in the file)."""
        buf, tag_s, long_s = self.buf, self.tag_s, self.long_s
        items = []
        size = len(buf) if end is None else end
        while end is None or pos < end:
            if pos + 8 > size:
                raise NotPlain("a sequence without its delimiter" if end is None
                               else "an Item header runs past the sequence's length")
            group, elem = tag_s(buf, pos)
            tag = (group << 16) | elem
            length = long_s(buf, pos + 4)[0]
            if tag == SEQ_END and end is None:
                pos += 8
                break
            if tag != ITEM:
                raise NotPlain("a sequence holds something other than Items")
            item_tell = pos + offset
            pos += 8
            item_end = None if length == UNDEFINED else pos + length
            elements, pos, item_implicit = self.dataset(pos, item_end, implicit, encoding,
                                                        False)
            ds = _dataset(elements, encoding)
            d = ds.__dict__
            item_encoding: str | MutableSequence[str]
            if CHARSET in elements:
                item_encoding = convert_encodings(
                    convert_raw_data_element(elements[BaseTag(CHARSET)]).value)
            else:
                item_encoding = encoding
            d["_read_implicit"], d["_read_little"] = item_implicit, self.little
            d["_read_charset"] = item_encoding
            d["is_undefined_length_sequence_item"] = item_end is None
            d["seq_item_tell"] = item_tell
            d["file_tell"] = item_tell
            items.append(ds)
        if end is not None and pos != end:
            raise NotPlain("an Item runs past the sequence's length")
        seq = Sequence(items)
        seq.is_undefined_length = end is None
        return seq, pos


def convert_sequence(byte_string: bytes, is_implicit_VR: bool, is_little_endian: bool,
                     encoding: list[str] | None = None, offset: int = 0) -> Sequence:
    """``pydicom.values.convert_SQ`` (same arguments, same result): the value of a
    defined-length sequence (PS3.5 7.5.1), which pydicom parses on first access, built by the
    direct reader; a value outside its plain case goes to pydicom's own converter, which
    reads (or rejects) it as before."""
    encodings = encoding or [default_encoding]
    try:
        reader = _Reader(byte_string, is_little_endian, UNDEFINED)
        return reader.sequence(0, is_implicit_VR, encodings, len(byte_string), offset)[0]
    except (NotPlain, struct.error, IndexError, ValueError, KeyError):
        pass
    return convert_SQ(byte_string, is_implicit_VR, is_little_endian, encoding, offset)


def use_direct_sequences() -> None:
    """Make :func:`convert_sequence` pydicom's converter of SQ values in this process (a
    validation worker: its files' defined-length sequences are all converted, one by one,
    by the checks)."""
    values.converters[VR.SQ] = convert_sequence


def _file_meta(buf: Buffer) -> tuple[FileMetaDataset, int]:
    """The File Meta Information (PS3.10 7.1: group 0002, explicit VR little endian, from
    byte 132) as pydicom's ``_read_file_meta_info`` builds it: raw elements up to the first
    element of another group, then its first element and its Group Length converted (that
    function reads them); and the offset after it."""
    reader = _Reader(buf, True, UNDEFINED)  # pydicom defers no value of the group
    elements, pos, _implicit = reader.dataset(META_START, None, False, default_encoding, True,
                                              group_only=2)
    meta: FileMetaDataset = _dataset(elements, default_encoding, FileMetaDataset)
    d = meta.__dict__  # meta.set_original_encoding(False, True, default_encoding)
    d["_read_implicit"], d["_read_little"], d["_read_charset"] = False, True, default_encoding
    try:
        for tag in list(elements)[:1] + [interned(GROUP_LENGTH)] * (GROUP_LENGTH in elements):
            raw = elements[tag]
            if type(raw) is RawDataElement and raw.VR != "SQ":
                # meta[tag] without its Dataset steps, none of which applies to an explicit
                # VR element of group 0002 that is not a sequence (a deferred value, a
                # private creator, an ambiguous VR)
                elements[tag] = convert_raw_data_element(raw, encoding=default_encoding,
                                                         ds=meta)
            else:
                meta[tag]
    except Exception as exc:  # noqa: BLE001 - dcmread retries or fails: its business
        raise NotPlain(f"a File Meta Information value does not convert: {exc}") from exc
    return meta, pos


def _file_dataset(fp: BinaryIO, elements: dict[BaseTag, Any], preamble: bytes,
                  meta: FileMetaDataset, implicit: bool, little: bool) -> FileDataset:
    """``FileDataset(fp, elements, preamble, meta, implicit, little)`` without its
    ``__setattr__`` calls: the attributes pydicom 3.0's ``FileDataset.__init__`` sets."""
    ds: FileDataset = _dataset(elements, default_encoding, FileDataset)
    d = ds.__dict__
    d["preamble"], d["file_meta"] = preamble, meta
    if "_is_implicit_VR" in d:  # (pydicom without its "future" API)
        d["_is_implicit_VR"], d["_is_little_endian"] = implicit, little
    d["_read_implicit"], d["_read_little"] = implicit, little
    obj: Any = path_from_pathlike(fp)  # type: ignore[arg-type]
    filename: Any = None
    buffer = None
    fileobj_type: Any
    if isinstance(obj, str):
        filename, fileobj_type = obj, open
    elif isinstance(obj, io.BufferedReader):
        filename, fileobj_type = obj.name, open
    else:
        buffer, fileobj_type = obj, type(obj)
        filename = getattr(obj, "name", None) or getattr(obj, "filename", None) or None
    d["fileobj_type"], d["filename"], d["buffer"] = fileobj_type, filename, buffer
    d["timestamp"] = os.stat(filename).st_mtime if filename and os.path.exists(filename) \
        else None
    return ds


def read_body(fp: BinaryIO, buf: Buffer, defer_size: int) -> tuple[FileDataset, int]:
    """The data set of the PS3.10 file *fp* (positioned at its start, preamble present) whose
    bytes are *buf*, as ``dcmread(fp, stop_before_pixels=True, defer_size=defer_size)`` reads
    it, and the offset where reading stopped (Pixel Data or the end); :class:`NotPlain` when
    only ``dcmread`` should read it; the steps of pydicom's ``read_partial``."""
    try:
        return _read_body(fp, buf, defer_size)
    except (struct.error, IndexError, ValueError, KeyError) as exc:  # a header that does not parse
        raise NotPlain(f"{type(exc).__name__}: {exc}") from exc


def _read_body(fp: BinaryIO, buf: Buffer, defer_size: int) -> tuple[FileDataset, int]:
    if buf[128:META_START] != b"DICM":
        raise NotPlain("no DICM prefix")
    preamble = bytes(buf[:128])
    meta, start = _file_meta(buf)
    tsuid = transfer_syntax_of(meta)
    if tsuid is None:
        raise NotPlain("no Transfer Syntax UID")
    if start >= len(buf) or buf[start:start + 2] == b"\0\0":
        raise NotPlain("no data set, or Command Set elements (group 0000) before it")
    ts = UID(str(tsuid))
    if not ts.is_transfer_syntax or ts == DeflatedExplicitVRLittleEndian:
        raise NotPlain("an unknown or deflated transfer syntax")
    implicit, little = ts.is_implicit_VR, ts.is_little_endian
    reader = _Reader(buf, little, defer_size)
    elements, end, _implicit = reader.dataset(start, None, implicit, default_encoding, True)
    ds = _file_dataset(fp, elements, preamble, meta, implicit, little)
    # as read_partial does (``ds._character_set``: the parent encoding without the element)
    charset = ds._character_set if CHARSET in elements else ds._parent_encoding
    ds.set_original_encoding(implicit, little, charset)
    return ds, end

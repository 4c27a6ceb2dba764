"""Element-level checks over every element, recursively in sequences (PS3.5 6, 7).

VR value format, VM against the dictionary, odd value lengths (PS3.5 7.1.1), explicit VR
that disagrees with the dictionary (PS3.5 7.1.2), character sets (see :mod:`.charset`) and
private creators (PS3.5 7.8.1).  Works on pydicom's *raw* elements, i.e. on the bytes as
encoded, so that what is checked is what was sent.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from conformance.findings import Severity
from conformance.iod import charset
from conformance.iod import vr as vrs
from conformance.standard.iod_index import dictionary_entry

_UNPACK = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d", "SV": "q",
           "UV": "Q"}
PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


#: One ``BaseTag`` per tag number (read by :func:`interned`; the direct reader reads it itself
#: first, one call less per element), shared by the data sets the direct reader builds
#: (:mod:`.raw_dataset`) and the lookups of the checks.  A dict lookup whose key *is* the
#: stored key needs no comparison; any other hit calls ``BaseTag.__eq__``, Python code in
#: pydicom's ``int`` subclass.  Keyed by plain ``int`` (a ``BaseTag`` key would itself call
#: ``__eq__``); bounded, so that files full of distinct private tags cannot grow it.
INTERNED_TAGS: dict[int, BaseTag] = {}
_MAX_TAGS = 65_536


def interned(tag: int) -> BaseTag:
    """The shared ``BaseTag`` of the plain ``int`` *tag* (a fresh one once the table is full)."""
    found = INTERNED_TAGS.get(tag)
    if found is None:
        found = BaseTag(tag)
        if len(INTERNED_TAGS) < _MAX_TAGS:
            INTERNED_TAGS[tag] = found
    return found


@lru_cache(maxsize=8192)
def tag_str(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


#: to_raw of elements with a single immutable value (Specific Character Set, which pydicom
#: converts while reading; Pixel Representation, which it converts on first access to a
#: sequence): the same few values in every file, each encoded once per process.
_RAW_MEMO: dict[tuple[Any, ...], Any] = {}
_RAW_MEMO_ENTRIES = 4096


def to_raw(elem: Any, implicit: bool, little: bool, encodings: list[str] | None) -> Any:
    """Encode one in-memory element and read it back raw, so it is checked as sent."""
    value = elem.value
    if type(value) in (str, int, float, bytes):  # (subclasses: pydicom's own value types)
        key = (elem.tag, elem.VR, type(value), value, implicit, little,
               tuple(encodings) if encodings else None)
        found = _RAW_MEMO.get(key)
        if found is None:
            if len(_RAW_MEMO) >= _RAW_MEMO_ENTRIES:
                _RAW_MEMO.clear()
            found = _RAW_MEMO[key] = _to_raw(elem, implicit, little, encodings)
        return found
    return _to_raw(elem, implicit, little, encodings)


def _to_raw(elem: Any, implicit: bool, little: bool, encodings: list[str] | None) -> Any:
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import data_element_generator
    from pydicom.filewriter import write_data_element

    buf = DicomBytesIO()
    buf.is_little_endian = little
    buf.is_implicit_VR = implicit
    write_data_element(buf, elem, encodings or ["iso8859"])
    buf.seek(0)
    return next(iter(data_element_generator(buf, implicit, little)))  # type: ignore[arg-type]


def element_vr(elem: Any) -> str:
    """The element's VR: explicit from the file, else the dictionary's (first choice)."""
    vr = elem.VR
    if vr and (vr != "UN" or (elem.tag >> 16) & 1):
        return str(vr)
    # Implicit VR, or a standard attribute encoded as UN: read it with the dictionary VR
    # (PS3.5 6.2.2; the UN itself is reported by the element walk).
    entry = dictionary_entry(elem.tag)
    if entry is None:
        return "UN"
    return entry[0].split(" or ")[0]


#: String values up to this many bytes have their check results remembered per process:
#: archives repeat most values (UIDs of a series, codes, dates, names); the bound keeps the
#: memo small.
_MEMO_VALUE_SIZE = 128
_MEMO_ENTRIES = 50_000
#: values_of of small raw values, per (tag, VR, length, bytes, little endian): conditions
#: and rules ask for the same few attributes (Modality, Image Type, ...) in every file.
_VALUES_MEMO: dict[tuple[int, Any, int, bytes, bool], tuple[str, ...]] = {}


def values_of(ds: Dataset, tag: int) -> list[str] | None:
    """The values of *tag* in *ds* as strings (None when absent, [] when empty)."""
    elem = ds._dict.get(INTERNED_TAGS.get(tag, tag) if type(tag) is int else tag)  # type: ignore[call-overload]
    if elem is None:
        return None
    if type(elem) is RawDataElement and type(elem.value) is bytes \
            and len(elem.value) <= _MEMO_VALUE_SIZE:
        key = (int(tag), elem.VR, elem.length, elem.value, elem.is_little_endian)
        found = _VALUES_MEMO.get(key)
        if found is None:
            if len(_VALUES_MEMO) >= _MEMO_ENTRIES:
                _VALUES_MEMO.clear()
            found = _VALUES_MEMO[key] = tuple(_values(elem))
        return list(found)
    return _values(elem)


def sequence_items(ds: Dataset, tag: int) -> list[Dataset] | None:
    """The Items of sequence *tag* of *ds*; None when it is absent or cannot be decoded
    (the element walk reports that)."""
    if tag not in ds._dict:
        return None
    try:
        seq = ds[tag].value
    except Exception:  # noqa: BLE001 - reported by the element walk
        return None
    return [i for i in (seq or []) if isinstance(i, Dataset)]


def _values(elem: Any) -> list[str]:
    vr = element_vr(elem)
    value = elem.value
    if not isinstance(elem, RawDataElement):
        if value is None or value == "" or value == b"":
            return []
        if vr == "SQ":
            return ["<item>"] * len(value)
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            return [str(v) for v in value]
        if isinstance(value, bytes):
            return [value.decode("latin-1")] if vr not in _UNPACK else []
        return [str(value)]
    if vr == "SQ":
        return ["<item>"] if elem.length else []
    if value is None and elem.length:
        return ["<not loaded>"]  # deferred (Pixel Data)
    if not value:
        return []
    if isinstance(value, bytes):
        if vr in _UNPACK:
            fmt = _UNPACK[vr]
            size = struct.calcsize("<" + fmt)  # standard sizes: native "L" is 8 bytes
            if len(value) % size:
                return []
            e = "<" if elem.is_little_endian else ">"
            return [str(v) for v in struct.unpack(f"{e}{len(value) // size}{fmt}", value)]
        if vr in vrs.STRING_VRS:
            return vrs.split_values(vr, value)
        if vr == "AT" and len(value) % 4 == 0:  # pairs of group, element (PS3.5 6.2)
            e = "<" if elem.is_little_endian else ">"
            pairs = struct.unpack(f"{e}{len(value) // 2}H", value)
            return [f"({g:04X},{n:04X})" for g, n in zip(pairs[::2], pairs[1::2])]
        return ["<binary>"]
    return [str(value)]


#: Elements whose values fit the memo (see :meth:`ElementChecker._element`): their findings
#: (code, severity, message, reference), or :data:`_SEQUENCE` (walked every time).
_ELEMENT_MEMO: dict[tuple[int, Any, int, bytes, Any], Any] = {}
_SEQUENCE = ("sequence",)
_STRING_MEMO: dict[tuple[str, str | None, bytes, tuple[Any, bool]],
                   tuple[tuple[str, str, str], ...]] = {}


def _string_problems(vr: str, vm: str | None, value: bytes, encodings: list[str] | None,
                     declared: bool) -> tuple[tuple[str, str, str], ...]:
    """(code, message, reference) of every problem of one encoded string value: character
    repertoire (PS3.5 6.1), padding (PS3.5 6.2, 9.1), each value's VR grammar (PS3.5 6.2)
    and the number of values against the dictionary VM *vm* (PS3.5 6.4)."""
    out: list[tuple[str, str, str]] = []
    if vr in vrs.TEXT_VRS:
        problem = charset.check_text(value, encodings, declared)
        if problem:
            out.append((problem[0], problem[1], "PS3.5 6.1"))
    elif not value.isascii():
        out.append(("vr.invalid-character",
                    f"{vr} value has bytes outside the default repertoire", "PS3.5 6.1.2.2"))
    if vr != "UI" and value.endswith(b"\x00"):
        out.append(("vr.nul-padding", f"{vr} value is padded with NUL instead of a space",
                    "PS3.5 6.2"))
    if vr == "UI" and value.endswith(b" "):
        out.append(("vr.invalid-padding", "UI value is padded with a space instead of NUL",
                    "PS3.5 9.1"))
    values = vrs.split_values(vr, value)
    for v in values:
        if v == "" and vr != "PN":
            continue
        for code, msg in vrs.check_string_value(vr, v):
            out.append((code, msg, "PS3.5 6.2"))
    if vm and values:
        problem = vrs.check_vm(vm, len(values))
        if problem:
            out.append((problem[0], problem[1], "PS3.5 6.4"))
    return tuple(out)


class ElementChecker:
    """Walks a data set once and reports element-level findings."""

    def __init__(self, add: Callable[..., None], implicit: bool = False,
                 little: bool = True, private: Iterable[Any] = ()) -> None:
        self.add = add
        self.implicit = implicit
        self.little = little
        #: (creator, group, element within block) -> declared attribute (a statement's
        #: ``PrivateAttribute``: creator, group, element, vr, vm).
        self.private = {(p.creator.strip(), p.group, p.element & 0xFF): p for p in private}
        self.encodings: list[str] | None = ["iso8859"]
        self.declared = False
        #: What the text checks depend on besides the value (part of the memo key).
        self._charset_key: tuple[tuple[str, ...] | None, bool] = (("iso8859",), False)

    def start(self, ds: Dataset) -> None:
        terms = values_of(ds, 0x00080005)
        if terms is not None:
            # Specific Character Set may have an empty first value ("\ISO 2022 IR 87").
            raw = ds._dict[0x00080005]  # type: ignore[index]
            if isinstance(raw, RawDataElement) and raw.value:
                terms = [t.strip(" ") for t in raw.value.decode("latin-1").rstrip(" \x00")
                         .split("\\")]
            self.declared = bool(terms)
            encodings, problems = charset.check_terms(terms)
            self.encodings = encodings
            self._charset_key = (None if encodings is None else tuple(encodings),
                                 self.declared)
            for code, msg in problems:
                self.add(code, Severity.ERROR, msg, "PS3.3 C.12.1.1.2", tag_str(0x00080005))

    def walk(self, ds: Dataset, prefix: str = "") -> None:
        creators: set[tuple[int, int]] | None = None
        for key, elem in list(ds._dict.items()):
            tag = int(key)
            group = tag >> 16
            declared = None
            if group & 1 and group > 0x0008:
                if creators is None:
                    creators = {(t >> 16, t & 0xFF) for t in ds._dict
                                if (t >> 16) & 1 and 0x10 <= (t & 0xFFFF) <= 0xFF}
                self._private(elem, tag, prefix + tag_str(tag), creators)
                if self.private and (tag & 0xFFFF) > 0xFF:
                    declared = self._declared(ds, tag)
            self._element(ds, elem, tag, prefix, declared)

    def _declared(self, ds: Dataset, tag: int) -> Any:
        """The statement's declaration of private element *tag*, found via its creator."""
        group, block = tag >> 16, (tag & 0xFF00) >> 8
        creator = values_of(ds, (group << 16) | block)
        if not creator:
            return None
        return self.private.get((creator[0].strip(), group, tag & 0xFF))

    def _private(self, elem: Any, tag: int, path: str, creators: set[tuple[int, int]]) -> None:
        low = tag & 0xFFFF
        if 0x10 <= low <= 0xFF:
            if elem.VR and elem.VR not in ("LO", "UN"):
                self.add("private.creator-vr", Severity.ERROR,
                         f"private creator has VR {elem.VR}, not LO", "PS3.5 7.8.1", path)
        elif low > 0xFF and (tag >> 16, low >> 8) not in creators:
            self.add("private.no-creator", Severity.ERROR,
                     f"private element {tag_str(tag)} has no private creator "
                     f"({tag >> 16:04X},00{low >> 8:02X})", "PS3.5 7.8.1", path)
        elif 0x01 <= low <= 0x0F:
            self.add("private.reserved-element", Severity.ERROR,
                     f"element {tag_str(tag)} is in the reserved range (gggg,0001-000F)",
                     "PS3.5 7.8.1", path)

    def _element(self, ds: Dataset, elem: Any, tag: int, prefix: str,
                 declared: Any = None) -> None:
        """Check one element (its path: *prefix* and its tag); a small encoded value (not a
        sequence) of a standard attribute, or of a private one the statement does not
        declare, has its findings remembered per (tag, VR, length, bytes, character set):
        they depend on nothing else (a private element's creator is checked by
        :meth:`walk`, per data set)."""
        if declared is not None or type(elem) is not RawDataElement or tag in PIXEL_TAGS:
            self._element_checks(ds, elem, tag, prefix + tag_str(tag), declared)
            return
        value = elem.value
        if type(value) is not bytes or len(value) > _MEMO_VALUE_SIZE:
            self._element_checks(ds, elem, tag, prefix + tag_str(tag), declared)
            return
        key = (tag, elem.VR, elem.length, value, self._charset_key)
        found = _ELEMENT_MEMO.get(key)
        if found is None:
            if element_vr(elem) == "SQ":
                found = _ELEMENT_MEMO[key] = _SEQUENCE
            else:
                record: list[tuple[str, Severity, str, str]] = []
                add = self.add
                self.add = lambda code, severity, message, ref, _path: record.append(
                    (code, severity, message, ref))
                try:
                    self._element_checks(ds, elem, tag, "", declared)  # (path not recorded)
                finally:
                    self.add = add
                if len(_ELEMENT_MEMO) >= _MEMO_ENTRIES:
                    _ELEMENT_MEMO.clear()
                found = _ELEMENT_MEMO[key] = tuple(record)
        if found is _SEQUENCE:
            self._element_checks(ds, elem, tag, prefix + tag_str(tag), declared)
            return
        if found:
            path = prefix + tag_str(tag)
            for code, severity, message, ref in found:
                self.add(code, severity, message, ref, path)

    def _element_checks(self, ds: Dataset, elem: Any, tag: int, path: str,
                        declared: Any = None) -> None:
        raw = isinstance(elem, RawDataElement)
        if not raw and elem.VR != "SQ" and tag not in PIXEL_TAGS:
            try:  # an element pydicom already converted (e.g. Specific Character Set)
                elem = to_raw(elem, self.implicit, self.little, self.encodings)
                raw = True
            except Exception as exc:
                self.add("dataset.unencodable", Severity.ERROR,
                         f"element cannot be encoded: {exc}", "PS3.5 7", path)
                return
        entry = dictionary_entry(tag) if (tag >> 16) & 1 == 0 or (tag & 0xFFFF) < 0x10 else None
        vr = element_vr(elem)
        if declared is not None:
            # Private attribute declared in the conformance statement (PS3.5 7.8.1).
            entry = (declared.vr, declared.vm, "")
            if elem.VR and elem.VR not in (declared.vr, "UN"):
                self.add("private.vr-mismatch", Severity.ERROR,
                         f"private element has VR {elem.VR}; the statement declares "
                         f"{declared.vr} ({declared.creator})", "statement / PS3.5 7.8", path)
            if not elem.VR or elem.VR == "UN":
                vr = declared.vr
        if raw and elem.VR and entry and elem.VR != "UN" and declared is None:
            allowed = entry[0].split(" or ")
            if elem.VR not in allowed and not (entry[0] == "OB or OW" and elem.VR == "OW"):
                self.add("vr.mismatch", Severity.ERROR,
                         f"explicit VR {elem.VR} differs from the dictionary VR {entry[0]}",
                         "PS3.5 7.1.2 and PS3.6", path)
        if raw and elem.VR == "UN" and entry and not (tag >> 16) & 1 and declared is None \
                and entry[0] != "UN":
            self.add("vr.un-for-standard-attribute", Severity.WARNING,
                     f"standard attribute encoded with VR UN; read as its dictionary VR "
                     f"{entry[0]}", "PS3.5 6.2.2", path)
        length = elem.length if raw else None
        if raw and length is not None and length != 0xFFFFFFFF and length % 2:
            self.add("vr.odd-length", Severity.ERROR,
                     f"value length {length} is odd", "PS3.5 7.1.1", path)
        if vr == "SQ" or (not raw and elem.VR == "SQ"):
            try:
                seq = ds[tag].value
            except Exception as exc:
                self.add("file.bad-sequence", Severity.ERROR,
                         f"sequence cannot be parsed: {exc}", "PS3.5 7.5", path)
                return
            for i, item in enumerate(seq or []):
                self.walk(item, f"{path}[{i}].")
            return
        if not raw or tag in PIXEL_TAGS:
            if raw and tag in PIXEL_TAGS and length not in (None, 0xFFFFFFFF):
                problem = vrs.check_binary_length(vr, length)
                if problem:
                    self.add(problem[0], Severity.ERROR, problem[1], "PS3.5 6.2", path)
            return
        value = elem.value
        if value is None:
            return
        if not isinstance(value, bytes):
            return
        if vr in vrs.STRING_VRS:
            vm = entry[1] if entry else None
            memo = (vr, vm, value, self._charset_key)
            problems = _STRING_MEMO.get(memo)
            if problems is None:
                problems = _string_problems(vr, vm, value, self.encodings, self.declared)
                if len(value) <= _MEMO_VALUE_SIZE:
                    if len(_STRING_MEMO) >= _MEMO_ENTRIES:
                        _STRING_MEMO.clear()
                    _STRING_MEMO[memo] = problems
            for code, msg, ref in problems:
                self.add(code, Severity.ERROR, msg, ref, path)
            return
        problem = vrs.check_binary_length(vr, len(value))
        if problem:
            self.add(problem[0], Severity.ERROR, problem[1], "PS3.5 6.2", path)
            return
        size = vrs.BINARY_SIZE.get(vr)
        if size and entry and value:
            problem = vrs.check_vm(entry[1], len(value) // size)
            if problem:
                self.add(problem[0], Severity.ERROR, problem[1], "PS3.5 6.4", path)

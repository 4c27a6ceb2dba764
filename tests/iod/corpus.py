"""A deterministic test corpus built with pydicom: clean instances of several IODs and
single-defect variants, each labelled with the finding code it must produce.

Clean instances start from :func:`conformance.iod.synthesize` (deterministic) plus a few
IOD-specific touches, and are checked against dciodvfy in ``test_dciodvfy.py``.
"""

from __future__ import annotations

import copy
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from conformance.iod import synthesize

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
SC = "1.2.840.10008.5.1.4.1.1.7"
SC_MULTIFRAME_WORD = "1.2.840.10008.5.1.4.1.1.7.3"
DX = "1.2.840.10008.5.1.4.1.1.1.1"
US = "1.2.840.10008.5.1.4.1.1.6.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"


def _pixels(ds: Dataset) -> None:
    n = ds.Rows * ds.Columns * ds.SamplesPerPixel * (ds.BitsAllocated // 8) * \
        int(ds.get("NumberOfFrames", 1) or 1)
    n += n & 1
    ds.PixelData = bytes(range(256)) * (n // 256) + bytes(n % 256)
    ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"


def _us() -> Dataset:
    ds = synthesize(US)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    _pixels(ds)
    return ds


def _dx() -> Dataset:
    ds = synthesize(DX)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    for kw in ("VOILUTSequence",):
        if kw in ds:
            del ds[kw]
    ds.WindowCenter, ds.WindowWidth = "2048", "4096"
    ds.PositionerType = ""
    _pixels(ds)
    return ds


def _multiframe() -> Dataset:
    ds = synthesize(SC_MULTIFRAME_WORD)
    ds.NumberOfFrames = 3
    # Frame Time Vector: the SC Multi-frame Vector module (required for > 1 frame) is present
    ds.FrameIncrementPointer = 0x00181065
    ds.FrameTimeVector = ["0", "100", "100"]
    _pixels(ds)
    return ds


def _utf8() -> Dataset:
    ds = synthesize(CT)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jürgen"
    ds.InstitutionName = "Hôpital Saint-Éloi"
    return ds


def _gb18030() -> Dataset:
    ds = synthesize(CT)
    ds.SpecificCharacterSet = "GB18030"
    ds.PatientName = "王^小东"
    ds.StudyDescription = "胸部 CT"
    return ds


#: name -> builder of a clean instance.
CLEAN: dict[str, Callable[[], Dataset]] = {
    "ct": lambda: synthesize(CT),
    "mr": lambda: synthesize(MR),
    "sc": lambda: synthesize(SC),
    "dx": _dx,
    "us": _us,
    "sr-basic-text": lambda: synthesize(BASIC_TEXT_SR),
    "sr-comprehensive": lambda: synthesize(COMPREHENSIVE_SR),
    "multiframe-sc": _multiframe,
    "ct-utf8": _utf8,
    "ct-gb18030": _gb18030,
}


@dataclass(frozen=True)
class Defect:
    name: str
    base: str
    code: str  # the finding code that must be reported
    mutate: Callable[[Dataset], None] | None = None  # on the data set before writing
    patch: Callable[[bytes], bytes] | None = None  # on the file bytes after writing


def _set(keyword: str, value: object) -> Callable[[Dataset], None]:
    def f(ds: Dataset) -> None:
        setattr(ds, keyword, value)
    return f


def _bytes(keyword: str, value: bytes) -> Callable[[Dataset], None]:
    """Store the encoded bytes as they are: pydicom neither validates nor re-formats them."""
    def f(ds: Dataset) -> None:
        from pydicom.datadict import dictionary_VR, tag_for_keyword
        from pydicom.dataelem import RawDataElement
        tag = tag_for_keyword(keyword)
        raw = value + b" " * (len(value) % 2)
        ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(raw), raw, 0, False, True)
    return f


def _delete(keyword: str) -> Callable[[Dataset], None]:
    def f(ds: Dataset) -> None:
        del ds[keyword]
    return f


def _raw(tag: int, vr: str, value: bytes) -> Callable[[Dataset], None]:
    def f(ds: Dataset) -> None:
        ds.add_new(tag, vr, value)
    return f


def _code_item_without_mapping(ds: Dataset) -> None:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-D3000", "SRT", "Chest"
    item.ContextIdentifier = "4"
    ds.AnatomicRegionSequence = Sequence([item])


def _two_species_items(ds: Dataset) -> None:
    """Patient Species Code Sequence: "Only a single Item shall be included" (PS3.3 C.7.1.1)."""
    items = []
    for value in ("A1", "B2"):
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99X", value
        items.append(item)
    ds.PatientSpeciesCodeSequence = Sequence(items)


def _private_without_creator(ds: Dataset) -> None:
    ds.add_new(0x00091010, "LO", "orphan")


def _odd_length(data: bytes) -> bytes:
    """Study Description written with an odd length (3, no padding byte)."""
    old = b"\x08\x00\x30\x10LO\x04\x00ODD "
    assert old in data
    return data.replace(old, b"\x08\x00\x30\x10LO\x03\x00ODD", 1)


def _meta_class_mr(data: bytes) -> bytes:
    """Media Storage SOP Class UID says MR while the data set is CT (same length)."""
    old = b"1.2.840.10008.5.1.4.1.1.2\x00"
    assert data.index(old) < 400  # first occurrence is in the File Meta Information
    return data.replace(old, b"1.2.840.10008.5.1.4.1.1.4\x00", 1)


def _meta_instance_other(data: bytes) -> bytes:
    """Media Storage SOP Instance UID differs from SOP Instance UID in its last digit."""
    import re
    m = re.search(rb"\x02\x00\x03\x00UI(..)", data)
    assert m
    n = int.from_bytes(m.group(1), "little")
    start = m.end()
    uid = data[start:start + n].rstrip(b"\x00")
    last = b"1" if uid[-1:] != b"1" else b"2"
    return data[:start] + uid[:-1] + last + data[start + len(uid):]


def _short_pixels(ds: Dataset) -> None:
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]


def _long_pixels(ds: Dataset) -> None:
    ds.PixelData = ds.PixelData + b"\x00" * 8


def _rle_meta_native_pixels(data: bytes) -> bytes:
    """Say RLE Lossless (encapsulated) in the meta, keep native Pixel Data."""
    old = b"1.2.840.10008.1.2.1\x00"
    assert old in data
    return data.replace(old, b"1.2.840.10008.1.2.5\x00", 1)


def _swap_ts(data: bytes) -> bytes:
    old = b"1.2.840.10008.1.2.1\x00"
    assert old in data
    return data.replace(old, b"1.2.840.10008.9.9.9\x00", 1)


def _truncate(data: bytes) -> bytes:
    """Cut inside the Pixel Data value."""
    return data[: len(data) - 20]


def _wrong_vr(ds: Dataset) -> None:
    ds.add_new(0x00200011, "US", 7)  # Series Number is IS in PS3.6


def _undeclared_non_ascii(ds: Dataset) -> None:
    del ds.SpecificCharacterSet
    ds.add_new(0x00100010, "PN", "M\xfcller^Hans".encode("latin-1"))


def _undecodable_utf8(ds: Dataset) -> None:
    ds.add_new(0x00100010, "PN", b"Bad\xff\xfeName")


DEFECTS: list[Defect] = [
    Defect("type1-missing", "ct", "iod.type1-missing", _delete("Modality")),
    Defect("type1-empty", "ct", "iod.type1-empty", _set("StudyInstanceUID", "")),
    Defect("type2-missing", "ct", "iod.type2-missing", _delete("PatientName")),
    Defect("type1c-missing-by-condition", "ct", "iod.type1-missing",
           _code_item_without_mapping),
    Defect("type1-missing-in-sr", "sr-basic-text", "iod.type1-missing",
           _delete("ValueType")),
    Defect("sequence-item-count", "ct", "iod.sequence-items", _two_species_items),
    Defect("present-when-condition-false", "sc", "iod.present-when-condition-false",
           _set("PlanarConfiguration", 0)),
    Defect("enumerated-value", "ct", "iod.enumerated-value", _set("PixelRepresentation", 2)),
    Defect("defined-term", "sc", "iod.defined-term", _set("ConversionType", "XYZ")),
    Defect("bad-date", "ct", "vr.invalid-format", _bytes("StudyDate", b"20261301")),
    Defect("bad-time", "mr", "vr.invalid-format", _bytes("StudyTime", b"256100")),
    Defect("cs-lowercase", "ct", "vr.invalid-character", _bytes("BodyPartExamined", b"chest ")),
    Defect("uid-leading-zero", "ct", "vr.invalid-uid", _bytes("SeriesInstanceUID", b"1.2.03.4")),
    Defect("lo-too-long", "mr", "vr.too-long", _bytes("InstitutionName", b"x" * 70)),
    Defect("is-not-integer", "ct", "vr.invalid-format", _bytes("InstanceNumber", b"1.5 ")),
    Defect("ds-not-decimal", "mr", "vr.invalid-format", _bytes("SliceThickness", b"1,5 ")),
    Defect("vm-too-many", "ct", "vr.vm", _bytes("PixelSpacing", b"1\\1\\1 ")),
    Defect("odd-length", "ct", "vr.odd-length", _set("StudyDescription", "ODD"),
           patch=_odd_length),
    Defect("vr-mismatch", "ct", "vr.mismatch", _wrong_vr),
    Defect("charset-unknown-term", "ct", "charset.unknown-term",
           _bytes("SpecificCharacterSet", b"ISO_IR 999")),
    Defect("charset-undeclared", "ct", "charset.undeclared-non-ascii", _undeclared_non_ascii),
    Defect("charset-undecodable", "ct-utf8", "charset.undecodable", _undecodable_utf8),
    Defect("private-no-creator", "ct", "private.no-creator", _private_without_creator),
    Defect("meta-sop-class", "ct", "meta.sop-class-mismatch", patch=_meta_class_mr),
    Defect("meta-sop-instance", "mr", "meta.sop-instance-mismatch",
           patch=_meta_instance_other),
    Defect("meta-unknown-ts", "ct", "meta.unknown-transfer-syntax", patch=_swap_ts),
    Defect("pixel-not-encapsulated", "sc", "pixel.not-encapsulated",
           patch=_rle_meta_native_pixels),
    Defect("pixel-length-short", "ct", "pixel.length-short", _short_pixels),
    Defect("pixel-length-long", "mr", "pixel.length-long", _long_pixels),
    Defect("photometric-samples", "sc", "pixel.photometric-samples",
           _set("PhotometricInterpretation", "RGB")),
    Defect("unknown-sop-class", "sc", "iod.unknown-sop-class",
           lambda ds: (setattr(ds, "SOPClassUID", "1.2.3.4.5.6"),
                       setattr(ds.file_meta, "MediaStorageSOPClassUID", "1.2.3.4.5.6"))),
    Defect("truncated", "mr", "file.truncated", patch=_truncate),
    Defect("truncated-in-header", "mr", "file.truncated",
           patch=lambda data: data[: len(data) - 40]),
    Defect("truncated-mid-dataset", "ct", "file.truncated",
           patch=lambda data: data[: len(data) * 3 // 5]),
]


def write(ds: Dataset, path: Path, patch: Callable[[bytes], bytes] | None = None) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(path, enforce_file_format=True)
    if patch:
        path.write_bytes(patch(path.read_bytes()))
    return path


def build_corpus(folder: Path) -> tuple[dict[str, Path], dict[str, tuple[Defect, Path]]]:
    """Write every clean instance and every defect variant into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    clean = {name: write(make(), folder / f"clean-{name}.dcm") for name, make in CLEAN.items()}
    defects = {}
    for d in DEFECTS:
        ds = CLEAN[d.base]()
        if d.mutate:
            with warnings.catch_warnings():  # pydicom warns about the very defects we make
                warnings.simplefilter("ignore")
                d.mutate(ds)
        defects[d.name] = (d, write(ds, folder / f"defect-{d.name}.dcm", d.patch))
    return clean, defects


def big_multiframe(path: Path, frames: int, rows: int = 512, cols: int = 512) -> Path:
    """A multi-frame CT-like file whose Pixel Data is a sparse hole: large on disk, cheap to
    make (the validator must not read it)."""
    ds = copy.deepcopy(synthesize(SC_MULTIFRAME_WORD))
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.FrameIncrementPointer = 0x00182001  # Page Number Vector (SC Multi-frame Vector)
    ds.PageNumberVector = [str(i + 1) for i in range(frames)]
    del ds.PixelData
    ds.save_as(path, enforce_file_format=True)
    length = rows * cols * 2 * frames
    with open(path, "ab") as fh:
        fh.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, length))
        fh.truncate(fh.tell() + length)
    return path

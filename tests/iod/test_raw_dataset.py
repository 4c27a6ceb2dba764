"""The direct builder (:mod:`conformance.iod.raw_dataset`) gives the objects ``dcmread`` gives.

Every file of pydicom's test data with a PS3.10 preamble is read both ways and the trees are
compared element by element (raw element fields, converted sequences, every attribute of
every data set and item); files the builder hands back (:class:`NotPlain`) must be read by
``dcmread`` in the validator, which a spy checks.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from conformance.iod import raw_dataset, reading
from conformance.iod.reading import DEFER_SIZE

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
_FILES = sorted(p for p in TEST_FILES.rglob("*") if p.is_file() and
                p.read_bytes()[128:132] == b"DICM")
#: Attributes compared by hand (or not at all: the file object differs by construction).
_OWN = {"_dict", "file_meta", "buffer"}


def _differences(a: Dataset, b: Dataset, path: str = "") -> list[str]:
    out = []
    da, db = ({k: v for k, v in x.__dict__.items() if k not in _OWN} for x in (a, b))
    if da.keys() != db.keys():
        out.append(f"{path}: attributes {sorted(set(da) ^ set(db))}")
    out += [f"{path}: {k} {da[k]!r} != {db[k]!r}" for k in da.keys() & db.keys()
            if da[k] != db[k] or type(da[k]) is not type(db[k])]
    if list(a._dict) != list(b._dict):
        return out + [f"{path}: tags differ"]
    for tag in a._dict:
        ea, eb = a._dict[tag], b._dict[tag]
        if type(ea) is not type(eb) or (isinstance(ea, RawDataElement) and ea != eb):
            out.append(f"{path}{tag}: {ea!r} != {eb!r}")
            continue
        try:
            ca, cb = a[tag], b[tag]  # converted by pydicom, on both sides
        except Exception:  # noqa: BLE001  (a value pydicom cannot convert: compared raw above)
            continue
        for attr in ("VR", "file_tell", "is_undefined_length"):
            if getattr(ca, attr, None) != getattr(cb, attr, None):
                out.append(f"{path}{tag}: {attr} differs")
        if ca.VR == "SQ":
            if len(ca.value) != len(cb.value) or getattr(ca.value, "is_undefined_length", None) \
                    != getattr(cb.value, "is_undefined_length", None):
                out.append(f"{path}{tag}: sequence differs")
                continue
            for i, (x, y) in enumerate(zip(ca.value, cb.value)):
                out += _differences(x, y, f"{path}{tag}[{i}].")
    return out


def _both(path: Path) -> tuple[Any, Dataset]:
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, defer_size=DEFER_SIZE)
        try:
            ours: Any = raw_dataset.read_body(io.BytesIO(data), data, DEFER_SIZE)[0]
        except raw_dataset.NotPlain as exc:
            ours = exc
    return ours, ref


@pytest.mark.parametrize("path", _FILES, ids=lambda p: p.name)
def test_builder_gives_what_dcmread_gives(path: Path) -> None:
    ours, ref = _both(path)
    if isinstance(ours, raw_dataset.NotPlain):  # read by dcmread in the validator
        assert str(ours)  # says why
        return
    assert _differences(ours, ref) == []
    assert _differences(ours.file_meta, ref.file_meta, "meta ") == []
    assert ours.preamble == ref.preamble


def test_elements_built_as_tuples_are_pydicoms_raw_elements(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader builds each RawDataElement as the tuple it is while pydicom's fields are
    the nine it expects (so with this pydicom), and with the named tuple's constructor
    otherwise: the same elements either way."""
    assert raw_dataset._FAST_RAW
    data = (TEST_FILES / "rtplan.dcm").read_bytes()
    fast = raw_dataset.read_body(io.BytesIO(data), data, DEFER_SIZE)[0]
    monkeypatch.setattr(raw_dataset, "_FAST_RAW", False)
    slow = raw_dataset.read_body(io.BytesIO(data), data, DEFER_SIZE)[0]
    assert list(fast._dict.values()) == list(slow._dict.values())
    assert all(type(e) is type(s) for e, s in zip(fast._dict.values(), slow._dict.values()))
    first = next(iter(fast._dict.values()))
    assert first.is_raw is True and first.is_buffered is False and first.value_tell > 0


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm"])
def test_a_file_read_from_disk_gets_the_same_file_attributes(name: str) -> None:
    """Files over ``SCAN_IN_MEMORY`` are read from the open file: its name, type and
    modification time are recorded as ``dcmread`` records them."""
    path = TEST_FILES / name
    data = path.read_bytes()
    with open(path, "rb") as fh:
        ours = raw_dataset.read_body(fh, data, DEFER_SIZE)[0]
    with open(path, "rb") as fh:
        ref = pydicom.dcmread(fh, stop_before_pixels=True, defer_size=DEFER_SIZE)
    assert ours.filename == str(path) and ours.timestamp is not None
    assert _differences(ours, ref) == []


def test_most_test_files_take_the_direct_path() -> None:
    plain = sum(not isinstance(_both(p)[0], raw_dataset.NotPlain) for p in _FILES)
    assert plain >= 0.9 * len(_FILES)


def test_deflated_and_truncated_files_are_left_to_dcmread() -> None:
    for name in ("image_dfl.dcm", "rtplan_truncated.dcm"):
        assert isinstance(_both(TEST_FILES / name)[0], raw_dataset.NotPlain), name


def test_validator_reads_with_dcmread_exactly_when_the_builder_declines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = pydicom.dcmread

    def spy(fp: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("dcmread")
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(reading.pydicom, "dcmread", spy)
    result = reading.read_for_validation(TEST_FILES / "CT_small.dcm")
    assert calls == [] and result.dataset is not None
    assert result.pixel is not None and result.pixel.length == 32768  # fp left at Pixel Data
    reading.read_for_validation(TEST_FILES / "image_dfl.dcm")
    assert calls and set(calls) == {"dcmread"}  # (twice: a deflated file is read whole)


def test_the_scans_long_vrs_are_pydicoms() -> None:
    from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

    from conformance.iod.encoding import LONG_VRS
    assert {str(v) for v in EXPLICIT_VR_LENGTH_32} == LONG_VRS


def test_the_direct_readers_keys_are_the_shared_tags() -> None:
    """The checks look attributes up with :func:`elements.interned` tags: the very key
    objects of the data sets the builder makes (no ``BaseTag.__eq__`` per hit)."""
    from conformance.iod.elements import interned

    ours, _ref = _both(TEST_FILES / "CT_small.dcm")
    for ds in (ours, ours.file_meta):
        assert ds._dict and all(key is interned(int(key)) for key in ds._dict)


@pytest.mark.parametrize("where", ["meta", "body"])
def test_bytes_that_are_not_a_vr_are_left_to_dcmread(where: str) -> None:
    """pydicom reads an element whose VR bytes are no VR its own way (as implicit VR, with a
    4-byte length): the builder declines rather than guess."""
    data = (TEST_FILES / "CT_small.dcm").read_bytes()
    head = b"\x02\x00\x12\x00UI" if where == "meta" else b"\x08\x00\x16\x00UI"
    i = data.index(head)
    data = data[:i + 4] + b"\xe0\xa6" + data[i + 6:]
    with pytest.raises(raw_dataset.NotPlain):
        raw_dataset.read_body(io.BytesIO(data), data, DEFER_SIZE)


def _convert_all(ds: Dataset) -> None:
    """Convert every element of *ds* and of its items, as the checks do."""
    for tag in list(ds._dict):
        try:
            elem = ds[tag]
        except Exception:  # noqa: BLE001  (a value pydicom cannot convert: compared raw)
            continue
        if elem.VR == "SQ":
            for item in elem.value:
                _convert_all(item)


@pytest.mark.parametrize("path", _FILES, ids=lambda p: p.name)
def test_defined_length_sequences_convert_as_pydicom_converts_them(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With :func:`raw_dataset.use_direct_sequences` (as in a validation worker), every
    defined-length sequence value gives the tree pydicom's own converter gives."""
    from pydicom import values
    from pydicom.valuerep import VR

    data = path.read_bytes()

    def read() -> Dataset:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True,
                                   defer_size=DEFER_SIZE, force=True)

    monkeypatch.setitem(values.converters, VR.SQ, values.convert_SQ)
    ref = read()
    _convert_all(ref)
    monkeypatch.setitem(values.converters, VR.SQ, raw_dataset.convert_sequence)
    ours = read()
    _convert_all(ours)
    assert _differences(ours, ref) == []


def test_the_direct_sequence_converter_parses_what_pydicom_would(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The defined-length sequences of test files (an SR content tree, an RT Plan) are parsed
    by the direct reader, not handed back to pydicom."""
    declined: list[int] = []
    real = raw_dataset.convert_SQ

    def spy(value: bytes, *args: Any) -> Any:
        declined.append(len(value))
        return real(value, *args)

    monkeypatch.setattr(raw_dataset, "convert_SQ", spy)
    from pydicom import values
    from pydicom.valuerep import VR
    monkeypatch.setitem(values.converters, VR.SQ, raw_dataset.convert_sequence)
    converted = 0
    for name in ("test-SR.dcm", "rtplan.dcm"):
        ds = pydicom.dcmread(TEST_FILES / name, stop_before_pixels=True)
        raw = [t for t, e in ds._dict.items() if isinstance(e, RawDataElement)]
        _convert_all(ds)
        converted += sum(ds[t].VR == "SQ" for t in raw)
    assert converted >= 5 and declined == []
    # a value that is not a sequence's goes to pydicom's converter, which rejects it as ever
    with pytest.raises(OSError, match="No tag to read"):
        raw_dataset.convert_sequence(b"\x08\x00\x16\x00", True, True)
    assert declined == [4]

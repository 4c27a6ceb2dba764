"""The quick naming read of a received file (patient, study, series, straight from the bytes
the harness wrote) gives what pydicom's partial read gives, or declines (``None``) and leaves
it to pydicom: another transfer syntax, an element of undefined length before the names, a
character set it does not decode."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from conformance.listen.store import describe
from conformance.listen.validation import naming_header, quick_names
from conformance.standard.uids import name_of
from tests.listen.conftest import CT, make_instance


def _write(tmp_path: Path, ds: Dataset, ts: str) -> Path:
    ds.file_meta.TransferSyntaxUID = ts
    path = tmp_path / f"{generate_uid()}.dcm"
    ds.save_as(path, implicit_vr=ts == ImplicitVRLittleEndian, little_endian=ts != ExplicitVRBigEndian,
               enforce_file_format=True)
    return path


def _both(path: Path, ts: str) -> tuple[dict | None, dict]:
    uid = "1.2.3.4"
    return quick_names(path, ts, name_of(CT), uid), describe(naming_header(path), CT, uid)


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize("name, charset", [("DOE^JANE", None), ("MÜLLER^JÖRG", "ISO_IR 100"),
                                           ("张三^李四", "ISO_IR 192"), ("", None)])
def test_quick_names_agree_with_pydicom(tmp_path, ts, name, charset):
    ds = make_instance(CT, str(generate_uid()), str(generate_uid()), patient="P 1")
    ds.PatientName = name
    if charset:
        ds.SpecificCharacterSet = charset
    quick, slow = _both(_write(tmp_path, ds, ts), ts)
    assert quick == slow


def test_quick_names_decline_what_they_cannot_be_sure_of(tmp_path):
    ds = make_instance(CT, str(generate_uid()), str(generate_uid()))
    assert _both(_write(tmp_path, ds, ExplicitVRBigEndian), ExplicitVRBigEndian)[0] is None
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = CT, str(generate_uid())
    ds.ReferencedImageSequence = Sequence([item])           # (0008,1140), before the names
    ds["ReferencedImageSequence"].is_undefined_length = True
    path = _write(tmp_path, ds, ExplicitVRLittleEndian)
    quick, slow = _both(path, ExplicitVRLittleEndian)
    assert quick is None and slow["patient_id"] == "P1"
    ds.SpecificCharacterSet = "ISO_IR 144"
    del ds.ReferencedImageSequence
    assert _both(_write(tmp_path, ds, ExplicitVRLittleEndian), ExplicitVRLittleEndian)[0] is None
    short = tmp_path / "short.dcm"
    short.write_bytes(b"\x00" * 100)
    assert quick_names(short, ExplicitVRLittleEndian, "", "1.2") is None

"""The synthesizer builds a valid minimal instance of every storage SOP class in the index."""

from __future__ import annotations

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from conformance.findings import Severity
from conformance.iod import synthesize, validate
from conformance.standard.iod_index import load_index

ALL = load_index().storage_sop_classes()


def test_index_has_all_storage_sop_classes():
    assert len(ALL) >= 170


@pytest.mark.parametrize("uid", ALL)
def test_every_storage_sop_class_synthesizes_without_errors_or_warnings(uid):
    ds = synthesize(uid)
    assert ds.file_meta.MediaStorageSOPClassUID == uid
    assert ds.get("SOPClassUID", uid) == uid  # a DICOMDIR has it in the File Meta only
    findings = [f"{f.severity.value} {f.code} {f.tag} {f.message}" for f in validate(ds)
                if f.severity in (Severity.ERROR, Severity.WARNING)]
    assert findings == []


def test_dicomdir_is_a_basic_directory():
    ds = synthesize("1.2.840.10008.1.3.10")
    assert "SOPClassUID" not in ds and ds.DirectoryRecordSequence == []
    assert ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity == 0


def test_enhanced_instance_has_one_per_frame_item_per_frame():
    """PS3.3 C.7.6.16.1: Frame Content only per-frame, one item per frame, dimension index."""
    ds = synthesize("1.2.840.10008.5.1.4.1.1.2.1")  # Enhanced CT
    frames = int(ds.NumberOfFrames)
    assert len(ds.PerFrameFunctionalGroupsSequence) == frames
    assert "FrameContentSequence" not in ds.SharedFunctionalGroupsSequence[0]
    content = ds.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0]
    assert content.DimensionIndexValues == 1 and len(ds.DimensionIndexSequence) == 1


def test_synthesis_is_deterministic():
    a, b = synthesize(ALL[0]), synthesize(ALL[0])
    assert a == b
    assert a.file_meta.MediaStorageSOPInstanceUID == b.file_meta.MediaStorageSOPInstanceUID


def test_implicit_vr_transfer_syntax_is_honoured_and_valid():
    ds = synthesize("1.2.840.10008.5.1.4.1.1.2", ImplicitVRLittleEndian)
    assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert not [f for f in validate(ds) if f.severity is Severity.ERROR]


def test_compressed_syntax_for_image_iod_is_refused_clearly():
    with pytest.raises(ValueError, match="compressed"):
        synthesize("1.2.840.10008.5.1.4.1.1.2", RLELossless)


def test_unknown_sop_class_is_refused_clearly():
    with pytest.raises(ValueError, match="no IOD"):
        synthesize("1.2.3.4", ExplicitVRLittleEndian)

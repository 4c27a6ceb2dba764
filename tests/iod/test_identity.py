"""Identity rules across attributes (conformance/iod/identity.py): one UID per entity
(PS3.5 9), no frames beyond the first in a single-frame IOD (PS3.3 A.1.3, C.7.6.6)."""

from __future__ import annotations

import pytest

from conformance.findings import Severity
from conformance.iod import synthesize, validate

MR = "1.2.840.10008.5.1.4.1.1.4"
SC = "1.2.840.10008.5.1.4.1.1.7"
SC_MULTIFRAME_GRAY8 = "1.2.840.10008.5.1.4.1.1.7.2"


def _codes(ds, severity=Severity.ERROR):
    return [(f.code, f.tag) for f in validate(ds) if f.severity is severity]


@pytest.mark.parametrize("keyword,other", [("FrameOfReferenceUID", "StudyInstanceUID"),
                                           ("SeriesInstanceUID", "StudyInstanceUID"),
                                           ("SOPInstanceUID", "SeriesInstanceUID")])
def test_one_uid_for_two_entities_is_an_error(keyword, other):
    ds = synthesize(MR)
    assert ("uid.reused-for-another-entity", "(0020,0052)") not in _codes(ds)
    setattr(ds, keyword, getattr(ds, other))
    if keyword == "SOPInstanceUID":
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    assert [c for c in _codes(ds) if c[0] == "uid.reused-for-another-entity"] != []


def test_frames_in_a_single_frame_iod_are_an_error_and_one_frame_only_a_warning():
    ds = synthesize(SC)
    ds.NumberOfFrames = 2
    assert ("iod.frames-in-single-frame-iod", "(0028,0008)") in _codes(ds)
    assert ("iod.attribute-not-in-iod", "(0028,0008)") not in _codes(ds, Severity.WARNING)
    ds.NumberOfFrames = 1
    assert ("iod.frames-in-single-frame-iod", "(0028,0008)") not in _codes(ds)
    assert ("iod.attribute-not-in-iod", "(0028,0008)") in _codes(ds, Severity.WARNING)


def test_a_multi_frame_iod_may_have_frames():
    ds = synthesize(SC_MULTIFRAME_GRAY8)
    assert int(ds.NumberOfFrames) >= 1
    ds.NumberOfFrames = 3
    ds.PixelData = bytes(int(ds.Rows) * int(ds.Columns) * 3)
    assert not [c for c in _codes(ds) if c[0] == "iod.frames-in-single-frame-iod"]

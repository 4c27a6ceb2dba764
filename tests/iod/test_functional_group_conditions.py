"""Conditions of the attributes inside Functional Group Macros (PS3.3 C.7.6.16.2, C.8.13.5,
C.8.19.6, ...).  The module tables of the 2020a source leave these rows without text; the
index takes it from the same source's macro tables, so the conditions are evaluated in the
macro's Item instead of being reported as not verifiable."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from conformance.iod import synthesize, validate

ENHANCED_XA = "1.2.840.10008.5.1.4.1.1.12.1.1"
COLLIMATOR_SEQUENCE = 0x00189407   # X-Ray Collimator Macro, PS3.3 C.8.19.6.6
SHAPE = 0x00181700
EDGES = (0x00181702, 0x00181704, 0x00181706, 0x00181708)   # left, right, upper, lower
CIRCLE = (0x00181710, 0x00181712)                         # centre, radius


def _with_collimator(**values: object) -> Dataset:
    ds = synthesize(ENHANCED_XA)
    shared = ds.SharedFunctionalGroupsSequence[0]
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    shared.add_new(COLLIMATOR_SEQUENCE, "SQ", [item])
    return ds


def _about_collimator(ds: Dataset) -> list:
    return [f for f in validate(ds) if "(0018,9407)" in (f.tag or "")]


def test_a_rectangular_collimator_without_its_edges_is_an_error_per_edge():
    found = _about_collimator(_with_collimator(CollimatorShape="RECTANGULAR"))
    missing = {f.tag[-11:] for f in found if f.code == "iod.type1-missing"}
    assert missing == {f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in EDGES}
    assert not [f for f in found if f.code == "iod.condition-not-verifiable"]


def test_a_rectangular_collimator_with_its_edges_is_clean():
    ds = _with_collimator(CollimatorShape="RECTANGULAR", CollimatorLeftVerticalEdge=10,
                          CollimatorRightVerticalEdge=500, CollimatorUpperHorizontalEdge=10,
                          CollimatorLowerHorizontalEdge=500)
    assert [f for f in _about_collimator(ds) if f.severity.value != "info"] == []


@pytest.mark.parametrize("present", [True, False])
def test_circle_attributes_follow_a_circular_shape_only(present):
    values: dict[str, object] = {"CollimatorShape": "CIRCULAR"}
    if present:
        values.update(CenterOfCircularCollimator=[256, 256], RadiusOfCircularCollimator=200)
    found = _about_collimator(_with_collimator(**values))
    missing = {f.tag[-11:] for f in found if f.code == "iod.type1-missing"}
    assert missing == (set() if present else
                       {f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in CIRCLE})


ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
OPHTHALMIC_TOMOGRAPHY = "1.2.840.10008.5.1.4.1.1.77.1.5.4"
IN_CONCATENATION_NUMBER = "(0020,9162)"


def _codes_at(ds: Dataset, tag: str) -> set[str]:
    return {f.code for f in validate(ds) if f.tag == tag and f.severity.value == "error"}


def test_concatenation_attributes_follow_concatenation_uid():
    """PS3.3 C.7.6.16 (Table C.7.6.16-1): In-concatenation Number is 1C, required if
    Concatenation UID is present (text from the 2020a module, whose per-IOD copies in the
    2026b structure have other keys)."""
    ds = synthesize(ENHANCED_CT)
    assert _codes_at(ds, IN_CONCATENATION_NUMBER) == set()
    ds.ConcatenationUID = "1.2.3.4.5"
    assert "iod.type1-missing" in _codes_at(ds, IN_CONCATENATION_NUMBER)
    del ds.ConcatenationUID
    ds.InConcatenationNumber = 1
    assert "iod.present-when-condition-false" in _codes_at(ds, IN_CONCATENATION_NUMBER)


def test_a_module_that_specialises_the_attribute_lets_it_be_present():
    """2026b's Ophthalmic Tomography Image Module (PS3.3 C.8.17.7) makes In-concatenation
    Number type 1 (value 1) for every instance: no 'present although its condition is false'
    from the functional groups module's 1C row."""
    ds = synthesize(OPHTHALMIC_TOMOGRAPHY)
    assert "ConcatenationUID" not in ds and ds.InConcatenationNumber == 1
    assert [f for f in validate(ds) if f.severity.value == "error"] == []


def test_a_type_3_row_elsewhere_does_not_lift_shall_not_be_present_otherwise():
    """SC Multi-frame Image Module (PS3.3 C.8.6.3): Presentation LUT Shape is 1C, required if
    MONOCHROME2 with Bits Stored above 1; the General Image Module's type 3 row for it does
    not make it allowed on a single-bit image."""
    ds = synthesize("1.2.840.10008.5.1.4.1.1.7.1")   # Multi-frame Single Bit SC
    assert ds.BitsStored == 1 and "PresentationLUTShape" not in ds
    ds.PresentationLUTShape = "IDENTITY"
    assert "iod.present-when-condition-false" in _codes_at(ds, "(2050,0020)")


ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
INVERSION_TIMES = "(0018,9079)"   # MR Modifier Macro, PS3.3 C.8.13.5.5


def _mr(frame_type: str | None, per_frame: bool = False) -> Dataset:
    """Enhanced MR whose MR Modifier says Inversion Recovery YES without Inversion Times
    ("Required if Frame Type (0008,9007) Value 1 of this frame is ORIGINAL and Inversion
    Recovery (0018,9009) equals YES. Otherwise may be present if ... DERIVED ..."); Frame Type
    Value 1 set to *frame_type* (None: the MR Image Frame Type macro removed), in the Shared
    Item or, with *per_frame*, in the Per-frame Item."""
    ds = synthesize(ENHANCED_MR)
    shared = ds.SharedFunctionalGroupsSequence[0]
    shared.MRModifierSequence[0].InversionRecovery = "YES"
    macro = shared.MRImageFrameTypeSequence
    del shared.MRImageFrameTypeSequence
    if frame_type is not None:
        macro[0].FrameType = [frame_type, *macro[0].FrameType[1:]]
        holder = ds.PerFrameFunctionalGroupsSequence[0] if per_frame else shared
        holder.MRImageFrameTypeSequence = macro
    return ds


def _inversion_times(ds: Dataset) -> list[tuple[str, str]]:
    return [(f.severity.value, f.code) for f in validate(ds)
            if (f.tag or "").endswith(INVERSION_TIMES)]


@pytest.mark.parametrize("per_frame", [False, True])
def test_of_this_frame_reads_the_frame_type_of_the_frame(per_frame):
    assert _inversion_times(_mr("ORIGINAL", per_frame)) == [("error", "iod.type1-missing")]
    assert _inversion_times(_mr("DERIVED", per_frame)) == []
    ds = _mr("DERIVED", per_frame)
    ds.SharedFunctionalGroupsSequence[0].MRModifierSequence[0].InversionTimes = [900.0]
    assert _inversion_times(ds) == []  # "Otherwise may be present if ... DERIVED"


def test_of_this_frame_without_a_frame_type_is_not_verifiable():
    assert _inversion_times(_mr(None)) == [("info", "iod.condition-not-verifiable")]

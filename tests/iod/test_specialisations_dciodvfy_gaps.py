"""Rules added where dciodvfy found a real error in a synthesized object that our validator
missed (issue 14, item 5): one failing object per rule, built from a valid synthesized one."""

from __future__ import annotations

import pytest

from conformance.findings import Severity
from conformance.iod import synthesize, validate

VL_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1"
SC_BYTE = "1.2.840.10008.5.1.4.1.1.7.2"
SC_WORD = "1.2.840.10008.5.1.4.1.1.7.3"
OP_8BIT = "1.2.840.10008.5.1.4.1.1.77.1.5.1"
SEG = "1.2.840.10008.5.1.4.1.1.66.4"
PARAMETRIC_MAP = "1.2.840.10008.5.1.4.1.1.30"
PET = "1.2.840.10008.5.1.4.1.1.128"
ENHANCED_XA = "1.2.840.10008.5.1.4.1.1.12.1.1"
ENHANCED_MR_COLOR = "1.2.840.10008.5.1.4.1.1.4.3"
COLOR_PALETTE = "1.2.840.10008.5.1.4.39.1"
CDA = "1.2.840.10008.5.1.4.1.1.104.2"
RT_IMAGE = "1.2.840.10008.5.1.4.1.1.481.1"
VISUAL_ACUITY = "1.2.840.10008.5.1.4.1.1.78.5"


def _errors(ds):
    return [(f.code, f.tag, f.reference) for f in validate(ds) if f.severity is Severity.ERROR]


def _has(errors, code, tag, ref):
    return any(c == code and t == tag and r.startswith(ref) for c, t, r in errors)


@pytest.mark.parametrize("uid,keyword,value,tag,ref", [
    (VL_ENDOSCOPIC, "BitsAllocated", 16, "(0028,0100)", "PS3.3 C.8.12.1.1"),
    (SC_BYTE, "BitsAllocated", 16, "(0028,0100)", "PS3.3 A.8.3.4"),
    (SC_WORD, "BitsAllocated", 8, "(0028,0100)", "PS3.3 A.8.4.4"),
    (OP_8BIT, "BitsAllocated", 16, "(0028,0100)", "PS3.3 C.8.17.2.1"),
    (ENHANCED_MR_COLOR, "BitsAllocated", 16, "(0028,0100)", "PS3.3 A.36.4"),
    (SEG, "ImageType", ["ORIGINAL", "PRIMARY"], "(0008,0008)", "PS3.3 C.8.20.2"),
    (PARAMETRIC_MAP, "ImageType", ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"], "(0008,0008)",
     "PS3.3 C.8.32.2"),
    (PET, "RescaleIntercept", "1", "(0028,1052)", "PS3.3 C.8.9.4.1"),
    (PET, "SeriesType", ["SYNTH", "IMAGE"], "(0054,1000)", "PS3.3 C.8.9.1.1.1"),
])
def test_iod_specific_enumerated_values(uid, keyword, value, tag, ref):
    ds = synthesize(uid)
    assert _errors(ds) == []
    setattr(ds, keyword, value)
    assert _has(_errors(ds), "iod.enumerated-value", tag, ref), _errors(ds)


def test_color_palette_descriptor_bits():
    ds = synthesize(COLOR_PALETTE)
    ds.RedPaletteColorLookupTableDescriptor = [4, 0, 16]
    assert _has(_errors(ds), "iod.enumerated-value", "(0028,1101)", "PS3.3 C.7.9 / A.58")


def test_enumeration_inside_a_functional_group_macro():
    """Contrast/Bolus Agent Administered YES or NO (PS3.3 C.7.6.16.2.12), in the macro item."""
    ds = synthesize(ENHANCED_XA)
    item = ds.SharedFunctionalGroupsSequence[0].ContrastBolusUsageSequence[0]
    assert item.ContrastBolusAgentAdministered in ("YES", "NO")
    item.ContrastBolusAgentAdministered = "SYNTH"
    path = "(5200,9229)[0].(0018,9341)[0].(0018,9342)"
    assert _has(_errors(ds), "iod.enumerated-value", path, "PS3.3 C.7.6.16.2.12"), _errors(ds)


def test_cda_requires_hl7_instance_identifier():
    ds = synthesize(CDA)
    del ds.HL7InstanceIdentifier
    assert _has(_errors(ds), "iod.type1-missing", "(0040,E001)", "PS3.3 C.24.2")


def test_rt_image_reported_values_origin_only_for_simulator_or_portal():
    ds = synthesize(RT_IMAGE)
    assert ds.ImageType[2] == "PORTAL"
    del ds.ReportedValuesOrigin
    assert _has(_errors(ds), "iod.type2-missing", "(3002,000A)", "PS3.3 C.8.8.2")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "DRR"]
    assert not _has(_errors(ds), "iod.type2-missing", "(3002,000A)", "PS3.3 C.8.8.2")


def test_optotype_detailed_definition_for_letters():
    ds = synthesize(VISUAL_ACUITY)
    assert _errors(ds) == []
    ds.Optotype = "LETTERS"
    assert _has(_errors(ds), "iod.type1-missing", "(0046,0139)", "PS3.3 C.8.25.12")


def test_sc_multi_frame_frame_increment_pointer_only_for_more_than_one_frame():
    """PS3.3 C.8.6.3 specialises the Multi-frame Module's type 1 to 'if frames > 1'."""
    ds = synthesize(SC_BYTE)
    assert ds.NumberOfFrames == 1 and "FrameIncrementPointer" not in ds
    assert _errors(ds) == []
    ds.NumberOfFrames = 2
    ds.PixelData = ds.PixelData * 2
    assert _has(_errors(ds), "iod.type1-missing", "(0028,0009)", "PS3.3 C.8.6.3")


def test_structured_display_image_box_references_something():
    """PS3.3 C.11.17: each image box needs one of four reference sequences."""
    ds = synthesize("1.2.840.10008.5.1.4.1.1.131")
    assert _errors(ds) == []
    del ds.StructuredDisplayImageBoxSequence[0].ReferencedImageSequence
    path = "(0072,0422)[0].(0008,1140)"
    assert _has(_errors(ds), "iod.type1-missing", path, "PS3.3 C.11.17"), _errors(ds)


def test_whole_slide_volume_has_no_specimen_label():
    """PS3.3 C.8.12.4: Specimen Label in Image NO for a VOLUME (or THUMBNAIL) image only."""
    ds = synthesize("1.2.840.10008.5.1.4.1.1.77.1.6")
    assert _errors(ds) == [] and ds.ImageType[2] == "VOLUME"
    ds.SpecimenLabelInImage = "YES"
    assert _has(_errors(ds), "iod.enumerated-value", "(0048,0010)", "PS3.3 C.8.12.4")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LABEL", "NONE"]
    assert not _has(_errors(ds), "iod.enumerated-value", "(0048,0010)", "PS3.3 C.8.12.4")


@pytest.mark.parametrize("uid,flag,value,tag,ref", [
    ("1.2.840.10008.5.1.4.1.1.80.1", "FovealSensitivityMeasured", "YES", "(0024,0087)",
     "PS3.3 C.8.26.4"),
    ("1.2.840.10008.5.1.4.1.1.80.1", "BlindSpotLocalized", "YES", "(0024,0107)",
     "PS3.3 C.8.26.4"),
    ("1.2.840.10008.5.1.4.1.1.80.1", "ScreeningBaselineMeasured", "YES", "(0024,0122)",
     "PS3.3 C.8.26.4"),
    ("1.2.840.10008.5.1.4.1.1.6.2", "UltrasoundAcquisitionGeometry", "APEX", "(0020,9308)",
     "PS3.3 C.8.24.2"),
    ("1.2.840.10008.5.1.4.1.1.77.1.6", "ExtendedDepthOfField", "YES", "(0048,0013)",
     "PS3.3 C.8.12.4"),
])
def test_value_conditions_the_parser_does_not_read(uid, flag, value, tag, ref):
    """'Required if the value for X is YES' / 'if value of X is APEX': the attribute is
    required once the flag says so (dciodvfy reported these on synthesized instances)."""
    ds = synthesize(uid)
    assert _errors(ds) == []
    setattr(ds, flag, value)
    assert _has(_errors(ds), "iod.type1-missing", tag, ref), _errors(ds)


def test_waveform_data_of_16_bit_samples_is_ow():
    """PS3.5 8.3 / A.1: Waveform Data with Waveform Bits Allocated 16 is OW."""
    ds = synthesize("1.2.840.10008.5.1.4.1.1.9.1.1")  # 12-lead ECG
    group = ds.WaveformSequence[0]
    assert group.WaveformBitsAllocated == 16 and group["WaveformData"].VR == "OW"
    assert _errors(ds) == []
    group["WaveformData"].VR = "OB"
    assert _has(_errors(ds), "pixel.vr", "(5400,0100)[0].(5400,1010)", "PS3.5 8.3")


def test_pseudo_color_presentation_state_palette():
    """PS3.3 C.7.9: descriptor bits 8 or 16; the LUT data present in a presentation state."""
    ds = synthesize("1.2.840.10008.5.1.4.1.1.11.3")
    assert _errors(ds) == []
    ds.GreenPaletteColorLookupTableDescriptor = [4, 0, 1]
    del ds.BluePaletteColorLookupTableData
    errors = _errors(ds)
    assert _has(errors, "iod.enumerated-value", "(0028,1102)", "PS3.3 C.7.9"), errors
    assert _has(errors, "iod.type1-missing", "(0028,1203)", "PS3.3 C.7.9"), errors

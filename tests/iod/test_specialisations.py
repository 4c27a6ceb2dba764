"""IOD-specific specialisations, pixel description consistency and geometry sanity: one
failing object per rule, and the specialisation that relaxes a rule (SC Modality)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod import synthesize, validate

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
US = "1.2.840.10008.5.1.4.1.1.6.1"
XA = "1.2.840.10008.5.1.4.1.1.12.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
PET = "1.2.840.10008.5.1.4.1.1.128"


def _errors(ds):
    return [(f.code, f.tag, f.reference) for f in validate(ds) if f.severity is Severity.ERROR]


@pytest.mark.parametrize("uid", [CT, MR, US, XA, SC, PET])
def test_synthesized_instance_is_clean(uid):
    assert _errors(synthesize(uid)) == []


@pytest.mark.parametrize("uid,keyword,value,ref", [
    (CT, "PhotometricInterpretation", "RGB", "PS3.3 C.8.2.1.1"),
    (MR, "SamplesPerPixel", 3, "PS3.3 C.8.3.1.1"),
    (US, "PixelRepresentation", 1, "PS3.3 C.8.5.6.1"),
    (XA, "PhotometricInterpretation", "MONOCHROME1", "PS3.3 C.8.7.1.1"),
    (PET, "PhotometricInterpretation", "MONOCHROME1", "PS3.3 C.8.9.4.1"),
])
def test_iod_specific_enumerated_value(uid, keyword, value, ref):
    ds = synthesize(uid)
    setattr(ds, keyword, value)
    errs = _errors(ds)
    assert any(code == "iod.enumerated-value" and r.startswith(ref) for code, _, r in errs), errs


def test_ct_bits_allocated_8_is_an_error():
    ds = synthesize(CT)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = b"\x00" * (ds.Rows * ds.Columns)
    ds["PixelData"].VR = "OB"
    ref = "PS3.3 C.8.2.1.1 (attribute descriptions of the IOD's image module)"
    assert ("iod.enumerated-value", "(0028,0100)", ref) in _errors(ds)


def test_image_type_value_3_per_iod():
    ds = synthesize(CT)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "SIDEWAYS"]
    warnings = [f.code for f in validate(ds) if f.severity is Severity.WARNING]
    assert "iod.defined-term" in warnings
    ds = synthesize(XA)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert any(c == "iod.enumerated-value" and t == "(0008,0008)" for c, t, _ in _errors(ds))


def test_image_type_values_1_and_2_are_enumerated():
    ds = synthesize(CT)
    ds.ImageType = ["ORIGINAL", "TERTIARY", "AXIAL"]
    assert ("iod.enumerated-value", "(0008,0008)", "PS3.3 C.7.6.1.1.2") in _errors(ds)


def test_high_bit_and_bits_stored_consistency():
    ds = synthesize(MR)
    ds.HighBit = 11
    assert ("pixel.high-bit", "(0028,0102)", "PS3.3 C.7.6.3.1 / PS3.5 8.1.1") in _errors(ds)
    ds = synthesize(SC)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 12, 11
    ds.PixelData = b"\x00" * (ds.Rows * ds.Columns)
    ds["PixelData"].VR = "OB"
    assert any(c == "pixel.bits-stored" for c, _, _ in _errors(ds))


def test_ob_pixel_data_with_16_bits_is_an_error():
    ds = synthesize(SC)
    assert ds.BitsAllocated == 16
    ds["PixelData"].VR = "OB"
    assert any(c == "pixel.vr" for c, _, _ in _errors(ds))


def test_sc_modality_is_optional():
    ds = synthesize(SC)
    del ds.Modality
    assert _errors(ds) == []
    ds = synthesize(CT)
    del ds.Modality
    assert any(c == "iod.type1-missing" and t == "(0008,0060)" for c, t, _ in _errors(ds))


def test_orientation_must_be_orthonormal_and_spacing_positive():
    ds = synthesize(CT)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 2, 0]
    ds.PixelSpacing = [0, 1]
    codes = {c for c, _, _ in _errors(ds)}
    assert {"geometry.orientation-not-unit", "geometry.pixel-spacing"} <= codes
    ds.ImageOrientationPatient = [1, 0, 0, 1, 0, 0]
    assert "geometry.orientation-not-orthogonal" in {c for c, _, _ in _errors(ds)}


def test_standard_attribute_outside_the_iod_is_a_warning():
    ds = synthesize(SC)
    ds.KVP = "120"  # CT/X-ray acquisition attribute: no module of the SC Image IOD has it
    found = [(f.code, f.tag, f.severity) for f in validate(ds)
             if f.code == "iod.attribute-not-in-iod"]
    assert found == [("iod.attribute-not-in-iod", "(0018,0060)", Severity.WARNING)]
    assert _errors(ds) == []


def test_presentation_intent_follows_the_sop_class():
    ds = synthesize("1.2.840.10008.5.1.4.1.1.1.1.1")  # DX For Processing
    assert ds.PresentationIntentType == "FOR PROCESSING" and _errors(ds) == []
    ds.PresentationIntentType = "FOR PRESENTATION"
    assert any(c == "iod.enumerated-value" and t == "(0008,0068)" for c, t, _ in _errors(ds))


def test_patient_position_condition_names_sop_classes():
    ds = synthesize(CT)
    del ds.PatientPosition
    assert ("iod.type2-missing", "(0018,5100)") in {(c, t) for c, t, _ in _errors(ds)}
    ds = synthesize(SC)
    if "PatientPosition" in ds:
        del ds.PatientPosition
    assert _errors(ds) == []  # not required for SC
    ds = synthesize(CT)
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "F-10440", "SRT", "erect"
    ds.PatientOrientationCodeSequence = [item]
    assert ("iod.present-when-condition-false", "(0018,5100)") in \
        {(c, t) for c, t, _ in _errors(ds)}


def test_patient_orientation_required_where_no_orientation_is():
    ds = synthesize(SC)
    if "PatientOrientation" in ds:
        del ds.PatientOrientation
    assert ("iod.type2-missing", "(0020,0020)") in {(c, t) for c, t, _ in _errors(ds)}
    # one finding: the condition is decided, not also called "cannot be evaluated"
    assert [f.code for f in validate(ds) if f.tag == "(0020,0020)"] == ["iod.type2-missing"]
    ds.PatientOrientation = None  # type 2: present and empty is enough
    assert _errors(ds) == []
    ds = synthesize(CT)  # Image Plane Module: Image Orientation (Patient) is required
    if "PatientOrientation" in ds:
        del ds.PatientOrientation
    assert ("iod.type2-missing", "(0020,0020)") not in {(c, t) for c, t, _ in _errors(ds)}
    # ... and its condition is false there, not "cannot be evaluated" (no finding at all)
    assert [f.code for f in validate(ds) if f.tag == "(0020,0020)"] == []


def test_patient_position_is_judged_by_its_rule_not_called_unverifiable():
    """The rule decides the 2C condition both ways: the module check no longer reports it
    as not verifiable (the pinned tables have no text for it)."""
    def about(ds):
        return [(f.code, f.severity) for f in validate(ds) if f.tag == "(0018,5100)"]

    sc = synthesize(SC)
    if "PatientPosition" in sc:
        del sc.PatientPosition
    assert about(sc) == []
    ct = synthesize(CT)
    del ct.PatientPosition
    assert about(ct) == [("iod.type2-missing", Severity.ERROR)]
    ct.PatientPosition = "HFS"
    assert about(ct) == []

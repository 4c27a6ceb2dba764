"""Condition forms of PS3.3 parsed exactly (issue 14, "where the rules come from"): each form
with the standard's own sentence, and a near miss that must stay unparsed (None: "not
verifiable"), because a wrong parse is a false alarm on real files."""

from __future__ import annotations

import pytest

from conformance.standard.condition_text import parse_condition
from conformance.standard.conditions import evaluate

CT_LEGACY = "1.2.840.10008.5.1.4.1.1.2.2"
MR_LEGACY = "1.2.840.10008.5.1.4.1.1.4.4"


def _nonzero(tag: int) -> list:
    return ["or", ["gt", tag, None, 0.0], ["lt", tag, None, 0.0]]


@pytest.mark.parametrize("text, expected", [
    # "A, or if B": alternatives mixing clause kinds (C.7.6.3 ICC Profile, C.18.8 ...)
    ("Required if Photometric Interpretation (0028,0004) is not MONOCHROME2, or if Palette "
     "Color Lookup Table Sequence (0048,0120) is present",
     ["or", ["ne", 0x00280004, None, ["MONOCHROME2"]], ["present", 0x00480120]]),
    ("Required if Filter-by Category (0072,0402) is present, or if Selector Attribute "
     "(0072,0026) is present and Filter-by Attribute Presence (0072,0404) is not present",
     ["or", ["present", 0x00720402], ["and", ["present", 0x00720026],
                                      ["absent", 0x00720404]]]),
    ("Required if Sequence Variant (0018,0021) is SK or if Scanning Sequence (0018,0020) is "
     "not EP. May be present otherwise",
     ["or", ["eq", 0x00180021, None, ["SK"]], ["ne", 0x00180020, None, ["EP"]]]),
    # "and if"
    ("Required if the value of Image Box Layout Type (0072,0304) is CINE and if Cine Relative "
     "to Real-Time (0072,0330) is not present",
     ["and", ["eq", 0x00720304, None, ["CINE"]], ["absent", 0x00720330]]),
    # a list of attributes sharing one predicate
    ("Required if Referenced Presentation State Sequence (0008,9237), Referenced Instance "
     "Sequence (0008,114A), and Referenced Image Sequence (0008,1140) are not present",
     ["and", ["absent", 0x00089237], ["absent", 0x0008114A], ["absent", 0x00081140]]),
    ("Required if Temporal Range Type (0040,A130) is present, and if Referenced Time Offsets "
     "(0040,A138) and Referenced DateTime (0040,A13A) are not present",
     ["and", ["present", 0x0040A130], ["absent", 0x0040A138], ["absent", 0x0040A13A]]),
    ("Required if either Exposure Time in ms (0018,9328) or X-Ray Tube Current in mA "
     "(0018,9330) is not present. May be present otherwise",
     ["or", ["absent", 0x00189328], ["absent", 0x00189330]]),
    # "May be present otherwise" without punctuation, ", may be present otherwise"
    ("Required if Modality (0008,0060) = IVUS May be present otherwise",
     ["eq", 0x00080060, None, ["IVUS"]]),
    # UIDs: quoted with a comment, bare with a comment, after their PS3.6 name
    ('Required if SOP Class UID is not "1.2.840.10008.5.1.4.1.1.2.2" (Legacy Converted), '
     "may be present otherwise", ["ne", 0x00080016, None, [CT_LEGACY]]),
    ('Required if Image Type (0008,0008) Value 1 is ORIGINAL or MIXED and SOP Class UID is not '
     '"1.2.840.10008.5.1.4.1.1.4.4" (Legacy Converted). May be present otherwise',
     ["and", ["eq", 0x00080008, 0, ["ORIGINAL", "MIXED"]],
      ["ne", 0x00080016, None, [MR_LEGACY]]]),
    ("Required if the value of SOP Class UID (0008,0016) equals 1.2.840.10008.5.1.4.1.1.200.2 "
     "(CT Performed Procedure Protocol Storage)",
     ["eq", 0x00080016, None, ["1.2.840.10008.5.1.4.1.1.200.2"]]),
    ('Required if SOP Class UID (0008,0016) equals "1.2.840.10008.5.1.4.1.1.12.1.1" or '
     '"1.2.840.10008.5.1.4.1.1.12.2.1". May be present otherwise',
     ["eq", 0x00080016, None, ["1.2.840.10008.5.1.4.1.1.12.1.1",
                               "1.2.840.10008.5.1.4.1.1.12.2.1"]]),
    ('Required if Referenced SOP Class UID (0008,1150) is Spatial Fiducials Storage '
     '("1.2.840.10008.5.1.4.1.1.66.2")', ["eq", 0x00081150, None,
                                          ["1.2.840.10008.5.1.4.1.1.66.2"]]),
    # a value with its meaning
    ("Required if Conversion Type (0008,0064) is DF (Digitized Film)",
     ["eq", 0x00080064, None, ["DF"]]),
    # "Value 3 of X", "value 3", "contains the value", "is:"
    ("Required if Value 3 of Image Type (0008,0008) is PORTAL, SIMULATOR or RADIOGRAPH",
     ["eq", 0x00080008, 2, ["PORTAL", "SIMULATOR", "RADIOGRAPH"]]),
    ("Required if Attribute Image Type (0008,0008) value 3 is RETINAL_THICK",
     ["eq", 0x00080008, 2, ["RETINAL_THICK"]]),
    ("Required if Image Type (0008,0008) Value 3 contains the value WHOLE BODY",
     ["eq", 0x00080008, 2, ["WHOLE BODY"]]),
    ("Required if Image Type (0008,0008) Value 3 is: WHOLE BODY or STATIC",
     ["eq", 0x00080008, 2, ["WHOLE BODY", "STATIC"]]),
    # "is present with a value of", "is present and is either", "is set to"
    ("Required if Partial View (0028,1350) is present with a value of YES",
     ["eq", 0x00281350, None, ["YES"]]),
    ("Required if Performed Protocol Type (0040,0261) is present with value STAGED",
     ["eq", 0x00400261, None, ["STAGED"]]),
    ("Required if the value of Ophthalmic Axial Length Measurements Type (0022,1010) is present "
     "and is either TOTAL LENGTH or LENGTH SUMMATION. May be present otherwise",
     ["eq", 0x00221010, None, ["TOTAL LENGTH", "LENGTH SUMMATION"]]),
    ("Required if Ophthalmic Volumetric Properties Flag (0022,1622) is set to YES. May be "
     "present otherwise", ["eq", 0x00221622, None, ["YES"]]),
    ("Required if Dimension Organization Type (0020,9311) is absent or not TILED_FULL. May be "
     "present otherwise", ["or", ["absent", 0x00209311], ["ne", 0x00209311, None,
                                                         ["TILED_FULL"]]]),
    # "equals other than"
    ("Required if Respiratory Motion Compensation Technique (0018,9170) equals other than "
     "NONE, REALTIME or BREATH_HOLD. May be present otherwise",
     ["ne", 0x00189170, None, ["NONE", "REALTIME", "BREATH_HOLD"]]),
    # numbers: non-zero, greater than zero, more than
    ("Required if Number of Wedges (300A,00D0) is non-zero", _nonzero(0x300A00D0)),
    ("Required if Number of Blocks (300A,00F0) is present and has a non-zero value",
     _nonzero(0x300A00F0)),
    ("Required if Number of Assessment Observations (0082,0006) is not zero",
     _nonzero(0x00820006)),
    ("Required if Number of Beams (300A,0080) is greater than zero",
     ["gt", 0x300A0080, None, 0.0]),
    ("Required if Data Point Rows (0028,9001) has a value of more than 1",
     ["gt", 0x00289001, None, 1.0]),
    ("Required if Number of Block Slab Items (300A,0440) is present and has a value greater "
     "than 1", ["gt", 0x300A0440, None, 1.0]),
    # value length
    ("Required if Material ID (300A,00E1) is zero length", ["empty", 0x300A00E1]),
    ("Required if Material ID (300A,00E1) is non-zero length, and Compensator Mounting "
     "Position (300A,02E1) is DOUBLE_SIDED",
     ["and", ["nonempty", 0x300A00E1], ["eq", 0x300A02E1, None, ["DOUBLE_SIDED"]]]),
    ("Required if value Transfer Tube Number (300A,02A2) is non-null", ["nonempty", 0x300A02A2]),
    # a shortened attribute name next to its tag (Fiducial Identifier, Scan Options)
    ("Required if Identifier (0070,0310) is absent. May be present otherwise",
     ["absent", 0x00700310]),
    ("Required if Scan Option (0018,0022) is TOMO", ["eq", 0x00180022, None, ["TOMO"]]),
    # the standard's slip "Required if Required if"
    ("Required if Required if Image Type (0008,0008) Value 1 is ORIGINAL or MIXED and Geometry "
     "of k-Space Traversal (0018,9032) equals RECTILINEAR",
     ["and", ["eq", 0x00080008, 0, ["ORIGINAL", "MIXED"]],
      ["eq", 0x00189032, None, ["RECTILINEAR"]]]),
    # "a value of", "the third value of", "and Value 3 is not any of"
    ("Required if a value of Collimator Shape (0018,1700) is CIRCULAR",
     ["eq", 0x00181700, None, ["CIRCULAR"]]),
    ("Required if the third value of Image Type (0008,0008) is FLUENCE",
     ["eq", 0x00080008, 2, ["FLUENCE"]]),
    ("Required if Image Type (0008,0008) Value 4 is TRANSMISSION and Value 3 is not any of "
     "TOMO, GATED TOMO, RECON TOMO or RECON GATED TOMO",
     ["and", ["eq", 0x00080008, 3, ["TRANSMISSION"]],
      ["ne", 0x00080008, 2, ["TOMO", "GATED TOMO", "RECON TOMO", "RECON GATED TOMO"]]]),
    # what PS3.5 7.4.4 says anyway; an informative Note
    ("Required if Presentation Intent Type (0008,0068) is FOR PRESENTATION. Shall not be "
     "present otherwise. See Note 8.", ["eq", 0x00080068, None, ["FOR PRESENTATION"]]),
    ("Required if Extended Depth of Field (0048,0012) value is YES Note Total Pixel Matrix "
     "Focal Planes (0048,0303) describes the number of focal planes separately encoded",
     ["eq", 0x00480012, None, ["YES"]]),
    # a top-level attribute named with its module
    ("Required if Pixel Presentation (0008,9205) in the Parametric Map image Module equals "
     "COLOR_RANGE and Palette Color Lookup Table UID (0028,1199) is not present.",
     ["and", ["eq", 0x00089205, None, ["COLOR_RANGE"]], ["absent", 0x00281199]]),
    # names beginning with a digit; "value is not", "Attribute value is", "is of Value"
    ("Required if 2D Line Coordinates Sequence (0068,65A0) is not present and Implant Template "
     "3D Model Surface Number (0068,6350) is present",
     ["and", ["absent", 0x006865A0], ["present", 0x00686350]]),
    ("Required if Shadow Style (0070,0244) value is not OFF", ["ne", 0x00700244, None, ["OFF"]]),
    ("Required if the Optotype (0046,0094) Attribute value is LETTERS or NUMBERS or PICTURES",
     ["eq", 0x00460094, None, ["LETTERS", "NUMBERS", "PICTURES"]]),
    ("Required if the Directory Record Type (0004,1430) is of Value PRIVATE",
     ["eq", 0x00041430, None, ["PRIVATE"]]),
    # "A and either B or C"; "any value of"
    ("Required if Pixel Padding Range Limit (0028,0121) is present and either Pixel Data "
     "(7FE0,0010) or Pixel Data Provider URL (0028,7FE0) is present. May be present otherwise",
     ["and", ["present", 0x00280121], ["or", ["present", 0x7FE00010],
                                      ["present", 0x00287FE0]]]),
    ("Required if Global Crop (0070,120B) or any value of Crop (0070,1204) is YES",
     ["or", ["eq", 0x0070120B, None, ["YES"]], ["eq", 0x00701204, None, ["YES"]]]),
    # the tag's own words in another order (the standard's slip, PS3.3 C.7.1.1)
    ("Required if either Patient's Birth Date in Alternative Calendar (0010,0033) or Patient's "
     "Alternative Death Date in Calendar (0010,0034) is present",
     ["or", ["present", 0x00100033], ["present", 0x00100034]]),
])
def test_form_parses(text, expected):
    assert parse_condition(text) == expected


@pytest.mark.parametrize("text", [
    # a fact in one alternative: the whole condition stays unparsed
    "Required if Photometric Interpretation (0028,0004) is not MONOCHROME2, or if the image "
    "has been calibrated",
    "Required if Ophthalmic Photography Reference Image available or if Ophthalmic Volumetric "
    "Properties Flag (0022,1622) is YES. May be present otherwise.",
    # a list with no word after it: the join is unknown
    "Required if Referenced Image Sequence (0008,1140), Referenced Instance Sequence "
    "(0008,114A) are not present",
    # a list whose last member is not an attribute
    "Required if Date (0040,A121), Time (0040,A122), Person Name (0040,A123), Text Value "
    "(0040,A160), and the pair of Numeric Value (0040,A30A) and Measurement Units Code "
    "Sequence (0040,08EA) are not present",
    # a UID after a name that is not its PS3.6 name
    'Required if Referenced SOP Class UID (0008,1150) is Segmentation Storage '
    '("1.2.840.10008.5.1.4.1.1.66.2")',
    # an explanation of more than one value, or of an unknown kind
    "Required if Conversion Type (0008,0064) is DF or DI (Digitized)",
    "Required if Pixel Component Organization = Bit aligned",
    # frame-level attributes (Functional Group Macros), which the look-up does not see
    "Required if either Image Position (Patient) (0020,0032) or Image Orientation (Patient) "
    "(0020,0037) is present",
    # (with "of this frame" they parse as ["frame", ...]: see the last test)
    # the value of a sequence is its Items, not seen by the look-up
    "Required if Segmented Property Category Code Sequence (0062,0003) has a value",
    # more words than the (short) attribute name
    "Required if Delivery Type (300A,00CE) is CONTINUATION and one or more channels of any "
    "Application Setup are omitted",
    "Required if Number of RT Beam Limiting Device Openings (300A,0657) is present and has a "
    "non-zero value and the conditions in Section C.36.2.2.5.1.1 are satisfied",
    "Required if Number of Frames is greater than 1, overriding (specializing) the Type 1 "
    "requirement on this Attribute in the Multi-frame Module",
    "Required if Data Path Assignment (0028,1402) is present and there exists any value other "
    "than PRIMARY_PVALUES",
    # "shall not be present" on another condition than the first one's negation
    "Required if RT Fraction Scheme Module exists and Number of Beams (300A,0080) is greater "
    "than zero for one or more fraction groups. Shall not be present, if RT Brachy "
    "Application Setups Module is present. May be present otherwise.",
    # presence in a module, not an attribute of a module
    "Required if Graphic Layer (0070,0002) is present in the Volumetric Graphic Annotation "
    "Module or Graphic Annotation Module",
    "Required if the fifth value of Image Type (0008,0008) is FLUENCE",
    # a name that is not the tag's: the tag is not trusted
    "Required if either Patient's Birth Date in Alternative Calendar (0010,0033) or Patient's "
    "Alternative Birth Date in Calendar (0010,0034) is present",
    # "and either" whose right side is not an alternative
    "Required if Pixel Padding Range Limit (0028,0121) is present and either Pixel Data "
    "(7FE0,0010) is present",
    # mixed "and"/"or" without "if" or "either": the grouping is not written
    "Required if the value of Image Box Layout Type (0072,0304) is TILED, and the value of "
    "Image Box Tile Horizontal Dimension (0072,0306) or Image Box Tile Vertical Dimension "
    "(0072,0308) is greater than 1",
])
def test_near_miss_stays_unparsed(text):
    assert parse_condition(text) is None


def test_empty_and_nonzero_evaluate_on_the_data():
    values = {0x300A00E1: [], 0x300A00D0: ["0"], 0x300A00F0: ["2"]}
    look = values.get
    assert evaluate(["empty", 0x300A00E1], look) is True
    assert evaluate(["empty", 0x300A02E1], look) is False  # absent is not zero length
    assert evaluate(_nonzero(0x300A00D0), look) is False
    assert evaluate(_nonzero(0x300A00F0), look) is True
    ne_absent = parse_condition("Required if Dimension Organization Type (0020,9311) is absent "
                                "or not TILED_FULL. May be present otherwise")
    assert ne_absent is not None
    assert evaluate(ne_absent, {}.get) is True
    assert evaluate(ne_absent, {0x00209311: ["TILED_FULL"]}.get) is False
    assert evaluate(ne_absent, {0x00209311: ["3D"]}.get) is True


@pytest.mark.parametrize("text, expected", [
    ("Required if Frame Increment Pointer (0028,0009) is Frame Time (0018,1063) or Frame Time "
     "Vector (0018,1065)", ["tag", 0x00280009, [0x00181063, 0x00181065]]),
    ("Required if Frame Increment Pointer (0028,0009) points to Frame Time",
     ["tag", 0x00280009, [0x00181063]]),
    ("Required if the value of Frame Increment Pointer (0028,0009) includes the Tag for "
     "Energy Window Vector (0054,0010)", ["tag", 0x00280009, [0x00540010]]),
    ("Required if the Frame Increment Pointer (0028,0009) contains the Tag for Phase Vector "
     "(0054,0030)", ["tag", 0x00280009, [0x00540030]]),
    # near misses: a fact before the pointer, a tag that is not the one named
    ("Required if multi-frame pixel data are present and Frame Increment Pointer (0028,0009) "
     "points to Grid Frame Offset Vector (3004,000C)", None),
    ("Required if Frame Increment Pointer (0028,0009) points to Frame Time (0018,1065)", None),
    ("Required if Frame Increment Pointer (0028,0009) points to Frame Times", None),
])
def test_pointer_to_attribute(text, expected):
    assert parse_condition(text) == expected


def test_pointer_evaluates_tags_and_not_undecoded_bytes():
    expr = ["tag", 0x00280009, [0x00181063, 0x00181065]]
    assert evaluate(expr, {0x00280009: ["(0018,1065)"]}.get) is True
    assert evaluate(expr, {0x00280009: ["(0054,0010)", "(0054,0020)"]}.get) is False
    assert evaluate(expr, {0x00280009: [str(0x00181063)]}.get) is True
    assert evaluate(expr, {}.get) is False
    # a value the look-up could not decode: cannot tell, never a guess
    assert evaluate(expr, {0x00280009: ["<binary>"]}.get) is None



def test_frame_increment_pointer_conditions_are_decided_from_the_raw_at_value(tmp_path):
    """Raw AT values read from a file are (group, element) pairs (PS3.5 6.2): "Frame
    Increment Pointer (0028,0009) points to Frame Time" is then decided, not "not
    verifiable", and Frame Time absent while pointed to is a type 1C error."""
    from conformance.iod import synthesize, validate_file
    from conformance.iod.elements import values_of

    ds = synthesize("1.2.840.10008.5.1.4.1.1.77.1.1.1")     # Video Endoscopic Image
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = "40"
    path = tmp_path / "video.dcm"
    ds.save_as(path, enforce_file_format=True)
    found = validate_file(path)
    assert not [f for f in found if f.tag == "(0018,1063)"], found
    import pydicom
    raw = pydicom.dcmread(path)
    assert values_of(raw, 0x00280009) == ["(0018,1063)"]
    del ds.FrameTime
    ds.save_as(path, enforce_file_format=True)
    missing = [f for f in validate_file(path) if f.tag == "(0018,1063)"]
    assert [f.code for f in missing] == ["iod.type1-missing"], missing


def test_of_this_frame_is_evaluated_per_frame_and_only_with_frames():
    """"Frame Type (0008,9007) Value 1 of this frame is ORIGINAL" (the MR and CT Functional
    Group Macros, PS3.3 C.8.13.5, C.8.15.3): the clause reads the frame's macros."""
    expr = parse_condition("Required if Frame Type (0008,9007) Value 1 of this frame is "
                           "ORIGINAL and Inversion Recovery (0018,9009) equals YES")
    frame_clause = ["frame", ["eq", 0x00089007, 0, ["ORIGINAL"]]]
    assert expr == ["and", frame_clause, ["eq", 0x00189009, None, ["YES"]]]
    # Frame Type without "of this frame" stays unparsed: a look-up in the Item and the top
    # level would not see it.
    assert parse_condition("Required if Frame Type (0008,9007) Value 1 is ORIGINAL") is None

    def item(tag: int) -> list[str] | None:
        return {0x00189009: ["YES"]}.get(tag)

    assert evaluate(expr, item) is None  # no frame context: cannot tell

    def views(values: list[str | None]):
        # what ModuleChecker._frames gives: {tag: values} per frame, None if one lacks a tag
        def frames(tags: frozenset[int]) -> list[dict[int, list[str]]] | None:
            assert tags == {0x00089007}
            return None if None in values else [{0x00089007: [v]} for v in values if v]
        return frames

    for frames, expected in [(["ORIGINAL"], True), (["DERIVED"], False),
                             (["DERIVED", "ORIGINAL"], True),  # shared: any frame
                             (["DERIVED", None], None)]:       # a frame without Frame Type
        item.frames = views(frames)  # type: ignore[attr-defined]
        assert evaluate(expr, item) is expected, frames

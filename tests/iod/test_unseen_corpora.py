"""False alarms found by comparing with dciodvfy on public files the team had never validated
(issue 14: nibabel, heudiconv, dicompyler-core, pynetdicom, dicognito, Debian's octave-dicom
and dicomscope test files; ``bin/agree_dciodvfy.py FOLDER``).  Each fix: an object showing the
old false alarm, a minimal valid object that stays clean, and the real error still found."""

from __future__ import annotations

import warnings

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from conformance.findings import Severity
from conformance.iod import synthesize, validate

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
REFERENCED_IMAGE_EVIDENCE = "(0008,9092)"
SOURCE_IMAGE_EVIDENCE = "(0008,9154)"


def _errors(ds: Dataset) -> list[tuple[str, str | None]]:
    return [(f.code, f.tag) for f in validate(ds) if f.severity is Severity.ERROR]


def _sop_ref(uid: str = "1.2.3.4.5") -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = ENHANCED_MR
    item.ReferencedSOPInstanceUID = uid
    return item


def _evidence(ds: Dataset) -> Sequence:
    """A Hierarchical SOP Instance Reference Macro item (PS3.3 C.17.2.1) for one instance."""
    series = Dataset()
    series.SeriesInstanceUID = "1.2.3.4"
    series.ReferencedSOPSequence = [_sop_ref()]
    study = Dataset()
    study.StudyInstanceUID = ds.StudyInstanceUID
    study.ReferencedSeriesSequence = [series]
    return Sequence([study])


def _in_shared(ds: Dataset, keyword: str, value: Sequence) -> None:
    setattr(ds.SharedFunctionalGroupsSequence[0], keyword, value)


@pytest.mark.parametrize("uid", [ENHANCED_MR, ENHANCED_CT])
def test_referenced_image_evidence_with_the_reference_in_functional_groups(uid):
    """PS3.3 C.8.13 / C.8.15.2: Referenced Image Evidence Sequence is required if Referenced
    Image Sequence is present; in the enhanced IODs that sequence lives in the Referenced Image
    Functional Group Macro (C.7.6.16.2.5).  Was: 'present although its condition is false'
    (nibabel's philips_mprage.dcm)."""
    ds = synthesize(uid)
    assert _errors(ds) == []
    _in_shared(ds, "ReferencedImageSequence", Sequence([_sop_ref()]))
    # the reference without its evidence: now required, so a real error
    assert ("iod.type1-missing", REFERENCED_IMAGE_EVIDENCE) in _errors(ds)
    ds.ReferencedImageEvidenceSequence = _evidence(ds)
    assert _errors(ds) == []


def test_source_image_evidence_with_the_source_in_per_frame_derivation():
    """PS3.3 C.8.13: Source Image Evidence Sequence is required if Source Image Sequence is
    present; that sequence lives inside Derivation Image Sequence of the Derivation Image
    Functional Group Macro (C.7.6.16.2.6), here per frame.  Was a false alarm on heudiconv's
    MRI_102TD_PHA_S.MR...dcm."""
    ds = synthesize(ENHANCED_MR)
    assert _errors(ds) == []
    derivation = Dataset()
    derivation.SourceImageSequence = [_sop_ref()]
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = (
        "113076", "DCM", "Segmentation")
    derivation.DerivationCodeSequence = [code]
    for item in ds.PerFrameFunctionalGroupsSequence:
        item.DerivationImageSequence = [derivation]
    ds.SourceImageEvidenceSequence = _evidence(ds)
    assert (("iod.present-when-condition-false", SOURCE_IMAGE_EVIDENCE)
            not in _errors(ds)), _errors(ds)
    del ds.SourceImageEvidenceSequence
    assert ("iod.type1-missing", SOURCE_IMAGE_EVIDENCE) in _errors(ds)


def test_evidence_without_any_reference_is_still_reported():
    """The condition is false when no Referenced Image Sequence is anywhere: the evidence
    sequence must then be absent (PS3.5 7.4.4, no 'may be present otherwise')."""
    ds = synthesize(ENHANCED_MR)
    ds.ReferencedImageEvidenceSequence = _evidence(ds)
    assert ("iod.present-when-condition-false", REFERENCED_IMAGE_EVIDENCE) in _errors(ds)


def test_private_sequence_in_shared_and_per_frame_groups_is_not_a_macro():
    """PS3.3 C.7.6.16.1: the Functional Group Macros (those the IOD's macro table permits) are
    in the Shared or the Per-frame Functional Groups Sequence, not both; a private sequence in
    both (Philips (2005,xx14) in nibabel's philips_mprage.dcm) is no macro: no error.  A
    standard macro in both stays an error."""
    ds = synthesize(ENHANCED_MR)
    private = Dataset()
    private.add_new(0x20050010, "LO", "Philips MR Imaging DD 005")
    private.add_new(0x20051014, "SQ", Sequence([Dataset()]))
    for item in [ds.SharedFunctionalGroupsSequence[0], *ds.PerFrameFunctionalGroupsSequence]:
        item.add_new(0x20050010, "LO", "Philips MR Imaging DD 005")
        item.add_new(0x20051014, "SQ", Sequence([Dataset()]))
    assert [e for e in _errors(ds) if e[0].startswith("iod.functional-group")] == []
    shared = ds.SharedFunctionalGroupsSequence[0]
    macro = next(t for t in ds.PerFrameFunctionalGroupsSequence[0].keys() if t.group % 2 == 0)
    shared[macro] = ds.PerFrameFunctionalGroupsSequence[0][macro]
    assert any(c == "iod.functional-group-shared-and-per-frame" for c, _ in _errors(ds))


def _with_meta(ds: Dataset) -> Dataset:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    meta.ImplementationVersionName = "UNSEEN_1"
    ds.file_meta = meta
    return ds


def test_file_meta_values_are_checked_against_their_vr():
    """PS3.10 7.1, PS3.5 9.1: the File Meta Information's values obey the VR rules too; a
    Media Storage SOP Instance UID with a leading zero in a component was not reported
    (dciodvfy does; octave-dicom's rtstruct.dcm, pynetdicom's RTImageStorage.dcm)."""
    ds = _with_meta(synthesize(ENHANCED_CT))
    assert [e for e in _errors(ds) if e[1] and e[1].startswith("(0002")] == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the invalid UID it is given
        ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.9.5208.0089"
    assert ("vr.invalid-uid", "(0002,0003)") in _errors(ds)


def test_file_meta_padding_is_checked_from_the_bytes(tmp_path):
    """PS3.5 6.2 / 9.1: an SH of the File Meta Information padded with NUL (pydicom's
    no_meta_group_length.dcm, which dciodvfy flags) and a UI padded with a space."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    from conformance.iod.identity import file_meta_values

    def found(tag: int, vr: str, value: bytes) -> list[tuple[str, str]]:
        meta = Dataset()
        meta._dict[Tag(tag)] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)
        out: list[tuple[str, str]] = []
        file_meta_values(lambda code, sev, msg, ref, tag_: out.append((code, tag_)), meta)
        return out

    assert found(0x00020013, "SH", b"PYDICOM\x00") == [("vr.nul-padding", "(0002,0013)")]
    assert found(0x00020013, "SH", b"PYDICOM ") == []
    assert found(0x00020010, "UI", b"1.2.840.10008.1.2 ") == [("vr.invalid-padding", "(0002,0010)")]
    assert found(0x00020010, "UI", b"1.2.840.10008.1.2\x00") == []


def _fg_items(ds: Dataset) -> list[Dataset]:
    return [ds.SharedFunctionalGroupsSequence[0], *ds.PerFrameFunctionalGroupsSequence]


def test_direction_cosines_inside_functional_groups():
    """PS3.3 C.7.6.2.1.1 and the macros that refer to it (Plane Orientation (Patient)
    C.7.6.16.2.4, MR Spatial Saturation C.8.13.5.11, MR Velocity Encoding C.8.13.5.13):
    direction cosines are unit vectors.  dciodvfy reported Slab Orientation 0\\0\\0 in
    nibabel's philips_mprage.dcm; we checked Image Orientation (Patient) at the top level
    only."""
    ds = synthesize(ENHANCED_MR)
    assert _errors(ds) == []
    saturation = Dataset()
    saturation.SlabThickness = 10.0
    saturation.SlabOrientation = [0.0, 0.0, 1.0]
    saturation.MidSlabPosition = [0.0, 0.0, 0.0]
    ds.SharedFunctionalGroupsSequence[0].MRSpatialSaturationSequence = [saturation]
    assert _errors(ds) == []
    saturation.SlabOrientation = [0.0, 0.0, 0.0]
    assert ("geometry.orientation-not-unit",
            "(5200,9229)[0].(0018,9107)[0].(0018,9105)") in _errors(ds)


def test_image_orientation_in_plane_orientation_macro():
    ds = synthesize(ENHANCED_MR)
    items = [i for i in _fg_items(ds) if "PlaneOrientationSequence" in i]
    assert items, "the synthesized Enhanced MR has a Plane Orientation (Patient) macro"
    orientation = items[0].PlaneOrientationSequence[0]
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    assert _errors(ds) == []
    orientation.ImageOrientationPatient = [1, 0, 0, 1, 0, 0]  # unit but parallel
    assert any(c == "geometry.orientation-not-unit" and t and t.endswith("(0020,0037)")
               for c, t in _errors(ds)), _errors(ds)


US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def _palette_us(segmented: bool) -> Dataset:
    """A US image with PALETTE COLOR: descriptors and either plain or segmented LUT data."""
    ds = synthesize(US_IMAGE)
    ds.PhotometricInterpretation = "PALETTE COLOR"
    for n, colour in enumerate(("Red", "Green", "Blue")):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        if segmented:  # one linear segment (PS3.3 C.7.9.2): opcode 1, length 256, end value
            ds.add_new(0x00281221 + n, "OW", b"\x01\x00\x00\x01\xff\xff")
        else:
            ds.add_new(0x00281201 + n, "OW", bytes(512))
    return ds


def test_palette_module_present_through_shared_attributes():
    """PS3.3 A.6.4 / C.7.9: the Palette Color Lookup Table Module is required for PALETTE
    COLOR; its descriptors and data are also Image Pixel Module attributes (C.7.6.3), so a
    file carrying them all has the module.  Was 'conditional module ... required but absent'
    on pydicom's examples_palette.dcm and pydicom-data's OBXXXX1A*.dcm."""
    ds = _palette_us(segmented=False)
    assert _errors(ds) == []
    del ds.RedPaletteColorLookupTableDescriptor
    assert ("iod.type1-missing", "(0028,1101)") in _errors(ds)


def test_segmented_palette_data_take_precedence_over_image_pixel():
    """PS3.3 C.7.9: when the Palette Color Lookup Table Module is present, its conditions for
    the (segmented) LUT data take precedence over the Image Pixel Module's: segmented data
    alone is valid.  Was 'type 1C Red Palette Color Lookup Table Data missing' on
    pydicom-data's gdcm-US-ALOKA-16.dcm.  Neither plain nor segmented data stays an error."""
    ds = _palette_us(segmented=True)
    assert _errors(ds) == []
    for tag in (0x00281221, 0x00281222, 0x00281223):
        del ds[tag]
    assert ("iod.type1-missing", "(0028,1201)") in _errors(ds)


CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"
OPHTHALMIC_THICKNESS_MAP = "1.2.840.10008.5.1.4.1.1.81.1"
PIXEL_ASPECT_RATIO = ("iod.present-when-condition-false", "(0028,0034)")


def test_pixel_aspect_ratio_only_when_its_condition_holds():
    """PS3.3 C.7.6.3: Pixel Aspect Ratio 1C is required if the ratio is not 1:1 and no Pixel
    Spacing, Imager Pixel Spacing or Nominal Scanned Pixel Spacing gives the physical
    spacing; no 'may be present otherwise', so present otherwise is an error (PS3.5 7.4.4).
    dciodvfy reported it on nibabel's siemens_dwi_*.dcm, 0.dcm, 1.dcm; we could not
    evaluate the condition."""
    ds = synthesize(SC_IMAGE)
    assert _errors(ds) == []
    for keyword in ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing"):
        ds.pop(keyword, None)
    ds.PixelAspectRatio = [2, 1]
    assert _errors(ds) == []
    ds.PixelAspectRatio = [1, 1]
    assert PIXEL_ASPECT_RATIO in _errors(ds)
    ct = synthesize(CT_IMAGE)
    assert "PixelSpacing" in ct
    ct.PixelAspectRatio = [2, 1]
    assert PIXEL_ASPECT_RATIO in _errors(ct)


def test_pixel_aspect_ratio_type_1_in_an_iod_module_is_not_judged():
    """PS3.3 C.8.28.2 (Ophthalmic Thickness Map Module): Pixel Aspect Ratio is type 1 there,
    not the Image Pixel Module's 1C."""
    ds = synthesize(OPHTHALMIC_THICKNESS_MAP)
    ds.PixelAspectRatio = [1, 1]
    assert PIXEL_ASPECT_RATIO not in _errors(ds)
    del ds.PixelSpacing
    assert PIXEL_ASPECT_RATIO not in _errors(ds)


DX_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"


def test_window_and_voi_lut_sequence_together_in_dx():
    """PS3.3 C.8.11.3 (DX Image Module): Window Center is required for FOR PRESENTATION without
    VOI LUT Sequence, 'May also be present if VOI LUT Sequence (0028,3010) is present', and
    the other way round; the pinned index drops that sentence, so both were reported as
    'present although its condition is false'."""
    ds = synthesize(DX_FOR_PRESENTATION)
    assert "WindowCenter" in ds and _errors(ds) == []
    voi = Dataset()
    voi.LUTDescriptor = [256, 0, 8]
    voi.add_new(0x00283006, "US", list(range(256)))
    ds.VOILUTSequence = [voi]
    assert _errors(ds) == []


def test_mr_pulse_sequence_attributes_of_a_derived_image():
    """PS3.3 C.8.13.4 (MR Pulse Sequence Module): Rectilinear Phase Encode Reordering and
    Coverage of k-Space are required for ORIGINAL/MIXED images, 'Otherwise may be present if
    Image Type Value 1 is DERIVED and ...'.  Was a false alarm on heudiconv's derived MPR
    (MRI_102TD_PHA_S...dcm).  Without such a sentence (Velocity Encoding Acquisition Sequence,
    'Required if Phase Contrast equals YES') presence stays an error."""
    ds = synthesize(ENHANCED_MR)
    ds.ImageType = ["DERIVED", "PRIMARY", "MPR", "NONE"]
    ds.GeometryOfKSpaceTraversal = "RECTILINEAR"
    ds.MRAcquisitionType = "3D"
    ds.RectilinearPhaseEncodeReordering = "LINEAR"
    ds.CoverageOfKSpace = "FULL"
    errors = [e for e in _errors(ds) if e[0] == "iod.present-when-condition-false"]
    assert errors == []
    ds.PhaseContrast = "NO"
    ds.VelocityEncodingAcquisitionSequence = [Dataset()]  # (0018,9092)
    assert ("iod.present-when-condition-false", "(0018,9092)") in _errors(ds)


def test_condition_otherwise_entries_name_conditions_of_the_index():
    """Each entry of standard/data/condition_otherwise.json matches a 1C/2C attribute of the
    pinned index by tag and condition text whose condition does not already allow presence
    (a stale or mistyped entry would silently do nothing)."""
    import json

    from conformance.iod.specialisations import OTHERWISE
    from conformance.standard.iod_index import load_index

    index = load_index()
    found: set[tuple[int, str]] = set()
    stack = [r for k in index._raw_modules for r in index.module(k).attributes]
    while stack:
        rule = stack.pop()
        if rule.condition is not None and not rule.condition.may_be_present_otherwise:
            found.add((rule.tag, rule.condition.text))
        stack.extend(rule.children)
    entries = json.loads(OTHERWISE.read_text())["entries"]
    missing = [e["tag"] for e in entries
               if (int(e["tag"][1:5] + e["tag"][6:10], 16), e["condition"]) not in found]
    assert entries and missing == []

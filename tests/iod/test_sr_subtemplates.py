"""Sub-templates below the root and context groups (PS3.16; conformance/iod/sr_templates.py,
rows in standard/data/sr_templates.json, groups in standard/data/sr_context_groups.json).

Valid documents built by highdicom (TID 1500 with an image library, person and device
observers, planar and volumetric ROI groups, a TID 1501 group, finding sites, qualitative
evaluations), a TID 2000 report and pydicom's SR files give no template finding; each broken
tree gives the finding with its PS3.16 row (and the INCLUDE it was reached through)."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from highdicom.sr import (
    CodeContentItem,
    CodedConcept,
    Comprehensive3DSR,
    ContainerContentItem,
    ContentSequence,
    DeviceObserverIdentifyingAttributes,
    FindingSite,
    GraphicTypeValues,
    ImageRegion,
    Measurement,
    MeasurementReport,
    MeasurementsAndQualitativeEvaluations,
    ObservationContext,
    ObserverContext,
    PersonObserverIdentifyingAttributes,
    PlanarROIMeasurementsAndQualitativeEvaluations,
    QualitativeEvaluation,
    ReferencedSegment,
    RelationshipTypeValues,
    SourceImageForRegion,
    TextContentItem,
    TrackingIdentifier,
    VolumetricROIMeasurementsAndQualitativeEvaluations,
)
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from conformance.iod import sr_templates, validate
from tests.iod.highdicom_objects import segmentation

ROOT = Path(__file__).resolve().parents[2]
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"


def _template_findings(ds: Dataset) -> list:
    return [f for f in validate(ds) if f.code.startswith("sr.template")]


def _plain(ds: Dataset) -> Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


def _rich_tid1500() -> Dataset:
    img = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    seg = segmentation()
    person = ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=PersonObserverIdentifyingAttributes(
            name="Foo^Bar", organization_name="Hospital",
            role_in_organization=codes.cid7452.Physician))
    device = ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name="CAD", manufacturer_name="Acme", model_name="X1"))
    region = ImageRegion(graphic_type=GraphicTypeValues.POLYLINE,
                         graphic_data=np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 20.0],
                                                [10.0, 10.0]]),
                         source_image=SourceImageForRegion.from_source_image(img))
    site = FindingSite(anatomic_location=codes.SCT.Lung, laterality=codes.SCT.Right)
    planar = PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="lesion1"),
        referenced_region=region, finding_type=codes.SCT.Lesion, finding_sites=[site],
        measurements=[Measurement(name=codes.SCT.Area, value=10.0,
                                  unit=codes.UCUM.SquareMillimeter,
                                  method=codes.SCT.AreaOfDefinedRegion,
                                  finding_sites=[site])],
        qualitative_evaluations=[QualitativeEvaluation(name=codes.DCM.LevelOfSignificance,
                                                       value=codes.SCT.NotSignificant)])
    volumetric = VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="lesion2"),
        referenced_segment=ReferencedSegment(
            sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID,
            segment_number=1,
            source_series=hd.sr.SourceSeriesForSegmentation(img.SeriesInstanceUID)),
        finding_type=codes.SCT.Tumor,
        measurements=[Measurement(name=codes.SCT.Volume, value=3.5,
                                  unit=codes.UCUM.CubicMillimeter)])
    group = MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="whole"),
        finding_type=codes.SCT.Organ,
        measurements=[Measurement(name=codes.SCT.Diameter, value=4.0,
                                  unit=codes.UCUM.Millimeter,
                                  derivation=codes.cid7464.Maximum,
                                  finding_sites=[site])])
    report = MeasurementReport(
        observation_context=ObservationContext(observer_person_context=person,
                                               observer_device_context=device),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=[planar, volumetric, group], referenced_images=[img])
    return Comprehensive3DSR(evidence=[img, seg], content=report, series_number=3,
                             series_instance_uid=hd.UID(), sop_instance_uid=hd.UID(),
                             instance_number=1, manufacturer="Acme")


def _code(value: str, scheme: str, meaning: str) -> CodedConcept:
    return CodedConcept(value=value, scheme_designator=scheme, meaning=meaning)


def _tid2000() -> Dataset:
    """A Basic Diagnostic Imaging Report (TID 2000) built from highdicom content items, as
    highdicom's TID 2000 builder lays it out: language, observer, one heading (CID 7001)
    holding report elements (CID 7002)."""
    img = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    root = ContainerContentItem(name=_code("18748-4", "LN", "Diagnostic Imaging Report"),
                                template_id="2000")
    heading = ContainerContentItem(name=_code("59776-5", "LN", "Findings"),
                                   relationship_type=RelationshipTypeValues.CONTAINS)
    heading.ContentSequence = ContentSequence([
        TextContentItem(name=codes.DCM.Finding, value="No abnormality",
                        relationship_type=RelationshipTypeValues.CONTAINS),
        CodeContentItem(name=codes.DCM.Impression, value=codes.SCT.Normal,
                        relationship_type=RelationshipTypeValues.CONTAINS)])
    person = ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=PersonObserverIdentifyingAttributes(name="Foo^Bar"))
    root.ContentSequence = ContentSequence([
        *hd.sr.LanguageOfContentItemAndDescendants(hd.sr.templates.DEFAULT_LANGUAGE),
        *ObservationContext(observer_person_context=person), heading])
    return hd.sr.sop._SR(
        evidence=[img], content=root, series_number=1, series_instance_uid=hd.UID(),
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Acme",
        sop_class_uid=COMPREHENSIVE_SR, is_complete=True, is_final=True, is_verified=False)


@pytest.fixture(scope="module")
def rich() -> Dataset:
    return _plain(_rich_tid1500())


@pytest.fixture(scope="module")
def report2000() -> Dataset:
    return _plain(_tid2000())


def _walk(items: list[Dataset]) -> Iterator[Dataset]:
    for item in items:
        yield item
        yield from _walk(list(item.get("ContentSequence", [])))


def _named(ds: Dataset, value: str, scheme: str = "DCM") -> list[Dataset]:
    out = []
    for item in _walk(list(ds.ContentSequence)):
        names = item.get("ConceptNameCodeSequence")
        if names and (names[0].CodeValue, names[0].CodingSchemeDesignator) == (value, scheme):
            out.append(item)
    return out


def _one(found: list, code: str, reference: str) -> None:
    hits = [f for f in found if f.code == code]
    assert len(hits) == 1, found
    assert hits[0].reference.startswith(reference), hits[0].reference


# -- valid documents: no finding -----------------------------------------------------------

def test_rich_highdicom_measurement_report_has_no_template_finding(rich) -> None:
    assert sr_templates.declared_template(rich, rich.SOPClassUID) == "1500"
    assert _template_findings(rich) == []
    # the sub-templates were really walked: the groups and the library are there
    assert len(_named(rich, "125007")) == 3 and _named(rich, "111028")


def test_tid2000_report_has_no_template_finding(report2000) -> None:
    assert sr_templates.declared_template(report2000, report2000.SOPClassUID) == "2000"
    assert _template_findings(report2000) == []


def test_pydicom_sr_files_have_no_template_finding() -> None:
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    checked = 0
    for path in sorted(folder.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if not str(ds.get("SOPClassUID", "")).startswith("1.2.840.10008.5.1.4.1.1.88."):
            continue
        checked += 1
        assert _template_findings(ds) == [], path.name
    assert checked >= 2


# -- no false alarm ------------------------------------------------------------------------

def test_undeclared_template_is_not_checked(rich) -> None:
    ds = copy.deepcopy(rich)
    for item in _named(ds, "112039"):
        item.ValueType = "CODE"  # broken, but the template is no longer declared
    del ds.ContentTemplateSequence
    assert _template_findings(ds) == []


def test_unknown_content_is_not_an_error(rich) -> None:
    ds = copy.deepcopy(rich)
    extra = TextContentItem(name=_code("X1", "99ACME", "Vendor note"), value="x",
                            relationship_type=RelationshipTypeValues.CONTAINS)
    for item in (_named(ds, "125007")[0], _named(ds, "126010")[0]):
        item.ContentSequence.append(copy.deepcopy(extra))
    ds.ContentSequence.append(copy.deepcopy(extra))
    assert _template_findings(ds) == []


def test_srt_codes_compare_as_their_sct_equivalents(rich) -> None:
    ds = copy.deepcopy(rich)
    laterality = _named(ds, "272741003", "SCT")[0].ConceptCodeSequence[0]
    laterality.CodeValue, laterality.CodingSchemeDesignator = "G-A100", "SRT"  # Right
    assert _template_findings(ds) == []


# -- each rule, broken ---------------------------------------------------------------------

def test_sub_template_required_row_missing(rich) -> None:
    ds = copy.deepcopy(rich)
    group = _named(ds, "125007")[0]  # the planar group (TID 1410)
    group.ContentSequence = [i for i in group.ContentSequence
                             if i.ConceptNameCodeSequence[0].CodeValue != "112039"]
    _one(_template_findings(ds), "sr.template-row-missing",
         "PS3.16 TID 1410 row 2 (included by TID 1500 row 7)")


def test_volumetric_group_is_told_from_planar(rich) -> None:
    ds = copy.deepcopy(rich)
    group = _named(ds, "125007")[1]  # has Referenced Segment: TID 1411
    group.ContentSequence = [i for i in group.ContentSequence
                             if i.ConceptNameCodeSequence[0].CodeValue != "112040"]
    _one(_template_findings(ds), "sr.template-row-missing",
         "PS3.16 TID 1411 row 3 (included by TID 1500 row 8)")


def test_sub_template_wrong_value_type(rich) -> None:
    ds = copy.deepcopy(rich)
    uid_item = _named(ds, "112040")[2]  # the TID 1501 group's tracking UID
    uid_item.ValueType, uid_item.TextValue = "TEXT", uid_item.UID
    del uid_item.UID
    _one(_template_findings(ds), "sr.template-value-type",
         "PS3.16 TID 1501 row 3 (included by TID 1500 row 9)")


def test_measurement_row_wrong_relationship(rich) -> None:
    ds = copy.deepcopy(rich)
    num = _named(ds, "81827009", "SCT")[0]  # Diameter in the TID 1501 group (TID 300 row 1)
    site = [i for i in num.ContentSequence
            if i.ConceptNameCodeSequence[0].CodeValue == "363698007"][0]
    site.RelationshipType = "CONTAINS"
    _one(_template_findings(ds), "sr.template-relationship",
         "PS3.16 TID 300 row 5 (included by TID 1501 row 10, TID 1500 row 9)")


def test_roi_measurement_derivation_wrong_value_type(rich) -> None:
    ds = copy.deepcopy(rich)
    num = _named(ds, "118565006", "SCT")[0]  # Volume in the TID 1411 group (TID 1419 row 5)
    num.ContentSequence = [*num.get("ContentSequence", []), _text_item("121401", "DCM")]
    _one(_template_findings(ds), "sr.template-value-type",
         "PS3.16 TID 1419 row 8 (included by TID 1411 row 15, TID 1500 row 8)")


def _text_item(value: str, scheme: str) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType, item.TextValue = "HAS CONCEPT MOD", "TEXT", "max"
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = value, scheme, "Derivation"
    item.ConceptNameCodeSequence = [name]
    return item


def test_single_row_repeated(rich) -> None:
    ds = copy.deepcopy(rich)
    group = _named(ds, "125007")[0]
    group.ContentSequence.append(copy.deepcopy(_named(group, "112039")[0]))
    _one(_template_findings(ds), "sr.template-row-repeated",
         "PS3.16 TID 1410 row 2 (included by TID 1500 row 7)")


def test_person_observer_without_name(rich) -> None:
    ds = copy.deepcopy(rich)
    ds.ContentSequence = [i for i in ds.ContentSequence
                          if i.ConceptNameCodeSequence[0].CodeValue != "121008"]
    _one(_template_findings(ds), "sr.template-row-missing", "PS3.16 TID 1003 row 1 (included by "
         "TID 1002 row 2, TID 1001 row 1, TID 1500 row 3)")


def test_device_observer_without_uid(rich) -> None:
    ds = copy.deepcopy(rich)
    ds.ContentSequence = [i for i in ds.ContentSequence
                          if i.ConceptNameCodeSequence[0].CodeValue != "121012"]
    _one(_template_findings(ds), "sr.template-row-missing", "PS3.16 TID 1004 row 1")


def test_image_library_group_without_entries(rich) -> None:
    ds = copy.deepcopy(rich)
    group = _named(ds, "126200")[0]
    group.ContentSequence = [i for i in group.ContentSequence if i.ValueType != "IMAGE"]
    _one(_template_findings(ds), "sr.template-row-missing",
         "PS3.16 TID 1601 row 1 (included by TID 1600 row 4, TID 1500 row 5)")


def test_language_wrong_value_type(rich) -> None:
    ds = copy.deepcopy(rich)
    language = _named(ds, "121049")[0]
    language.ValueType, language.TextValue = "TEXT", "en-US"
    del language.ConceptCodeSequence
    _one(_template_findings(ds), "sr.template-value-type",
         "PS3.16 TID 1204 row 1 (included by TID 1500 row 2)")


def test_baseline_group_outside_is_a_warning(rich) -> None:
    ds = copy.deepcopy(rich)
    proc = _named(ds, "121058")[0].ConceptCodeSequence[0]
    proc.CodeValue, proc.CodingSchemeDesignator = "P1", "99ACME"
    found = [f for f in _template_findings(ds) if f.code == "sr.template-concept-not-in-cid"]
    assert len(found) == 1 and found[0].severity.value == "warning"
    assert "BCID" in found[0].message and "CID 100" in found[0].reference
    assert found[0].reference.startswith("PS3.16 TID 1500 row 4")


def test_defined_extensible_group_outside_is_a_warning(rich) -> None:
    ds = copy.deepcopy(rich)
    lat = _named(ds, "272741003", "SCT")[0].ConceptCodeSequence[0]
    lat.CodeValue, lat.CodingSchemeDesignator = "L1", "99ACME"
    found = [f for f in _template_findings(ds) if f.code == "sr.template-concept-not-in-cid"]
    assert len(found) == 1 and found[0].severity.value == "warning"
    assert "DCID" in found[0].message and "CID 244" in found[0].reference


def test_defined_non_extensible_group_outside_is_an_error(rich, monkeypatch) -> None:
    """CID 270 with extensible false (the data leaves it unknown: no source states it), to
    show the enumerated case: a code outside a non-extensible DCID group is an error."""
    groups = json.loads(sr_templates.CONTEXT_GROUPS.read_text())["groups"]
    groups["270"]["extensible"] = False
    monkeypatch.setattr(sr_templates, "_groups", lambda: groups)
    ds = copy.deepcopy(rich)
    kind = _named(ds, "121005")[0].ConceptCodeSequence[0]
    kind.CodeValue, kind.CodingSchemeDesignator = "T1", "99ACME"
    found = [f for f in _template_findings(ds) if f.code == "sr.template-concept-not-in-cid"]
    assert len(found) == 1 and found[0].severity.value == "error"
    assert found[0].reference.startswith("PS3.16 TID 1002 row 1")


def test_tid2000_heading_outside_its_group(report2000) -> None:
    ds = copy.deepcopy(report2000)
    heading = _named(ds, "59776-5", "LN")[0].ConceptNameCodeSequence[0]
    heading.CodeValue, heading.CodingSchemeDesignator = "H1", "99ACME"
    found = [f for f in _template_findings(ds) if f.code == "sr.template-concept-not-in-cid"]
    assert len(found) == 1 and found[0].severity.value == "warning"
    assert found[0].reference.startswith("PS3.16 TID 2000 row 8")
    assert "BCID" in found[0].message


def test_tid2000_report_element_outside_its_group(report2000) -> None:
    ds = copy.deepcopy(report2000)
    element = _named(ds, "121071")[0].ConceptNameCodeSequence[0]
    element.CodeValue, element.CodingSchemeDesignator = "E1", "99ACME"
    found = [f for f in _template_findings(ds) if f.code == "sr.template-concept-not-in-cid"]
    assert len(found) == 1 and "CID 7002" in found[0].reference
    assert found[0].reference.startswith("PS3.16 TID 2002 row 3 (included by TID 2000 row 10)")


def test_tid2000_without_language(report2000) -> None:
    ds = copy.deepcopy(report2000)
    ds.ContentSequence = [i for i in ds.ContentSequence
                          if i.ConceptNameCodeSequence[0].CodeValue != "121049"]
    _one(_template_findings(ds), "sr.template-row-missing",
         "PS3.16 TID 1204 row 1 (included by TID 2000 row 5)")


def test_tid2000_acquisition_device_type_wrong_relationship(report2000) -> None:
    ds = copy.deepcopy(report2000)
    item = _plain_item(CodeContentItem(
        name=_code("122142", "DCM", "Acquisition Device Type"), value=codes.cid29.ComputedTomography,
        relationship_type=RelationshipTypeValues.CONTAINS))
    ds.ContentSequence.append(item)
    _one(_template_findings(ds), "sr.template-relationship", "PS3.16 TID 2000 row 3")


def test_tid2000_is_non_extensible_at_the_root(report2000) -> None:
    """A TEXT finding put straight under the root (not in a section heading CONTAINER, row 8)
    and an item related by HAS PROPERTIES: TID 2000 is Non-Extensible, no root row allows
    them. HAS OBS CONTEXT and HAS CONCEPT MOD items stay unreported (their sub-templates are
    not fully described here)."""
    ds = copy.deepcopy(report2000)
    assert not [f for f in _template_findings(ds) if f.code == "sr.template-outside-rows"]
    ds.ContentSequence.append(_plain_item(TextContentItem(
        name=codes.DCM.Finding, value="loose", relationship_type=RelationshipTypeValues.CONTAINS)))
    ds.ContentSequence.append(_plain_item(TextContentItem(
        name=_code("99X", "99ACME", "Note"), value="x",
        relationship_type=RelationshipTypeValues.HAS_PROPERTIES)))
    ds.ContentSequence.append(_plain_item(TextContentItem(
        name=_code("99Y", "99ACME", "Other context"), value="y",
        relationship_type=RelationshipTypeValues.HAS_OBS_CONTEXT)))
    found = [f for f in _template_findings(ds) if f.code == "sr.template-outside-rows"]
    n = len(ds.ContentSequence)
    assert [f.details["path"] for f in found] == [f"ContentSequence[{n - 3}]",
                                                  f"ContentSequence[{n - 2}]"]
    assert all(f.severity.value == "error" and f.reference == "PS3.16 TID 2000" for f in found)
    assert "CONTAINS TEXT" in found[0].message and "HAS PROPERTIES" in found[1].message


def test_context_group_data_is_what_the_generator_writes() -> None:
    import subprocess
    import sys
    out = subprocess.run([sys.executable, str(ROOT / "bin" / "gen_sr_context_groups.py"),
                          "--check"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_report_without_measurements_or_evaluations(rich) -> None:
    ds = copy.deepcopy(rich)
    ds.ContentSequence = [i for i in ds.ContentSequence
                          if i.ConceptNameCodeSequence[0].CodeValue != "126010"]
    found = [f for f in _template_findings(ds) if f.code == "sr.template-row-missing"]
    assert len(found) == 1 and "none of rows 6, 10, 12" in found[0].message
    assert found[0].reference == "PS3.16 TID 1500 row 6"


def test_report_with_qualitative_evaluations_only_is_valid(rich) -> None:
    ds = copy.deepcopy(rich)
    evaluations = ContainerContentItem(name=_code("C0034375", "UMLS", "Qualitative Evaluations"),
                                       relationship_type=RelationshipTypeValues.CONTAINS)
    evaluations.ContentSequence = ContentSequence([CodeContentItem(
        name=codes.DCM.LevelOfSignificance, value=codes.SCT.NotSignificant,
        relationship_type=RelationshipTypeValues.CONTAINS)])
    ds.ContentSequence = [i for i in ds.ContentSequence
                          if i.ConceptNameCodeSequence[0].CodeValue != "126010"]
    ds.ContentSequence.append(_plain_item(evaluations))
    assert _template_findings(ds) == []


def _plain_item(item: Dataset) -> Dataset:
    out = Dataset()
    out.update(item)
    return out


def test_root_not_a_container(rich) -> None:
    ds = copy.deepcopy(rich)
    ds.ValueType = "TEXT"
    _one(_template_findings(ds), "sr.template-root-value-type", "PS3.16 TID 1500 row 1")


def test_highdicom_comprehensive_sr_measurement_report_has_no_template_finding() -> None:
    """TID 1500 in a Comprehensive SR (2D coordinates only): planar group, TID 1501 group."""
    img = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    region = ImageRegion(graphic_type=GraphicTypeValues.CIRCLE,
                         graphic_data=np.array([[10.0, 10.0], [15.0, 10.0]]),
                         source_image=SourceImageForRegion.from_source_image(img))
    planar = PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="roi"),
        referenced_region=region, finding_type=codes.SCT.Lesion,
        qualitative_evaluations=[QualitativeEvaluation(name=codes.DCM.LevelOfSignificance,
                                                       value=codes.SCT.NotSignificant)],
        measurements=[Measurement(name=codes.SCT.Diameter, value=5.0,
                                  unit=codes.UCUM.Millimeter)])
    group = MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="image"),
        qualitative_evaluations=[QualitativeEvaluation(name=codes.DCM.LevelOfSignificance,
                                                       value=codes.SCT.NotSignificant)])
    person = ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=PersonObserverIdentifyingAttributes(name="Foo^Bar"))
    report = MeasurementReport(
        observation_context=ObservationContext(observer_person_context=person),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=[planar, group])
    ds = _plain(hd.sr.ComprehensiveSR(
        evidence=[img], content=report, series_number=5, series_instance_uid=hd.UID(),
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Acme"))
    assert sr_templates.declared_template(ds, ds.SOPClassUID) == "1500"
    assert _template_findings(ds) == []


def test_group_with_several_image_regions_is_volumetric(rich) -> None:
    """A measurement group with more than one Image Region (one per slice) is a TID 1411
    group, as highdicom tells them apart; a missing tracking UID is cited as TID 1411."""
    ds = copy.deepcopy(rich)
    group = _named(ds, "125007")[0]
    region = _named(group, "111030")[0]
    group.ContentSequence = [i for i in group.ContentSequence
                             if i.ConceptNameCodeSequence[0].CodeValue != "112040"]
    group.ContentSequence.append(copy.deepcopy(region))
    _one(_template_findings(ds), "sr.template-row-missing",
         "PS3.16 TID 1411 row 3 (included by TID 1500 row 8)")

"""Valid objects built by highdicom (a test dependency): SR TID 1500 with measurements, a
Basic Text SR, Key Object Selection (TID 2010), Segmentation, Parametric Map and a Legacy
Converted Enhanced CT (enhanced multi-frame, functional groups).  highdicom is built to the
standard's text by people other than us, so 0 errors on these is a test of false alarms."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import highdicom as hd
import numpy as np
import pydicom
from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
from highdicom.sr import (
    CodedConcept,
    Comprehensive3DSR,
    ContainerContentItem,
    ContentSequence,
    GraphicTypeValues,
    ImageRegion,
    Measurement,
    MeasurementReport,
    ObservationContext,
    ObserverContext,
    PersonObserverIdentifyingAttributes,
    PlanarROIMeasurementsAndQualitativeEvaluations,
    RelationshipTypeValues,
    SourceImageForRegion,
    TextContentItem,
    TrackingIdentifier,
)
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


def _ct() -> Dataset:
    return pydicom.dcmread(get_testdata_file("CT_small.dcm"))


def segmentation() -> Dataset:
    img = _ct()
    mask = np.zeros((img.Rows, img.Columns), dtype=bool)
    mask[10:20, 10:20] = True
    desc = hd.seg.SegmentDescription(
        segment_number=1, segment_label="first",
        segmented_property_category=codes.SCT.Tissue, segmented_property_type=codes.SCT.Bone,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    return hd.seg.Segmentation(
        source_images=[img], pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[desc],
        series_instance_uid=hd.UID(), series_number=2, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="Acme", manufacturer_model_name="Seg",
        software_versions="1", device_serial_number="1")


def tid1500() -> Dataset:
    img = _ct()
    person = ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=PersonObserverIdentifyingAttributes(name="Foo^Bar"))
    region = ImageRegion(graphic_type=GraphicTypeValues.POINT,
                         graphic_data=np.array([[10.0, 10.0]]),
                         source_image=SourceImageForRegion.from_source_image(img))
    group = PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=hd.UID(), identifier="lesion1"),
        referenced_region=region, finding_type=codes.SCT.Lesion,
        measurements=[Measurement(name=codes.SCT.Area, value=10.0,
                                  unit=codes.UCUM.SquareMillimeter)])
    report = MeasurementReport(
        observation_context=ObservationContext(observer_person_context=person),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion, imaging_measurements=[group])
    return Comprehensive3DSR(evidence=[img], content=report, series_number=3,
                             series_instance_uid=hd.UID(), sop_instance_uid=hd.UID(),
                             instance_number=1, manufacturer="Acme")


def key_object_selection() -> Dataset:
    img = _ct()
    doc = KeyObjectSelection(document_title=codes.DCM.Manifest, referenced_objects=[img])
    return KeyObjectSelectionDocument(evidence=[img], content=doc, series_number=4,
                                      series_instance_uid=hd.UID(), sop_instance_uid=hd.UID(),
                                      instance_number=1, manufacturer="Acme")


def basic_text_sr() -> Dataset:
    """Basic Text SR whose content items are TEXT only (the issue's 22-error case)."""
    img = _ct()
    root = ContainerContentItem(name=CodedConcept("18748-4", "LN", "Diagnostic Imaging Report"))
    root.ContentSequence = ContentSequence([
        TextContentItem(name=codes.DCM.Finding, value="No abnormality",
                        relationship_type=RelationshipTypeValues.CONTAINS),
        TextContentItem(name=codes.DCM.Impression, value="Normal",
                        relationship_type=RelationshipTypeValues.CONTAINS)])
    return hd.sr.sop._SR(  # the generic SR document class highdicom's SR classes build on
        evidence=[img], content=root, series_number=1, series_instance_uid=hd.UID(),
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Acme",
        sop_class_uid=BASIC_TEXT_SR, is_complete=True, is_final=True, is_verified=False)


def parametric_map() -> Dataset:
    img = _ct()
    arr = np.zeros((1, img.Rows, img.Columns), dtype=np.float32)
    mapping = hd.pm.RealWorldValueMapping(
        lut_label="x", lut_explanation="y", unit=codes.UCUM.NoUnits, value_range=(0.0, 1.0),
        intercept=0, slope=1)
    return hd.pm.ParametricMap(
        [img], arr, hd.UID(), 5, hd.UID(), 1, "Acme", "m", "1", "1",
        contains_recognizable_visual_features=False, real_world_value_mappings=[mapping],
        window_center=0.5, window_width=1.0)


def legacy_enhanced_ct() -> Dataset:
    base = _ct()
    series = []
    for i in range(3):
        d = copy.deepcopy(base)
        d.SOPInstanceUID = hd.UID()
        d.InstanceNumber = i + 1
        d.ImagePositionPatient = [0.0, 0.0, float(i)]
        series.append(d)
    return hd.legacy.LegacyConvertedEnhancedCTImage(series, hd.UID(), 10, hd.UID(), 1)


BUILDERS: dict[str, Callable[[], Dataset]] = {
    "tid1500": tid1500, "basic_text_sr": basic_text_sr, "kos": key_object_selection,
    "segmentation": segmentation, "parametric_map": parametric_map,
    "legacy_enhanced_ct": legacy_enhanced_ct,
}


def build(name: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BUILDERS[name]()

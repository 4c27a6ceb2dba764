"""Minimal valid instances of any storage SOP class in the index (PS3.3 IODs).

:func:`synthesize` fills the type 1 and 2 attributes of the mandatory modules, then asks the
validator which conditional attributes and modules the generated data triggers and adds them
(a few rounds, until nothing is missing), and adds small native pixel data where the IOD has
the Image Pixel module.  Values are deterministic (UIDs derive from the SOP class), so the
same call gives the same bytes.

Not covered: compressed transfer syntaxes for IODs with pixel data (no codec is used; such a
request is a ``ValueError``), and the *meaning* of values (codes are placeholders from a
private coding scheme, dates are fixed).
"""

from __future__ import annotations

import re
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from conformance.iod.sr_content import SR_CONTENT_MODULES
from conformance.iod.synth_parts import (
    SHARED,
    by_keyword,
    dimension_index,
    directory,
    references,
    two_items,
    functional_groups,
    lookup_tables,
    waveform_data,
)
from conformance.iod.sr_templates import KEY_OBJECT_SELECTION
from conformance.iod.validator import validate
from conformance.standard.iod_index import (
    AttributeRule,
    IODDef,
    ModuleDef,
    dictionary_entry,
    load_index,
)

#: SOP class keyword fragment -> Modality (PS3.3 C.7.3.1.1.1); first match wins.
_MODALITY = [("SecondaryCapture", "OT"), ("ComputedRadiography", "CR"), ("CT", "CT"),
             ("MR", "MR"), ("Ultrasound", "US"), ("Mammography", "MG"),
             ("IntraOral", "IO"), ("DigitalXRay", "DX"), ("XRayAngiographic", "XA"),
             ("XRayRadiofluoroscopic", "RF"), ("NuclearMedicine", "NM"), ("PET", "PT"),
             ("Positron", "PT"), ("RTImage", "RTIMAGE"), ("RTDose", "RTDOSE"),
             ("RTStructure", "RTSTRUCT"), ("RTPlan", "RTPLAN"), ("RTIonPlan", "RTPLAN"),
             ("Segmentation", "SEG"), ("KeyObject", "KO"), ("SR", "SR"),
             ("PresentationState", "PR"), ("Waveform", "ECG"), ("ECG", "ECG"),
             ("Endoscopic", "ES"), ("SlideCoordinatesMicroscopic", "SM"),
             ("WholeSlideMicroscopy", "SM"), ("MicroscopyBulkSimpleAnnotations", "ANN"),
             ("Dermoscopic", "DMS"), ("Microscopic", "GM"), ("Photographic", "XC"),
             ("Ophthalmic", "OP"), ("Registration", "REG"), ("Spectroscopy", "MR")]

_DUMMY: dict[str, Any] = {
    "AE": "SYNTH", "AS": "030Y", "CS": "SYNTH", "DA": "20260101", "DT": "20260101120000",
    "TM": "120000", "DS": "1", "IS": "1", "LO": "synthetic", "SH": "synthetic",
    "LT": "synthetic", "ST": "synthetic", "UT": "synthetic", "UC": "synthetic",
    "PN": "Synthetic^Patient", "UR": "http://example.com/synthetic", "US": 1, "SS": 1,
    "UL": 1, "SL": 1, "FL": 1.0, "FD": 1.0, "SV": 1, "UV": 1, "AT": 0x00100010,
    "OB": b"\x00\x00", "OW": b"\x00\x00", "OF": b"\x00\x00\x00\x00", "OD": b"\x00" * 8,
    "OL": b"\x00" * 4, "OV": b"\x00" * 8, "UN": b"\x00\x00",
}
#: Sensible values where any dummy would break a rule of another module or of PS3.5.
_SPECIFIC: dict[int, Any] = {
    0x00200037: [1, 0, 0, 0, 1, 0], 0x00200032: [0, 0, 0], 0x00280030: [1, 1],
    0x00280010: 4, 0x00280011: 4, 0x00280002: 1, 0x00280004: "MONOCHROME2",
    0x00280100: 16, 0x00280101: 16, 0x00280102: 15, 0x00280103: 0, 0x00280006: 0,
    0x00280008: "1", 0x00100010: "Synthetic^Patient", 0x00100020: "SYNTH-1",
    0x00080100: "SYNTH1", 0x00080102: "99SYNTH", 0x00080104: "synthetic code",
    0x00080005: "ISO_IR 192", 0x00080008: ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"],
    0x00089007: ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"], 0x00200020: ["L", "P"],
    0x00185100: "HFS", 0x00080060: "OT", 0x00089206: "VOLUME", 0x00089205: "MONOCHROME",
    0x00209072: "U", 0x00189010: "NO", 0x00700052: [1, 1], 0x00700053: [4, 4],
}


#: Real values for attributes whose enumerated values the pinned tables lack (they are in the
#: attribute descriptions of PS3.3): used instead of a placeholder, and instead of the first
#: enumerated value when the value is one of them.
_SPECIFIC.update(by_keyword({
    "ImageType": ["ORIGINAL", "PRIMARY"], "BurnedInAnnotation": "NO",
    "ContrastBolusAgentAdministered": "NO", "FieldOfViewRotation": "0",
    "FieldOfViewHorizontalFlip": "NO", "GeometricalProperties": "UNIFORM",
    "CalibrationImage": "NO", "CollimatorShape": "RECTANGULAR",
    "CollimatorLeftVerticalEdge": "0", "CollimatorRightVerticalEdge": "4",
    "CollimatorUpperHorizontalEdge": "0", "CollimatorLowerHorizontalEdge": "4",
    "ExposureControlSensingRegionShape": "RECTANGULAR",
    "ExposureControlSensingRegionLeftVerticalEdge": 0,
    "ExposureControlSensingRegionRightVerticalEdge": 4,
    "ExposureControlSensingRegionUpperHorizontalEdge": 0,
    "ExposureControlSensingRegionLowerHorizontalEdge": 4,
    "RescaleIntercept": "0", "RescaleSlope": "1", "RescaleType": "US",
    "SeriesType": ["STATIC", "IMAGE"], "WaveformBitsAllocated": 16,
    "WaveformSampleInterpretation": "SS", "AliasedDataType": "NO",
    "VolumeBasedCalculationTechnique": "NONE", "OphthalmicImageOrientation": "LINEAR",
    "AnnotationCoordinateType": "2D", "AnnotationGroupGenerationType": "MANUAL",
    "GraphicType": "POINT", "AnnotationAppliesToAllOpticalPaths": "YES",
    "ImagerPixelSpacing": [1, 1], "SliceThickness": "1", "TableHeight": "0",
    "BeamAngle": "0", "PositionerPrimaryAngle": "0", "PositionerSecondaryAngle": "0",
    "RespiratoryIntervalTime": 1000.0, "ComplexImageComponent": "MAGNITUDE",
    "AcquisitionContrast": "T1", "VelocityEncodingDirection": [1, 0, 0],
    "SlabOrientation": [1, 0, 0],
    # MR acquisition macros (PS3.3 C.8.13.5): a plain single-echo acquisition.
    "RepetitionTime": "10", "FlipAngle": "90", "EchoTrainLength": 1, "RFEchoTrainLength": 1,
    "GradientEchoTrainLength": 0, "SpecificAbsorptionRateDefinition": "IEC_WHOLE_BODY",
    "SpecificAbsorptionRateValue": 0.1, "GradientOutputType": "DB_DT", "GradientOutput": 1.0,
    "OperatingModeType": "STATIC FIELD", "OperatingMode": "IEC_NORMAL",
    "InPlanePhaseEncodingDirection": "ROW", "MRAcquisitionFrequencyEncodingSteps": 4,
    "MRAcquisitionPhaseEncodingStepsInPlane": 4, "PercentSampling": "100",
    "PercentPhaseFieldOfView": "100", "EffectiveEchoTime": 10.0, "InversionRecovery": "NO",
    "FlowCompensation": "NONE", "T2Preparation": "NO", "SpectrallySelectedExcitation": "NONE",
    "SpatialPresaturation": "NONE", "PartialFourier": "NO", "ParallelAcquisition": "NO",
    "MagnetizationTransfer": "NONE", "BloodSignalNulling": "NO", "Tagging": "NONE",
    "TransmitterFrequency": 64.0, "PixelBandwidth": "100", "ReceiveCoilName": "body",
    "ReceiveCoilType": "BODY", "QuadratureReceiveCoil": "NO", "TransmitCoilName": "body",
    "TransmitCoilType": "BODY", "NumberOfAverages": 1.0, "ReceiveCoilManufacturerName": "",
    "TransmitCoilManufacturerName": "", "SelectorAttributeVR": "CS",
    "DimensionOrganizationType": "3D", "Optotype": "TUMBLING E", "RotationDirection": "CW",
    "IterativeReconstructionMethod": "NO", "WindowCenter": "2048", "WindowWidth": "4096",
    "NumberOfWedges": 0, "NumberOfCompensators": 0, "NumberOfBoli": 0, "NumberOfBlocks": 0,
    "NumberOfRangeShifters": 0, "NumberOfLateralSpreadingDevices": 0,
    "NumberOfRangeModulators": 0, "TemporalPositionIndex": 1, "FrameAcquisitionDateTime": "20260101120000",
    "FrameReferenceDateTime": "20260101120000", "FrameAcquisitionDuration": 1000.0,
    "StackID": "1", "InStackPositionNumber": 1, "DimensionIndexValues": [1],
    "PositionReferenceIndicator": "",
}))
#: Conditional attributes added inside the items of the functional group macros (PS3.3
#: C.7.6.16.2): the geometry and X-Ray macros whose conditions hold for a plain image.
_FG_CONDITIONAL = set(by_keyword({k: 0 for k in (
    "PixelSpacing", "SliceThickness", "ImagePositionPatient", "ImageOrientationPatient",
    "ImagerPixelSpacing", "TableHeight", "BeamAngle", "PositionerPrimaryAngle",
    "PositionerSecondaryAngle", "CollimatorLeftVerticalEdge", "CollimatorRightVerticalEdge",
    "CollimatorUpperHorizontalEdge", "CollimatorLowerHorizontalEdge",
    "ExposureControlSensingRegionLeftVerticalEdge",
    "ExposureControlSensingRegionRightVerticalEdge",
    "ExposureControlSensingRegionUpperHorizontalEdge",
    "ExposureControlSensingRegionLowerHorizontalEdge", "FrameAcquisitionDateTime",
    "FrameReferenceDateTime", "FrameAcquisitionDuration", "ComplexImageComponent",
    "WindowCenter", "WindowWidth", "SeamLineLocation",
    "AcquisitionContrast", "SpecificAbsorptionRateSequence", "OperatingModeSequence")}))
_IN_FG = re.compile(r"5200,?92(29|30)")
#: IODs whose instances describe no paired body part or carry Measurement Laterality: no
#: Laterality (PS3.3 C.7.3.1: required only for a paired structure without another laterality).
_NO_LATERALITY = {"surface-segmentation", "vl-slide-coordinates-microscopic-image",
                  "ophthalmic-visual-field-static-perimetry-measurements"}
#: Modules of usage C or U added because their condition holds for the synthesized instance
#: (it has geometry: Frame of Reference, PS3.3 C.7.4.1) or because it has attributes of them
#: (DX Positioning: Positioner Type is type 2 there, PS3.3 C.8.11.5).
_EXTRA_MODULES = {"rt-structure-set": ("frame-of-reference",),
                  "segmentation": ("frame-of-reference",),
                  "dermoscopic-photography-image": ("frame-of-reference",),
                  "digital-x-ray-image": ("dx-positioning",),
                  "digital-mammography-x-ray-image": ("dx-positioning",),
                  "digital-intra-oral-x-ray-image": ("dx-positioning",),
                  "ambulatory-ecg": ("acquisition-context",),
                  # a treatment session that was delivered, not salvaged (PS3.3 A.29.3, A.50.3)
                  "rt-beams-treatment-record": ("rt-beams-session-record",),
                  "rt-ion-beams-treatment-record": ("rt-ion-beams-session-record",),
                  # a report of a clinical trial (User modules, some validators require them)
                  "spectacle-prescription-report": ("clinical-trial-subject",
                                                    "clinical-trial-study",
                                                    "clinical-trial-series")}
#: Type 3 sequences given one item: an RT Structure Set with one ROI (PS3.3 C.8.8.5, C.8.8.6,
#: C.8.8.8), which is what it is made for.
_TYPE3_ITEMS = {"rt-structure-set": by_keyword({k: 0 for k in (
    "StructureSetROISequence", "ROIContourSequence", "RTROIObservationsSequence")}),
    # a single lens of unknown laterality was measured (1C, PS3.3 C.8.25.8)
    "lensometry-measurements": by_keyword({"UnspecifiedLateralityLensSequence": 0}),
    # the right eye was measured (Measurement Laterality R): its clinical information (1C)
    "ophthalmic-visual-field-static-perimetry-measurements": by_keyword({
        "OphthalmicPatientClinicalInformationRightEyeSequence": 0})}
#: Conditional attributes set in the first item of a sequence path, per IOD, where their
#: condition holds: a Track Set colour for all its tracks (PS3.3 C.8.34.1); the references
#: of an instance that references others (Common Instance Reference, C.12.2).
_PATH_EXTRA: dict[str, list[tuple[tuple[str, ...], str, Any]]] = {
    "basic-structured-display": [(("StructuredDisplayImageBoxSequence",),
                                  "ReferencedImageSequence", "image-reference")],
    "tractography-results": [(("TrackSetSequence",), "RecommendedDisplayCIELabValue",
                              [0, 32896, 32896])],
    # one 2D point (C.37.1.2): its coordinates, no Z, the image it is on
    "microscopy-bulk-simple-annotations": [
        (("AnnotationGroupSequence",), "PointCoordinatesData", b"\x00\x00\x80\x3f" * 2),
        (("AnnotationGroupSequence",), "CommonZCoordinateValue", None),
        ((), "ReferencedImageSequence", "wsi-reference"),
        ((), "ReferencedSeriesSequence", "series-reference"),
        ((), "StudiesContainingOtherReferencedInstancesSequence", "study-reference")],
    **{key: [((), "ReferencedSeriesSequence", "series-reference"),
             ((), "StudiesContainingOtherReferencedInstancesSequence", "study-reference")]
       for key in ("spatial-fiducials", "real-world-value-mapping")},
}
#: Sequences the IOD requires at least two items of (PS3.3 C.11.14 Blending: the underlying
#: and the superimposed image; C.8.8.21.4 Brachy Control Point Delivered: start and end).
_TWO_ITEMS = by_keyword({k: 0 for k in ("BlendingSequence", "BrachyControlPointDeliveredSequence")})
#: Values that depend on the SOP class (PS3.3 C.24.2 MIME types, ...).
_DX_LIKE = {"1.2.840.10008.5.1.4.1.1.1.1": "FOR PRESENTATION",
            "1.2.840.10008.5.1.4.1.1.1.1.1": "FOR PROCESSING",
            "1.2.840.10008.5.1.4.1.1.1.2": "FOR PRESENTATION",
            "1.2.840.10008.5.1.4.1.1.1.2.1": "FOR PROCESSING",
            "1.2.840.10008.5.1.4.1.1.1.3": "FOR PRESENTATION",
            "1.2.840.10008.5.1.4.1.1.1.3.1": "FOR PROCESSING"}
_US_8BIT = {0x00280100: 8, 0x00280101: 8, 0x00280102: 7}
_PER_CLASS: dict[str, dict[int, Any]] = {
    # DX family: the intent the SOP class names; Image Type without an AXIAL value 3.
    **{uid: {0x00080068: intent, 0x00080008: ["ORIGINAL", "PRIMARY"]}
       for uid, intent in _DX_LIKE.items()},
    "1.2.840.10008.5.1.4.1.1.6.1": _US_8BIT,
    # Ophthalmic Photography: Image Type value 3 only for DERIVED images (dciodvfy's rule).
    "1.2.840.10008.5.1.4.1.1.77.1.5.1": {0x00080008: ["ORIGINAL", "PRIMARY"]},
    "1.2.840.10008.5.1.4.1.1.77.1.5.2": {0x00080008: ["ORIGINAL", "PRIMARY"]}, "1.2.840.10008.5.1.4.1.1.3.1": _US_8BIT,
    "1.2.840.10008.5.1.4.1.1.104.1": {0x00420012: "application/pdf"},
    "1.2.840.10008.5.1.4.1.1.104.2": {0x00420012: "text/XML"},
    "1.2.840.10008.5.1.4.1.1.104.3": {0x00420012: "model/stl", 0x00080060: "M3D"},
}
_ENHANCED_IMAGE_TYPE = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
#: DERIVED enhanced CT and MR images: the acquisition macros are then optional (PS3.3
#: A.38.1.4.1, A.36.2.3.1: required only if Image Type Value 1 is ORIGINAL or MIXED), so the
#: instance needs no invented acquisition parameters.
_DERIVED = ["DERIVED", "PRIMARY", "AXIAL", "NONE"]
_CT_ACQUISITION_MACROS = (
    "CTAcquisitionTypeSequence", "CTAcquisitionDetailsSequence", "CTTableDynamicsSequence",
    "CTGeometrySequence", "CTReconstructionSequence", "CTExposureSequence",
    "CTXRayDetailsSequence", "CTPositionSequence", "CTAdditionalXRaySourceSequence")
_MR_ACQUISITION_MACROS = (
    "MRImagingModifierSequence", "MRReceiveCoilSequence", "MRTransmitCoilSequence",
    "MRSpatialSaturationSequence", "MRTimingAndRelatedParametersSequence", "MREchoSequence",
    "MRModifierSequence", "MRDiffusionSequence", "MRAveragesSequence", "MRFOVGeometrySequence",
    "MRMetaboliteMapSequence", "MRVelocityEncodingSequence", "MRArterialSpinLabelingSequence",
    "FunctionalMRSequence", "MRSpectroscopyFOVGeometrySequence")
#: Functional group macros left out per IOD (besides those of synth_parts.FG_LEFT_OUT).
#: IODs whose functional group macros get every conditional attribute the synthesizer has a
#: value for: in the Enhanced MR IODs they are required for ORIGINAL images and "may be
#: present otherwise" (PS3.3 C.8.13.5), and some validators require them unconditionally.
_FG_ALL_CONDITIONAL = {"enhanced-mr-image", "enhanced-mr-color-image"}
_MR_OPTIONAL_MACROS = (
    "MRSpatialSaturationSequence", "MRDiffusionSequence", "MRMetaboliteMapSequence",
    "MRVelocityEncodingSequence", "MRArterialSpinLabelingSequence", "FunctionalMRSequence")
_FG_LEFT_OUT_PER_IOD = {
    **{key: frozenset(by_keyword({k: 0 for k in _MR_OPTIONAL_MACROS}))
       for key in ("enhanced-mr-image", "enhanced-mr-color-image")},
    "enhanced-ct-image": frozenset(by_keyword({k: 0 for k in _CT_ACQUISITION_MACROS})),
    "enhanced-pet-image": frozenset(by_keyword({k: 0 for k in (
        "PETPositionSequence", "PETFrameCorrectionFactorsSequence",
        "PETReconstructionSequence", "PETDetectorMotionDetailsSequence",
        "PETTableDynamicsSequence")})),
    "mr-spectroscopy": frozenset(by_keyword({k: 0 for k in _MR_ACQUISITION_MACROS})),
}
#: Macros put in the Per-frame rather than the Shared Functional Groups Sequence (either is
#: allowed, PS3.3 C.7.6.16.1; some validators expect these per frame).
_PER_FRAME_MACROS = {"breast-tomosynthesis-image": frozenset(by_keyword({
    "XRay3DFrameTypeSequence": 0})),
    "ophthalmic-optical-coherence-tomography-b-scan-volume-analysis": frozenset(by_keyword({
        "DerivationImageSequence": 0}))}
#: Conditional attributes added at the top level per IOD because their condition holds for
#: the synthesized instance (added after the modules are complete, when missing).
_MR_INSTANCE = by_keyword({  # C.8.13.1 / C.8.13.3: may be present for DERIVED images
    "ComplexImageComponent": "MAGNITUDE", "AcquisitionContrast": "T1",
    "ContentQualification": "PRODUCT", "ApplicableSafetyStandardAgency": "IEC",
    "BurnedInAnnotation": "NO", "LossyImageCompression": "00"})
_PER_IOD_EXTRA: dict[str, dict[int, Any]] = {
    **{key: _MR_INSTANCE for key in ("enhanced-mr-image", "enhanced-mr-color-image")},
    "mr-spectroscopy": by_keyword({"ContentQualification": "PRODUCT",
                                   "ApplicableSafetyStandardAgency": "IEC",
                                   "VolumeLocalizationTechnique": "NONE"}),
    "encapsulated-cda": by_keyword({"HL7InstanceIdentifier": "1.2.3.4^synthetic"}),
    # C.7.1.3: Subject ID or Reading ID (either or both)
    "spectacle-prescription-report": by_keyword({"ClinicalTrialSubjectID": "SYNTH-1",
                                                 "ClinicalTrialSubjectReadingID": "SYNTH-1"}),
    # C.37.1.2: annotations of a whole slide image, origin of the volume
    "microscopy-bulk-simple-annotations": by_keyword({"PixelOriginInterpretation": "VOLUME"}),
    "enhanced-pet-image": by_keyword({"BurnedInAnnotation": "NO",
                                      "LossyImageCompression": "00"}),
    "rt-image": by_keyword({"ReportedValuesOrigin": "OPERATOR"}),
    "enhanced-ct-image": by_keyword({"ContentQualification": "PRODUCT",
                                     "BurnedInAnnotation": "NO",
                                     "LossyImageCompression": "00"}),
    # NM STATIC: the vectors the Frame Increment Pointer names, Actual Frame Duration
    # (PS3.3 C.8.4.8.1.1, C.8.4.7).
    "nuclear-medicine-image": by_keyword({"EnergyWindowVector": [1], "DetectorVector": [1],
                                          "ActualFrameDuration": "1000"}),
}
#: Attributes removed per IOD: Patient Position of an RT Image is 1C, required only with an
#: Isocenter Position the synthesized instance does not have (PS3.3 C.8.8.2).
_PER_IOD_DROP = {"rt-image": (0x00185100,)}
#: Values that depend on the IOD (keys of the index).
_PER_IOD: dict[str, dict[int, Any]] = {
    # NM Image Type values 3-4 and the Frame Increment Pointer of a STATIC image with the
    # vectors it names (PS3.3 C.8.4.7.1.1, C.8.4.8.1.1).
    "nuclear-medicine-image": by_keyword({
        "ImageType": ["ORIGINAL", "PRIMARY", "STATIC", "EMISSION"],
        "FrameIncrementPointer": [0x00540010, 0x00540020]}),
    # Segmentation: DERIVED\PRIMARY, BINARY segments of 1 bit (PS3.3 C.8.20.2).
    "segmentation": by_keyword({"ImageType": ["DERIVED", "PRIMARY"], "BitsAllocated": 1,
                                 "BitsStored": 1, "HighBit": 0}),
    "parametric-map": by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED}),
    **{key: by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED})
       for key in ("enhanced-mr-image", "mr-spectroscopy")},
    "enhanced-mr-color-image": by_keyword({
        "ImageType": _DERIVED, "FrameType": _DERIVED, "PixelPresentation": "TRUE_COLOR",
        "PhotometricInterpretation": "RGB", "BitsAllocated": 8, "BitsStored": 8, "HighBit": 7}),
    "enhanced-pet-image": by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED}),
    # IVOCT: the frames are not a volume (PS3.3 C.8.27.2 Intravascular OCT Image Module).
    "intravascular-optical-coherence-tomography-image": by_keyword({
        "VolumetricProperties": "DISTORTED"}),
    # a screening test without foveal, blind spot, baseline or normative data (C.8.25.x
    # Visual Field Static Perimetry Test Measurements: their values are 1C on these flags)
    "ophthalmic-visual-field-static-perimetry-measurements": by_keyword({
        "FovealSensitivityMeasured": "NO", "BlindSpotLocalized": "NO",
        "ScreeningBaselineMeasured": "NO", "TestPointNormalsDataFlag": "NO",
        "FovealPointNormativeDataFlag": "NO"}),
    "enhanced-ct-image": by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED,
                                     "RescaleType": "HU"}),
    "legacy-converted-enhanced-ct-image": by_keyword({"RescaleType": "HU"}),
    # Image Type Value 3 (PS3.3 C.8.2.1.1.1 CT, C.8.3.1.1.1 MR, C.8.7.1.1.1 XA/XRF,
    # C.8.8.2.1.1 RT Image).
    "ct-image": by_keyword({"ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"]}),
    "mr-image": by_keyword({"ImageType": ["ORIGINAL", "PRIMARY", "OTHER"]}),
    **{key: by_keyword({"ImageType": ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]})
       for key in ("x-ray-angiographic-image", "x-ray-radiofluoroscopic-image")},
    "rt-image": by_keyword({"ImageType": ["ORIGINAL", "PRIMARY", "PORTAL"]}),
    "ophthalmic-optical-coherence-tomography-en-face-image": by_keyword({
        "ImageType": ["DERIVED", "PRIMARY"]}),
}
#: Conditional attributes the synthesizer always adds (dciodvfy expects them; their
#: conditions are not machine-readable in the index).
_ALWAYS_CONDITIONAL = {0x00080100, 0x00080102, 0x00200060, 0x00200020, 0x00185100,
                       0x00180080}
#: Type 2C attributes added empty.
_EMPTY_2C = {0x00200060}


def _uid(sop_class: str, what: str) -> UID:
    return generate_uid(entropy_srcs=[sop_class, what])


def _typed(val: Any, vr: str) -> Any:
    """*val* in the Python type pydicom writes for *vr* (binary numbers from text)."""
    if vr in ("US", "SS", "UL", "SL", "SV", "UV") and isinstance(val, str):
        return int(val) if re.fullmatch(r"-?\d+", val) else 1
    if vr in ("FL", "FD") and isinstance(val, (str, int)):
        try:
            return float(val)
        except ValueError:
            return 1.0
    return val


def _value(rule: AttributeRule, vr: str, vm: str, sop_class: str, path: str,
           iod_key: str = "") -> Any:
    if rule.tag in _PER_CLASS.get(sop_class, {}):
        return _PER_CLASS[sop_class][rule.tag]
    per_iod = _PER_IOD.get(iod_key, {})
    if rule.tag in per_iod:
        value = per_iod[rule.tag]
        return [_typed(v, vr) for v in value] if isinstance(value, list) else _typed(value, vr)
    specific = _SPECIFIC.get(rule.tag)
    if rule.enumerated and isinstance(specific, str) and specific in rule.enumerated:
        return _typed(specific, vr)
    if rule.enumerated:
        val: Any = rule.enumerated[0]
    elif rule.tag in _SPECIFIC:
        if isinstance(specific, list):
            return [_typed(v, vr) for v in specific]
        return _typed(specific, vr)
    elif rule.defined:
        val = rule.defined[0]
    elif vr == "UI":
        return _uid(sop_class, path)
    else:
        val = _DUMMY.get(vr, "synthetic")
    val = _typed(val, vr)
    m = re.match(r"(\d+)", vm or "1")
    count = int(m.group(1)) if m else 1
    if count > 1 and not isinstance(val, bytes):
        return [val] * count
    return val


class _Builder:
    def __init__(self, iod: IODDef, sop_class: str) -> None:
        self.iod = iod
        self.sop_class = sop_class

    def add(self, rule: AttributeRule, item: Dataset, path: str, atype: str) -> None:
        entry = dictionary_entry(rule.tag)
        if entry is None or rule.tag in item:
            return
        vr, vm = entry[0].split(" or ")[0], entry[1]
        if rule.tag == 0x7FE00010:
            return  # pixel data is added last, from the image attributes
        if vr == "SQ":
            seq = Sequence()
            if atype == "1":
                sub = Dataset()
                self.fill(rule.children, sub, f"{path}[0].")
                seq.append(sub)
            item.add_new(rule.tag, vr, seq)
            return
        if atype == "2" and (rule.tag not in _SPECIFIC or rule.tag in _EMPTY_2C):
            item.add_new(rule.tag, vr, None)
            return
        item.add_new(rule.tag, vr, _value(rule, vr, vm, self.sop_class, path,
                                                self.iod.key))

    def fill(self, rules: tuple[AttributeRule, ...], item: Dataset, prefix: str = "") -> None:
        for rule in rules:
            if rule.type in ("1", "2"):
                self.add(rule, item, prefix + f"{rule.tag:08X}", rule.type)
            elif rule.type in ("1C", "2C") and (rule.tag in _ALWAYS_CONDITIONAL or (
                    rule.tag in _FG_CONDITIONAL and _IN_FG.search(prefix)) or (
                    self.iod.key in _FG_ALL_CONDITIONAL and rule.tag in _SPECIFIC
                    and _IN_FG.search(prefix))):
                self.add(rule, item, prefix + f"{rule.tag:08X}",
                         "2" if rule.tag in _EMPTY_2C else "1")


def _modality(sop_class: str) -> str | None:
    from conformance.standard.uids import keyword_of
    kw = keyword_of(sop_class)
    return next((m for frag, m in _MODALITY if frag in kw), None)


def _find_rule(mod: ModuleDef, tags: list[int]) -> AttributeRule | None:
    rules = mod.attributes
    rule = None
    for t in tags:
        rule = next((r for r in rules if r.tag == t), None)
        if rule is None:
            return None
        rules = rule.children
    return rule


def _navigate(ds: Dataset, path: str) -> tuple[Dataset, list[int]] | None:
    """Item holding the last tag of a finding path, and the tag list of the path."""
    parts = re.findall(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)(?:\[(\d+)\])?", path)
    item = ds
    tags = []
    for i, (g, e, idx) in enumerate(parts):
        tag = int(g + e, 16)
        tags.append(tag)
        if i < len(parts) - 1:
            if tag not in item or not idx:
                return None
            seq = item[tag].value
            if int(idx) >= len(seq):
                return None
            item = seq[int(idx)]
    return item, tags


def _sr_root(ds: Dataset, builder: _Builder, mod: ModuleDef) -> None:
    """The root content item of an SR document: a CONTAINER with a Document Title and
    Continuity Of Content (PS3.3 C.17.3.2, Table C.17-5); the module's other attributes belong
    to other value types and are not filled."""
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    rule = _find_rule(mod, [0x0040A043])
    if rule is not None:
        builder.add(rule, ds, "0040A043", "1")


def _pixel_data(ds: Dataset) -> None:
    rows, cols = int(ds.get("Rows", 4) or 4), int(ds.get("Columns", 4) or 4)
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    bits = int(ds.get("BitsAllocated", 16) or 16)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    n = (rows * cols * spp * bits * frames + 7) // 8
    n += n & 1
    ds.add_new(0x7FE00010, "OW" if bits > 8 else "OB", b"\x00" * n)


def synthesize(sop_class_uid: str, transfer_syntax: str = ExplicitVRLittleEndian,
               *, rounds: int = 6) -> Dataset:
    """Build a minimal instance of *sop_class_uid* that the validator finds no error in.

    Raises ``ValueError`` for a SOP class with no IOD in the index, or a compressed transfer
    syntax for an IOD with pixel data.
    """
    index = load_index()
    iod = index.iod_for_sop_class(sop_class_uid)
    if iod is None:
        raise ValueError(f"SOP class {sop_class_uid} has no IOD in the standard index "
                         f"(edition {index.edition})")
    ts = UID(transfer_syntax)
    if not ts.is_transfer_syntax:
        raise ValueError(f"{transfer_syntax} is not a known transfer syntax")
    builder = _Builder(iod, sop_class_uid)
    ds = Dataset()
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = _uid(sop_class_uid, "instance")
    ds.SpecificCharacterSet = "ISO_IR 192"
    modality = _PER_CLASS.get(sop_class_uid, {}).get(0x00080060) or _modality(sop_class_uid)
    if modality and any(a.tag == 0x00080060 for u in iod.modules for a in u.module.attributes):
        ds.Modality = modality
    for use in iod.modules:
        if use.usage == "M" and use.module.key in SR_CONTENT_MODULES:
            _sr_root(ds, builder, use.module)
        elif use.usage == "M" or use.module.key in _EXTRA_MODULES.get(iod.key, ()):
            builder.fill(use.module.attributes, ds)
    has_pixels = any(u.usage == "M" and any(a.tag == 0x7FE00010 for a in u.module.attributes)
                     for u in iod.modules)
    if has_pixels:
        for tag, kw in ((0x00280010, "Rows"), (0x00280011, "Columns")):
            if tag not in ds:
                setattr(ds, kw, 4)
        photometric = ds.get("PhotometricInterpretation", "MONOCHROME2")
        ds.SamplesPerPixel = 3 if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422",
                                                  "YBR_ICT", "YBR_RCT") else 1
        if ds.SamplesPerPixel > 1:
            ds.PlanarConfiguration = 0
        if ts.is_encapsulated:
            raise ValueError(f"cannot synthesize pixel data in compressed transfer syntax "
                             f"{ts.name}; use a native one")
        _pixel_data(ds)
    if iod_has(iod, 0x00089007) and 0x00080008 not in _PER_IOD.get(iod.key, {}):
        ds.ImageType = _ENHANCED_IMAGE_TYPE  # enhanced IODs: 4 values (PS3.3 C.8.16.1)
    for use in iod.modules:
        for rule in use.module.attributes:
            if rule.tag in _TYPE3_ITEMS.get(iod.key, {}):
                builder.add(rule, ds, f"{rule.tag:08X}", "1")
    functional_groups(ds, _FG_LEFT_OUT_PER_IOD.get(iod.key, frozenset()),
                      _PER_FRAME_MACROS.get(iod.key, frozenset()))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.FileMetaInformationVersion = b"\x00\x01"
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.ImplementationClassUID = UID("1.2.826.0.1.3680043.10.1375.1")
    ds.file_meta.ImplementationVersionName = "CONFORMANCE"
    _complete(ds, iod, builder, rounds)
    if 0x00200060 in ds and (0x00200062 in ds or SHARED in ds or iod.key in _NO_LATERALITY
                             or 0x54000100 in ds):
        # Laterality (2C) only where no Image or Frame Laterality says it, and not for
        # waveforms, slides or measurements with their own laterality (PS3.3 C.7.3.1).
        del ds[0x00200060]
    if iod.key.endswith("secondary-capture-image") and str(ds.get("NumberOfFrames")) == "1" \
            and 0x00280009 in ds:
        del ds[0x00280009]  # Frame Increment Pointer only for > 1 frame (PS3.3 C.8.6.3)
    if any(u.module.key == "multi-frame-dimension" for u in iod.modules):
        dimension_index(ds, _uid(sop_class_uid, "dimension-organization"),
                        temporal=iod.key == "enhanced-pet-image")
    _per_iod_extras(ds, iod)
    two_items(ds, _TWO_ITEMS)
    for path, keyword, value in _PATH_EXTRA.get(iod.key, []):
        item: Dataset | None = ds
        for step in path:
            seq = item.get(step) if item is not None else None
            item = seq[0] if seq else None
        if item is None:
            continue
        if value is None:
            if keyword in item:
                delattr(item, keyword)
        elif keyword not in item:
            setattr(item, keyword, references(value, ds, sop_class_uid)
                    if isinstance(value, str) else value)
    if iod.key == "basic-directory":
        directory(ds)
    lookup_tables(ds, palette_bits_8=iod.key == "color-palette")
    waveform_data(ds)
    _consistent_pixel_description(ds)
    if has_pixels:
        del ds[0x7FE00010]
        _pixel_data(ds)
    if sop_class_uid == KEY_OBJECT_SELECTION:
        _key_object_selection(ds)
    return ds


def _per_iod_extras(ds: Dataset, iod: IODDef) -> None:
    for tag, value in _PER_IOD_EXTRA.get(iod.key, {}).items():
        entry = dictionary_entry(tag)
        if tag not in ds and entry is not None:
            ds.add_new(tag, entry[0].split(" or ")[0], value)
    for tag in _PER_IOD_DROP.get(iod.key, ()):
        if tag in ds:
            del ds[tag]


def iod_has(iod: IODDef, tag: int) -> bool:
    """Whether any module of *iod* has *tag*, at any depth."""
    def walk(rules: tuple[AttributeRule, ...]) -> bool:
        return any(r.tag == tag or walk(r.children) for r in rules)
    return any(walk(u.module.attributes) for u in iod.modules)


def _key_object_selection(ds: Dataset) -> None:
    """TID 2010 (PS3.16), which the Key Object Selection Document IOD requires (PS3.3 A.35.4):
    a document title from CID 7010 ((113000, DCM, "Of Interest")) and one CONTAINS COMPOSITE
    reference (rows 5-7) to the instance the evidence sequence already lists."""
    title = ds.ConceptNameCodeSequence[0]
    title.CodeValue, title.CodingSchemeDesignator = "113000", "DCM"
    title.CodeMeaning = "Of Interest"
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0]
    listed = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    ref = Dataset()
    ref.ReferencedSOPClassUID = listed.ReferencedSOPClassUID
    ref.ReferencedSOPInstanceUID = listed.ReferencedSOPInstanceUID
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "COMPOSITE"
    item.ReferencedSOPSequence = [ref]
    ds.ContentSequence = [item]


def _consistent_pixel_description(ds: Dataset) -> None:
    """Bits Stored <= Bits Allocated and High Bit = Bits Stored - 1 (PS3.3 C.7.6.3.1): an
    IOD may fix Bits Allocated (8 for some) after the generic default of 16 was filled."""
    allocated = ds.get("BitsAllocated")
    stored = ds.get("BitsStored")
    if isinstance(allocated, int) and isinstance(stored, int) and stored > allocated:
        ds.BitsStored = stored = allocated
    if isinstance(stored, int) and "HighBit" in ds:
        ds.HighBit = stored - 1


def _complete(ds: Dataset, iod: IODDef, builder: _Builder, rounds: int) -> None:
    mods = {u.module.name: u.module for u in iod.modules}
    from conformance.standard.conditions import tags_in

    for _ in range(rounds):
        changed = False
        added: dict[int, set[int]] = {}  # id(item) -> tags added this round
        for f in validate(ds):
            if f.severity.value != "error" or not f.tag:
                continue
            nav = _navigate(ds, f.tag)
            if nav is None:
                continue
            item, tags = nav
            if f.code in ("iod.type1-missing", "iod.type2-missing", "iod.type1-empty"):
                mod = mods.get(f.module or "")
                rule = _find_rule(mod, tags) if mod else None
                if rule is None:
                    continue
                if rule.condition is not None and rule.condition.expr is not None and \
                        tags_in(rule.condition.expr) & added.get(id(item), set()):
                    continue  # its condition changed this round (mutually exclusive pairs)
                if tags[-1] in item and f.code == "iod.type1-empty":
                    del item[tags[-1]]
                builder.add(rule, item, f.tag, f.code[8])
                added.setdefault(id(item), set()).add(tags[-1])
                changed = True
            elif f.code == "iod.present-when-condition-false" and tags[-1] in item:
                del item[tags[-1]]  # e.g. one of a pair that excludes the other
                changed = True
            elif f.code == "iod.enumerated-value" and f.details.get("allowed"):
                elem = item[tags[-1]]
                allowed = f.details["allowed"][0]
                index = f.details.get("value_index")
                if index:  # one value of a multi-valued attribute (Image Type value 3)
                    values = list(elem.value)
                    values[index - 1] = _typed(allowed, elem.VR)
                    elem.value = values
                else:
                    elem.value = int(allowed) if elem.VR in ("US", "SS", "UL", "SL") \
                        else allowed
                changed = True
        for use in iod.modules:
            if use.usage == "C" and use.condition and use.condition.expr:
                pass  # required C modules come back as iod.module-missing below
        for f in validate(ds):
            if f.code == "iod.module-missing" and f.module in mods:
                before = len(ds)
                builder.fill(mods[f.module].attributes, ds)
                if len(ds) == before:  # only conditional attributes: add those
                    for rule in mods[f.module].attributes:
                        if rule.type in ("1C", "2C"):
                            builder.add(rule, ds, f"{rule.tag:08X}", rule.type[0])
                changed = True
        if not changed:
            return

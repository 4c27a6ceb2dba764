"""The synthesizer's choices of values, per attribute, IOD and SOP class (used by :mod:`synth`).

Values come from the attribute descriptions of PS3.3 where its tables give no enumerated or
defined values, and from the conditions of the IODs: which conditional attributes, modules,
macros and items a plain synthesized instance has.  Each entry says why.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.iod.synth_parts import by_keyword

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
    "TransmitCoilManufacturerName": "", "SpectroscopyAcquisitionDataColumns": 1,
    "SpectroscopyAcquisitionPhaseRows": 1, "SpectroscopyAcquisitionPhaseColumns": 1, "SelectorAttributeVR": "CS",
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
_NO_LATERALITY = {"surface-segmentation", "segmentation", "vl-whole-slide-microscopy-image",
                  "vl-slide-coordinates-microscopic-image",
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
                  # a treatment session that was delivered, not salvaged (Session or Salvage Record)
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
#: condition holds: a Track Set colour for all its tracks (Tractography Results Module); the references
#: of an instance that references others (Common Instance Reference, C.12.2).
_PATH_EXTRA: dict[str, list[tuple[tuple[str, ...], str, Any]]] = {
    # the treated beam's jaws (1C in 2026b, type 1 in earlier editions): one asymmetric pair
    "rt-beams-treatment-record": [(("TreatmentSessionBeamSequence",),
                                   "BeamLimitingDeviceLeafPairsSequence", "leaf-pairs")],
    # an image box shows images: Referenced Image Sequence, none of the three alternatives
    # (each 1C/2C "if the others are not present", PS3.3 C.11.17)
    "basic-structured-display": [(("StructuredDisplayImageBoxSequence",),
                                  "ReferencedImageSequence", "image-reference"),
                                 (("StructuredDisplayImageBoxSequence",),
                                  "ReferencedStereometricInstanceSequence", None)],
    "tractography-results": [(("TrackSetSequence",), "RecommendedDisplayCIELabValue",
                              [0, 32896, 32896])],
    # one 2D point (Microscopy Bulk Simple Annotations Module): its coordinates, no Z, the
    # image it is on
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
#: Sequences the IOD requires at least two items of (Presentation State Blending Module:
#: the underlying and the superimposed image; Brachy Control Point Delivered: start and end).
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
#: DERIVED enhanced CT and MR images: the acquisition macros are then optional (the
#: Functional Group Macros tables of PS3.3 A.38.1 and A.36.2: required only if Image Type
#: Value 1 is ORIGINAL or MIXED), so the
#: instance needs no invented acquisition parameters.
_DERIVED = ["DERIVED", "PRIMARY", "AXIAL", "NONE"]
_ORIGINAL_MR = ["ORIGINAL", "PRIMARY", "SPECTROSCOPY", "NONE"]
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
_FG_ALL_CONDITIONAL = {"enhanced-mr-image", "enhanced-mr-color-image", "mr-spectroscopy"}
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
    "mr-spectroscopy": frozenset(by_keyword({k: 0 for k in _MR_OPTIONAL_MACROS})),
}
#: Macros put in the Per-frame rather than the Shared Functional Groups Sequence (either is
#: allowed, PS3.3 C.7.6.16.1; some validators expect these per frame).
_PER_FRAME_MACROS = {"breast-tomosynthesis-image": frozenset(by_keyword({
    "XRay3DFrameTypeSequence": 0})),
    "vl-whole-slide-microscopy-image": frozenset(by_keyword({"PlanePositionSlideSequence": 0})),
    "enhanced-us-volume": frozenset(by_keyword({"PlanePositionVolumeSequence": 0})),
    "legacy-converted-enhanced-pet-image": frozenset(by_keyword({
        "RealWorldValueMappingSequence": 0})),
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
    # an ORIGINAL single-voxel acquisition (C.8.14 MR Spectroscopy Module, the MR instance
    # macros): no volume localization
    "mr-spectroscopy": by_keyword({"ContentQualification": "PRODUCT",
                                   "ApplicableSafetyStandardAgency": "IEC",
                                   "VolumeLocalizationTechnique": "NONE",
                                   "AcquisitionDateTime": "20260101120000",
                                   "AcquisitionDuration": 1.0, "ResonantNucleus": "1H",
                                   "KSpaceFiltering": "NONE", "MagneticFieldStrength": "1.5",
                                   "RectilinearPhaseEncodeReordering": "LINEAR"}),
    "encapsulated-cda": by_keyword({"HL7InstanceIdentifier": "1.2.3.4^synthetic"}),
    # C.7.1.3: Subject ID or Reading ID (either or both)
    "spectacle-prescription-report": by_keyword({"ClinicalTrialSubjectID": "SYNTH-1",
                                                 "ClinicalTrialSubjectReadingID": "SYNTH-1"}),
    # annotations of a whole slide image, origin of the volume (1C, may be present otherwise)
    "microscopy-bulk-simple-annotations": by_keyword({"PixelOriginInterpretation": "VOLUME"}),
    # a single focal plane, slide axes along the image axes (Whole Slide Microscopy Image and
    # Microscope Slide Layer Tile Organization Modules)
    # positions in the patient estimated; acquired in patient coordinates, not from an apex
    # (Ultrasound Frame of Reference Module)
    "enhanced-us-volume": by_keyword({"PatientFrameOfReferenceSource": "ESTIMATED"}),
    "vl-whole-slide-microscopy-image": by_keyword({
        "ImageOrientationSlide": [0, -1, 0, -1, 0, 0], "ImagedVolumeWidth": 1.0,
        "ImagedVolumeHeight": 1.0, "ImagedVolumeDepth": 1.0}),
    "enhanced-pet-image": by_keyword({"BurnedInAnnotation": "NO",
                                      "LossyImageCompression": "00"}),
    "rt-image": by_keyword({"ReportedValuesOrigin": "OPERATOR"}),
    "enhanced-ct-image": by_keyword({"ContentQualification": "PRODUCT",
                                     "BurnedInAnnotation": "NO",
                                     "LossyImageCompression": "00"}),
    # NM STATIC: the vectors the Frame Increment Pointer names, Actual Frame Duration
    # (PS3.3 C.8.4.8 NM Multi-frame, C.8.4.7 NM Image Modules).
    "nuclear-medicine-image": by_keyword({"EnergyWindowVector": [1], "DetectorVector": [1],
                                          "ActualFrameDuration": "1000"}),
}
#: Attributes removed per IOD: Patient Position of an RT Image is 1C, required only with an
#: Isocenter Position the synthesized instance does not have (PS3.3 C.8.8.2).
_PER_IOD_DROP = {"rt-image": (0x00185100,)}
#: Values that depend on the IOD (keys of the index).
_PER_IOD: dict[str, dict[int, Any]] = {
    # NM Image Type values 3-4 and the Frame Increment Pointer of a STATIC image with the
    # vectors it names (PS3.3 C.8.4.7 NM Image, C.8.4.8 NM Multi-frame Modules).
    "nuclear-medicine-image": by_keyword({
        "ImageType": ["ORIGINAL", "PRIMARY", "STATIC", "EMISSION"],
        "FrameIncrementPointer": [0x00540010, 0x00540020]}),
    # Segmentation: DERIVED\PRIMARY, BINARY segments of 1 bit (PS3.3 C.8.20.2).
    "segmentation": by_keyword({"ImageType": ["DERIVED", "PRIMARY"], "BitsAllocated": 1,
                                 "BitsStored": 1, "HighBit": 0}),
    "parametric-map": by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED}),
    **{key: by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED})
       for key in ("enhanced-mr-image",)},
    "mr-spectroscopy": by_keyword({"ImageType": _ORIGINAL_MR, "FrameType": _ORIGINAL_MR}),
    "enhanced-mr-color-image": by_keyword({
        "ImageType": _DERIVED, "FrameType": _DERIVED, "PixelPresentation": "TRUE_COLOR",
        "PhotometricInterpretation": "RGB", "BitsAllocated": 8, "BitsStored": 8, "HighBit": 7}),
    "enhanced-pet-image": by_keyword({"ImageType": _DERIVED, "FrameType": _DERIVED}),
    "enhanced-us-volume": by_keyword({"ImageType": ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"],
                                      "FrameType": ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"],
                                      "UltrasoundAcquisitionGeometry": "PATIENT"}),
    "vl-whole-slide-microscopy-image": by_keyword({
        "ImageType": ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"],
        "FrameType": ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"], "ExtendedDepthOfField": "NO",
        "SpecimenLabelInImage": "NO"}),
    # IVOCT: the frames are not a volume (PS3.3 C.8.27.2 Intravascular OCT Image Module).
    "intravascular-optical-coherence-tomography-image": by_keyword({
        "VolumetricProperties": "DISTORTED"}),
    # a screening test without foveal, blind spot, baseline or normative data (Visual
    # Field Static Perimetry Test Measurements Module: their values are 1C on these flags)
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

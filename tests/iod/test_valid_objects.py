"""No false alarms: valid objects made elsewhere give 0 errors, and each fix of a false alarm
still catches the real defect it must (PS3.3 C.17.3 SR content, C.7.6.16 functional groups,
A.1.3 module usage, F DICOMDIR)."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from conformance.findings import Severity
from conformance.iod import synthesize, validate, validate_file
from tests.iod import highdicom_objects

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _errors(findings):
    return [f"{f.code} {f.tag} {f.message}" for f in findings or []
            if f.severity is Severity.ERROR]


def _warnings(findings):
    return [f"{f.code} {f.tag} {f.message}" for f in findings or []
            if f.severity is Severity.WARNING]


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    folder = tmp_path_factory.mktemp("highdicom")
    out = {}
    for name in highdicom_objects.BUILDERS:
        ds = highdicom_objects.build(name)
        path = folder / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out[name] = path
    return out


@pytest.mark.parametrize("name", sorted(highdicom_objects.BUILDERS))
def test_highdicom_object_has_no_error_or_warning(objects, name):
    findings = validate_file(objects[name])
    assert _errors(findings) == []
    assert _warnings(findings) == []


def _read(objects, name) -> Dataset:
    return pydicom.dcmread(objects[name])


def test_text_item_without_text_value_is_an_error(objects):
    ds = _read(objects, "basic_text_sr")
    del ds.ContentSequence[0].TextValue
    errs = _errors(validate(ds))
    assert any("iod.type1-missing (0040,A730)[0].(0040,A160)" in e for e in errs), errs
    assert len(errs) == 1, errs


def test_num_item_without_measured_value_sequence_is_an_error(objects):
    ds = _read(objects, "tid1500")
    stack, found = [ds], None
    while stack and found is None:
        item = stack.pop()
        for sub in item.get("ContentSequence", []):
            if sub.ValueType == "NUM":
                found = sub
                break
            stack.append(sub)
    assert found is not None
    del found.MeasuredValueSequence
    errs = _errors(validate(ds))
    assert len(errs) == 1 and errs[0].startswith("iod.type2-missing") \
        and errs[0].split()[1].endswith("(0040,A300)"), errs


def test_attribute_of_another_value_type_is_a_warning(objects):
    ds = _read(objects, "basic_text_sr")
    ds.ContentSequence[0].UID = "1.2.3"
    assert any(w.startswith("sr.attribute-not-for-value-type") for w in _warnings(validate(ds)))


def test_code_item_without_concept_code_and_bad_relationship(objects):
    ds = _read(objects, "basic_text_sr")
    item = ds.ContentSequence[1]
    item.ValueType = "CODE"
    del item.TextValue
    item.RelationshipType = "OWNS"
    errs = _errors(validate(ds))
    assert any("(0040,A730)[1].(0040,A168)" in e and "type1-missing" in e for e in errs), errs
    assert any("Relationship Type 'OWNS'" in e for e in errs), errs


def test_deep_content_tree_is_walked_without_recursion(objects):
    ds = _read(objects, "basic_text_sr")
    item = ds.ContentSequence[0]
    for _ in range(200):  # legal 200-deep nesting (issue 14)
        child = copy.deepcopy(ds.ContentSequence[1])
        child.RelationshipType = "HAS PROPERTIES"  # TEXT to TEXT: PS3.3 Table A.35.1-2 row 5
        item.ContentSequence = Sequence([child])
        item = child
    del item.TextValue
    errs = _errors(validate(ds))
    assert len(errs) == 1 and "(0040,A160)" in errs[0], errs[:3]


def test_per_frame_items_must_match_number_of_frames(objects):
    ds = _read(objects, "legacy_enhanced_ct")
    ds.NumberOfFrames = 4
    errs = _errors(validate(ds))
    assert any(e.startswith("iod.functional-groups-frames") for e in errs), errs


def test_functional_group_in_shared_and_per_frame_is_an_error(objects):
    ds = _read(objects, "segmentation")
    shared = ds.SharedFunctionalGroupsSequence[0]
    tag = next(iter(shared.keys()))
    ds.PerFrameFunctionalGroupsSequence[0][tag] = copy.deepcopy(shared[tag])
    errs = _errors(validate(ds))
    assert any(e.startswith("iod.functional-group-shared-and-per-frame") for e in errs), errs


def test_present_functional_group_is_still_checked(objects):
    ds = _read(objects, "segmentation")
    del ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence
    errs = _errors(validate(ds))
    assert any(e.startswith("iod.type2-missing (5200,9230)[0].(0008,9124)[0].(0008,2112)")
               for e in errs), errs


def test_multiframe_sc_without_vector_attributes_is_clean():
    ds = synthesize("1.2.840.10008.5.1.4.1.1.7.2")  # Multi-frame Grayscale Byte SC
    assert not any("SC Multi-frame Vector" in e for e in _errors(validate(ds)))


def test_conditional_module_is_judged_by_its_own_attributes(objects):
    """Parametric Map: Image Pixel / Floating Point / Double Float Image Pixel modules share
    Rows, Columns, Bits Allocated; only one of them is present (PS3.3 A.75.3)."""
    findings = validate_file(objects["parametric_map"])
    assert not any(f.module and "Double" in f.module for f in findings
                   if f.severity is not Severity.INFO)


@pytest.mark.parametrize("name", ["DICOMDIR", "DICOMDIR-implicit", "DICOMDIR-bigEnd",
                                  "DICOMDIR-reordered", "DICOMDIR-empty.dcm"])
def test_dicomdir_is_validated_as_basic_directory(name):
    findings = validate_file(TEST_FILES / "dicomdirtests" / name)
    assert _errors(findings) == []
    assert {f.iod for f in findings or []} <= {"Basic Directory", None} and findings is not None


def test_dicomdir_missing_record_offsets_is_an_error():
    findings = validate_file(TEST_FILES / "dicomdirtests" / "DICOMDIR-nooffset")
    assert any(e.startswith("iod.type1-missing (0004,1220)") for e in _errors(findings))


def test_pydicom_test_files_exist():
    assert os.path.isdir(TEST_FILES)


@pytest.mark.parametrize("name", ["tid1500", "kos"])
def test_referenced_instance_missing_from_evidence_is_an_error(objects, name):
    ds = _read(objects, name)
    del ds.CurrentRequestedProcedureEvidenceSequence
    errs = _errors(validate(ds))
    assert any(e.startswith("sr.reference-not-in-evidence") for e in errs), errs

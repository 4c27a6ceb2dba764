"""Every single defect is found with its code; clean instances of several IODs give no error."""

from __future__ import annotations

import pytest

from conformance.findings import Severity
from conformance.iod import validate, validate_file
from tests.iod import corpus


@pytest.mark.parametrize("name", sorted(corpus.CLEAN))
def test_clean_instance_has_no_error_or_warning(built_corpus, name):
    clean, _ = built_corpus
    findings = validate_file(clean[name])
    assert findings is not None
    bad = [f for f in findings if f.severity is not Severity.INFO]
    assert bad == [], [f"{f.code} {f.tag} {f.message}" for f in bad]


@pytest.mark.parametrize("defect", corpus.DEFECTS, ids=lambda d: d.name)
def test_single_defect_is_reported_with_its_code(built_corpus, defect):
    _, defects = built_corpus
    _, path = defects[defect.name]
    findings = validate_file(path)
    assert findings is not None
    codes = {f.code for f in findings if f.severity is not Severity.INFO}
    assert defect.code in codes, (defect.name, sorted(codes))


def test_findings_carry_tag_path_module_iod_and_reference(built_corpus):
    _, defects = built_corpus
    _, path = defects["type1c-missing-by-condition"]
    f = next(f for f in validate_file(path) or [] if f.code == "iod.type1-missing")
    assert f.tag == "(0008,2218)[0].(0008,0105)"
    assert f.iod == "CT Image" and f.module and f.reference.startswith("PS3.3")
    assert f.source == str(path)


def test_one_pass_reports_every_defect_at_once():
    ds = corpus.CLEAN["ct"]()
    del ds.Modality
    del ds.PatientName
    ds.PixelRepresentation = 2
    codes = [f.code for f in validate(ds)]
    assert {"iod.type1-missing", "iod.type2-missing", "iod.enumerated-value"} <= set(codes)


def test_in_memory_dataset_and_file_give_the_same_errors(built_corpus, tmp_path):
    ds = corpus.CLEAN["mr"]()
    del ds.StudyInstanceUID
    path = corpus.write(ds, tmp_path / "mr.dcm")
    from_memory = sorted((f.code, f.tag) for f in validate(ds) if f.severity is Severity.ERROR)
    from_file = sorted((f.code, f.tag) for f in validate_file(path) or []
                       if f.severity is Severity.ERROR)
    assert from_memory == from_file == [("iod.type1-missing", "(0020,000D)")]


def test_non_dicom_file_is_skipped_not_failed(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("not a DICOM file at all, just some words\n")
    assert validate_file(p) is None


def test_unknown_sop_class_still_runs_element_checks():
    ds = corpus.CLEAN["sc"]()
    ds.SOPClassUID = "1.2.3.4.5.6"
    ds.file_meta.MediaStorageSOPClassUID = "1.2.3.4.5.6"
    from pydicom.dataelem import RawDataElement
    ds[0x00080020] = RawDataElement(0x00080020, "DA", 8, b"20261301", 0, False, True)
    codes = {f.code for f in validate(ds)}
    assert {"iod.unknown-sop-class", "vr.invalid-format"} <= codes


def test_private_attribute_checked_against_the_statement_declaration():
    from conformance.statement.model import PrivateAttribute
    declared = [PrivateAttribute(creator="ACME 1.0", group=0x0019, element=0x10, vr="DS",
                                 vm="1")]
    ds = corpus.CLEAN["ct"]()
    ds.add_new(0x00190010, "LO", "ACME 1.0")
    ds.add_new(0x00191010, "LO", "1.5")  # declared DS, sent as LO
    ds.add_new(0x00191011, "LO", "undeclared is fine")
    codes = [(f.code, f.tag) for f in validate(ds, private_attributes=declared)
             if f.severity is Severity.ERROR]
    assert codes == [("private.vr-mismatch", "(0019,1010)")]
    from pydicom.dataelem import RawDataElement
    ds[0x00191010] = RawDataElement(0x00191010, "DS", 2, b"x1", 0, False, True)
    codes = [(f.code, f.tag) for f in validate(ds, private_attributes=declared)
             if f.severity is Severity.ERROR]
    assert codes == [("vr.invalid-format", "(0019,1010)")]


def test_sequence_item_count_from_the_module_table():
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    ds = corpus.CLEAN["ct"]()
    items = []
    for v in ("A", "B"):
        it = Dataset()
        it.CodeValue, it.CodingSchemeDesignator, it.CodeMeaning = v, "99X", v
        items.append(it)
    ds.PatientSpeciesCodeSequence = Sequence(items)  # "Only a single Item" (PS3.3 C.7.1.1)
    found = [f for f in validate(ds) if f.code == "iod.sequence-items"]
    assert [f.tag for f in found] == ["(0010,2202)"]


def test_conditional_attribute_present_when_its_condition_is_false_is_an_error():
    ds = corpus.CLEAN["sc"]()
    ds.PlanarConfiguration = 0  # 1C: required if Samples per Pixel > 1; here it is 1
    found = [f for f in validate(ds) if f.code == "iod.present-when-condition-false"]
    assert [f.tag for f in found] == ["(0028,0006)"]
    assert found[0].severity is Severity.ERROR

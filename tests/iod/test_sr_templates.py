"""SR template checks (PS3.16 TID 1500, 2010, 2000; conformance/iod/sr_templates.py): valid
highdicom documents and pydicom's SR files give no template finding; each deliberately broken
tree is caught with its PS3.16 row."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from conformance.iod import validate, validate_file
from conformance.iod.sr_templates import context_group, declared_template
from tests.iod.highdicom_objects import build

LANGUAGE = ("121049", "DCM")
PROCEDURE = ("121058", "DCM")
DESCRIPTION = ("113012", "DCM")


def _codes(ds: Dataset) -> set[str]:
    return {f.code for f in validate(ds) if f.code.startswith("sr.template")}


def _find(ds: Dataset, code: tuple[str, str]) -> Dataset:
    for item in ds.ContentSequence:
        if "ConceptNameCodeSequence" not in item:
            continue
        name = item.ConceptNameCodeSequence[0]
        if (name.CodeValue, name.CodingSchemeDesignator) == code:
            return item
    raise AssertionError(f"no item {code}")


def _description(relationship: str = "CONTAINS") -> Dataset:
    """TID 2010 row 4: CONTAINS TEXT (113012, DCM, "Key Object Description")."""
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator = DESCRIPTION
    name.CodeMeaning = "Key Object Description"
    item = Dataset()
    item.RelationshipType, item.ValueType = relationship, "TEXT"
    item.ConceptNameCodeSequence = [name]
    item.TextValue = "the lesion"
    return item


def _plain(name: str) -> Dataset:
    """The highdicom document as plain pydicom objects (written and read back), so the tests
    can break its tree freely."""
    buf = io.BytesIO()
    build(name).save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


@pytest.fixture(scope="module")
def tid1500() -> Dataset:
    return _plain("tid1500")


@pytest.fixture(scope="module")
def kos() -> Dataset:
    return _plain("kos")


def test_valid_highdicom_documents_have_no_template_finding(tid1500, kos) -> None:
    assert declared_template(tid1500, tid1500.SOPClassUID) == "1500"
    assert declared_template(kos, kos.SOPClassUID) == "2010"
    assert _codes(tid1500) == set()
    assert _codes(kos) == set()
    assert _codes(build("basic_text_sr")) == set()


def test_pydicom_sr_files_have_no_template_finding() -> None:
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    files = [folder / n for n in ("reportsi.dcm", "test-SR.dcm")]
    for path in files:
        found = validate_file(path) or []
        assert not [f for f in found if f.code.startswith("sr.template")], path


def test_missing_required_row_is_an_error(tid1500) -> None:
    ds = copy.deepcopy(tid1500)
    ds.ContentSequence.remove(_find(ds, LANGUAGE))
    found = [f for f in validate(ds) if f.code == "sr.template-row-missing"]
    assert len(found) == 1 and found[0].reference == "PS3.16 TID 1204 row 1 (included by TID 1500 row 2)"
    assert found[0].severity.value == "error"


def test_wrong_value_type_is_an_error(tid1500) -> None:
    ds = copy.deepcopy(tid1500)
    item = _find(ds, PROCEDURE)
    item.ValueType = "TEXT"
    item.TextValue = "CT"
    del item.ConceptCodeSequence
    found = [f for f in validate(ds) if f.code == "sr.template-value-type"]
    assert found and found[0].reference == "PS3.16 TID 1500 row 4"
    # The only Procedure reported is now of the wrong type: the required row is missing too.
    assert "sr.template-row-missing" in _codes(ds)


def test_wrong_relationship_is_an_error(kos) -> None:
    ds = copy.deepcopy(kos)
    ds.ContentSequence.append(_description())
    assert _codes(ds) == set()  # the row as PS3.16 gives it
    ds.ContentSequence[-1].RelationshipType = "HAS PROPERTIES"
    assert "sr.template-relationship" in _codes(ds)


def test_wrong_document_title_code_is_a_warning(kos) -> None:
    ds = copy.deepcopy(kos)
    title = ds.ConceptNameCodeSequence[0]
    title.CodeValue, title.CodingSchemeDesignator = "999999", "99TEST"
    found = [f for f in validate(ds) if f.code == "sr.template-concept-not-in-cid"]
    assert len(found) == 1 and found[0].severity.value == "warning"
    assert "CID 7010" in found[0].message and found[0].reference.startswith("PS3.16 TID 2010 row 1")


def test_kos_without_references_misses_rows_5_to_7(kos) -> None:
    ds = copy.deepcopy(kos)
    keep = [i for i in ds.ContentSequence
            if i.ValueType not in ("IMAGE", "COMPOSITE", "WAVEFORM")]
    ds.ContentSequence = keep
    found = [f for f in validate(ds) if f.code == "sr.template-row-missing"]
    assert found and found[0].reference == "PS3.16 TID 2010 row 5-7"


def test_repeated_single_row_is_an_error(kos) -> None:
    ds = copy.deepcopy(kos)
    ds.ContentSequence.append(_description())
    ds.ContentSequence.append(_description())
    assert "sr.template-row-repeated" in _codes(ds)


def test_context_groups_come_from_the_standard_tables() -> None:
    assert ("113000", "DCM") in context_group(7010)  # Of Interest
    assert ("126000", "DCM") in context_group(7021)  # Imaging Measurement Report
    assert context_group(99999999) == frozenset()

"""SR relationship content constraints per SR IOD (PS3.3 Tables A.35.x-2;
conformance/iod/sr_relationships.py): valid documents (highdicom, pydicom's SR files,
synthesized instances of every SR SOP class) give no finding; each kind of violation is
reported with its table and path; what the tables do not know is never reported."""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from conformance.iod import sr_relationships, validate, validate_file
from conformance.iod.synth import synthesize
from conformance.standard.iod_index import load_index
from tests.iod.highdicom_objects import build
from tests.iod.test_sr_subtemplates import _rich_tid1500, _tid2000

CODES = ("sr.relationship-not-allowed", "sr.by-reference-not-allowed",
         "sr.reference-target-missing", "sr.reference-to-ancestor")
BASIC_TEXT = "1.2.840.10008.5.1.4.1.1.88.11"
COMPREHENSIVE = "1.2.840.10008.5.1.4.1.1.88.33"
EXTENSIBLE = "1.2.840.10008.5.1.4.1.1.88.35"


def _found(ds: Dataset) -> list:
    return [f for f in validate(ds) if f.code in CODES]


def _direct(ds: Dataset, sop_class: str | None = None) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []

    def add(code, severity, message, reference="", tag=None, *a, **k) -> None:
        out.append((code, severity.value, reference, tag))

    sr_relationships.check(add, ds, sop_class or str(ds.SOPClassUID))
    return out


def _plain(ds: Dataset) -> Dataset:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


def _item(rel: str, vt: str, **values) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = rel, vt
    name = Dataset()
    name.CodeValue, name.CodingSchemeDesignator, name.CodeMeaning = "121071", "DCM", "Finding"
    item.ConceptNameCodeSequence = [name]
    for k, v in values.items():
        setattr(item, k, v)
    return item


def _by_reference(rel: str, ident: list[int]) -> Dataset:
    item = Dataset()
    item.RelationshipType = rel
    item.ReferencedContentItemIdentifier = ident
    return item


@pytest.fixture(scope="module")
def basic() -> Dataset:
    return _plain(build("basic_text_sr"))


@pytest.fixture(scope="module")
def report2000() -> Dataset:
    return _plain(_tid2000())


@pytest.fixture(scope="module")
def kos() -> Dataset:
    return _plain(build("kos"))


@pytest.fixture(scope="module")
def tid1500() -> Dataset:
    return _plain(build("tid1500"))


def test_valid_highdicom_documents_have_no_relationship_finding(basic, report2000, kos,
                                                                tid1500) -> None:
    rich = _plain(_rich_tid1500())
    for ds in (basic, report2000, kos, tid1500, rich):
        assert sr_relationships.table_for(str(ds.SOPClassUID)) is not None
        assert _found(ds) == [], ds.SOPClassUID


def test_pydicom_sr_files_have_no_relationship_finding() -> None:
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    for name in ("reportsi.dcm", "reportsi_with_empty_number_tags.dcm", "test-SR.dcm"):
        found = validate_file(folder / name) or []
        assert not [f for f in found if f.code in CODES], name


def test_test_sr_by_reference_relationships_resolve() -> None:
    """pydicom's test-SR.dcm (Comprehensive SR) holds two by-reference relationships (a
    TCOORD SELECTED FROM an SCOORD, row 10 of Table A.35.3-2): both resolve and are allowed."""
    ds = pydicom.dcmread(Path(pydicom.__file__).parent / "data" / "test_files" / "test-SR.dcm")
    refs = []
    stack = [ds]
    while stack:
        for child in stack.pop().get("ContentSequence", []):
            if "ReferencedContentItemIdentifier" in child:
                refs.append(child)
            stack.append(child)
    assert len(refs) == 2
    assert _direct(ds) == []


def test_data_matches_the_index() -> None:
    raw = json.loads(sr_relationships.DATA.read_text())
    index = load_index()
    known = set(raw["value_types_known"])
    relationships = set(sr_relationships.RELATIONSHIP_TYPES) | {"other than CONTAINS"}
    for key, entry in raw["iods"].items():
        for uid in entry["sop_classes"]:
            iod = index.iod_for_sop_class(uid)
            assert iod is not None and iod.key == key, (key, uid)
            # The IOD's module table is Table A.35.N-1 and its relationship table A.35.N-2.
            if "Table A.35." in iod.reference:
                n = iod.reference.split("Table A.35.")[1].split("-")[0]
                assert entry["table"] == f"PS3.3 Table A.35.{n}-2", (key, iod.reference)
        assert [r["row"] for r in entry["rows"]] == list(range(1, len(entry["rows"]) + 1))
        assert entry["table"].startswith("PS3.3 Table A.35.")
        for row in entry["rows"]:
            assert row["relationship"] in relationships
            for side in ("source", "target"):
                assert row[side] == "any" or set(row[side]) <= known, (key, row)


@pytest.mark.parametrize("uid", sorted({u for e in json.loads(
    sr_relationships.DATA.read_text())["iods"].values() for u in e["sop_classes"]}))
def test_synthesized_instances_have_no_relationship_finding(uid: str) -> None:
    ds = synthesize(uid)
    assert _direct(ds, uid) == []


def test_basic_text_sr_wrong_triple(basic) -> None:
    ds = copy.deepcopy(basic)
    # TEXT may have HAS PROPERTIES and INFERRED FROM children, never HAS ACQ CONTEXT (rows 5-7).
    ds.ContentSequence[1].ContentSequence = [_item("HAS ACQ CONTEXT", "TEXT", TextValue="x")]
    # A NUM is no value type of this IOD: no row has it.
    ds.ContentSequence.append(_item("CONTAINS", "NUM"))
    found = _found(ds)
    assert [(f.code, f.tag, f.reference) for f in found] == [
        ("sr.relationship-not-allowed", "ContentSequence[1].ContentSequence[0]",
         "PS3.3 Table A.35.1-2"),
        ("sr.relationship-not-allowed", "ContentSequence[2]", "PS3.3 Table A.35.1-2")]
    assert found[0].severity.value == "error"
    assert "TEXT HAS ACQ CONTEXT TEXT" in found[0].message
    assert found[0].details["by_reference"] is False


def test_comprehensive_sr_wrong_triple(report2000) -> None:
    ds = copy.deepcopy(report2000)
    heading = ds.ContentSequence[-1]
    assert heading.ValueType == "CONTAINER"
    heading.ContentSequence.append(_item("SELECTED FROM", "IMAGE"))  # rows 9-10: from SCOORD
    assert [(f.code, f.reference) for f in _found(ds)] == [
        ("sr.relationship-not-allowed", "PS3.3 Table A.35.3-2")]
    assert _found(ds)[0].tag == f"ContentSequence[{len(ds.ContentSequence) - 1}]." \
        f"ContentSequence[{len(heading.ContentSequence) - 1}]"


def test_key_object_selection_wrong_triple(kos) -> None:
    ds = copy.deepcopy(kos)
    ds.ContentSequence.append(_item("CONTAINS", "CODE"))  # row 1: no CODE
    found = _found(ds)
    assert [(f.code, f.reference) for f in found] == [
        ("sr.relationship-not-allowed", "PS3.3 Table A.35.4-2")]
    assert "CONTAINER CONTAINS CODE" in found[0].message


def test_by_reference_in_basic_text_sr_is_an_error(basic) -> None:
    ds = copy.deepcopy(basic)
    ds.ContentSequence[0].ContentSequence = [_by_reference("INFERRED FROM", [1, 2])]
    found = _found(ds)
    assert [(f.code, f.tag, f.reference) for f in found] == [
        ("sr.by-reference-not-allowed",
         "ContentSequence[0].ContentSequence[0].ReferencedContentItemIdentifier",
         "PS3.3 Table A.35.1-2")]


def test_comprehensive_by_reference_rules(report2000) -> None:
    ds = copy.deepcopy(report2000)
    heading = ds.ContentSequence[-1]
    h = len(ds.ContentSequence)  # the heading's 1-based position under the root
    text = heading.ContentSequence[0]
    assert text.ValueType == "TEXT"
    # TEXT INFERRED FROM CODE by-reference (row 8): allowed; the CODE is item 1/h/2.
    text.ContentSequence = [_by_reference("INFERRED FROM", [1, h, 2])]
    assert _found(ds) == []
    # HAS CONCEPT MOD by-reference (row 5 is by-value only).
    text.ContentSequence = [_by_reference("HAS CONCEPT MOD", [1, h, 2])]
    found = _found(ds)
    assert [f.code for f in found] == ["sr.relationship-not-allowed"]
    assert "by-value only" in found[0].message and found[0].details["by_reference"] is True
    # CONTAINS a CONTAINER by-reference (row 1: CONTAINER by-value only).
    text.ContentSequence = []
    del text.ContentSequence
    ds.ContentSequence.append(_by_reference("CONTAINS", [1, h]))
    assert [f.code for f in _found(ds)] == ["sr.relationship-not-allowed"]
    # A target that is not in the tree.
    ds.ContentSequence[-1] = _by_reference("CONTAINS", [1, h, 99])
    found = _found(ds)
    assert [(f.code, f.tag) for f in found] == [
        ("sr.reference-target-missing",
         f"ContentSequence[{h}].ReferencedContentItemIdentifier")]


def test_unknown_value_types_are_not_reported(tid1500) -> None:
    ds = copy.deepcopy(tid1500)
    table = _item("CONTAINS", "TABLE")  # a value type newer than the tables
    table.ContentSequence = [_item("HAS PROPERTIES", "TEXT", TextValue="x")]
    ds.ContentSequence.append(table)
    ds.ContentSequence.append(_item("CONTAINS", "NOT A TYPE"))
    assert _direct(ds) == []


def test_unknown_sop_class_is_not_checked(basic) -> None:
    ds = copy.deepcopy(basic)
    ds.ContentSequence.append(_item("CONTAINS", "NUM"))
    assert _direct(ds, "1.2.840.10008.5.1.4.1.1.88.50") == []  # Mammography CAD: no table
    assert _direct(ds, "1.2.840.10008.5.1.4.1.1.88.67") == []  # X-Ray Radiation Dose: none
    assert _direct(ds, "1.2.3.4") == []


def test_extensible_sr(basic) -> None:
    ds = copy.deepcopy(basic)
    text = ds.ContentSequence[0]
    text.ContentSequence = [_item("CONTAINS", "TEXT", TextValue="x"),  # only from CONTAINER
                            _item("HAS PROPERTIES", "TABLE"),  # any type is fine here
                            _by_reference("INFERRED FROM", [1]),  # the root: an ancestor
                            _by_reference("INFERRED FROM", [1, 2])]  # a sibling: fine
    assert [(c, t) for c, _, _, t in _direct(ds, EXTENSIBLE)] == [
        ("sr.relationship-not-allowed", "ContentSequence[0].ContentSequence[0]"),
        ("sr.reference-to-ancestor",
         "ContentSequence[0].ContentSequence[2].ReferencedContentItemIdentifier")]


def test_deep_tree_does_not_exhaust_the_stack() -> None:
    depth = 5000
    root = Dataset()
    root.ValueType = "CONTAINER"
    node = root
    for _ in range(depth):
        child = Dataset()
        child.RelationshipType, child.ValueType = "CONTAINS", "CONTAINER"
        node.ContentSequence = [child]
        node = child
    node.ContentSequence = [_item("HAS ACQ CONTEXT", "IMAGE")]  # not allowed (row 3)
    found = _direct(root, BASIC_TEXT)
    assert [c for c, *_ in found] == ["sr.relationship-not-allowed"]
    assert found[0][3].count("ContentSequence[0]") == depth + 1


def test_sop_class_list() -> None:
    assert sr_relationships.table_for(COMPREHENSIVE) is not None
    assert sr_relationships.table_for(None) is None


def test_raw_unsigned_long_values_are_read_with_standard_sizes() -> None:
    """values_of on a not yet decoded UL element (Referenced Content Item Identifier read
    from a file): 4 bytes per value (PS3.5 6.2), not the platform's native C long."""
    from conformance.iod.elements import values_of

    ds = Dataset()
    item = _by_reference("INFERRED FROM", [1, 3, 2])
    ds.ContentSequence = [item]
    raw = pydicom.dcmread(io.BytesIO(_bytes(ds)), force=True)
    elem = raw.ContentSequence[0]._dict[0x0040DB73]
    assert type(elem).__name__ == "RawDataElement"
    assert values_of(raw.ContentSequence[0], 0x0040DB73) == ["1", "3", "2"]
    item.ReferencedContentItemIdentifier = [1, 3]
    raw = pydicom.dcmread(io.BytesIO(_bytes(ds)), force=True)
    assert values_of(raw.ContentSequence[0], 0x0040DB73) == ["1", "3"]


def _bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=False, little_endian=True)
    return buf.getvalue()


def _dsrdump(ds: Dataset, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    run = subprocess.run([shutil.which("dsrdump") or "dsrdump", str(path)], capture_output=True,
                         text=True, timeout=30)
    return run.stdout + run.stderr


@pytest.mark.skipif(shutil.which("dsrdump") is None, reason="DCMTK's dsrdump is not installed")
def test_dcmtk_dsrdump_agrees(basic, report2000, kos, tid1500, tmp_path) -> None:
    """DCMTK's dsrdump checks the same tables when it reads a document: it rejects the
    violations found here and accepts the valid documents."""
    rejects = ("Cannot add", "Invalid by-reference relationship", "does not exist")
    for name, ds in (("basic", basic), ("report2000", report2000), ("kos", kos),
                     ("tid1500", tid1500)):
        out = _dsrdump(ds, tmp_path, name)
        assert not any(r in out for r in rejects), (name, out)
    h = len(report2000.ContentSequence)
    bad_basic = copy.deepcopy(basic)
    bad_basic.ContentSequence[1].ContentSequence = [_item("HAS ACQ CONTEXT", "TEXT",
                                                          TextValue="x")]
    bad_comp = copy.deepcopy(report2000)
    bad_comp.ContentSequence[-1].ContentSequence.append(_item("SELECTED FROM", "IMAGE"))
    bad_mod = copy.deepcopy(report2000)
    bad_mod.ContentSequence[-1].ContentSequence[0].ContentSequence = [
        _by_reference("HAS CONCEPT MOD", [1, h, 2])]
    missing = copy.deepcopy(report2000)
    missing.ContentSequence.append(_by_reference("CONTAINS", [1, h, 99]))
    bad_kos = copy.deepcopy(kos)
    bad_kos.ContentSequence.append(_item("CONTAINS", "CODE"))
    for name, ds in (("bad_basic", bad_basic), ("bad_comp", bad_comp), ("bad_mod", bad_mod),
                     ("missing", missing), ("bad_kos", bad_kos)):
        assert _found(ds), name
        out = _dsrdump(ds, tmp_path, name)
        assert any(r in out for r in rejects), (name, out)

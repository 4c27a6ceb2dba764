"""DICOMDIR directory records (conformance/iod/dicomdir.py, PS3.3 F.3.2.2 and F.5): pydicom's
test DICOMDIR is clean of these rules; each broken record is caught, once per kind."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from conformance.findings import Severity
from conformance.iod import validate

CODES = ("iod.enumerated-value", "iod.retired-value", "iod.type1-missing", "iod.type2-missing", "iod.type1-empty")


def _dicomdir():
    return dcmread(get_testdata_file("DICOMDIR"))


def _record_findings(ds):
    return [f for f in validate(ds) if f.code in CODES and (f.reference.startswith("PS3.3 F.3.2.2")
                                                           and f.tag == "(0004,1430)" or "F.5" in f.reference)]


def _first(ds, kind):
    return next(r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == kind)


def test_pydicoms_dicomdir_has_no_record_findings():
    assert _record_findings(_dicomdir()) == []


def test_an_unknown_record_type_is_an_error_counted_once():
    ds = _dicomdir()
    for record in [r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"][:3]:
        record.DirectoryRecordType = "PICTURE"
    found = _record_findings(ds)
    assert [(f.code, f.severity) for f in found] == [("iod.enumerated-value", Severity.ERROR)]
    assert "3 record(s)" in found[0].message


def test_a_retired_record_type_is_a_warning():
    ds = _dicomdir()
    _first(ds, "IMAGE").DirectoryRecordType = "OVERLAY"
    assert [(f.code, f.severity) for f in _record_findings(ds)] == [("iod.retired-value", Severity.WARNING)]


@pytest.mark.parametrize("kind, keyword, code", [("PATIENT", "PatientID", "iod.type1-missing"),
                                                 ("PATIENT", "PatientName", "iod.type2-missing"),
                                                 ("STUDY", "StudyDate", "iod.type1-missing"),
                                                 ("SERIES", "SeriesInstanceUID", "iod.type1-missing"),
                                                 ("IMAGE", "InstanceNumber", "iod.type1-missing")])
def test_a_missing_record_key_is_an_error(kind, keyword, code):
    ds = _dicomdir()
    delattr(_first(ds, kind), keyword)
    found = _record_findings(ds)
    assert [f.code for f in found] == [code]
    assert f"{kind} record key {keyword}" in found[0].message
    assert found[0].reference.startswith("PS3.3 F.5")


def test_an_empty_type1_key_is_an_error():
    ds = _dicomdir()
    _first(ds, "SERIES").Modality = ""
    assert [f.code for f in _record_findings(ds)] == ["iod.type1-empty"]

"""``conformance standard update --docbook``: an index built from the standard's DocBook XML.

The real NEMA DocBook cannot be downloaded here, so these tests use a small synthetic
excerpt (tests/data/docbook/: one CT-like IOD with three modules, a macro included by
"Include", a ">" sequence with a 1C attribute, enumerated values / defined terms, the PS3.4
SOP class table and a PS3.6 registry excerpt) shaped like the published files. Types in it
were changed on purpose, so a finding can only come from these tables. What this does not
prove: that a real edition parses completely (only dicom-validator's own tests cover that).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydicom.dataset import Dataset

from conformance.cli.main import cli
from conformance.iod.validator import validate
from conformance.standard.iod_index import DEFAULT_INDEX, INDEX_ENV, StandardIndex, load_index

DOCBOOK = Path(__file__).resolve().parent.parent / "data" / "docbook"
CT = "1.2.840.10008.5.1.4.1.1.2"
BIRTH_NAME = 0x00101005   # type 3 in the standard, type 1 in the synthetic Patient Module
TYPE_OF_ID = 0x00100022   # type 3 in the standard, type 1 in the synthetic included macro


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("dicom_validator", reason="needs dicom-conformance[docbook]")
    out = tmp_path_factory.mktemp("docbook-index") / "index.json.gz"
    res = run("standard", "update", "--docbook", str(DOCBOOK), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "edition 2031a" in res.output and out.is_file()
    return out


def _dataset(**extra) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "ID1"
    ds.PatientSex = "F"
    for k, v in extra.items():
        setattr(ds, k, v)
    return ds


def _codes(findings, tag: int) -> set[str]:
    return {f.code for f in findings if f.tag and f.tag.endswith(f"({tag >> 16:04X},"
                                                                  f"{tag & 0xFFFF:04X})")}


def test_index_has_the_shipped_structure_and_about(built: Path):
    raw = json.loads(gzip.decompress(built.read_bytes()))
    shipped = json.loads(gzip.decompress(DEFAULT_INDEX.read_bytes()))
    assert set(raw) == {"about", "sop_classes", "iods", "modules", "sequences", "conditions",
                        "terms"}
    assert set(raw) == set(shipped)
    assert set(raw["about"]) == set(shipped["about"])
    assert raw["about"]["edition"] == "2031a"
    assert str(DOCBOOK) in raw["about"]["sources"][0]
    iod_key = raw["sop_classes"][CT]
    assert [m[:2] for m in raw["iods"][iod_key]["modules"]] == [
        ["patient", "M"], ["contrast-bolus", "C"], ["sop-common", "M"]]
    texts = {c["text"]: c["expr"] for c in raw["conditions"]}
    assert texts["Required if Type of Patient ID (0010,0022) is present"] == ["present",
                                                                              TYPE_OF_ID]
    assert texts["Required if contrast media was used in this image"] is None  # not verifiable

    ix = load_index(str(built))
    assert isinstance(ix, StandardIndex) and ix.edition == "2031a"
    patient = ix.iod_for_sop_class(CT).modules[0].module
    rules = {a.tag: a for a in patient.attributes}
    assert rules[BIRTH_NAME].type == "1"
    assert rules[TYPE_OF_ID].type == "1" and rules[TYPE_OF_ID].defined == ("TEXT", "RFID")
    assert rules[0x00100040].enumerated == ("M", "F", "O")
    seq = rules[0x00101002]
    assert seq.items == (1, None)
    child = {a.tag: a for a in seq.children}[0x00100021]
    assert child.type == "1C" and child.condition.expr == ["present", TYPE_OF_ID]


def test_validate_uses_the_docbook_tables(built: Path):
    ix = load_index(str(built))
    findings = validate(_dataset(), index=ix)
    assert "iod.type1-missing" in _codes(findings, BIRTH_NAME)
    assert "iod.type1-missing" in _codes(findings, TYPE_OF_ID)  # from the included macro
    shipped = validate(_dataset(), index=load_index(str(DEFAULT_INDEX)))
    assert not _codes(shipped, BIRTH_NAME)  # type 3 in the real standard

    ok = validate(_dataset(PatientBirthName="Roe^Jane", TypeOfPatientID="TEXT"), index=ix)
    assert not [f for f in ok if f.severity.value == "error"], ok
    # A 1C inside a sequence item, condition parsed from the DocBook text.
    item = Dataset()
    item.PatientID = "X"
    item.TypeOfPatientID = "TEXT"
    bad = validate(_dataset(PatientBirthName="Roe^Jane", TypeOfPatientID="TEXT",
                            OtherPatientIDsSequence=[item]), index=ix)
    missing = [f for f in bad if f.code == "iod.type1-missing"]
    assert [f.tag for f in missing] == ["(0010,1002)[0].(0010,0021)"], missing
    assert "1C" in missing[0].message


def test_cli_validate_with_env_var(built: Path, tmp_path: Path):
    ds = _dataset()
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    env = {**os.environ, INDEX_ENV: str(built)}
    res = subprocess.run([sys.executable, "-c", "from conformance.cli.main import main; main()",
                          "validate",
                          "--format", "json", "--jobs", "1", str(path)],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert res.returncode == 1, res.stderr
    found = json.loads(res.stdout)[0]["findings"]
    assert any(f["code"] == "iod.type1-missing" and "(0010,1005)" in (f["tag"] or "")
               for f in found)


def test_missing_folder_or_file_exits_2_naming_it(tmp_path: Path):
    res = run("standard", "update", "--docbook", str(tmp_path / "nope"))
    assert res.exit_code == 2 and "nope" in res.output and "Traceback" not in res.output
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(DOCBOOK / "part03.xml", partial)
    res = run("standard", "update", "--docbook", str(partial))
    assert res.exit_code == 2 and "part04.xml" in res.output


def test_unparsable_xml_exits_2_naming_the_file(tmp_path: Path):
    pytest.importorskip("dicom_validator", reason="needs dicom-conformance[docbook]")
    broken = tmp_path / "broken"
    shutil.copytree(DOCBOOK, broken)
    (broken / "part04.xml").write_text("<book><chapter>", encoding="utf-8")
    res = run("standard", "update", "--docbook", str(broken), "--out",
              str(tmp_path / "x.json.gz"))
    assert res.exit_code == 2, res.output
    assert "part04.xml" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.json.gz").exists()


def test_without_the_extra_the_command_says_how_to_install(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dicom_validator", None)
    monkeypatch.setitem(sys.modules, "dicom_validator.spec_reader.part3_reader", None)
    res = run("standard", "update", "--docbook", str(DOCBOOK), "--out",
              str(tmp_path / "x.json.gz"))
    assert res.exit_code == 2
    assert "pip install 'dicom-conformance[docbook]'" in res.output

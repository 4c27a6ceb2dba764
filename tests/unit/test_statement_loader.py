"""Statements: every shipped one loads; each kind of bad input says file, line and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.errors import InputError
from conformance.statement import load_statement
from conformance.statement.model import Role

from tests.conftest import DATA, STATEMENTS

BROKEN = DATA / "statements" / "broken"


def problems_of(path: Path) -> list:
    with pytest.raises(InputError) as info:
        load_statement(path)
    return info.value.problems


@pytest.mark.parametrize("path", sorted(STATEMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_statement_loads(path):
    st = load_statement(path)
    assert st.transfer_capabilities
    assert st.identity.manufacturer


def test_sets_and_keywords_resolve_to_uids(reference_statement):
    ct = reference_statement.capability("1.2.840.10008.5.1.4.1.1.2", Role.SCP)
    assert ct is not None
    assert "1.2.840.10008.1.2.4.70" in ct.transfer_syntaxes      # JPEGLosslessSV1, via the 'lossless' set
    assert "1.2.840.10008.1.2" in ct.transfer_syntaxes           # ImplicitVRLittleEndian, via 'uncompressed'


def test_broken_yaml_names_the_line():
    [p] = problems_of(BROKEN / "bad-yaml.yaml")
    assert p.file.endswith("bad-yaml.yaml") and p.line == 5
    assert "not valid YAML" in p.message


def test_unknown_key_suggests_the_right_one():
    [p] = problems_of(BROKEN / "unknown-key.yaml")
    assert (p.line, p.key) == (8, "network.max_pdu_recieve")
    assert "did you mean max_pdu_receive?" in p.message


def test_unknown_keywords_are_all_reported_with_suggestions():
    problems = problems_of(BROKEN / "unknown-sop-class.yaml")
    by_key = {p.key: p for p in problems}
    sop = by_key["transfer_capabilities[0].sop_classes[1]"]
    assert sop.line == 9 and "CTImageStorag: unknown SOP class; did you mean CTImageStorage?" in sop.message
    ts = by_key["transfer_capabilities[0].transfer_syntaxes[1]"]
    assert ts.line == 11 and "did you mean JPEGLossless?" in ts.message


def test_bad_uids_are_rejected_with_the_rule():
    problems = problems_of(BROKEN / "bad-uid.yaml")
    keys = {p.key: p for p in problems}
    assert keys["network.implementation_class_uid"].line == 8
    assert "PS3.5 9.1" in keys["network.implementation_class_uid"].message


def test_bad_sop_class_uid_reported_after_schema_passes(tmp_path):
    text = (BROKEN / "bad-uid.yaml").read_text().replace("  implementation_class_uid: 1.2.840.010008\n", "")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    [p] = problems_of(path)
    assert p.key == "transfer_capabilities[0].sop_classes[0]" and p.line == 9
    assert "not a valid UID" in p.message


def test_wrong_types_each_reported():
    problems = problems_of(BROKEN / "wrong-type.yaml")
    keys = {p.key for p in problems}
    assert {"network.port", "network.checks_called_ae_title", "transfer_capabilities[0].sop_classes"} <= keys
    assert all(p.line for p in problems)


def test_missing_file_is_input_error(tmp_path):
    [p] = problems_of(tmp_path / "nope.yaml")
    assert "file not found" in p.message


def test_json_statements_are_accepted(tmp_path, reference_statement):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(dict(reference_statement.data)))
    assert load_statement(path).transfer_capabilities == reference_statement.transfer_capabilities


@pytest.mark.parametrize("name", ["bad-yaml", "unknown-key", "unknown-sop-class", "bad-uid", "wrong-type"])
def test_cli_check_exits_2_with_file_line_and_no_traceback(name):
    result = CliRunner().invoke(cli, ["statement", "check", str(BROKEN / f"{name}.yaml")])
    assert result.exit_code == 2
    assert f"{name}.yaml:" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_check_ok_and_schema_is_json():
    runner = CliRunner()
    ok = runner.invoke(cli, ["statement", "check", str(STATEMENTS / "reference-device.yaml")])
    assert ok.exit_code == 0 and ": ok (" in ok.output
    schema = json.loads(runner.invoke(cli, ["statement", "schema"]).output)
    assert schema["$id"].startswith("urn:dicom-conformance:statement")

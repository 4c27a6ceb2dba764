"""The statement's ``dicomweb`` section: typed, resolved, and bad input said with file:line:key."""

from __future__ import annotations

import pytest

from conformance.errors import InputError
from conformance.statement import load_statement
from tests.conftest import DATA, STATEMENTS


def test_orthanc_statement_declares_its_dicomweb_services():
    web = load_statement(STATEMENTS / "orthanc-1.10.yaml").dicomweb
    assert web is not None and web.qido_rs is not None and web.wado_rs is not None
    assert web.stow_rs is not None and "1.2.840.10008.5.1.4.1.1.2" in web.stow_rs.sop_classes
    assert "1.2.840.10008.1.2.1" in web.wado_rs.resources["instances"].transfer_syntaxes
    assert "fuzzy" not in web.qido_rs.matching
    assert web.capabilities is False


def test_a_statement_without_the_section_has_none(reference_statement):
    assert reference_statement.dicomweb is None


def test_every_dicomweb_mistake_is_reported_with_line_and_key():
    path = DATA / "statements" / "broken" / "dicomweb-bad.yaml"
    with pytest.raises(InputError) as info:
        load_statement(path)
    text = "\n".join(str(p) for p in info.value.problems)
    # schema problems are reported first, all of them, each with its line
    assert "dicomweb-bad.yaml:12" in text and "qido_rs.url" in text
    assert "soundex" in text and "pictures" in text


def test_unknown_keywords_in_the_dicomweb_section_are_named(tmp_path):
    src = (DATA / "statements" / "broken" / "dicomweb-bad.yaml").read_text()
    src = src.replace("url: dicom-web", "url: /dicom-web").replace("[wildcard, soundex]", "[wildcard]")
    src = src.replace("      pictures: {media_types: [image/jpeg]}\n", "")
    path = tmp_path / "web.yaml"
    path.write_text(src)
    with pytest.raises(InputError) as info:
        load_statement(path)
    text = "\n".join(str(p) for p in info.value.problems)
    assert "web.yaml:7" in text and "ISO_IR 19" in text
    assert "web.yaml:10" in text and "CTImageStorag" in text and "did you mean CTImageStorage" in text
    assert "web.yaml:17" in text and "ExplicitVRLittleEndan" in text


def test_render_writes_the_web_services_part_of_the_ps32_document():
    from conformance.reporting.statement_doc import render_statement
    st = load_statement(STATEMENTS / "orthanc-1.10.yaml")
    html = render_statement(st, "html")
    assert "3.5 Web services (PS3.18)" in html and "WADO-URI (PS3.18 9)" in html
    assert "JPEG-LS Lossless Image Compression" in html and "as stored" in html
    md = render_statement(st, "md")
    assert "### 2.2 Web services (PS3.18)" in md and "| QIDO-RS (PS3.18 10.6) | `/dicom-web` |" in md
    assert "Web services" not in render_statement(load_statement(STATEMENTS / "reference-device.yaml"))


def test_compare_matches_a_viewers_dicomweb_needs_to_a_pacs_offer():
    from conformance.statement.compare import compare
    viewer = load_statement(DATA / "statements" / "viewer-dicomweb.yaml")
    pacs = load_statement(STATEMENTS / "orthanc-1.10.yaml")
    result = compare(viewer, pacs)
    web = [f for f in result.flags if f.topic == "dicomweb"]
    errors = [f.message for f in web if f.severity == "error"]
    assert any("matching fuzzy" in m for m in errors)
    assert any("retrieves thumbnail" in m for m in errors)
    assert len(errors) == 2                              # metadata, frames, wildcard... are offered
    assert not result.compatible and result.to_dict()["compatible"] is False
    # the same viewer needs, minus what Orthanc lacks, are compatible
    from dataclasses import replace
    need = viewer.dicomweb
    ok = replace(viewer, dicomweb=replace(
        need, qido_rs=replace(need.qido_rs, matching=("wildcard", "range")),
        wado_rs=replace(need.wado_rs, resources={k: v for k, v in need.wado_rs.resources.items()
                                                 if k != "thumbnail"})))
    assert compare(ok, pacs).compatible


def test_a_user_agent_section_plans_no_run_steps():
    from conformance.dicomweb.plan import plan
    assert plan(load_statement(DATA / "statements" / "viewer-dicomweb.yaml")) == []


def test_statement_compare_cli_says_not_compatible_for_missing_web_needs():
    from click.testing import CliRunner

    from conformance.cli.main import cli
    from conformance.exitcodes import ExitCode
    res = CliRunner().invoke(cli, ["compare", str(DATA / "statements" / "viewer-dicomweb.yaml"),
                                   str(STATEMENTS / "orthanc-1.10.yaml")])
    assert res.exit_code == ExitCode.DEVIATION, res.output
    assert "NOT COMPATIBLE" in res.output and "(dicomweb)" in res.output

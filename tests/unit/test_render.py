"""`conformance render`: the PS3.2-shaped document, in HTML and Markdown."""

from __future__ import annotations

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.reporting.statement_doc import render_statement
from conformance.statement import load_statement

from tests.conftest import DATA, STATEMENTS


def test_html_has_the_ps32_sections_and_every_sop_class():
    st = load_statement(STATEMENTS / "orthanc-1.10.yaml")
    html = render_statement(st, "html")
    for heading in ("Conformance Statement Overview", "AE specification", "Association policies",
                    "Association acceptance policy", "Support of character sets", "Security",
                    "Data dictionary of private attributes"):
        assert heading in html
    for cap in st.transfer_capabilities:
        assert cap.sop_class in html
    assert "16384" in html and "1.2.276.0.7230010.3.0.3.6.7" in html


def test_markdown_tables_and_escaping():
    st = load_statement(DATA / "statements" / "script-injection.yaml")
    md = render_statement(st, "md")
    assert "| CT Image Storage | No | Yes |" in md
    assert "<script>" not in md and "&lt;script>" in md
    html = render_statement(st, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_private_attributes_are_listed():
    md = render_statement(load_statement(DATA / "statements" / "ultrasound-modality.yaml"), "md")
    assert "| EXAMPLE SONO | (0029,xx10) | LO | 1 | Probe type |" in md


def test_cli_render(tmp_path):
    out = tmp_path / "s.md"
    result = CliRunner().invoke(cli, ["render", str(STATEMENTS / "reference-device.yaml"), "--format", "md",
                                      "--out", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("# DICOM Conformance Statement")


def test_transfer_syntax_sets_are_named_once_and_referred_to():
    st = load_statement(STATEMENTS / "orthanc-1.10.yaml")
    html = render_statement(st, "html")
    # Orthanc accepts the same 26 transfer syntaxes for every storage SOP class: listed once.
    assert html.count("<code>1.2.840.10008.1.2.4.70</code>") == 1
    assert 'id="TS-A"' in html and html.count('href="#TS-A"') > 100
    md = render_statement(st, "md")
    assert "**TS-A** (26)" in md and md.count("| TS-A |") > 100


def test_the_services_section_is_rendered_with_its_references():
    html = render_statement(load_statement(STATEMENTS / "orthanc-1.10.yaml"), "html")
    assert "SOP specific conformance (services)" in html
    for reference in ("PS3.4 B.4.1", "PS3.4 C.4, C.2.2.2", "PS3.4 J.3.3"):
        assert reference in html

"""The ``validate`` report (conformance/iod/report.py): the run report's look, a verdict and
counts, every finding named by keyword, tag and module, "not verifiable" apart, and a
clear exit 2 when no input is DICOM."""

from __future__ import annotations

from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.findings import Finding, Severity
from conformance.iod import report


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_html_has_the_run_report_look_a_verdict_counts_and_named_findings(built_corpus, tmp_path):
    _, defects = built_corpus
    _, path = defects["cs-lowercase"]
    res = run("validate", "--format", "html", "--out", str(tmp_path / "r"), str(path))
    assert res.exit_code == 1
    html = (tmp_path / "r" / "report.html").read_text()
    style = (report._style()).strip().splitlines()[0]
    assert style in html and 'class="verdict v-deviates"' in html and "INVALID" in html
    assert "files checked" in html and "errors" in html
    # cs-lowercase: Body Part Examined 'chest' (CS is upper case, PS3.5 6.2): named as dciodvfy does.
    assert "BodyPartExamined" in html and "(0018,0015)" in html
    row = html[html.index("BodyPartExamined"):][:400]
    assert "<td>—</td>" not in row, row          # the module is named, not left blank


def test_findings_name_keyword_tag_and_module_and_not_verifiable_is_apart():
    found = [Finding("vr.invalid-character", Severity.ERROR, "bad", "PS3.5 6.2", tag="(0018,0015)"),
             Finding("iod.type2-missing", Severity.ERROR, "missing", "PS3.3", tag="(0010,0010)",
                     module="Patient", iod="CT Image"),
             Finding(report.NOT_VERIFIABLE, Severity.INFO, "cannot tell", "PS3.3", tag="(0028,0030)",
                     module="Image Plane", iod="CT Image")]
    rep = report.file_report("ct.dcm", found)
    named = {f.code: (keyword, module) for f, keyword, module in rep.problems}
    assert named["iod.type2-missing"] == ("PatientName", "Patient")
    assert named["vr.invalid-character"][0] == "BodyPartExamined"
    assert named["vr.invalid-character"][1]                     # from the CT Image IOD's modules
    assert [f.code for f, _, _ in rep.not_verifiable] == [report.NOT_VERIFIABLE]
    assert report.NOT_VERIFIABLE not in {f.code for f, _, _ in rep.problems}
    text = report.as_text([("ct.dcm", found)])
    assert "(0010,0010) PatientName [Patient]" in text and "1 not verifiable" in text


def test_only_non_dicom_inputs_say_so_and_exit_2(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4")
    res = run("validate", "--format", "html", "--out", str(tmp_path / "r"), str(tmp_path / "a.txt"),
              str(tmp_path / "b.pdf"))
    assert res.exit_code == 2
    assert "no DICOM file among the 2 input file(s)" in res.output
    assert "NOT DICOM" in (tmp_path / "r" / "report.html").read_text()

"""``conformance validate / synthesize / standard``: exit codes, formats, never a traceback."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conformance.cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_validate_clean_files_exits_0(built_corpus):
    clean, _ = built_corpus
    res = run("validate", "--jobs", "2", *[str(p) for p in clean.values()])
    assert res.exit_code == 0, res.output
    assert "0 error(s)" in res.output


def test_validate_defect_exits_1_and_json_lists_codes(built_corpus):
    _, defects = built_corpus
    _, path = defects["type2-missing"]
    res = run("validate", "--format", "json", str(path))
    assert res.exit_code == 1
    payload = json.loads(res.stdout)
    assert "iod.type2-missing" in {f["code"] for f in payload[0]["findings"]}


def test_validate_in_an_embedding_process_leaves_its_settings_alone(built_corpus):
    """Run in-process (one file) where the command does not own the process (CliRunner, a
    notebook), ``validate`` does not switch the process to a worker's settings."""
    import gc
    import signal
    import warnings

    from pydicom import config, values
    from pydicom.valuerep import VR

    _, defects = built_corpus
    def settings() -> tuple:
        return (gc.get_threshold(), config.settings.reading_validation_mode,
                values.converters[VR.SQ], signal.getsignal(signal.SIGALRM),
                list(warnings.filters))

    before = settings()
    res = run("validate", str(defects["type2-missing"][1]))
    assert res.exit_code == 1
    assert settings() == before


def test_validate_folder_recurses_and_skips_non_dicom(built_corpus, tmp_path):
    clean, _ = built_corpus
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "ct.dcm").write_bytes(clean["ct"].read_bytes())
    (tmp_path / "readme.txt").write_text("hello, this is a text file")
    res = run("validate", str(tmp_path))
    assert res.exit_code == 0
    assert "readme.txt: skipped, not a DICOM file: no \"DICM\" prefix at byte 128 (file " \
        "shorter than 132 bytes) and no group 0002/0008 element at byte 0 (found 68 65 6c 6c)" \
        in res.output
    assert "ct.dcm: 0 error(s)" in res.output
    assert "1 skipped (not DICOM)" in res.output


def test_validate_html_report_is_written_and_escaped(built_corpus, tmp_path):
    _, defects = built_corpus
    _, path = defects["cs-lowercase"]
    res = run("validate", "--format", "html", "--out", str(tmp_path / "r"), str(path))
    assert res.exit_code == 1
    html = (tmp_path / "r" / "report.html").read_text()
    assert "vr.invalid-character" in html and "&#39;chest&#39;" in html


def test_validate_missing_path_exits_2():
    res = run("validate", "/nonexistent/file.dcm")
    assert res.exit_code == 2 and "no such file" in res.output


def test_validate_bad_facts_file_exits_2(built_corpus, tmp_path):
    clean, _ = built_corpus
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": "yes"}')
    res = run("validate", "--facts", str(facts), str(clean["ct"]))
    assert res.exit_code == 2 and "true/false" in res.output


def test_validate_facts_settle_conditions(built_corpus, tmp_path):
    clean, _ = built_corpus
    facts = tmp_path / "facts.yaml"
    facts.write_text('"ct-image/contrast-bolus": true\n')
    res = run("validate", "--facts", str(facts), str(clean["ct"]))
    assert res.exit_code == 1 and "iod.module-missing" in res.output


def test_synthesize_writes_a_valid_file(tmp_path):
    out = tmp_path / "ct.dcm"
    res = run("synthesize", "CTImageStorage", "--out", str(out))
    assert res.exit_code == 0 and out.exists()
    assert run("validate", str(out)).exit_code == 0


def test_synthesize_unknown_keyword_exits_2_with_suggestion():
    res = run("synthesize", "CTImageStorag")
    assert res.exit_code == 2 and "did you mean CTImageStorage" in res.output


def test_standard_update_is_honestly_not_implemented(tmp_path):
    res = run("standard", "update", "--docbook", str(tmp_path))
    assert res.exit_code == 2 and "part03.xml" in res.output  # see test_docbook.py


def test_standard_info_shows_edition_and_sources():
    res = run("standard", "info")
    assert res.exit_code == 0 and "edition: 2026b" in res.output and "highdicom" in res.output


def test_validate_with_statement_checks_declared_private_vr(tmp_path):
    from pathlib import Path

    from pydicom.dataelem import RawDataElement

    from tests.iod import corpus
    root = Path(__file__).resolve().parents[2]
    statement = tmp_path / "device.yaml"
    statement.write_text((root / "statements" / "reference-device.yaml").read_text() +
                         "\nprivate:\n  attributes:\n"
                         "    - {creator: ACME 1.0, tag: \"0019,xx10\", vr: DS}\n")
    ds = corpus.CLEAN["ct"]()
    ds.add_new(0x00190010, "LO", "ACME 1.0")
    ds[0x00191010] = RawDataElement(0x00191010, "LO", 4, b"1.5 ", 0, False, True)
    path = corpus.write(ds, tmp_path / "ct.dcm")
    res = run("validate", "--statement", str(statement), str(path))
    assert res.exit_code == 1 and "private.vr-mismatch" in res.output
    assert run("validate", str(path)).exit_code == 0


def test_validate_facts_file_with_unknown_key_exits_2_with_a_suggestion(built_corpus, tmp_path):
    clean, _ = built_corpus
    facts = tmp_path / "facts.json"
    facts.write_text('{"ct-image/contrast-bolis": true}')
    res = run("validate", "--facts", str(facts), str(clean["ct"]))
    assert res.exit_code == 2
    assert "unknown key 'ct-image/contrast-bolis'" in res.output
    assert "did you mean 'ct-image/contrast-bolus'" in res.output


def test_validate_only_non_dicom_input_is_not_exit_0(tmp_path):
    (tmp_path / "a.txt").write_text("not dicom")
    (tmp_path / "b.bin").write_bytes(b"\x00" * 10)
    res = run("validate", str(tmp_path))
    assert res.exit_code == 2 and "no DICOM file" in res.output


def test_fact_false_does_not_hide_present_when_condition_false():
    from conformance.iod import synthesize, validate
    ds = synthesize("1.2.840.10008.5.1.4.1.1.7")  # Planar Configuration: 1C on Samples > 1
    ds.PlanarConfiguration = 0
    codes = [f.code for f in validate(ds, facts={"image-pixel:(0028,0006)": False})]
    assert "iod.present-when-condition-false" in codes


def test_each_skipped_file_is_named_with_its_reason_in_every_format(built_corpus, tmp_path):
    clean, _ = built_corpus
    (tmp_path / "ct.dcm").write_bytes(clean["ct"].read_bytes())
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "short.dcm").write_bytes(b"\x01\x02\x03")
    (tmp_path / "junk.dcm").write_bytes(b"\xff" * 128 + b"DICX" + b"\xff" * 100)
    res = run("validate", "--format", "json", str(tmp_path))
    assert res.exit_code == 0, res.output
    by_file = {e["file"].rsplit("/", 1)[-1]: e for e in json.loads(res.stdout)}
    assert by_file["empty.dcm"]["skip_reason"] == "empty file"
    assert by_file["short.dcm"]["skip_reason"] == "3 byte(s): too short for a DICOM data element"
    assert "found b'DICX'" in by_file["junk.dcm"]["skip_reason"]
    assert by_file["ct.dcm"]["skipped"] is False and "skip_reason" not in by_file["ct.dcm"]
    # The console names them too when the report goes elsewhere (stderr).
    assert f"skipped {tmp_path / 'empty.dcm'}: not a DICOM file: empty file" in res.stderr
    out = tmp_path.parent / (tmp_path.name + "-html")
    res = run("validate", "--format", "html", "--out", str(out), str(tmp_path))
    page = (out / "report.html").read_text()
    assert "Skipped, not a DICOM file: empty file." in page
    assert "Skipped, not a DICOM file: 3 byte(s): too short" in page
    res = run("validate", str(tmp_path / "empty.dcm"), str(tmp_path / "short.dcm"))
    assert res.exit_code == 2 and "no DICOM file among the 2 input file(s)" in res.output
    assert "empty.dcm: skipped, not a DICOM file: empty file" in res.output


_MODULES_AT_EXIT = ("import atexit, sys; atexit.register(lambda: print('numpy:', "
                    "sys.modules.get('numpy') is not None, 'PIL:', "
                    "sys.modules.get('PIL') is not None, 'not run:', "
                    "[n for n, m in sys.modules.items() "
                    "if type(m).__name__ == '_DeferredModule'], file=sys.stderr)); "
                    "sys.argv = ['conformance', *sys.argv[1:]]; "
                    "from conformance.cli.main import main; main()")


def _console(*args: str):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-c", _MODULES_AT_EXIT, *args], capture_output=True,
                          text=True, timeout=120)


def test_console_validate_runs_without_pixel_libraries_and_reports_the_same(built_corpus,
                                                                           tmp_path):
    """The console script's ``validate`` keeps numpy and Pillow out and never runs the
    modules it defers (start-up; see conformance.cli.lean): its workers render the same JSON
    report as the in-process command, which has them all."""
    clean, defects = built_corpus
    files = [str(p) for p in clean.values()] + [str(p) for _, p in defects.values()]
    proc = _console("validate", "--jobs", "2", "--format", "json", *files)
    assert proc.returncode == 1, proc.stderr
    assert ("numpy: False PIL: False not run: ['hashlib', 'secrets', 'urllib.request', "
            "'pydicom.examples']") in proc.stderr
    in_process = run("validate", "--jobs", "1", "--format", "json", *files)
    assert proc.stdout == in_process.stdout
    assert proc.stderr.splitlines()[-2] == in_process.stderr.splitlines()[-1]  # the summary


def test_console_validate_in_archive_mode_keeps_numpy(built_corpus, tmp_path):
    """Archive mode's results store needs numpy: it is not kept out there."""
    clean, _ = built_corpus
    proc = _console("validate", "--results", str(tmp_path / "r.jsonl"), "--out",
                    str(tmp_path), *[str(p) for p in clean.values()])
    assert proc.returncode == 0, proc.stderr
    assert "numpy: True" in proc.stderr and "not run: []" in proc.stderr
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == len(clean)

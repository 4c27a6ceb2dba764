"""The run report at the scale of a real PACS, measured in headless Chromium: nothing wider
than the viewport at 390, 1400 and 1920 px, the page height of a failing run, the filter box
(with JavaScript) and a complete page without it, nothing fetched, and the printed PDF (A4
page count, the failure evidence in it).

Two failing runs: a synthetic one of about 10,000 steps (tests/browser/bigrun.py) and a real
one, Orthanc 1.10 against tests/data/statements/orthanc-wrong.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.cli.main import cli
from conformance.reporting import write_reports
from conformance.testing import Orthanc, free_port
from tests.browser.bigrun import big_failing_run
from tests.browser.chromium import Browser, pdf_pages_and_text
from tests.conftest import DATA

WIDTHS = (390, 1400, 1920)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.fixture(scope="module")
def big_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = big_failing_run()
    assert len(results.steps) > 10_000 and results.counts()["fail"] > 0
    return write_reports(results, tmp_path_factory.mktemp("big"))["html"]


@pytest.fixture(scope="module")
def orthanc_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("orthanc-wrong")
    harness_port = free_port()
    with Orthanc("ORTHANC", harness_ae_title="CONFORMANCE", harness_port=harness_port) as orthanc:
        result = CliRunner().invoke(cli, ["run", str(DATA / "statements" / "orthanc-wrong.yaml"), "--port",
                                          str(orthanc.port), "--harness-port", str(harness_port), "--out", str(out),
                                          "-q"])
    assert result.exit_code == 1, result.output
    return out / "report.html"


@pytest.fixture(params=["big", "orthanc"])
def report(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"{request.param}_report")


@pytest.mark.peer
@pytest.mark.parametrize("width", WIDTHS)
def test_no_element_is_wider_than_the_viewport_even_with_every_section_open(browser, report, width):
    browser.open(report, width)
    m = browser.overflow(open_all=True)
    assert m["width"] == width
    assert m["scrollWidth"] <= width and m["nwide"] == 0, m["wide"]


@pytest.mark.peer
def test_a_failing_run_reads_in_a_few_screens_not_sixty_thousand_pixels(browser, big_report, orthanc_report):
    browser.open(big_report, 1400)
    assert browser.overflow()["height"] < 15_000
    browser.open(orthanc_report, 1400)
    assert browser.overflow()["height"] < 12_000
    # The answer comes first: the banner and the ranked summary sit in the first screen.
    top = browser.evaluate("document.getElementById('summary').getBoundingClientRect().top")
    assert top < 900


@pytest.mark.peer
def test_the_filter_box_and_problems_only_toggle_work_and_nothing_is_fetched(browser, big_report):
    browser.open(big_report, 1400)
    assert browser.evaluate("document.querySelector('.js-only').hidden") is False
    counts = browser.evaluate("""(function () {
      var f = document.getElementById('filter'); f.value = 'CTImage'; f.dispatchEvent(new Event('input'));
      var items = Array.from(document.querySelectorAll('.f-item'));
      var shown = items.filter(function (el) { return !el.classList.contains('hide'); });
      var wrong = shown.filter(function (el) { return el.getAttribute('data-f').toLowerCase().indexOf('ctimage') < 0; });
      f.value = ''; f.dispatchEvent(new Event('input'));
      var p = document.getElementById('problems-only'); p.checked = true; p.dispatchEvent(new Event('change'));
      var okShown = document.querySelectorAll('.ok-row:not(.hide)').length;
      var problemsShown = document.querySelectorAll('.f-item:not(.ok-row):not(.hide)').length;
      return {all: items.length, shown: shown.length, wrong: wrong.length, okShown: okShown, problems: problemsShown};
    })()""")
    assert 0 < counts["shown"] < counts["all"] and counts["wrong"] == 0
    assert counts["okShown"] == 0 and counts["problems"] > 0
    assert browser.fetched() == []


@pytest.mark.peer
def test_without_javascript_the_page_is_complete(browser, report):
    browser.open(report, 1400, scripts=False)
    root = browser.call("DOM.getDocument", {"depth": -1}, page=True)["root"]["nodeId"]
    html = browser.call("DOM.getOuterHTML", {"nodeId": root}, page=True)["outerHTML"]
    for needed in ('id="summary"', 'id="failures"', 'id="matrix"', 'id="findings"', 'id="steps"',
                   "Reproduce with", "Expected", "Observed", "Not tested, and why"):
        assert needed in html, needed
    assert '<div class="controls noprint js-only" hidden="">' in html   # the filter box needs JS
    assert browser.fetched() == []


@pytest.mark.peer
def test_the_printed_report_is_short_and_keeps_the_evidence(browser, report, tmp_path):
    browser.open(report, 1400)
    pages, text = pdf_pages_and_text(browser.print_pdf(tmp_path / "report.pdf"))
    assert pages <= 15
    flat = " ".join(text.split())
    for needed in ("Expected", "Observed", "Reproduce with", "conformance run", "Summary: what breaks"):
        assert needed in flat, needed


def test_the_rendered_orthanc_statement_prints_to_tens_of_pages_not_hundreds(browser, tmp_path):
    from tests.conftest import STATEMENTS

    page = tmp_path / "statement.html"
    assert CliRunner().invoke(cli, ["render", str(STATEMENTS / "orthanc-1.10.yaml"), "--out", str(page)]).exit_code == 0
    for width in (390, 1400):
        browser.open(page, width)
        assert browser.overflow()["nwide"] == 0
    pages, text = pdf_pages_and_text(browser.print_pdf(tmp_path / "statement.pdf"))
    assert pages <= 40 and "Transfer syntax sets" in text


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
def test_the_validate_report_fits_the_screen_and_names_each_finding(browser, tmp_path):
    from conformance.iod.synth import synthesize

    ds = synthesize("1.2.840.10008.5.1.4.1.1.2")          # CT Image Storage
    ds.BodyPartExamined = "chest"                         # CS is upper case (PS3.5 6.2)
    del ds.PatientName                                    # type 2 (PS3.3 C.7.1.1)
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    result = CliRunner().invoke(cli, ["validate", "--format", "html", "--out", str(tmp_path / "v"), str(path)])
    assert result.exit_code == 1, result.output
    page = tmp_path / "v" / "report.html"
    for width in WIDTHS:
        browser.open(page, width)
        m = browser.overflow(open_all=True)
        assert m["nwide"] == 0, m["wide"]
    text = browser.evaluate("document.body.innerText")
    assert "INVALID" in text and "BodyPartExamined" in text and "PatientName" in text and "Patient" in text
    assert browser.fetched() == []

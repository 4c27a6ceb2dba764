"""The archive report as HTML (the run report's look, Jinja2 autoescaped), JSON, JUnit, text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from conformance.archive.aggregate import ArchiveSummary


@dataclass
class RunInfo:
    """How the results were made (shown beside the summary)."""

    sources: str
    results: str
    scheduler: str
    edition: str
    validated: int
    resumed: int
    elapsed: float
    complete: bool
    finished_at: str
    version: str


def as_html(s: ArchiveSummary, run: RunInfo, verbose: bool = False) -> str:
    """One self-contained page; the CSS is the run report's ``_style.css``."""
    env = Environment(loader=ChoiceLoader([PackageLoader("conformance.archive", "templates"),
                                           PackageLoader("conformance.reporting", "templates")]),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("archive.html.j2").render(s=s, run=run, verbose=verbose)


def as_dict(s: ArchiveSummary, run: RunInfo) -> dict[str, Any]:
    return {
        "run": asdict(run),
        "verdict": s.verdict, "verdict_text": s.verdict_text,
        "files": s.files, "dicom": s.dicom, "status": s.status,
        "status_examples": s.status_examples,
        "files_with_errors": s.files_with_errors,
        "files_with_warnings_only": s.files_with_warnings_only, "clean": s.clean,
        "blocked": s.blocked, "blockers": s.blockers, "errors": s.errors,
        "warnings": s.warnings, "validation_seconds": round(s.validation_ms / 1000, 3),
        "iods": [asdict(i) for i in s.sorted_iods()],
        "codes": [asdict(c) for c in s.sorted_codes()],
        "worst": s.worst,
    }


def as_json(s: ArchiveSummary, run: RunInfo) -> str:
    return json.dumps(as_dict(s, run), indent=1)


def junit_xml(s: ArchiveSummary) -> ET.ElementTree:
    """Suite ``iod``: one case per IOD (fails when a file has errors); suite ``findings``: one
    case per finding code of severity error or warning (error codes fail); suite ``files``:
    readability."""
    root = ET.Element("testsuites", name="dicom-conformance-archive")
    iods = ET.SubElement(root, "testsuite", name="iod")
    for i in s.sorted_iods():
        case = ET.SubElement(iods, "testcase", classname="iod", name=i.name)
        if i.with_errors:
            ET.SubElement(case, "failure", message=f"{i.with_errors} of {i.files} file(s) "
                          "have errors").text = "\n".join(i.examples)
    codes = ET.SubElement(root, "testsuite", name="findings")
    for c in s.sorted_codes():
        if c.severity == "info":
            continue
        case = ET.SubElement(codes, "testcase", classname="findings", name=c.code)
        text = f"{c.message} ({c.reference})\n" + "\n".join(c.examples)
        if c.severity == "error":
            ET.SubElement(case, "failure", message=f"{c.files} file(s), {c.count} "
                          "occurrence(s)").text = text
        else:
            ET.SubElement(case, "system-out").text = f"{c.files} file(s): " + text
    files = ET.SubElement(root, "testsuite", name="files")
    case = ET.SubElement(files, "testcase", classname="files", name="readable")
    bad = s.status.get("unreadable", 0) + s.status.get("validator-error", 0)
    if bad:
        ET.SubElement(case, "failure", message=f"{bad} file(s) could not be read or "
                      "validated").text = "\n".join(s.status_examples.get("unreadable", []))
    for suite in root:
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(sum(1 for c in suite if c.find("failure") is not None)))
    return ET.ElementTree(root)


def as_text(s: ArchiveSummary) -> str:
    nd, ur = s.status.get("not-dicom", 0), s.status.get("unreadable", 0)
    lines = [f"{s.verdict.upper()} TO MIGRATE: {s.verdict_text}",
             (f"{s.files} file(s): {s.dicom} DICOM ({s.clean} clean, "
              f"{s.files_with_warnings_only} warnings only, {s.files_with_errors} with errors, "
              f"{s.blocked} blocking), {nd} not DICOM, {ur} unreadable"), "", "per IOD:"]
    for i in s.sorted_iods():
        lines.append(f"  {i.name}: {i.files} file(s), {i.with_errors} with errors")
    lines.append("per finding code (error, warning):")
    for c in s.sorted_codes():
        if c.severity != "info":
            lines.append(f"  {c.severity:7} {c.code}: {c.files} file(s), {c.count} time(s), "
                         f"e.g. {c.examples[0] if c.examples else ''}")
    return "\n".join(lines) + "\n"

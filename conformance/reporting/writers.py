"""Write report.html, results.json and junit.xml from one RunResults."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from conformance.engine.results import RunResults
from conformance.reporting.evidence import build_evidence
from conformance.reporting.matrix import matrix_dict
from conformance.reporting.summary import SiteProfile
from conformance.reporting.view import ReportView, build_view


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("conformance.reporting", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    # The load family's report section lives with its package (conformance/load/templates);
    # the page calls load_views(r) and includes it when the run has a load step.
    from jinja2 import ChoiceLoader

    from conformance.load.view import build_load_view
    env.loader = ChoiceLoader([PackageLoader("conformance.reporting", "templates"),
                               PackageLoader("conformance.load", "templates")])
    env.globals["load_views"] = build_load_view
    return env


def render_html(view: ReportView) -> str:
    """One self-contained page: inline CSS and one small inline script (filter box), nothing
    fetched from anywhere; complete with scripts off."""
    return _environment().get_template("report.html.j2").render(v=view, r=view.results)


def results_json(view: ReportView) -> dict:
    r = view.results
    return {
        "run_id": r.run_id, "started_at": r.started_at, "finished_at": r.finished_at,
        "complete": r.complete, "aborted": r.aborted, "harness_version": r.harness_version,
        "target": dict(r.target), "identity": view.identity, "statement_file": r.statement_file,
        "verdict": view.verdict, "exit_code": view.exit_code, "counts": view.counts,
        "banner": view.summary.banner if view.summary else None,
        "summary": [{"service": s.name, "status": s.status, "detail": s.detail}
                    for s in (view.summary.services if view.summary else [])],
        "matrix": matrix_dict(view.matrix),
        "test_data": [dict(item) for item in r.test_data],
        "steps": [{"id": s.id, "title": s.title, "reference": s.reference, "outcome": s.outcome,
                   "message": s.message, "duration": s.duration,
                   "findings": [f.to_dict() for f in s.findings],
                   "observations": list(s.observations)} for s in r.steps],
    }


def junit_xml(results: RunResults) -> ET.ElementTree:
    """One testsuite per scenario family, one testcase per step."""
    root = ET.Element("testsuites", name="dicom-conformance")
    suites: dict[str, ET.Element] = {}
    for step in results.steps:
        suite = suites.get(step.family)
        if suite is None:
            suite = suites[step.family] = ET.SubElement(root, "testsuite", name=step.family)
        case = ET.SubElement(suite, "testcase", classname=step.family, name=step.id,
                             time=f"{step.duration:.3f}")
        text = "\n".join(f"[{f.severity.value}] {f.code}: {f.message} ({f.reference})" for f in step.findings)
        if step.outcome == "fail":
            ET.SubElement(case, "failure", message=step.findings[0].message if step.findings else "failed").text = (
                text + "\n\n" + build_evidence(step, results).text())
        elif step.outcome in ("error", "setup"):
            # A step never run (device gone, run interrupted) has no evidence to show.
            never_ran = step.message.startswith("not run: ")
            ET.SubElement(case, "error", message=step.message or "could not test").text = (
                step.message if never_ran else step.message + "\n\n" + build_evidence(step, results).text())
        elif step.outcome is None:
            ET.SubElement(case, "error", message="not run: the run ended before this step")
        elif step.outcome == "skipped":
            ET.SubElement(case, "skipped", message=step.message)
        elif text:
            ET.SubElement(case, "system-out").text = text
    for suite in suites.values():
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    return ET.ElementTree(root)


def write_reports(results: RunResults, out_dir: str | Path,
                  profile: SiteProfile | None = None) -> dict[str, Path]:
    """Write the three reports into *out_dir*; return their paths by kind. *profile*: the
    site's SOP classes and transfer syntaxes, to which the summary is filtered."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    view = build_view(results, profile)
    paths = {"html": out / "report.html", "json": out / "results.json", "junit": out / "junit.xml"}
    paths["html"].write_text(render_html(view), encoding="utf-8")
    paths["json"].write_text(json.dumps(results_json(view), indent=1, ensure_ascii=False), encoding="utf-8")
    tree = junit_xml(results)
    ET.indent(tree)
    tree.write(paths["junit"], encoding="utf-8", xml_declaration=True)
    return paths

"""Turning IOD findings into text, JSON or a self-contained HTML page (Jinja2, autoescaped)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from conformance.findings import Finding, Severity


def summary(findings: Iterable[Finding]) -> Counter:
    return Counter(f.severity.value for f in findings)


def as_text(results: list[tuple[str, list[Finding] | None]], verbose: bool = False) -> str:
    lines = []
    for path, findings in results:
        if findings is None:
            lines.append(f"{path}: skipped (not a DICOM file)")
            continue
        c = summary(findings)
        lines.append(f"{path}: {c['error']} error(s), {c['warning']} warning(s), "
                     f"{c['info']} not verifiable / info")
        for f in findings:
            if f.severity is Severity.INFO and not verbose:
                continue
            where = f" {f.tag}" if f.tag else ""
            mod = f" [{f.module}]" if f.module else ""
            ref = f" ({f.reference})" if f.reference else ""
            lines.append(f"  {f.severity.value:7} {f.code}{where}{mod}: {f.message}{ref}")
    return "\n".join(lines) + "\n"


def as_json(results: list[tuple[str, list[Finding] | None]]) -> str:
    return json.dumps([{"file": path, "skipped": findings is None,
                        "findings": [f.to_dict() for f in findings or []]}
                       for path, findings in results], indent=1)


def as_html(results: list[tuple[str, list[Finding] | None]], edition: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("conformance.iod", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    rows = [{"file": p, "skipped": fs is None, "findings": fs or [],
             "counts": summary(fs or [])} for p, fs in results]
    return env.get_template("report.html.j2").render(rows=rows, edition=edition)

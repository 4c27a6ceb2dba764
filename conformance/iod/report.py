"""Turning IOD findings into text, JSON or a self-contained HTML page (Jinja2, autoescaped).

Every finding is named as dciodvfy names it: the attribute's keyword and tag, and the
module (PS3.3) it belongs to. Findings that carry no module (element-level VR/VM checks,
PS3.5) get the module of the IOD the file's other findings name, looked up in the
edition-pinned index; where no IOD is known, the module is left blank rather than guessed.
"Not verifiable" findings (conditions the data cannot settle) are grouped apart from the
errors and warnings.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pydicom.datadict import keyword_for_tag

from conformance.findings import Finding, Severity

NOT_VERIFIABLE = "iod.condition-not-verifiable"
_TAG = re.compile(r"\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)")


def summary(findings: Iterable[Finding]) -> Counter:
    return Counter(f.severity.value for f in findings)


@lru_cache(maxsize=16384)  # the same paths recur in every file of a series
def keyword_of(tag_path: str | None) -> str:
    """``(0040,0275)[0].(0008,0100)`` -> ``RequestAttributesSequence[0].CodeValue``."""
    if not tag_path:
        return ""
    def name(match: re.Match) -> str:
        return keyword_for_tag(int(match.group(1) + match.group(2), 16)) or match.group(0)
    return _TAG.sub(name, tag_path)


@lru_cache(maxsize=16384)
def _top_tag(tag_path: str | None) -> int | None:
    match = _TAG.search(tag_path or "")
    return int(match.group(1) + match.group(2), 16) if match else None


@lru_cache(maxsize=256)
def _modules_by_tag(iod_name: str) -> dict[int, str]:
    from conformance.standard.iod_index import load_index

    index = load_index()
    out: dict[int, str] = {}
    for uid in index.sop_classes:       # the first SOP class of that IOD, built alone
        key = index.sop_classes[uid]
        if index._raw_iods.get(key, {}).get("name") != iod_name:
            continue
        iod = index.iod(key)
        for use in iod.modules:
            for rule in use.module.attributes:
                out.setdefault(rule.tag, use.module.name)
        break
    return out


def module_of(finding: Finding, iod_name: str | None) -> str:
    if finding.module:
        return finding.module
    tag = _top_tag(finding.tag)
    if tag is None or not iod_name:
        return ""
    try:
        return _modules_by_tag(iod_name).get(tag, "")
    except Exception:  # noqa: BLE001 - no index: the module stays blank, never guessed
        return ""


@dataclass
class FileReport:
    path: str
    skipped: bool
    iod: str = ""
    #: Why a skipped file was not taken for DICOM (see reading.skip_reason).
    reason: str = ""
    problems: list[tuple[Finding, str, str]] = field(default_factory=list)   # (finding, keyword, module)
    not_verifiable: list[tuple[Finding, str, str]] = field(default_factory=list)
    info: list[tuple[Finding, str, str]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def file_report(path: str, findings: list[Finding] | None, reason: str = "") -> FileReport:
    if findings is None:
        return FileReport(path, True, reason=reason or "not a DICOM file")
    iods = Counter(f.iod for f in findings if f.iod)
    iod = iods.most_common(1)[0][0] if iods else ""
    rep = FileReport(path, False, iod, counts=summary(findings))
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for f in sorted(findings, key=lambda f: order[f.severity]):
        named = (f, keyword_of(f.tag), module_of(f, iod))
        if f.code == NOT_VERIFIABLE:
            rep.not_verifiable.append(named)
        elif f.severity is Severity.INFO:
            rep.info.append(named)
        else:
            rep.problems.append(named)
    return rep


def verdict(reports: list[FileReport]) -> tuple[str, str]:
    """(banner, css) of a validation: INVALID, VALID WITH WARNINGS, VALID or NOT DICOM."""
    checked = [r for r in reports if not r.skipped]
    if not checked:
        return "NOT DICOM", "incomplete"
    if any(r.counts["error"] for r in checked):
        return "INVALID", "deviates"
    if any(r.counts["warning"] for r in checked):
        return "VALID WITH WARNINGS", "warnings"
    return "VALID", "conforms"


Reasons = Mapping[str, str]


def text_block(path: str, findings: list[Finding] | None, verbose: bool = False,
               reason: str = "") -> str:
    """The text report of one file (its lines, each ending in a newline); a skipped file
    (not DICOM) is named with the reason."""
    rep = file_report(path, findings, reason)
    if rep.skipped:
        return f"{path}: skipped, not a DICOM file: {rep.reason}\n"
    c = rep.counts
    lines = [f"{path}: {c['error']} error(s), {c['warning']} warning(s), "
             f"{len(rep.not_verifiable)} not verifiable, {len(rep.info)} info"
             + (f" [{rep.iod}]" if rep.iod else "")]
    shown = rep.problems + (rep.not_verifiable + rep.info if verbose else [])
    for f, keyword, module in shown:
        where = f" {f.tag}" if f.tag else ""
        name = f" {keyword}" if keyword and keyword != f.tag else ""
        mod = f" [{module}]" if module else ""
        ref = f" ({f.reference})" if f.reference else ""
        lines.append(f"  {f.severity.value:7} {f.code}{where}{name}{mod}: {f.message}{ref}")
    return "\n".join(lines) + "\n"


def as_text(results: list[tuple[str, list[Finding] | None]], verbose: bool = False,
            reasons: Reasons | None = None) -> str:
    """One block per file (:func:`text_block`)."""
    return "".join(text_block(p, fs, verbose, (reasons or {}).get(p, ""))
                   for p, fs in results) or "\n"


def _finding_dict(f: Finding) -> dict[str, Any]:
    """``f.to_dict()`` without its deep copy (``dataclasses.asdict`` took half of a large
    report's time): the same keys, in the same order, with the same values."""
    d: dict[str, Any] = {"code": f.code, "severity": f.severity.value, "message": f.message}
    for key, value in (("reference", f.reference), ("tag", f.tag), ("module", f.module),
                       ("iod", f.iod), ("source", f.source)):
        if value not in (None, {}, ""):
            d[key] = value
    if f.details:
        d["details"] = dict(f.details)
    return d


_scalar = json.JSONEncoder().encode  # C-accelerated (no indent), also for a whole finding

#: JSON of a finding without its source, split where the source goes: (text before the
#: source's value, text after it), per finding content (:func:`_finding_json`).
_JSON_MEMO: dict[tuple[Any, ...], tuple[str, str]] = {}
_JSON_MEMO_ENTRIES = 20_000
#: The last source and its JSON (a file's findings share it), one tuple read at once.
_SOURCE_JSON: list[tuple[Any, str]] = [(None, "")]


def _finding_json(f: Finding) -> str:
    """``_scalar(_finding_dict(f))``, the same text: a report repeats the same findings
    (conditions not verifiable, type 2 attributes missing) file after file, differing only
    in their source, and encoding a finding costs several times making it."""
    details = f.details
    has_source = bool(f.source)
    try:
        key = (f.code, f.severity, f.message, f.reference, f.tag, f.module, f.iod, has_source,
               tuple((k, type(v), v) for k, v in details.items()) if details else ())
        found = _JSON_MEMO.get(key)
    except TypeError:  # an unhashable detail (a list of allowed values): encoded whole
        return _scalar(_finding_dict(f))
    if found is None:
        d = _finding_dict(f)
        d.pop("source", None)
        rest = {"details": d.pop("details")} if "details" in d else None
        before = _scalar(d)[:-1] + (', "source": ' if has_source else "")
        after = ", " + _scalar(rest)[1:] if rest else "}"
        if len(_JSON_MEMO) >= _JSON_MEMO_ENTRIES:
            _JSON_MEMO.clear()
        found = _JSON_MEMO[key] = (before, after)
    if not has_source:
        return found[0] + found[1]
    source = _SOURCE_JSON[0]
    if source[0] != f.source:
        source = _SOURCE_JSON[0] = (f.source, _scalar(f.source))
    return found[0] + source[1] + found[1]


def json_entry(path: str, findings: list[Finding] | None, reason: str = "") -> str:
    """The JSON object of one file in :func:`as_json`'s layout: ``{"file", "skipped",
    "findings"}`` plus ``"skip_reason"`` when skipped; one finding per line, each encoded whole
    by the C encoder (the indenting encoder is pure Python: seconds for 50,000 findings)."""
    head = f'{{\n  "file": {_scalar(path)},\n  "skipped": {_scalar(findings is None)},\n  "findings": '
    body = ("[\n" + ",\n".join("   " + _finding_json(f) for f in findings) + "\n  ]"
            if findings else "[]")
    tail = (f',\n  "skip_reason": {_scalar(reason or "not a DICOM file")}'
            if findings is None else "")
    return " " + head + body + tail + "\n }"


def join_json(entries: Iterable[str]) -> str:
    """The JSON list of :func:`json_entry` texts, indented like ``json.dumps(indent=1)``."""
    return "".join(json_pieces(entries))


def json_pieces(entries: Iterable[str]) -> Iterator[str]:
    """:func:`join_json`'s text in pieces, for writing as they come (a report of 250 files is
    6 MB: joined, it is copied once more and held whole)."""
    first = True
    for entry in entries:
        yield ("[\n" if first else ",\n") + entry
        first = False
    yield "[]" if first else "\n]"


def as_json(results: list[tuple[str, list[Finding] | None]],
            reasons: Reasons | None = None) -> str:
    """A list of ``{"file", "skipped", "findings"}``, plus ``"skip_reason"`` when skipped."""
    return join_json(json_entry(p, fs, (reasons or {}).get(p, "")) for p, fs in results)


def _style() -> str:
    """The run report's stylesheet, so both pages look alike."""
    return resources.files("conformance").joinpath("reporting/templates/_style.css").read_text("utf-8")


def as_html(results: list[tuple[str, list[Finding] | None]], edition: str,
            reasons: Reasons | None = None) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("conformance.iod", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    reports = [file_report(p, fs, (reasons or {}).get(p, "")) for p, fs in results]
    banner, css = verdict(reports)
    totals: Counter[str] = Counter()
    for r in reports:
        totals.update({"errors": r.counts["error"], "warnings": r.counts["warning"],
                       "not_verifiable": len(r.not_verifiable), "skipped": int(r.skipped),
                       "invalid": int(bool(r.counts["error"])), "checked": int(not r.skipped)})
    return env.get_template("report.html.j2").render(reports=reports, edition=edition, banner=banner, css=css,
                                                     totals=totals, style=_style())

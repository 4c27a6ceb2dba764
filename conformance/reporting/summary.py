"""The one-minute answer: a banner, and per DIMSE service what breaks, ranked by its impact
on a site, what was not tested and why, and the warnings that change the site's data.

Computed from :class:`RunResults` only (so a killed run's results.jsonl gives the same kind
of answer). The HTML report and the console print this; neither decides anything itself.

Banner (four answers):

- ``DEVIATES``: a step failed (the device does not do what its statement claims, or breaks
  the standard), or a warning with ``--strict``;
- ``INCOMPLETE - NOT TESTED``: nothing was tested (no step passed or failed), or a step could
  not be tested (error, not run), with no deviation found;
- ``CONFORMS WITH WARNINGS``: everything tested conforms, but there are warnings, or
  declared services were not tested (say which and why);
- ``CONFORMS``: everything declared was tested and conforms.

What the services are comes from PS3.4 (one Service Class per Annex): Verification (A),
Storage (B), Query/Retrieve (C: C-FIND, C-MOVE, C-GET), Storage Commitment (J), Modality
Worklist (K), MPPS (F).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from conformance.engine.results import RunResults, StepRecord
from conformance.findings import Finding, Severity
from conformance.standard import uids

#: Services in the order of their weight for a site (storage first: images lost is worst).
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("storage", "Storage (C-STORE)", "PS3.4 Annex B"),
    ("find", "Query (C-FIND)", "PS3.4 C.4.1"),
    ("move", "Retrieve (C-MOVE)", "PS3.4 C.4.2"),
    ("get", "Retrieve (C-GET)", "PS3.4 C.4.3"),
    ("worklist", "Modality Worklist", "PS3.4 Annex K"),
    ("mpps", "MPPS", "PS3.4 Annex F"),
    ("commitment", "Storage commitment", "PS3.4 Annex J"),
    ("verification", "Verification (C-ECHO)", "PS3.4 Annex A"),
    ("association", "Association set-up", "PS3.8 9.3; PS3.7 D.3.3"),
    ("scu", "Device as SCU", "PS3.7 D.3.3.4"),
    ("other", "Other", ""),
)
SERVICE_NAMES = {key: name for key, name, _ in SERVICES}
_RANK = {key: n for n, (key, _, _) in enumerate(SERVICES)}

#: Service status, worst first (the ranking key before the service's own weight).
REFUSED, DEVIATES, DATA, COULD_NOT, NOT_TESTED, WARNINGS, WORKS = (
    "claimed, refused", "deviates", "works, data changed", "could not test", "not tested",
    "works, with warnings", "works")
_STATUS_RANK = {s: n for n, s in enumerate((REFUSED, DEVIATES, DATA, COULD_NOT, NOT_TESTED, WARNINGS, WORKS))}


@lru_cache(maxsize=1)
def impact_codes() -> dict[str, str]:
    """Finding code -> data impact ("characters lost"), from ``data/impact.json``."""
    text = resources.files("conformance.reporting").joinpath("data/impact.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def service_of_sop_class(uid: str) -> str:
    """The service key of a SOP class (PS3.4's Service Classes)."""
    if uid == uids.VERIFICATION:
        return "verification"
    return service_of_keyword(uids.keyword_of(uid))


def service_of_keyword(kw: str) -> str:
    """The service key of a SOP class keyword (``CTImageStorage`` -> storage)."""
    if kw == "Verification":
        return "verification"
    if "Worklist" in kw:
        return "worklist"
    if "PerformedProcedureStep" in kw:
        return "mpps"
    if "StorageCommitment" in kw:
        return "commitment"
    if kw.endswith("Find"):
        return "find"
    if kw.endswith("Move"):
        return "move"
    if kw.endswith("Get"):
        return "get"
    if "Storage" in kw:
        return "storage"
    return "other"


def sop_class_of_step(step: StepRecord) -> str | None:
    """The SOP class a step is about, from its id (``negotiation/accept/CTImageStorage/...``)."""
    parts = step.id.split("/")
    keywords = uids.sop_class_keywords()
    for part in parts[1:4]:
        if part in keywords:
            return keywords[part]
    for obs in step.observations:
        sop = obs.get("sop_class")
        if isinstance(sop, str) and sop:
            return sop
    return None


def transfer_syntax_of_step(step: StepRecord) -> str | None:
    keywords = uids.transfer_syntax_keywords()
    for part in step.id.split("/")[2:]:
        if part in keywords:
            return keywords[part]
    return None


def service_of(step: StepRecord) -> str:
    """The service key a step belongs to."""
    family, _, rest = step.id.partition("/")
    head = rest.split("/", 1)[0]
    if family == "negotiation":
        if head == "verification":
            return "verification"
        if head in ("called-ae-title", "calling-ae-title", "association-parameters"):
            return "association"
        if head == "scu-role":
            return "scu"
        keyword = rest.split("/")[1] if "/" in rest else ""
        if keyword:
            return service_of_keyword(keyword)
        sop = sop_class_of_step(step)
        return service_of_sop_class(sop) if sop else "association"
    if family == "retrieve":
        return {"move": "move", "get": "get"}.get(head, "move")
    if family == "query":
        return "find"
    if family in ("storage", "worklist", "mpps", "commitment"):
        return family
    if family == "listen":
        return "scu"
    return "other"


@dataclass
class SiteProfile:
    """The SOP classes and transfer syntaxes a site uses (from a statement or a short list);
    empty sets mean "any"."""

    sop_classes: frozenset[str] = frozenset()
    transfer_syntaxes: frozenset[str] = frozenset()
    source: str = ""

    def matters(self, step: StepRecord) -> bool:
        sop, ts = sop_class_of_step(step), transfer_syntax_of_step(step)
        if sop and self.sop_classes and sop not in self.sop_classes and sop != uids.VERIFICATION:
            return False
        return not (ts and self.transfer_syntaxes and ts not in self.transfer_syntaxes)


@dataclass
class Line:
    """One merged line of the summary: a message, how many steps said it, one step id."""

    text: str
    count: int
    step_id: str
    reference: str = ""


@dataclass
class ServiceSummary:
    key: str
    name: str
    reference: str
    status: str
    counts: Counter = field(default_factory=Counter)
    lines: list[Line] = field(default_factory=list)
    warnings: int = 0
    not_tested_why: list[Line] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return f"{self.name}: {self.status} ({self.detail})"

    @property
    def detail(self) -> str:
        c = self.counts
        tested = c["pass"] + c["fail"]
        tail = {
            REFUSED: "nothing of it works: every declared presentation context or every tested step "
                     "was rejected or failed",
            DEVIATES: f"{c['fail']} of {tested} tested steps fail",
            DATA: "stored or queried data came back changed",
            COULD_NOT: f"{c['error'] + c['not run']} step(s) could not be tested",
            NOT_TESTED: "no step of it was tested",
            WARNINGS: f"{c['pass']} steps pass, {self.warnings} warning(s)",
            WORKS: f"{c['pass']} steps pass",
        }[self.status]
        return tail

    @property
    def css(self) -> str:
        return {REFUSED: "bad", DEVIATES: "bad", DATA: "warn", COULD_NOT: "warn", NOT_TESTED: "warn",
                WARNINGS: "warn", WORKS: "ok"}[self.status]


@dataclass
class Summary:
    banner: str
    banner_css: str
    sentence: str
    services: list[ServiceSummary]
    data_impact: list[Line]
    not_tested: list[Line]
    warnings: int
    profile: SiteProfile | None = None

    @property
    def problems(self) -> list[ServiceSummary]:
        return [s for s in self.services if s.status != WORKS]

    @property
    def works(self) -> list[ServiceSummary]:
        """Only services whose every tested step passed (never '0 of 4 pass')."""
        return [s for s in self.services if s.status in (WORKS, WARNINGS)]


def merged(pairs: Iterable[tuple[StepRecord, str, str]]) -> list[Line]:
    """Merge identical texts: one line per text with its count, in order of first sight."""
    lines: dict[str, Line] = {}
    for step, text, ref in pairs:
        line = lines.get(text)
        if line is None:
            lines[text] = Line(text, 1, step.id, ref)
        else:
            line.count += 1
    return list(lines.values())


def _by_code(pairs: list[tuple[StepRecord, Finding]]) -> list[Line]:
    """One line per finding code: its first message, and how many findings share the code."""
    lines: dict[str, Line] = {}
    for step, f in pairs:
        if f.code in lines:
            lines[f.code].count += 1
        else:
            lines[f.code] = Line(f.message, 1, step.id, f.reference)
    for line in lines.values():
        if line.count > 1:
            line.text += f" (and {line.count - 1} more like it)"
    return list(lines.values())


def _reason(message: str) -> str:
    """A skip or error message reduced to its reason, so equal reasons merge."""
    text = message.removeprefix("not tested: ").removeprefix("not run: ")
    if text.startswith("no encoder") or "could not encode" in text:
        return "the harness has no encoder for these transfer syntaxes"
    return re.sub(r"\s*\([^()]*\)\s*$", "", text).strip() or "no reason recorded"


def skip_lines(steps: list[StepRecord]) -> list[Line]:
    """Steps not tested, one line per reason: "943 combination(s) in 13 transfer syntax(es):
    the harness has no encoder for these transfer syntaxes"."""
    out: list[Line] = []
    by_reason: dict[str, list[StepRecord]] = {}
    for s in steps:
        by_reason.setdefault(_reason(s.message or "not run"), []).append(s)
    for reason, group in by_reason.items():
        syntaxes = {ts for ts in (transfer_syntax_of_step(s) for s in group) if ts}
        what = (f"{len(group)} combination(s) in {len(syntaxes)} transfer syntax(es)" if len(syntaxes) > 1
                else f"{len(group)} step(s)")
        out.append(Line(f"{what}: {reason}", len(group), group[0].id))
    return out


def _failure_text(step: StepRecord) -> tuple[str, str]:
    errors = [f for f in step.findings if f.severity is Severity.ERROR]
    if errors:
        return errors[0].message, errors[0].reference
    return step.message or step.title, step.reference


def declared_services(results: RunResults) -> set[str]:
    """Services the recorded statement declares with the device as SCP (or SCU, for listen)."""
    out: set[str] = set()
    for cap in results.statement.get("transfer_capabilities", []) if results.statement else []:
        for sop in cap.get("sop_classes", []):
            uid = uids.sop_class_keywords().get(sop, sop)
            if cap.get("role", "SCP") == "SCP":
                out.add(service_of_sop_class(uid))
    return out


def build_summary(results: RunResults, profile: SiteProfile | None = None) -> Summary:
    steps = [s for s in results.steps if profile is None or profile.matters(s)]
    by_service: dict[str, list[StepRecord]] = {}
    for s in steps:
        by_service.setdefault(service_of(s), []).append(s)
    impacts = impact_codes()
    # A data-impact warning counts against the service its code names ("find.character-set-
    # lossy" is the C-FIND answer losing characters, whichever step saw it).
    data_by_service: dict[str, list[tuple[StepRecord, Finding]]] = {}
    for s in steps:
        for f in s.findings:
            if f.code in impacts and f.severity is Severity.WARNING:
                owner = f.code.split(".")[0]
                data_by_service.setdefault(owner if owner in SERVICE_NAMES else service_of(s), []).append((s, f))
    services: list[ServiceSummary] = []
    for key, name, ref in SERVICES:
        members = by_service.get(key, [])
        if not members and key not in data_by_service:
            continue
        counts = Counter(s.outcome or "not run" for s in members)
        warnings = [(s, f) for s in members for f in s.findings if f.severity is Severity.WARNING
                    and not (f.code in impacts and f.code.split(".")[0] in SERVICE_NAMES
                             and f.code.split(".")[0] != key)]     # counted where its code belongs
        failed = [s for s in members if s.outcome == "fail"]
        accepts = [s for s in members if s.id.startswith("negotiation/accept/")]
        data = data_by_service.get(key, [])
        tested = [s for s in members if s.outcome in ("pass", "fail")]
        if failed and ((accepts and all(s.outcome == "fail" for s in accepts))
                       or all(s.outcome == "fail" for s in tested)):
            status = REFUSED
        elif failed:
            status = DEVIATES
        elif data:
            status = DATA
        elif counts["error"] or counts["not run"] or counts["setup"]:
            status = COULD_NOT
        elif not counts["pass"]:
            status = NOT_TESTED
        elif warnings:
            status = WARNINGS
        else:
            status = WORKS
        summary = ServiceSummary(key, name, ref, status, counts, warnings=len(warnings))
        summary.lines = merged((s, *_failure_text(s)) for s in failed)
        if status in (DATA, WARNINGS):      # what the warnings are: one line per finding code
            summary.lines = _by_code(data + [p for p in warnings if p not in data])
        if status == COULD_NOT:
            summary.lines += merged((s, s.message or "not run", s.reference) for s in members
                                    if s.outcome in ("error", "setup", None))
        summary.not_tested_why = skip_lines([s for s in members
                                             if s.outcome in ("skipped", "error", "setup", None)])
        services.append(summary)
    services.sort(key=lambda s: (_STATUS_RANK[s.status], _RANK[s.key]))
    present = {s.key for s in services}
    not_tested = [Line(f"{s.name}: {line.text}", line.count, line.step_id)
                  for s in services for line in s.not_tested_why]
    for key in sorted(declared_services(results) - present - {"other"}, key=lambda k: _RANK[k]):
        if profile is None:
            not_tested.append(Line(f"{SERVICE_NAMES[key]}: declared, but no step of this run tested it "
                                   "(not selected with -k, or not yet tested by this harness)", 0, ""))
    data_impact = merged((s, f"{impacts[f.code].capitalize()}: {f.message}", f.reference)
                         for s in steps for f in s.findings if f.code in impacts
                         and f.severity is not Severity.INFO)
    warning_count = sum(1 for s in steps for f in s.findings if f.severity is Severity.WARNING)
    banner, css, sentence = _banner(results, steps, warning_count, not_tested)
    return Summary(banner, css, sentence, services, data_impact, not_tested, warning_count, profile)


def _banner(results: RunResults, steps: list[StepRecord], warnings: int,
            not_tested: list[Line]) -> tuple[str, str, str]:
    counts = Counter(s.outcome or "not run" for s in steps)
    strict_fail = results.strict and warnings
    if counts["fail"] or strict_fail:
        text = (f"{counts['fail']} step(s) show the device does not do what its statement claims, "
                "or breaks the DICOM standard.")
        return "DEVIATES", "deviates", text
    if counts["setup"]:
        first = next(s for s in steps if s.outcome == "setup")
        text = (f"No deviation was found, but a set-up problem at the site stopped {counts['setup']} "
                f"step(s): {first.message}")
        return "SET-UP PROBLEM AT THE SITE", "incomplete", text
    if not (counts["pass"] or counts["fail"]):
        text = ("Nothing was tested in this run: no step passed or failed. This is not a statement "
                "that the device conforms.")
        return "INCOMPLETE - NOT TESTED", "incomplete", text
    if results.damaged_lines:
        text = (f"No deviation was found in what was recorded, but {results.damaged_lines} line(s) of the "
                "results file were damaged: a lost line may have held a finding.")
        return "INCOMPLETE - NOT TESTED", "incomplete", text
    if counts["error"] or counts["not run"]:
        text = (f"No deviation was found, but {counts['error'] + counts['not run']} step(s) could not "
                "be tested (see 'Not tested').")
        return "INCOMPLETE - NOT TESTED", "incomplete", text
    untested = [line for line in not_tested if line.count == 0 or "encoder" not in line.text]
    if warnings or untested:
        parts = ([f"{warnings} warning(s)"] if warnings else []) + (
            [f"{len(untested)} declared service part(s) not tested"] if untested else [])
        text = f"Everything tested behaves as the statement says, with {' and '.join(parts)}."
        return "CONFORMS WITH WARNINGS", "warnings", text
    text = "The device behaved as its conformance statement says in every step tested."
    return "CONFORMS", "conforms", text


def test_data_prefix(results: RunResults) -> str:
    """The Patient ID prefix all of a run's test patients share ("CONFTEST-1A2B3C4D-")."""
    import os.path

    ids = [str(item.get("patient_id", "")) for item in results.test_data]
    common = os.path.commonprefix(ids) if ids else ""
    return common[:common.rfind("-") + 1] if "-" in common else common


def worst_findings(step: StepRecord) -> list[Finding]:
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(step.findings, key=lambda f: order[f.severity])

"""What a report shows, computed once from RunResults: verdict, summary, grouped findings,
matrix. The HTML template and the console summary only format this."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from conformance.engine.results import RunResults, StepRecord
from conformance.exitcodes import ExitCode
from conformance.findings import Finding, Severity
from conformance.reporting.evidence import Evidence, build_evidence
from conformance.reporting.matrix import Matrix, MatrixRow, build_matrix, grouped_rows, statement_of
from conformance.reporting.services_view import ServicesView, build_services_view
from conformance.reporting.summary import (
    SERVICES,
    Line,
    SiteProfile,
    Summary,
    build_summary,
    service_of,
    skip_lines,
    test_data_prefix,
)
from conformance.standard import uids

VERDICT_TEXT = {
    ExitCode.OK: ("conforms", "The device behaved as its conformance statement says in every step tested."),
    ExitCode.DEVIATION: ("deviates", "The device does not do everything its conformance statement claims, "
                                     "or deviates from the DICOM standard."),
    ExitCode.COULD_NOT_TEST: ("incomplete", "No deviation was found, but some steps could not be tested "
                                            "(see 'Could not test')."),
    ExitCode.SETUP_PROBLEM: ("set-up-problem", "No deviation was found, but the site's set-up stopped steps: "
                                               "the device does not know the harness (see 'Could not test' "
                                               "for what to configure)."),
}
NOTHING_TESTED = "Nothing was tested: every step was skipped or could not run. This is not a pass."


@dataclass
class FindingGroup:
    code: str
    severity: str
    reference: str
    items: list[tuple[StepRecord, Finding]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.items[0][1].message if len(self.items) == 1 else f"{self.code} ({len(self.items)})"


@dataclass
class ReportView:
    results: RunResults
    verdict: str
    verdict_text: str
    exit_code: int
    identity: dict[str, Any]
    counts: dict[str, int]
    matrix: Matrix
    groups: list[FindingGroup]
    families: list[tuple[str, dict[str, int]]]
    not_tested: list[StepRecord]
    failed: list[StepRecord]
    highlights: list[str]
    severity_counts: dict[str, int]
    #: The DIMSE services section (conformance/reporting/services_view.py).
    services: ServicesView | None = None
    #: The one-minute answer (conformance/reporting/summary.py).
    summary: Summary | None = None
    #: Evidence cards: per finding code (or error reason) the first few steps in full.
    evidence: list[tuple[str, str, list[Evidence], list[StepRecord]]] = field(default_factory=list)
    #: The one matrix: (group, problem rows, rows as declared).
    matrix_groups: list[tuple[str, list[MatrixRow], list[MatrixRow]]] = field(default_factory=list)
    #: Per service (name, steps problem-first, outcome counts) for the bar chart and "All steps".
    by_service: list[tuple[str, list[StepRecord], dict[str, int]]] = field(default_factory=list)
    #: Skipped steps, merged by reason ("943 combinations in 13 syntaxes: no encoder").
    skipped_lines: list[Line] = field(default_factory=list)
    #: The Patient ID prefix of the run's test patients (the test data inventory).
    test_data_prefix: str = ""

    def name(self, uid: str) -> str:
        return uids.name_of(uid)

    def keyword(self, uid: str) -> str:
        return uids.keyword_of(uid)


def _group(results: RunResults) -> list[FindingGroup]:
    groups: OrderedDict[str, FindingGroup] = OrderedDict()
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    pairs = sorted(results.findings(), key=lambda p: order[p[1].severity])
    for step, finding in pairs:
        g = groups.setdefault(finding.code, FindingGroup(finding.code, finding.severity.value, finding.reference))
        g.items.append((step, finding))
    return list(groups.values())


def _highlights(results: RunResults, matrix: Matrix) -> list[str]:
    """Plain sentences for the executive summary: what works."""
    out = []
    if matrix.role == "SCU":
        counts = matrix.counts()
        declared = counts["ok"] + counts["untested"]
        instances = [s for s in results.steps if s.id.startswith("listen/instance/")]
        if declared:
            out.append(f"Proposed {counts['ok']} of {declared} declared SCU SOP class / transfer syntax combinations.")
        if instances:
            ok = sum(1 for s in instances if s.outcome == "pass")
            out.append(f"Sent {len(instances)} instance(s); {ok} valid against their IOD and the statement.")
        return out
    echo = results.step("negotiation/verification")
    if echo and echo.outcome == "pass":
        out.append("Answers Verification (C-ECHO) with Success.")
    counts = matrix.counts()
    declared = counts["ok"] + counts["missing"]
    if declared:
        ok_rows = [s for s in matrix.sop_classes if matrix.row_state(s) in ("ok", "extra")]
        out.append(f"Accepts {counts['ok']} of {declared} declared SOP class / transfer syntax "
                   f"combinations; {len(ok_rows)} SOP classes fully as declared.")
    for sid, text in (("negotiation/called-ae-title", "Called AE title policy is as declared."),
                      ("negotiation/calling-ae-title", "Calling AE title policy is as declared."),
                      ("negotiation/association-parameters", "Association parameters (maximum PDU, "
                                                             "implementation UID and version) are as declared.")):
        rec = results.step(sid)
        if rec and rec.outcome == "pass" and not rec.findings:
            out.append(text)
    names = {"storage": "Storage", "query": "Query (C-FIND)", "retrieve": "Retrieve (C-MOVE/C-GET)",
             "worklist": "Modality Worklist", "mpps": "MPPS", "commitment": "Storage commitment"}
    for family, name in names.items():
        steps = [s for s in results.steps if s.family == family]
        tested = [s for s in steps if s.outcome in ("pass", "fail")]
        if tested:
            ok = sum(1 for s in tested if s.outcome == "pass")
            out.append(f"{name}: {ok} of {len(tested)} tested steps pass"
                       + (f" ({len(steps) - len(tested)} not tested)" if len(steps) > len(tested) else "") + ".")
    return out


#: Full evidence cards per finding code (the rest of that code is listed compactly).
CARDS_PER_CODE = 3
_PROBLEM_ORDER = {"fail": 0, "error": 1, None: 2, "skipped": 3, "pass": 4}


def _evidence(results: RunResults) -> list[tuple[str, str, list[Evidence], list[StepRecord]]]:
    """Failed steps, then those that could not be tested, grouped by their first error
    finding code (or message): (title, outcome, full cards, the rest)."""
    groups: dict[tuple[str, str], list[StepRecord]] = {}
    for step in results.steps:
        if step.outcome not in ("fail", "error", None):
            continue
        errors = [f for f in step.findings if f.severity is Severity.ERROR]
        key = errors[0].code if errors else (step.message or "not run").split(":")[0][:80]
        groups.setdefault((step.outcome or "not run", key), []).append(step)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0] != "fail", -len(kv[1])))
    return [(key, outcome, [build_evidence(s, results) for s in steps[:CARDS_PER_CODE]],
             steps[CARDS_PER_CODE:]) for (outcome, key), steps in ordered]


def _by_service(results: RunResults) -> list[tuple[str, list[StepRecord], dict[str, int]]]:
    members: dict[str, list[StepRecord]] = {}
    for s in results.steps:
        members.setdefault(service_of(s), []).append(s)
    out = []
    for key, name, _ref in SERVICES:
        steps = members.get(key)
        if steps:
            steps = sorted(steps, key=lambda s: _PROBLEM_ORDER.get(s.outcome, 2))
            out.append((name, steps, dict(Counter(s.outcome or "not run" for s in steps))))
    return out


def build_view(results: RunResults, profile: SiteProfile | None = None) -> ReportView:
    code = results.exit_code()
    verdict, text = VERDICT_TEXT[code]
    if code is ExitCode.COULD_NOT_TEST and results.nothing_tested:
        text = NOTHING_TESTED
    statement = statement_of(results)
    # A listen session (``conformance listen``) tests the device's SCU side: declared vs proposed.
    matrix = build_matrix(results, statement, role=str(results.options.get("role", "SCP")))
    families: dict[str, Counter] = {}
    for s in results.steps:
        families.setdefault(s.family, Counter())[s.outcome or "not run"] += 1
    identity = dict(results.statement.get("identity", {})) if results.statement else {}
    severity_counts = Counter(f.severity.value for _, f in results.findings())
    services = build_services_view(results)
    return ReportView(
        results=results, verdict=verdict, verdict_text=text, exit_code=int(code),
        identity=identity, counts=results.counts(), matrix=matrix, groups=_group(results),
        families=[(k, dict(v)) for k, v in families.items()],
        not_tested=[s for s in results.steps if s.outcome in ("error", "setup", "skipped", None)],
        failed=[s for s in results.steps if s.outcome == "fail"],
        highlights=_highlights(results, matrix),
        severity_counts={k: severity_counts.get(k, 0) for k in ("error", "warning", "info")},
        services=services,
        summary=build_summary(results, profile),
        evidence=_evidence(results),
        matrix_groups=grouped_rows(matrix, services.cells if matrix.role == "SCP" else None),
        by_service=_by_service(results),
        skipped_lines=skip_lines([s for s in results.steps if s.outcome == "skipped"]),
        test_data_prefix=test_data_prefix(results),
    )

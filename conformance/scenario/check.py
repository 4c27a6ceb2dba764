"""Check a scenario against a statement: a step that uses a SOP class or service the
statement does not declare (with the device as SCP) is an error, located to its line."""

from __future__ import annotations

from conformance.errors import Problem
from conformance.scenario import loadstep
from conformance.scenario.kinds import MODELS, WORKLIST, sop_class_uid, transfer_syntax_uid
from conformance.scenario.model import Scenario
from conformance.services import commitment as scs
from conformance.services import mpps as pps
from conformance.standard import uids
from conformance.statement.model import Role, Statement


def _needs(kind: str, spec: dict) -> list[tuple[str, str | None, str]]:
    """(SOP class UID, transfer syntax UID or None, key) pairs a step needs the device to provide."""
    model = spec.get("model", "StudyRoot")
    if kind == "echo":
        return [(uids.VERIFICATION, None, "echo")]
    if kind == "store" and spec.get("synthesize"):
        s = spec["synthesize"]
        ts = transfer_syntax_uid(s["transfer_syntax"]) if s.get("transfer_syntax") else None
        return [(sop_class_uid(s["sop_class"]), ts, "store.synthesize.sop_class")]
    if kind in ("find", "move", "get"):
        return [(MODELS[model][("find", "move", "get").index(kind)], None, f"{kind}.model")]
    if kind == "worklist":
        return [(WORKLIST, None, "worklist")]
    if kind in ("mpps_create", "mpps_set"):
        return [(pps.MPPS, None, kind)]
    if kind == "commitment":
        return [(scs.PUSH_MODEL, None, "commitment")]
    if kind == "load":  # no sop_classes: the load stores a declared Storage SOP class
        load = loadstep.load_of(spec)
        ts = load.transfer_syntaxes[0] if len(load.transfer_syntaxes) == 1 else None
        return [(sop, ts, "load.sop_classes") for sop in load.sop_classes]
    if kind == "associate":
        return [(sop_class_uid(c["sop_class"]), None, "associate.contexts") for c in spec.get("contexts", [])]
    return []


def check_against(scenario: Scenario, statement: Statement) -> list[Problem]:
    problems = []
    for i, step in enumerate(scenario.steps):
        for sop, ts, key in _needs(step.kind, dict(step.spec)):
            cap = statement.capability(sop, Role.SCP)
            where = f"steps[{i}].{key}"
            if not uids.looks_like_uid(sop):
                problems.append(Problem(f"{sop}: unknown SOP class", scenario.file, step.line, where))
            elif cap is None:
                problems.append(Problem(f"step {step.id!r} uses {uids.keyword_of(sop)}, which the statement "
                                        f"({statement.identity.title}) does not declare with the device as SCP",
                                        scenario.file, step.line, where))
            elif ts is not None and ts not in cap.transfer_syntaxes:
                problems.append(Problem(f"step {step.id!r} stores in {uids.keyword_of(ts)}, which the statement "
                                        f"does not declare for {uids.keyword_of(sop)}", scenario.file, step.line, where))
    return problems

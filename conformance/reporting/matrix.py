"""The compatibility matrix: SOP class x transfer syntax, declared vs observed.

Built from the statement recorded at run start and the observations the negotiation steps
recorded, so it can be rebuilt from results.jsonl alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from conformance.engine.results import RunResults
from conformance.errors import InputError
from conformance.standard import uids
from conformance.statement.loader import statement_from_document
from conformance.statement.model import Role, Statement
from conformance.statement.yamlsource import SourceDocument

#: Cell states, worst first.
MISSING = "missing"      # declared, rejected: the statement claims what the device does not do
EXTRA = "extra"          # accepted, not declared: the statement is incomplete
OK = "ok"                # declared and accepted
UNTESTED = "untested"    # declared, not probed in this run
NO = "no"                # neither declared nor accepted


@dataclass
class Matrix:
    role: str
    sop_classes: list[str] = field(default_factory=list)
    transfer_syntaxes: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], str] = field(default_factory=dict)

    def cell(self, sop: str, ts: str) -> str:
        return self.cells.get((sop, ts), "")

    def row_state(self, sop: str) -> str:
        states = {self.cell(sop, ts) for ts in self.transfer_syntaxes}
        return next((s for s in (MISSING, EXTRA, UNTESTED, OK) if s in states), NO)

    def counts(self) -> dict[str, int]:
        out = {MISSING: 0, EXTRA: 0, OK: 0, UNTESTED: 0}
        for state in self.cells.values():
            if state in out:
                out[state] += 1
        return out


def statement_of(results: RunResults) -> Statement | None:
    """Re-resolve the statement recorded in the results (None if it no longer loads)."""
    if not results.statement:
        return None
    try:
        return statement_from_document(SourceDocument(dict(results.statement), results.statement_file or "statement"))
    except InputError:
        return None


def build_matrix(results: RunResults, statement: Statement | None, role: str = "SCP") -> Matrix:
    declared: set[tuple[str, str]] = set()
    if statement is not None:
        for cap in statement.capabilities(Role(role)):
            if cap.sop_class != uids.VERIFICATION:
                declared.update((cap.sop_class, ts) for ts in cap.transfer_syntaxes)
    observed: dict[tuple[str, str], bool] = {}
    for step in results.steps:
        for obs in step.observations:
            if obs.get("role") != role or not obs.get("transfer_syntax") or obs["sop_class"] == uids.VERIFICATION:
                continue
            key = (obs["sop_class"], obs["transfer_syntax"])
            observed[key] = observed.get(key, False) or obs.get("result") == 0
    matrix = Matrix(role)
    for key in declared | set(observed):
        is_declared, accepted = key in declared, observed.get(key)
        if accepted is None:
            state = UNTESTED if is_declared else NO
        elif is_declared:
            state = OK if accepted else MISSING
        else:
            state = EXTRA if accepted else NO
        matrix.cells[key] = state
    shown = {k for k, s in matrix.cells.items() if s != NO}
    matrix.sop_classes = sorted({s for s, _ in shown}, key=lambda u: uids.name_of(u).lower())
    order = list(uids.probe_transfer_syntaxes().values())
    matrix.transfer_syntaxes = sorted({t for _, t in shown},
                                      key=lambda t: (order.index(t) if t in order else len(order), t))
    return matrix


def matrix_dict(matrix: Matrix) -> dict[str, Any]:
    """JSON form for results.json."""
    return {
        "role": matrix.role,
        "transfer_syntaxes": [{"uid": t, "keyword": uids.keyword_of(t)} for t in matrix.transfer_syntaxes],
        "rows": [{"sop_class": s, "keyword": uids.keyword_of(s),
                  "cells": {uids.keyword_of(t): matrix.cell(s, t) for t in matrix.transfer_syntaxes}}
                 for s in matrix.sop_classes],
    }


def label(uid: str, names: Mapping[str, str] | None = None) -> str:
    if names and uid in names:
        return names[uid]
    return uids.name_of(uid)

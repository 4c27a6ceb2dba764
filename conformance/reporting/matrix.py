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


#: PS3.2 Table A.1-1 headings (uids.service_group) -> the report's matrix groups, in order.
MATRIX_GROUPS = (("Transfer", "Storage"), ("Query/Retrieve", "Query/Retrieve"),
                 ("Workflow Management", "Workflow"), ("Verification", "Other"), ("Other", "Other"),
                 ("Print Management", "Other"))
_STORE_SYMBOL = {"failed": ("missing", "✗", "declared, accepted, but C-STORE failed"),
                 "changed": ("missing", "≠", "stored, came back changed")}


@dataclass
class MatrixRow:
    sop_class: str
    cells: list[tuple[str, str, str]]     # (css state, symbol, title)
    problem: bool


def grouped_rows(matrix: Matrix, store_cells: Mapping[tuple[str, str], Any] | None = None
                 ) -> list[tuple[str, list[MatrixRow], list[MatrixRow]]]:
    """The one matrix, grouped (Storage, Query/Retrieve, Workflow, Other): per group its
    problem rows (a rejected declared context, an undeclared accepted one, a failed or
    changed store) first, then the rows that are fully as declared.

    *store_cells* are the storage results by (SOP class, transfer syntax) (objects with
    ``state``, ``intact`` and ``sentence()``, see services_view.StoreCell): a failed store or
    data that came back changed marks the cell, so the storage outcome is in the same table.
    """
    symbols = {OK: "✓", MISSING: "✗", EXTRA: "+", UNTESTED: "?"}
    titles = {OK: "declared, accepted", MISSING: "declared, rejected", EXTRA: "accepted, not declared",
              UNTESTED: "declared, not tested", NO: "neither declared nor accepted", "": "neither declared nor accepted"}
    names = dict(MATRIX_GROUPS)
    groups: dict[str, tuple[list[MatrixRow], list[MatrixRow]]] = {}
    for sop in matrix.sop_classes:
        cells, problem = [], False
        for ts in matrix.transfer_syntaxes:
            state = matrix.cell(sop, ts)
            css, symbol, title = state, symbols.get(state, ""), titles.get(state, state)
            store = (store_cells or {}).get((sop, ts))
            if store is not None:
                kind = "failed" if store.state == "failed" else "changed" if store.intact is False else ""
                if kind:
                    css, symbol, title = _STORE_SYMBOL[kind]
                elif store.state == "stored":
                    title += ", stored" + {True: ", intact", False: "", None: ""}[store.intact]
            problem = problem or css == MISSING
            cells.append((css, symbol, title if css else ""))
        group = names.get(uids.service_group(sop), "Other")
        bad, good = groups.setdefault(group, ([], []))
        (bad if problem else good).append(MatrixRow(sop, cells, problem))
    for _bad, good in groups.values():      # undeclared but accepted (statement incomplete) next
        good.sort(key=lambda row: not any(css == EXTRA for css, _s, _t in row.cells))
    order = list(dict.fromkeys(names.values()))
    return [(g, *groups[g]) for g in order if g in groups]

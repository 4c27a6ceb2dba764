"""What the report shows about the DIMSE services, computed from the steps' observations.

One row per stored (SOP class, transfer syntax): declared, works (C-STORE status), data
intact (round trip); one row per query, retrieve, worklist, MPPS and commitment step. The
sentences read like "Store CT Image Storage in JPEG 2000 Image Compression (Lossless Only):
declared, works, data intact". Rebuilt from RunResults only, so a report of a killed run
shows the same kind of section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.engine.results import RunResults, StepRecord
from conformance.standard import uids

#: Step id prefix -> section title, in report order.
SECTIONS = (("query/", "Query (C-FIND)", "PS3.4 Annex C"),
            ("retrieve/", "Retrieve (C-MOVE, C-GET)", "PS3.4 C.4.2, C.4.3"),
            ("worklist/", "Modality worklist", "PS3.4 Annex K"),
            ("mpps/", "Modality performed procedure step", "PS3.4 Annex F"),
            ("commitment/", "Storage commitment", "PS3.4 Annex J"),
            ("storage/character-set/", "Character sets stored and retrieved", "PS3.5 6.1"))


@dataclass
class StoreCell:
    """One declared (SOP class, transfer syntax) of the storage matrix."""

    sop_class: str
    transfer_syntax: str
    state: str          # stored | failed | not-tested | error
    intact: bool | None = None   # None: not checked (no round trip, or lossy pixels only)
    detail: str = ""

    @property
    def symbol(self) -> str:
        if self.state == "stored":
            return {True: "✓", False: "≠", None: "✓?"}[self.intact]
        return {"failed": "✗", "not-tested": "–", "error": "!"}.get(self.state, "")

    @property
    def css(self) -> str:
        if self.state == "stored":
            return "ok" if self.intact is not False else "missing"
        return {"failed": "missing", "not-tested": "untested", "error": "extra"}[self.state]

    def sentence(self) -> str:
        name = f"Store {uids.name_of(self.sop_class)} in {uids.name_of(self.transfer_syntax)}"
        if self.state == "stored":
            tail = {True: "data intact", False: "data changed", None: "data not checked"}[self.intact]
            return f"{name}: declared, works, {tail}"
        return {"failed": f"{name}: declared, does NOT work",
                "not-tested": f"{name}: declared, not tested ({self.detail})",
                "error": f"{name}: declared, could not test ({self.detail})"}[self.state]


@dataclass
class ServicesView:
    cells: dict[tuple[str, str], StoreCell] = field(default_factory=dict)
    sop_classes: list[str] = field(default_factory=list)
    transfer_syntaxes: list[str] = field(default_factory=list)
    sections: list[tuple[str, str, list[StepRecord]]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.cells and not any(steps for _t, _r, steps in self.sections)

    def cell(self, sop: str, ts: str) -> StoreCell | None:
        return self.cells.get((sop, ts))

    def counts(self) -> dict[str, int]:
        out = {"stored": 0, "failed": 0, "not-tested": 0, "error": 0, "intact": 0, "changed": 0}
        for c in self.cells.values():
            out[c.state] += 1
            if c.intact is True:
                out["intact"] += 1
            elif c.intact is False:
                out["changed"] += 1
        return out


def build_services_view(results: RunResults) -> ServicesView:
    view = ServicesView()
    intact: dict[tuple[str, str], bool] = {}
    for step in results.steps:
        for trip in step.observations:
            if trip.get("kind") == "round-trip":
                key = (trip["sop_class"], trip["transfer_syntax"])
                intact[key] = intact.get(key, True) and bool(trip.get("intact"))
    for step in results.steps:
        if not step.id.startswith("storage/store/"):
            continue
        obs: Mapping[str, Any] | None = next(
            (o for o in step.observations if o.get("kind") == "store"), None)
        parts = step.id.split("/")
        sop = obs["sop_class"] if obs else uids.sop_class_keywords().get(parts[2], parts[2])
        ts = obs["transfer_syntax"] if obs else uids.transfer_syntax_keywords().get(parts[3], parts[3])
        if step.outcome == "skipped":
            cell = StoreCell(sop, ts, "not-tested", detail=step.message.removeprefix("not tested: "))
        elif step.outcome in ("error", "setup", None):
            cell = StoreCell(sop, ts, "error", detail=step.message or "not run")
        elif obs is not None and obs.get("works"):
            checked = intact.get((sop, ts))
            cell = StoreCell(sop, ts, "stored", intact=checked)
        else:
            cell = StoreCell(sop, ts, "failed", detail=step.findings[0].message if step.findings else "")
        view.cells[(sop, ts)] = cell
        if sop not in view.sop_classes:
            view.sop_classes.append(sop)
        if ts not in view.transfer_syntaxes:
            view.transfer_syntaxes.append(ts)
    for prefix, title, reference in SECTIONS:
        steps = [s for s in results.steps if s.id.startswith(prefix)]
        if steps:
            view.sections.append((title, reference, steps))
    trips = [s for s in results.steps if s.id.startswith("storage/round-trip/")]
    if trips:
        view.sections.insert(0, ("Data integrity (stored, then retrieved)", "PS3.4 B.4.1", trips))
    view.sentences = [c.sentence() for c in view.cells.values()]
    return view

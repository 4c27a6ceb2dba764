"""Storage (PS3.4 Annex B): ``storage/store/<SOP class>/<transfer syntax>``.

Synthesize an instance of each declared storage SOP class in each declared transfer
syntax, encode it, and C-STORE it; the status is judged per PS3.4 Table B.2-1. The store
steps are one batch: as few associations as PS3.8 allows (128 presentation contexts each).
What was stored is recorded in the run data (:mod:`conformance.services.data`) for the
round-trip, query and retrieve steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.engine.model import RunContext, Step, StepResult
from conformance.families.registry import planner
from conformance.families.session import result_of, unestablished
from conformance.findings import Finding, Severity
from conformance.negotiation.association import Establishment, ProposedContext
from conformance.negotiation.packing import pack
from conformance.services.data import run_data
from conformance.services.encoding import NoEncoder
from conformance.services.storage import encode_dataset, store_wire
from conformance.services.wire import open_association
from conformance.standard import uids
from conformance.statement.model import Role, Statement


def storage_classes(statement: Statement) -> dict[str, tuple[str, ...]]:
    """Declared storage SOP classes (device as SCP) -> their declared transfer syntaxes."""
    storage = set(uids.storage_sop_classes().values())
    return {c.sop_class: c.transfer_syntaxes for c in statement.capabilities(Role.SCP)
            if c.sop_class in storage}


@dataclass
class StorageBatch:
    """All ``storage/store/...`` steps: encode each instance, then C-STORE them over as few
    associations as PS3.8 allows (128 presentation contexts each)."""

    key: str = "services/storage"
    items: dict[str, tuple[str, str]] = field(default_factory=dict)

    def time_limit(self, ctx: RunContext, steps: Sequence[Step]) -> float:
        t = ctx.target.timeouts
        groups = math.ceil(len(steps) / 128) or 1
        return groups * (t.connect + t.acse) + t.dimse + 60.0 + 1.0 * len(steps)

    @staticmethod
    def _rejected(c: ProposedContext) -> StepResult:
        return StepResult([Finding(
            "storage.context-rejected", Severity.ERROR,
            f"{uids.name_of(c.sop_class)} in {uids.keyword_of(c.transfer_syntaxes[0])} is declared "
            "but the device rejected the presentation context: nothing could be stored.",
            reference="PS3.8 9.3.3.2; statement")],
            [{"kind": "store", "sop_class": c.sop_class, "transfer_syntax": c.transfer_syntaxes[0],
              "works": False, "status": None}])

    def run(self, ctx: RunContext, steps: Sequence[Step]) -> dict[str, StepResult]:
        data = run_data(ctx.shared)
        sb = ctx.statement.services.storage
        results: dict[str, StepResult] = {}
        ready: dict[ProposedContext, tuple[Step, Any]] = {}
        patient, name = data.storage_patient, f"HARNESS^STORAGE{data.token}"
        study = data.uid("storage-study")
        classes = sorted({self.items[s.id][0] for s in steps})
        for number, step in enumerate(steps, start=1):
            ctx.progress(number, len(steps), "encoding test instances")
            sop, ts = self.items[step.id]
            try:
                enc = data.instance(sop, ts, patient=patient, name=name, study=study,
                                    series=data.uid("storage-series", sop),
                                    number=classes.index(sop) + 1)
            except NoEncoder as exc:
                results[step.id] = StepResult.skipped(f"not tested: no encoder ({exc})")
                continue
            except ValueError as exc:
                results[step.id] = StepResult.skipped(f"not tested: cannot synthesize an instance ({exc})")
                continue
            ready[ProposedContext(sop, (ts,))] = (step, enc)
        pending = list(ready)
        reopen = 0
        while pending and reopen <= 20 + len(ready) // 64:
            group = pack(pending)[0]
            outcome, wire = open_association(ctx.target, group)
            if wire is None:
                failure = (unestablished(outcome, "associate for C-STORE", ctx.target)
                           if outcome.establishment is not Establishment.ACCEPTED else None)
                for c in group:
                    results[ready[c][0].id] = failure or self._rejected(c)
                pending = [c for c in pending if c not in group]
                if failure is not None and failure.device_unreachable:
                    for c in pending:
                        results[ready[c][0].id] = StepResult.error(
                            f"not tried: the device stopped answering ({outcome.describe()})",
                            unreachable=True)
                    pending = []
                continue
            accepted = {r.proposed: r for r in outcome.contexts}
            try:
                for n, c in enumerate(group, start=1):
                    step, enc = ready[c]
                    if not accepted[c].accepted:
                        results[step.id] = self._rejected(c)
                        pending.remove(c)
                        continue
                    ds = enc.dataset
                    ex = store_wire(wire, c, c.sop_class, str(ds.SOPInstanceUID), enc.transfer_syntax,
                                    encode_dataset(ds, enc.transfer_syntax), n,
                                    declares_coercion=bool(sb.coerced_attributes),
                                    declares_discard=sb.private_attributes == "discarded")
                    pending.remove(c)
                    ctx.progress(len(results) + 1, len(steps), "C-STORE")
                    for obs in ex.observations:
                        obs.update(encoder=enc.encoder, lossless=enc.lossless,
                                   works=obs.get("category") in ("success", "warning"))
                    if ex.observations and ex.observations[0]["works"]:
                        data.record(enc)
                    results[step.id] = result_of(ex)
                    ctx.step_done(step.id, results[step.id])     # recorded now: survives a kill
                    if not wire.is_established:
                        reopen += 1          # the rest goes on a new association
                        break
            finally:
                wire.release()
        for c in pending:
            results[ready[c][0].id] = StepResult.error("not sent: the device kept ending the "
                                                       "associations")
        return results


@planner("storage", order=10)
def plan(statement: Statement) -> list[Step]:
    """One ``storage/store/...`` step per declared storage SOP class and transfer syntax."""
    steps: list[Step] = []
    batch = StorageBatch()
    for sop, syntaxes in storage_classes(statement).items():
        for ts in syntaxes:
            sid = f"storage/store/{uids.keyword_of(sop)}/{uids.keyword_of(ts)}"
            batch.items[sid] = (sop, ts)
            steps.append(Step(sid, f"Store {uids.name_of(sop)} in {uids.name_of(ts)}",
                              "PS3.4 B.2.2, Table B.2-1", batch=batch))
    return steps

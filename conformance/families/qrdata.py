"""The small Q/R study the query, retrieve and commitment steps work on: three instances in
two series of one study, stored once per run (PS3.4 C.6 hierarchy)."""

from __future__ import annotations

from conformance.engine.model import RunContext
from conformance.families.storage import storage_classes
from conformance.findings import Severity
from conformance.negotiation.association import ProposedContext
from conformance.services.data import RunData, Stored, native_syntax, run_data
from conformance.services.storage import encode_dataset, store_wire
from conformance.services.wire import open_association
from conformance.standard import uids


def ensure_qr_study(ctx: RunContext) -> tuple[RunData, str]:
    """Store the small Q/R study once per run; ('' or why it could not)."""
    data = run_data(ctx.shared)
    if data.qr_ready is not None:
        return data, data.qr_problem
    classes = storage_classes(ctx.statement)
    preferred = [uids.sop_class_keywords()[k] for k in ("CTImageStorage", "MRImageStorage",
                                                        "SecondaryCaptureImageStorage")]
    order = [c for c in preferred if c in classes] + [c for c in classes if c not in preferred]
    chosen = [(c, str(native_syntax(classes[c]))) for c in order if native_syntax(classes[c])][:2]
    if not chosen:
        data.qr_ready, data.qr_problem = False, ("no storage SOP class is declared in a native "
                                                 "transfer syntax: the harness has no data to query")
        return data, data.qr_problem
    if len(chosen) == 1:
        chosen.append(chosen[0])
    plan = [(chosen[0], 1, "s1"), (chosen[0], 2, "s1"), (chosen[1], 3, "s2")]
    contexts = list(dict.fromkeys(ProposedContext(sop, (ts,)) for (sop, ts), _n, _s in plan))
    problem = ""
    outcome, wire = open_association(ctx.target, contexts)
    if wire is None:
        problem = "could not store the Q/R study: " + outcome.describe()
    else:
        try:
            for (sop, ts), number, series in plan:
                enc = data.instance(sop, ts, patient=data.qr_patient, name=data.qr_name,
                                    study=data.qr_study, series=data.uid("qr-series", series),
                                    number=number)
                ds = enc.dataset
                ex = store_wire(wire, ProposedContext(sop, (ts,)), sop, str(ds.SOPInstanceUID), ts,
                                encode_dataset(ds, ts), number)
                if ex.error or any(f.severity is Severity.ERROR for f in ex.findings):
                    problem = f"could not store the Q/R study: {ex.error or ex.findings[0].message}"
                    break
                data.record(enc)
        finally:
            wire.release()
    data.qr_ready, data.qr_problem = not problem, problem
    return data, problem


def qr_items(data: RunData) -> list[Stored]:
    """The Q/R study's instances, in SOP Instance UID order."""
    return sorted(data.select(patient_id=data.qr_patient), key=lambda s: s.sop_instance)

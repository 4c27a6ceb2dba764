"""Modality Performed Procedure Step SCP (PS3.4 Annex F): N-CREATE and N-SET from the device.

Checks against PS3.4 F.7.2, Table F.7.2-1 (shipped as data: ``data/mpps_attributes.json``):
N-CREATE carries every type 1 attribute with a value and every type 2 attribute, with
Performed Procedure Step Status IN PROGRESS (F.7.2.1); an N-SET does not change attributes
the table does not allow to be set, and sets a known instance; once the status is COMPLETED
or DISCONTINUED the final-state attributes are present (F.7.2.2.2: end date and time,
Performed Series Sequence with at least one item and its type 1 attributes). An N-SET after
the step ended is refused with 0110 (F.7.2.2.2), as a conformant SCP does; the device
trying it is reported.

Not covered: type 1C/2C and type 3 attributes, N-GET, the MPPS notification SOP classes.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from conformance.engine.model import StepResult
from conformance.findings import Finding, Severity
from conformance.listen.server import Association
from conformance.listen.store import safe_uid
from conformance.wire import dimse
from conformance.wire.dimse import Message

if TYPE_CHECKING:
    from conformance.listen.session import ListenSession


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    data = json.loads((Path(__file__).parent / "data" / "mpps_attributes.json").read_text(encoding="utf-8"))
    return data["attributes"]


_ABSENT = object()


def _lookup(ds: Dataset, path: str) -> list[Any]:
    """Values at *path* (``SEQ>Attr``), one per sequence item, :data:`_ABSENT` where the
    attribute is not there; [] when a parent sequence is absent or empty."""
    parts = path.split(">")
    holders = [ds]
    for part in parts[:-1]:
        nxt: list[Dataset] = []
        for h in holders:
            if part in h and h[part].value:
                nxt.extend(h[part].value)
        holders = nxt
    return [h[parts[-1]].value if parts[-1] in h else _ABSENT for h in holders]


def _missing(ds: Dataset, column: str, what: str, reference: str) -> list[Finding]:
    out: list[Finding] = []
    for path, req in table().items():
        kind = req.get(column)
        if kind not in ("1", "2"):
            continue
        values = _lookup(ds, path)
        if not values and ">" in path:
            continue                        # the parent is absent: reported on the parent
        for value in values or [_ABSENT]:
            if value is _ABSENT:
                out.append(Finding("listen.mpps-missing", Severity.ERROR,
                                   f"{what}: type {kind} attribute {path} is absent.", reference=reference,
                                   details={"attribute": path, "type": kind}))
            elif kind == "1" and (value is None or value == "" or (hasattr(value, "__len__") and not len(value))):
                out.append(Finding("listen.mpps-empty", Severity.ERROR,
                                   f"{what}: type 1 attribute {path} has no value.", reference=reference,
                                   details={"attribute": path}))
    return out


def create_findings(ds: Dataset, what: str) -> list[Finding]:
    out = _missing(ds, "create", what, "PS3.4 F.7.2.1, Table F.7.2-1")
    status = str(ds.get("PerformedProcedureStepStatus", ""))
    if status != "IN PROGRESS":
        out.append(Finding("listen.mpps-create-status", Severity.ERROR,
                           f"{what}: N-CREATE with Performed Procedure Step Status {status!r}; it shall be "
                           "IN PROGRESS.", reference="PS3.4 F.7.2.1", tag="(0040,0252)"))
    return out


def set_findings(modification: Dataset, merged: Dataset, what: str) -> list[Finding]:
    out: list[Finding] = []
    forbidden = [k for k, req in table().items() if req.get("set") == "not-allowed" and k in modification]
    if forbidden:
        out.append(Finding("listen.mpps-set-not-allowed", Severity.ERROR,
                           f"{what}: N-SET changes {', '.join(forbidden)}, which Table F.7.2-1 does not allow "
                           "to be set.", reference="PS3.4 F.7.2.2, Table F.7.2-1"))
    status = str(merged.get("PerformedProcedureStepStatus", ""))
    if status not in ("IN PROGRESS", "COMPLETED", "DISCONTINUED"):
        out.append(Finding("listen.mpps-status-value", Severity.ERROR,
                           f"{what}: Performed Procedure Step Status {status!r} is not an allowed value.",
                           reference="PS3.3 C.4.14; PS3.4 F.7.2.2", tag="(0040,0252)"))
    if status in ("COMPLETED", "DISCONTINUED"):
        out += _missing(merged, "final", f"{what} ({status})", "PS3.4 F.7.2.2.2, Table F.7.2-1")
        if status == "COMPLETED" and not (merged.get("PerformedSeriesSequence") and
                                          len(merged.PerformedSeriesSequence)):
            out.append(Finding("listen.mpps-no-series", Severity.ERROR,
                               f"{what}: COMPLETED without any item in the Performed Series Sequence.",
                               reference="PS3.4 F.7.2.2.2", tag="(0040,0340)"))
    return out


class MppsSCP:
    def __init__(self, session: ListenSession) -> None:
        self.session = session
        self.instances: dict[str, Dataset] = {}
        self.sets: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, assoc: Association, msg: Message) -> None:
        cmd = msg.command
        ts = assoc.transfer_syntax(msg.context_id)
        if cmd.field == dimse.N_CREATE_RQ:
            self._create(assoc, msg, ts)
        elif cmd.field == dimse.N_SET_RQ:
            self._set(assoc, msg, ts)
        else:
            assoc.respond(msg, cmd.field | 0x8000, 0x0211)

    def _decode(self, msg: Message, ts: str) -> Dataset | None:
        try:
            return dimse.decode_data_set(msg.data, ts) if msg.data else Dataset()
        except Exception:  # noqa: BLE001
            return None

    def _create(self, assoc: Association, msg: Message, ts: str) -> None:
        uid = msg.command.text(0x1000)
        what = f"MPPS N-CREATE {uid or '(no instance UID)'}"
        ds = self._decode(msg, ts)
        findings: list[Finding] = []
        if not uid:
            # PS3.4 F.7.2.1.1: the SCU may leave the instance UID to the SCP; not this harness' case
            findings.append(Finding("listen.mpps-no-instance-uid", Severity.INFO,
                                    f"{what}: no Affected SOP Instance UID; the harness made one.",
                                    reference="PS3.7 10.1.5.1.3"))
            from pydicom.uid import generate_uid
            uid = str(generate_uid())
        step_id = f"listen/mpps/{uid if safe_uid(uid) else 'invalid-uid'}/create"
        if ds is None:
            assoc.respond(msg, dimse.N_CREATE_RSP, 0x0106)
            self.session.report(step_id, what, "PS3.4 F.7.2.1", StepResult(findings=[Finding(
                "listen.identifier-undecodable", Severity.ERROR, f"{what}: the attribute list cannot be decoded.",
                reference="PS3.5 7")]))
            return
        findings += create_findings(ds, what)
        with self._lock:
            duplicate = uid in self.instances
            if not duplicate:
                self.instances[uid] = ds
        status = 0x0111 if duplicate else 0x0000
        if duplicate:
            findings.append(Finding("listen.mpps-duplicate", Severity.ERROR,
                                    f"{what}: N-CREATE of an instance that exists (answered 0111).",
                                    reference="PS3.7 C.5.6"))
        assoc.respond(msg, dimse.N_CREATE_RSP, status, {0x1000: uid})
        self.session.report(step_id, what, "PS3.4 F.7.2.1", StepResult(
            findings=findings, observations=[{"sop_instance": uid, "status": str(ds.get("PerformedProcedureStepStatus", "")),
                                              "attributes": len(ds), "association": assoc.number}],
            message=f"answered 0x{status:04X}"))

    def _set(self, assoc: Association, msg: Message, ts: str) -> None:
        uid = msg.command.text(0x1001)
        what = f"MPPS N-SET {uid}"
        with self._lock:
            self.sets[uid] = self.sets.get(uid, 0) + 1
            k = self.sets[uid]
            current = self.instances.get(uid)
        step_id = f"listen/mpps/{uid if safe_uid(uid) else 'invalid-uid'}/set-{k}"
        mod = self._decode(msg, ts)
        findings: list[Finding] = []
        if current is None or mod is None:
            status = 0x0112 if current is None else 0x0106
            findings.append(Finding("listen.mpps-unknown-instance" if current is None else "listen.identifier-undecodable",
                                    Severity.ERROR, f"{what}: " + ("no such MPPS instance was created (answered 0112)."
                                                                   if current is None else "cannot be decoded."),
                                    reference="PS3.4 F.7.2.2; PS3.7 C.5.7"))
            assoc.respond(msg, dimse.N_SET_RSP, status, {0x1000: uid})
            self.session.report(step_id, what, "PS3.4 F.7.2.2", StepResult(findings=findings))
            return
        before = str(current.get("PerformedProcedureStepStatus", ""))
        if before in ("COMPLETED", "DISCONTINUED"):
            assoc.respond(msg, dimse.N_SET_RSP, 0x0110, {0x1000: uid, 0x0902: "MPPS may no longer be updated"})
            self.session.report(step_id, what, "PS3.4 F.7.2.2.2", StepResult(findings=[Finding(
                "listen.mpps-set-after-end", Severity.ERROR,
                f"{what}: N-SET after the step was {before}; refused with 0110 as the SCP shall.",
                reference="PS3.4 F.7.2.2.2")], observations=[{"sop_instance": uid, "status_before": before}]))
            return
        merged = Dataset()
        merged.update(current)
        for elem in mod:
            merged[elem.tag] = elem
        findings += set_findings(mod, merged, what)
        with self._lock:
            self.instances[uid] = merged
        assoc.respond(msg, dimse.N_SET_RSP, 0x0000, {0x1000: uid})
        self.session.report(step_id, what, "PS3.4 F.7.2.2", StepResult(
            findings=findings, observations=[{"sop_instance": uid, "status_before": before,
                                              "status_after": str(merged.get("PerformedProcedureStepStatus", "")),
                                              "modified": sorted(e.keyword or str(e.tag) for e in mod)}],
            message=f"{before} -> {merged.get('PerformedProcedureStepStatus', '')}"))

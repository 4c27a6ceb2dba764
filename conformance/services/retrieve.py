"""Query/Retrieve C-MOVE and C-GET as SCU (PS3.4 C.4.2, C.4.3) and the checks on them.

- C-MOVE (C.4.2): the device opens a new association to the move destination and stores
  the matching instances there; Pending responses carry the numbers of remaining,
  completed, failed and warning sub-operations (C.4.2.1.6-9), the final response the
  totals. An unknown destination is refused with A801 (Table C.4-2).
- C-GET (C.4.3): the sub-operations are C-STOREs on the same association, which needs
  SCP/SCU Role Selection (PS3.7 D.3.3.4) for each storage SOP class.

The checks: final status Success (or B000 with failures counted), completed count equal to
what arrived, what arrived equal to what was asked for; sub-operation counts never grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Finding, Severity
from conformance.services.common import DimseMonitor, dataset_rows
from conformance.services.status import FAILURE, PENDING, SUCCESS, WARNING, StatusInfo, classify

_COUNTS = ("NumberOfRemainingSuboperations", "NumberOfCompletedSuboperations",
           "NumberOfFailedSuboperations", "NumberOfWarningSuboperations")


@dataclass
class RetrieveResult:
    """All responses of one C-MOVE or C-GET."""

    statuses: list[StatusInfo] = field(default_factory=list)
    counts: list[dict[str, int | None]] = field(default_factory=list)
    error: str | None = None
    #: The identifier sent (report evidence).
    identifier: Dataset | None = None

    @property
    def final(self) -> StatusInfo | None:
        return self.statuses[-1] if self.statuses else None

    @property
    def final_counts(self) -> dict[str, int | None]:
        return self.counts[-1] if self.counts else {}


def _collect(responses: Any, service: str, msg_id: int, monitor: DimseMonitor | None,
             assoc: Any, limit: int) -> RetrieveResult:
    result = RetrieveResult()
    for status, _ident in responses:
        if "Status" not in status:
            seen = monitor.answered(msg_id) if monitor else []
            if getattr(assoc, "is_aborted", False) or (monitor and monitor.aborted):
                result.error = (f"the association was aborted during the C-{service.upper()} "
                                f"after {len(result.statuses)} response(s)")
            elif seen and len(seen) > len(result.statuses):
                result.error = (f"harness hiccup: the harness lost a C-{service.upper()} "
                                f"response (0x{seen[-1]:04X}) the device sent")
            else:
                result.error = (f"no valid C-{service.upper()} response within the DIMSE "
                                "timeout (the device timed out, aborted or answered garbage)")
            break
        result.statuses.append(classify(int(status.Status), service))
        result.counts.append({k: (int(status[k].value) if k in status and status[k].value is not None
                                  else None) for k in _COUNTS})
        if len(result.statuses) >= limit:
            result.error = f"more than {limit} responses: stopped reading"
            break
    return result


def move(assoc: Any, model_uid: str, identifier: Dataset, destination: str, msg_id: int, *,
         monitor: DimseMonitor | None = None, limit: int = 100_000) -> RetrieveResult:
    """Send one C-MOVE to *destination*; collect every response (bounded)."""
    responses = assoc.send_c_move(identifier, destination, model_uid, msg_id=msg_id)
    result = _collect(responses, "move", msg_id, monitor, assoc, limit)
    result.identifier = identifier
    return result


def check(result: RetrieveResult, what: str, *, expected: set[str], arrived: list[Dataset],
          service: str) -> list[Finding]:
    """Final status, sub-operation counts vs what arrived, what arrived vs *expected*
    (SOP Instance UIDs)."""
    table = "PS3.4 Table C.4-2" if service == "move" else "PS3.4 Table C.4-3"
    out: list[Finding] = []
    final = result.final
    if final is None:
        return out
    if final.category == FAILURE or final.category == PENDING:
        out.append(Finding(f"retrieve.{service}-failed", Severity.ERROR,
                           f"{what}: C-{service.upper()} ended with {final.describe()}.",
                           reference=f"{final.reference}; statement", details={"status": final.code}))
    elif final.category == WARNING:
        out.append(Finding(f"retrieve.{service}-suboperations-failed", Severity.ERROR,
                           f"{what}: C-{service.upper()} ended with {final.describe()}: some "
                           "instances were not sent.", reference=final.reference,
                           details={"status": final.code, **result.final_counts}))
    got = {str(d.get("SOPInstanceUID", "")) for d in arrived}
    missing = sorted(expected - got)
    unexpected = sorted(got - expected)
    if missing:
        out.append(Finding(f"retrieve.{service}-instances-missing", Severity.ERROR,
                           f"{what}: {len(missing)} of {len(expected)} instance(s) asked for did "
                           "not arrive.", reference=f"PS3.4 C.4.{2 if service == 'move' else 3}.3.1",
                           details={"missing": missing[:10]}))
    if unexpected:
        out.append(Finding(f"retrieve.{service}-instances-unexpected", Severity.ERROR,
                           f"{what}: {len(unexpected)} instance(s) arrived that do not match the "
                           "request.", reference=f"PS3.4 C.4.{2 if service == 'move' else 3}.3.1",
                           details={"unexpected": unexpected[:10]}))
    completed = result.final_counts.get("NumberOfCompletedSuboperations")
    if final.category in (SUCCESS, WARNING) and completed is not None and completed != len(arrived):
        out.append(Finding(f"retrieve.{service}-count-mismatch", Severity.ERROR,
                           f"{what}: the final response says {completed} sub-operation(s) "
                           f"completed, {len(arrived)} instance(s) arrived.",
                           reference="PS3.4 C.4.2.1.7; " + table,
                           details={"completed": completed, "arrived": len(arrived)}))
    remaining: list[int] = [int(c["NumberOfRemainingSuboperations"] or 0)
                            for c, s in zip(result.counts, result.statuses)
                            if s.category == PENDING and c.get("NumberOfRemainingSuboperations") is not None]
    if any(b > a for a, b in zip(remaining, remaining[1:])):
        out.append(Finding(f"retrieve.{service}-count-grows", Severity.WARNING,
                           f"{what}: the number of remaining sub-operations grew between pending "
                           f"responses ({remaining[:6]}).", reference="PS3.4 C.4.2.1.6"))
    return out


def observation(result: RetrieveResult, what: str, arrived: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "retrieve", "what": what, "responses": len(result.statuses),
            "final": result.final.hex if result.final else None, "arrived": arrived,
            **{k: v for k, v in result.final_counts.items() if v is not None}, **extra,
            "sent": dataset_rows(result.identifier)}


def get_wire(wire: Any, context: Any, identifier: Dataset, msg_id: int, arrived: list[Dataset],
             *, limit: int = 100_000) -> RetrieveResult:
    """C-GET over a :mod:`conformance.services.wire` association: the sub-operations are
    answered Success and decoded into *arrived* (with ``file_meta.TransferSyntaxUID`` set
    to the syntax they came in)."""
    from io import BytesIO

    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID
    from pynetdicom.dsutils import decode

    from conformance.services.storage import encode_dataset
    from conformance.services.wire import WireError

    def on_store(ts: str, sop: str, inst: str, raw: bytes) -> int:
        syntax = UID(ts)
        try:
            ds = decode(BytesIO(raw), syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_deflated)
        except Exception:  # noqa: BLE001 - undecodable: refused, counted by the device
            return 0xC000
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = syntax
        ds.file_meta.MediaStorageSOPClassUID = UID(sop)
        ds.file_meta.MediaStorageSOPInstanceUID = UID(inst)
        arrived.append(ds)
        return 0x0000

    result = RetrieveResult(identifier=identifier)
    try:
        raw = encode_dataset(identifier, wire.transfer_syntax_of(wire.context_ids[context]))
        for status, counts in wire.send_c_get(context, raw, msg_id, on_store, limit=limit):
            result.statuses.append(classify(status, "get"))
            result.counts.append({k: counts.get(k) for k in _COUNTS})
    except WireError as exc:
        result.error = (f"the association was aborted during the C-GET after "
                        f"{len(result.statuses)} response(s) ({exc})" if wire.is_aborted
                        else f"C-GET: {exc}")
    return result

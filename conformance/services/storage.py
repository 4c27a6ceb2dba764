"""Storage Service Class as SCU: C-STORE one instance and judge the response (PS3.4 Annex B).

PS3.4 B.2.3 and Table B.2-1: Success 0x0000; warnings B000 (coercion of data elements),
B007 (data set does not match SOP class), B006 (elements discarded); failures A7xx (out of
resources), A9xx (data set does not match SOP class), Cxxx (cannot understand), and the
general statuses of PS3.7 Annex C.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Finding, Severity
from conformance.services.common import DimseMonitor, Exchange, no_response
from conformance.services.status import FAILURE, SUCCESS, WARNING, classify
from conformance.standard import uids

#: Storage warnings and what the statement may say to make them expected (services.storage).
_WARNING_CODES = {0xB000: "storage.coercion", 0xB006: "storage.elements-discarded",
                  0xB007: "storage.dataset-mismatch"}


def judge(code: int, sop: str, ts: str, sop_instance: str, *, error_comment: str = "",
          declares_coercion: bool = False, declares_discard: bool = False,
          what: str = "") -> Exchange:
    """The exchange for a C-STORE answered with status *code* (PS3.4 Table B.2-1)."""
    label = what or f"{uids.keyword_of(sop)} in {uids.keyword_of(ts)}"
    info = classify(code, "storage")
    obs: dict[str, Any] = {"kind": "store", "sop_class": sop, "transfer_syntax": ts,
                           "sop_instance": sop_instance, "status": info.hex,
                           "category": info.category}
    if error_comment:
        obs["error_comment"] = error_comment
    ex = Exchange(observations=[obs], message=f"C-STORE {label}: {info.describe()}")
    if info.category == SUCCESS:
        return ex
    if info.category == WARNING:
        code_name = _WARNING_CODES.get(info.code, "storage.warning-status")
        expected = (info.code == 0xB000 and declares_coercion) or (info.code == 0xB006 and declares_discard)
        ex.findings.append(Finding(
            code_name, Severity.INFO if expected else Severity.WARNING,
            f"C-STORE of {label} answered {info.describe()}"
            + (" as the statement declares." if expected else
               "; the instance was stored, but changed or judged not to match its SOP class."),
            reference=info.reference, details={"status": info.code, "sop_class": sop,
                                               "transfer_syntax": ts}))
        return ex
    category = "failure" if info.category == FAILURE else info.category
    ex.findings.append(Finding(
        "storage.store-failed", Severity.ERROR,
        f"C-STORE of {label} (declared) answered {info.describe()}: the device did not store it.",
        reference=f"{info.reference}; statement",
        details={"status": info.code, "category": category, "sop_class": sop,
                 "transfer_syntax": ts, "error_comment": error_comment or None}))
    return ex


def store(assoc: Any, dataset: Dataset, msg_id: int, *, monitor: DimseMonitor | None = None,
          declares_coercion: bool = False, declares_discard: bool = False,
          what: str = "") -> Exchange:
    """Send *dataset* with C-STORE on a :class:`conformance.wire.scu.WireSCU` association and
    judge the status.

    ``declares_coercion`` / ``declares_discard``: the statement says the device coerces
    attributes / discards elements, so B000 / B006 are expected (info, not warning).
    """
    sop, ts = str(dataset.SOPClassUID), str(dataset.file_meta.TransferSyntaxUID)
    status = assoc.send_c_store(dataset, msg_id=msg_id)
    if "Status" not in status:
        return no_response("C-STORE", monitor, msg_id, assoc)
    return judge(int(status.Status), sop, ts, str(dataset.SOPInstanceUID),
                 error_comment=str(status.get("ErrorComment", "") or ""),
                 declares_coercion=declares_coercion, declares_discard=declares_discard, what=what)


def encode_dataset(dataset: Dataset, transfer_syntax: str) -> bytes:
    """The data set bytes in *transfer_syntax* (PS3.5 A.1-A.5; encapsulated syntaxes are
    Explicit VR Little Endian around the already encapsulated Pixel Data)."""
    from pydicom.uid import UID
    from pynetdicom.dsutils import encode

    ts = UID(transfer_syntax)
    raw = encode(dataset, ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
    if raw is None:
        raise ValueError(f"pydicom could not encode the data set in {ts.name}")
    return raw


def store_wire(wire: Any, context: Any, sop: str, sop_instance: str, ts: str, raw: bytes,
               msg_id: int, **judge_options: Any) -> Exchange:
    """C-STORE of already encoded *raw* bytes over a :mod:`conformance.services.wire`
    association (one thread, no reactor race); judge the status."""
    from conformance.services.wire import WireError

    try:
        rsp = wire.send_c_store(context, sop, sop_instance, raw, msg_id)
    except WireError as exc:
        return Exchange(error=f"C-STORE of {uids.keyword_of(sop)} in {uids.keyword_of(ts)}: {exc}")
    if rsp.msg_id != msg_id or rsp.command_field != 0x8001:
        return Exchange(error=f"the answer to C-STORE message {msg_id} was command 0x{rsp.command_field:04X} "
                              f"for message {rsp.msg_id}")
    return judge(rsp.status, sop, ts, sop_instance, error_comment=rsp.error_comment, **judge_options)


def read_for_store(path: str) -> tuple[str, str, str, bytes]:
    """(SOP class, SOP instance, transfer syntax, data set bytes) of a DICOM file (PS3.10
    7.1: preamble, "DICM", File Meta Information group 0002 in Explicit VR Little Endian).

    The data set is sent as it is in the file: no decoding, no re-encoding."""
    import struct

    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[128:132] != b"DICM":
        raise ValueError(f"{path}: not a DICOM file (no DICM prefix, PS3.10 7.1)")
    pos, meta = 132, {}
    while pos + 8 <= len(raw):
        group, elem = struct.unpack_from("<HH", raw, pos)
        if group != 0x0002:
            break
        vr = raw[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT", b"UC", b"UR"):
            length = struct.unpack_from("<I", raw, pos + 8)[0]
            start = pos + 12
        else:
            length = struct.unpack_from("<H", raw, pos + 6)[0]
            start = pos + 8
        meta[elem] = raw[start:start + length].rstrip(b"\x00 ").decode("ascii", "replace")
        pos = start + length
    return meta[0x0002], meta[0x0003], meta[0x0010], raw[pos:]


def store_files(target: Any, paths: list[str], *, msg_start: int = 1) -> list[Exchange]:
    """The harness' storage path for files: one association (per 128 presentation
    contexts), each file's data set sent as read, each response judged (PS3.4 Table B.2-1)."""
    from conformance.negotiation.association import ProposedContext
    from conformance.services.wire import open_association

    items = [read_for_store(p) for p in paths]
    contexts = list(dict.fromkeys(ProposedContext(sop, (ts,)) for sop, _i, ts, _r in items))[:128]
    outcome, wire = open_association(target, contexts)
    if wire is None:
        return [Exchange(error=f"could not associate: {outcome.describe()}")] * len(items)
    out = []
    try:
        for n, (sop, inst, ts, raw) in enumerate(items, start=msg_start):
            out.append(store_wire(wire, ProposedContext(sop, (ts,)), sop, inst, ts, raw, n % 65535 or 1))
    finally:
        wire.release()
    return out

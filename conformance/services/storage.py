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


def store(assoc: Any, dataset: Dataset, msg_id: int, *, monitor: DimseMonitor | None = None,
          declares_coercion: bool = False, declares_discard: bool = False,
          what: str = "") -> Exchange:
    """Send *dataset* with C-STORE on *assoc* (already established) and judge the status.

    ``declares_coercion`` / ``declares_discard``: the statement says the device coerces
    attributes / discards elements, so B000 / B006 are expected (info, not warning).
    """
    sop, ts = str(dataset.SOPClassUID), str(dataset.file_meta.TransferSyntaxUID)
    label = what or f"{uids.keyword_of(sop)} in {uids.keyword_of(ts)}"
    status = assoc.send_c_store(dataset, msg_id=msg_id)
    if "Status" not in status:
        return no_response("C-STORE", monitor, msg_id, assoc)
    info = classify(int(status.Status), "storage")
    obs = {"kind": "store", "sop_class": sop, "transfer_syntax": ts,
           "sop_instance": str(dataset.SOPInstanceUID), "status": info.hex,
           "category": info.category}
    if "ErrorComment" in status:
        obs["error_comment"] = str(status.ErrorComment)
    ex = Exchange(observations=[obs], message=f"C-STORE {label}: {info.describe()}")
    if info.category == SUCCESS:
        return ex
    if info.category == WARNING:
        code = _WARNING_CODES.get(info.code, "storage.warning-status")
        expected = (info.code == 0xB000 and declares_coercion) or (info.code == 0xB006 and declares_discard)
        ex.findings.append(Finding(
            code, Severity.INFO if expected else Severity.WARNING,
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
                 "transfer_syntax": ts, "error_comment": obs.get("error_comment")}))
    return ex

"""The per-batch worker: validate files, return one JSON line each.

The worker runs in a local process or on a Dask worker.  Each file is validated by the one
per-file entry point, :func:`conformance.iod.validator.validate_file` (one pydicom parse, the
pinned index loaded once per process by its cache).  The results of a batch cross the process
(or network) boundary as one string of JSON lines: the cheapest thing to pickle, and what the
results file stores anyway, so the driver writes it without decoding.

A record (one line)::

    {"file": "/abs/path", "status": "dicom" | "not-dicom" | "unreadable" | "validator-error",
     "iod": "CT Image" | null, "errors": 2, "warnings": 0, "info": 5, "ms": 3.1,
     "findings": [{"code": ..., "severity": ..., "message": ..., ...}, ...],
     "info_codes": {"iod.condition-not-verifiable": 27}}

Findings of severity info (mostly conditions the data cannot show, dozens a file with long
messages) are kept in full only on request (``keep_info``); otherwise they are counted per code
in ``info_codes``, which keeps a record to a few hundred bytes instead of ~15 kB.

``not-dicom`` files (no DICM prefix, no plausible data set, PS3.10 7.1) and unreadable ones
are records like the others: counted, never fatal.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

#: Finding code of a file the validator could not read or parse (PS3.10 7).
UNREADABLE = "file.unreadable"
#: Finding code when the validator itself failed on a file (a bug to report, not a deviation).
VALIDATOR_ERROR = "internal.validator-error"


def _iod_from_meta(path: str) -> str | None:
    """The IOD named by the File Meta's Media Storage SOP Class UID (PS3.10 7.1).

    Only for files without any finding (the findings carry the IOD otherwise); reads group
    0002 only, never the data set.
    """
    from pydicom.filereader import read_file_meta_info

    from conformance.standard.iod_index import load_index
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = read_file_meta_info(path)
        uid = str(meta.get("MediaStorageSOPClassUID", "") or "")
    except Exception:  # noqa: BLE001 (a file pydicom cannot read has no IOD to name)
        return None
    iod = load_index().iod_for_sop_class(uid) if uid else None
    return iod.name if iod is not None else None


def _finding_dict(f: Any) -> dict[str, Any]:
    """A finding as :meth:`conformance.findings.Finding.to_dict` gives it, without the source
    (the record's ``file``); written out field by field because ``dataclasses.asdict`` (a deep
    copy) took 40% of a worker's time on files with many findings."""
    d: dict[str, Any] = {"code": f.code, "severity": f.severity.value, "message": f.message}
    for key in ("reference", "tag", "module", "iod"):
        value = getattr(f, key)
        if value not in (None, ""):
            d[key] = value
    if f.details:
        d["details"] = dict(f.details)
    return d


def validate_one(path: str, facts: Mapping[str, bool], private: tuple[Any, ...],
                 keep_info: bool = False) -> dict[str, Any]:
    """The record of one file (see the module docstring)."""
    from conformance.iod.validator import validate_file

    start = time.perf_counter()
    record: dict[str, Any] = {"file": path}
    try:
        found = validate_file(path, facts=facts, private_attributes=private)
    except Exception as exc:  # noqa: BLE001 (last line of defence: a record, no traceback)
        found = None
        record.update(status="validator-error", iod=None, errors=1, warnings=0, info=0,
                      findings=[{"code": VALIDATOR_ERROR, "severity": "error",
                                 "message": f"validator failed on this file: "
                                            f"{type(exc).__name__}: {exc}"}])
    else:
        if found is None:
            record.update(status="not-dicom", iod=None, errors=0, warnings=0, info=0,
                          findings=[])
        else:
            counts = {"error": 0, "warning": 0, "info": 0}
            items = []
            info_codes: dict[str, int] = {}
            iod = None
            unreadable = False
            for f in found:
                counts[f.severity.value] += 1
                iod = iod or f.iod
                unreadable = unreadable or f.code == UNREADABLE
                if f.severity.value == "info" and not keep_info:
                    info_codes[f.code] = info_codes.get(f.code, 0) + 1
                else:
                    items.append(_finding_dict(f))
            if iod is None and not unreadable:
                iod = _iod_from_meta(path)
            record.update(status="unreadable" if unreadable else "dicom", iod=iod,
                          errors=counts["error"], warnings=counts["warning"],
                          info=counts["info"], findings=items)
            if info_codes:
                record["info_codes"] = info_codes
    record["ms"] = round((time.perf_counter() - start) * 1000, 2)
    return record


def validate_batch(paths: Iterable[str], facts: Mapping[str, bool] | None = None,
                   private: tuple[Any, ...] = (), keep_info: bool = False) -> str:
    """Validate *paths*; the records as JSON lines (each ending in a newline)."""
    facts = dict(facts or {})
    # ASCII JSON: a file name that is not UTF-8 (surrogate escapes) stays representable.
    return "".join(json.dumps(validate_one(p, facts, private, keep_info), separators=(",", ":"))
                   + "\n" for p in paths)


def warm_up(freeze: bool = False) -> None:
    """Load what validation needs in this process: the validator's imports, the pinned index
    and the rule data files (:func:`conformance.iod.warm.warm_up`), so that the first file
    of each batch does not pay for them.  A worker's initializer (local processes, Dask
    workers); called in a parent before it forks, pass *freeze* so the children share it."""
    from conformance.iod.warm import warm_up as warm_iod
    warm_iod(freeze=freeze)


def local_worker_init() -> None:
    """Initializer of a local worker process: Ctrl-C is the driver's to handle (it stops
    cleanly and keeps the results); then :func:`warm_up` and the settings of a validation
    process (:func:`conformance.iod.warm.tune_worker`)."""
    import signal

    from conformance.iod.warm import tune_worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()
    tune_worker()

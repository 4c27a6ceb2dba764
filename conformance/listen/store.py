"""The harness' local store: what the device sent, as DICOM files (PS3.10) in one folder.

Safety: a file is named ``<SOP Instance UID>.dcm`` (``<SOP Instance UID>.<n>.dcm`` for the
n-th copy when the device sends the same UID again: every received instance is kept, an
earlier one is never overwritten) and nothing else, and only after the UID
has been checked to be a valid UID (PS3.5 9.1: digits and dots, no leading zeros, at most 64
characters). Nothing path-like from the received data ever reaches the file system: an
invalid UID is not stored (the C-STORE is answered with a failure, and a finding says so).
Data arrive in a temporary file in the same folder and are renamed once complete.

The query/retrieve and storage commitment SCPs read the store: the index keeps, per
instance, its SOP class, transfer syntax and path; the data set (without pixel data) is read
lazily the first time a query needs it.
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from conformance.standard.uids import is_valid_uid
from conformance.wire.identity import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION


def safe_uid(value: str) -> bool:
    """A SOP Instance UID the store may use as a file name: a valid UID of at most 64 chars."""
    return 0 < len(value) <= 64 and is_valid_uid(value)


def _el(elem: int, vr: bytes, value: bytes) -> bytes:
    if vr in (b"OB",):
        return struct.pack("<HH", 0x0002, elem) + vr + b"\x00\x00" + struct.pack("<I", len(value)) + value
    return struct.pack("<HH", 0x0002, elem) + vr + struct.pack("<H", len(value)) + value


def _pad(text: str, pad: bytes) -> bytes:
    raw = text.encode("ascii", "replace")
    return raw + pad if len(raw) % 2 else raw


def file_header(sop_class: str, sop_instance: str, transfer_syntax: str, source_ae: str) -> bytes:
    """Preamble, ``DICM`` and the File Meta Information (PS3.10 7.1), Explicit VR LE."""
    body = (_el(0x0001, b"OB", b"\x00\x01") + _el(0x0002, b"UI", _pad(sop_class, b"\x00"))
            + _el(0x0003, b"UI", _pad(sop_instance, b"\x00"))
            + _el(0x0010, b"UI", _pad(transfer_syntax, b"\x00"))
            + _el(0x0012, b"UI", _pad(IMPLEMENTATION_CLASS_UID, b"\x00"))
            + _el(0x0013, b"SH", _pad(IMPLEMENTATION_VERSION, b" ")))
    if source_ae:
        body += _el(0x0016, b"AE", _pad(source_ae[:16], b" "))
    return b"\x00" * 128 + b"DICM" + _el(0x0000, b"UL", struct.pack("<I", len(body))) + body


def describe(ds: Dataset | None, sop_class: str, sop_instance: str) -> dict[str, str]:
    """How a report names an instance: patient, study, series and SOP class, and its UID
    (values as received, cut to 64 characters; the report escapes them)."""
    from conformance.standard.uids import name_of

    def value(keyword: str) -> str:
        try:
            return str(ds.get(keyword, "") if ds is not None else "")[:64]
        except Exception:  # noqa: BLE001 - an undecodable value names nothing
            return ""

    return {"patient_id": value("PatientID"), "patient_name": value("PatientName"),
            "study_uid": value("StudyInstanceUID"), "series_uid": value("SeriesInstanceUID"),
            "sop_class_name": name_of(sop_class) if sop_class else "", "sop_instance": sop_instance[:80]}


def naming(who: dict[str, str]) -> str:
    """One line: "CT Image Storage of patient P1 (DOE^JOHN), study 1.2.3, series 1.2.3.4, UID 1.2.3.4.5"."""
    parts = [who.get("sop_class_name") or "instance"]
    if who.get("patient_id") or who.get("patient_name"):
        parts.append(f"of patient {who.get('patient_id') or '?'}"
                     + (f" ({who['patient_name']})" if who.get("patient_name") else ""))
    tail = [f"study {who['study_uid']}" if who.get("study_uid") else "",
            f"series {who['series_uid']}" if who.get("series_uid") else "",
            f"UID {who.get('sop_instance') or '(none)'}"]
    return " ".join(parts) + ", " + ", ".join(t for t in tail if t)


@dataclass
class StoredInstance:
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    path: Path
    calling_ae: str
    association: int
    size: int = 0
    _dataset: Dataset | None = field(default=None, repr=False)

    def dataset(self) -> Dataset:
        """The data set without pixel data (read once, for matching)."""
        if self._dataset is None:
            self._dataset = dcmread(self.path, stop_before_pixels=True, force=True)
        return self._dataset

    def full_dataset(self) -> Dataset:
        return dcmread(self.path, force=True)


class Store:
    """Received instances by SOP Instance UID, in ``folder``. Thread-safe."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._items: dict[str, StoredInstance] = {}
        self._temp = 0
        #: SOP Instance UID -> how many times it arrived (more than once: a retry).
        self.arrivals: dict[str, int] = {}
        #: SOP Instance UID -> how many copies were kept (each in its own file).
        self.copies: dict[str, int] = {}

    def temp_path(self) -> Path:
        with self._lock:
            self._temp += 1
            return self.folder / f".incoming-{os.getpid()}-{self._temp}.part"

    def commit(self, temp: Path, item: StoredInstance) -> StoredInstance:
        """Move a complete temporary file to its final name (the UID must be safe)."""
        if not safe_uid(item.sop_instance):
            raise ValueError(f"not a valid SOP Instance UID: {item.sop_instance!r}")
        with self._lock:
            copy = self.copies.get(item.sop_instance, 0) + 1
            self.copies[item.sop_instance] = copy
            final = self.folder / (f"{item.sop_instance}.dcm" if copy == 1 else f"{item.sop_instance}.{copy}.dcm")
            os.replace(temp, final)
            item.path = final
            self._items[item.sop_instance] = item      # queries and retrieves serve the latest copy
        return item

    def count_arrival(self, sop_instance: str) -> int:
        with self._lock:
            self.arrivals[sop_instance] = self.arrivals.get(sop_instance, 0) + 1
            return self.arrivals[sop_instance]

    def get(self, sop_instance: str) -> StoredInstance | None:
        with self._lock:
            return self._items.get(sop_instance)

    def all(self) -> list[StoredInstance]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def load_folder(self, folder: str | os.PathLike[str]) -> int:
        """Add the DICOM files of *folder* (e.g. priors to be retrieved) to the store."""
        added = 0
        for path in sorted(Path(folder).rglob("*")):
            if not path.is_file():
                continue
            try:
                ds = dcmread(path, stop_before_pixels=True)
                uid, sop = str(ds.SOPInstanceUID), str(ds.SOPClassUID)
                ts = str(ds.file_meta.TransferSyntaxUID)
            except Exception:  # noqa: BLE001 - not a DICOM file: skipped
                continue
            if not safe_uid(uid):
                continue
            item = StoredInstance(sop, uid, ts, path, "", 0, path.stat().st_size, ds)
            with self._lock:
                self._items[uid] = item
            added += 1
        return added

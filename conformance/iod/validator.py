"""Validate a DICOM instance against its IOD: one pass, every finding (PS3.3, PS3.5, PS3.10).

Public API: :func:`validate` (a pydicom data set) and :func:`validate_file` (a path; corrupt,
truncated and non-DICOM files become findings).  Checks, in order:

1. file level (PS3.10 7.1): preamble, File Meta Information, Media Storage SOP Class/Instance
   UID against the data set, transfer syntax known, encapsulation matching the syntax;
2. SOP Class UID -> IOD (PS3.4 B.5 / PS3.3 A); an unknown SOP class is a finding and the
   element checks still run;
3. modules and attributes, see :mod:`conformance.iod.modules`;
4. every element: VR, VM, odd lengths, character sets, private creators, see
   :mod:`conformance.iod.elements`;
5. pixel data (PS3.3 C.7.6.3): length against Rows x Columns x Samples x Bits Allocated x
   Number of Frames for native syntaxes, Photometric Interpretation against Samples per
   Pixel.  Pixel Data is never loaded: its length comes from the element header.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.uid import UID

from conformance.findings import Finding, Severity
from conformance.iod import identity, specialisations, sr_relationships, sr_templates
from conformance.iod.elements import ElementChecker, tag_str, values_of
from conformance.iod.modules import ModuleChecker
from conformance.iod.sr_content import SR_CONTENT_MODULES
from conformance.iod.reading import PixelHeader, read_for_validation, recursion_limit
from conformance.standard.iod_index import StandardIndex, load_index

#: Media Storage Directory Storage (PS3.4 Annex I, PS3.10 8.6): the DICOMDIR's SOP class.
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
#: Samples per Pixel each Photometric Interpretation requires (PS3.3 C.7.6.3.1.2).
PHOTOMETRIC_SAMPLES = {"MONOCHROME1": 1, "MONOCHROME2": 1, "PALETTE COLOR": 1, "RGB": 3,
                       "YBR_FULL": 3, "YBR_FULL_422": 3, "YBR_PARTIAL_422": 3,
                       "YBR_PARTIAL_420": 3, "YBR_ICT": 3, "YBR_RCT": 3, "HSV": 3, "ARGB": 4,
                       "CMYK": 4}


class _Collector:
    def __init__(self, source: str | None) -> None:
        self.findings: list[Finding] = []
        self.source = source
        self.iod: str | None = None

    def add(self, code: str, severity: Severity, message: str, reference: str = "",
            tag: str | None = None, module: str | None = None, iod: str | None = None,
            details: Mapping[str, Any] | None = None) -> None:
        self.findings.append(make_finding(code, severity, message, reference, tag, module,
                                          iod or self.iod, self.source, dict(details or {})))


def make_finding(code: str, severity: Severity, message: str, reference: str,
                 tag: str | None, module: str | None, iod: str | None, source: str | None,
                 details: Mapping[str, Any]) -> Finding:
    """The same value ``Finding(...)`` builds, without the frozen dataclass's nine
    ``object.__setattr__`` calls (4x faster): a file has dozens of findings."""
    if not _FAST_FINDING:
        return Finding(code, severity, message, reference=reference, tag=tag, module=module,
                       iod=iod, source=source, details=details)
    f = _new(Finding)
    f.__dict__.update(code=code, severity=severity, message=message, reference=reference,
                      tag=tag, module=module, iod=iod, source=source, details=details)
    return f


_new = object.__new__
#: Finding is a plain frozen dataclass of exactly these fields (no __post_init__, no slots):
#: only then may :meth:`_Collector.add` fill its __dict__ directly.
_FAST_FINDING = (not hasattr(Finding, "__post_init__") and not hasattr(Finding, "__slots__")
                 and tuple(f.name for f in dataclasses.fields(Finding)) ==
                 ("code", "severity", "message", "reference", "tag", "module", "iod",
                  "source", "details"))


def _is_raw(ds: Dataset) -> bool:
    """Read from bytes (raw elements), as opposed to built in memory."""
    return any(isinstance(e, RawDataElement) for e in ds._dict.values())


def _encode(ds: Dataset) -> Dataset:
    """Round-trip an in-memory data set through its encoding so checks see the bytes."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import read_dataset
    from pydicom.filewriter import write_dataset
    from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    ts = UID(str(meta.get("TransferSyntaxUID", ""))) if meta is not None else None
    implicit = ts == ImplicitVRLittleEndian
    little = ts != ExplicitVRBigEndian
    buf = DicomBytesIO()
    buf.is_little_endian = little
    buf.is_implicit_VR = implicit
    write_dataset(buf, ds)
    buf.seek(0)
    out = read_dataset(buf, implicit, little)  # type: ignore[arg-type]
    if meta is not None:
        out.file_meta = meta
    return out


def validate(dataset: Dataset, *, facts: Mapping[str, bool] | None = None,
             source: str | None = None, index: StandardIndex | None = None,
             private_attributes: Iterable[Any] = (),
             _pixel: PixelHeader | None = None, _has_preamble: bool | None = None
             ) -> list[Finding]:
    """Every finding about *dataset*, in one pass.

    Parameters
    ----------
    dataset
        A pydicom data set, as read (raw elements, fastest) or built in memory (it is encoded
        once, so the checks see what would be sent).
    facts
        Settles conditions the data cannot show: ``{condition text or location key: bool}``
        (the key is in ``details["fact"]`` of each ``iod.condition-not-verifiable`` finding).
    source
        Recorded in each finding (a file path, a peer).
    private_attributes
        Private attributes a conformance statement declares (``PrivateAttribute``: creator,
        group, element within the block, VR, VM); present ones are checked against them.
    """
    out = _Collector(source)
    index = index or load_index()
    if not _is_raw(dataset):
        try:
            dataset = _encode(dataset)
        except Exception as exc:
            out.add("dataset.unencodable", Severity.ERROR,
                    f"the data set cannot be encoded: {exc}", "PS3.5 7")
            return out.findings
    if _pixel is not None and _pixel.tag not in dataset._dict:
        # Stand-in for the element the reader did not load: presence and length only.
        implicit, little = dataset.original_encoding
        tag = BaseTag(_pixel.tag)
        dataset._dict[tag] = RawDataElement(
            tag, _pixel.vr, 0xFFFFFFFF if _pixel.length is None else _pixel.length,
            None, 0, bool(implicit), little is not False)
    if _pixel is None:
        pix = dataset._dict.get(0x7FE00010)  # type: ignore[call-overload]
        if isinstance(pix, RawDataElement):
            _pixel = PixelHeader(0x7FE00010, pix.VR, None if pix.length == 0xFFFFFFFF
                                 else pix.length)
        elif pix is not None and isinstance(pix.value, bytes):
            # In memory, encapsulated data is bytes starting with an Item tag (PS3.5 A.4).
            encapsulated = pix.value[:4] == b"\xfe\xff\x00\xe0"
            _pixel = PixelHeader(0x7FE00010, pix.VR,
                                 None if encapsulated else len(pix.value))

    sop_vals = values_of(dataset, 0x00080016)
    sop_class = sop_vals[0] if sop_vals else None
    iod = None
    meta = getattr(dataset, "file_meta", None)
    media_class = values_of(meta, 0x00020002) if meta is not None else None
    if sop_class is None and media_class and media_class[0] == MEDIA_STORAGE_DIRECTORY:
        # A DICOMDIR has no SOP Common module: its class is in the File Meta Information
        # only (PS3.10 7.2, 8.6; PS3.3 F.3 Basic Directory IOD).
        sop_class = media_class[0]
        iod = index.iod_for_sop_class(sop_class)
        if iod is not None:
            out.iod = iod.name
    elif sop_class is None:
        out.add("iod.no-sop-class", Severity.ERROR, "SOP Class UID (0008,0016) is missing",
                "PS3.3 C.12.1", tag_str(0x00080016))
    else:
        iod = index.iod_for_sop_class(sop_class)
        if iod is None:
            # UID.name: the dictionary name or the UID itself, as conformance.standard.uids'
            # name_of, without importing pynetdicom into each worker that meets one.
            out.add("iod.unknown-sop-class", Severity.ERROR,
                    f"SOP Class UID {sop_class} ({UID(sop_class).name}) has no IOD in the "
                    f"index (edition {index.edition}); IOD checks skipped",
                    "PS3.4 B.5", tag_str(0x00080016))
        else:
            out.iod = iod.name

    _file_checks(out, dataset, _pixel, _has_preamble)
    if iod is not None:
        try:
            ModuleChecker(out.add, dataset, facts).check_iod(iod)
            specialisations.check(out.add, dataset, iod)
            if any(u.module.key in SR_CONTENT_MODULES for u in iod.modules):
                sr_templates.check(out.add, dataset, sop_class)
                sr_relationships.check(out.add, dataset, sop_class)
        except Exception as exc:  # a malformed value must not hide the other findings
            out.add("iod.check-aborted", Severity.ERROR,
                    f"module checks stopped on malformed content: {exc}", "PS3.5 7")
    implicit, little = getattr(dataset, "original_encoding", (False, True))
    elements = ElementChecker(out.add, bool(implicit), little is not False, private_attributes)
    try:
        elements.start(dataset)
        elements.walk(dataset)
        identity.file_meta_values(out.add, getattr(dataset, "file_meta", None))
    except Exception as exc:
        out.add("file.unreadable", Severity.ERROR,
                f"element checks stopped on malformed content: {exc}", "PS3.5 7")
    _pixel_checks(out, dataset, _pixel)
    return out.findings


def _file_checks(out: _Collector, ds: Dataset, pixel: PixelHeader | None,
                 has_preamble: bool | None) -> None:
    meta = getattr(ds, "file_meta", None)
    from_file = has_preamble is not None
    if has_preamble is None:
        has_preamble = meta is not None and len(meta) > 0
    if not has_preamble:
        return
    if meta is None or not len(meta):
        out.add("meta.missing", Severity.ERROR, "File Meta Information is missing",
                "PS3.10 7.1")
        return
    for tag in (0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012):
        if tag == 0x00020000 and not from_file:
            continue  # the group length of an in-memory data set is computed when written
        if not values_of(meta, tag):
            out.add("meta.type1-missing", Severity.ERROR,
                    f"File Meta Information element {tag_str(tag)} is missing or empty",
                    "PS3.10 7.1 (Table 7.1-1)", tag_str(tag))
    for mtag, dtag, what in ((0x00020002, 0x00080016, "SOP Class"),
                             (0x00020003, 0x00080018, "SOP Instance")):
        mv, dv = values_of(meta, mtag), values_of(ds, dtag)
        if mv and dv and mv[0] != dv[0]:
            out.add(f"meta.{what.split()[-1].lower()}-{'class' if 'Class' in what else 'instance'}"
                    "-mismatch" if False else
                    ("meta.sop-class-mismatch" if "Class" in what else
                     "meta.sop-instance-mismatch"),
                    Severity.ERROR,
                    f"Media Storage {what} UID {mv[0]} differs from the data set's {dv[0]}",
                    "PS3.10 7.1", tag_str(mtag))
    ts_vals = values_of(meta, 0x00020010)
    if ts_vals:
        ts = UID(ts_vals[0])
        if not ts.is_transfer_syntax:
            out.add("meta.unknown-transfer-syntax", Severity.ERROR,
                    f"Transfer Syntax UID {ts} is not a known transfer syntax",
                    "PS3.5 10 / PS3.6 Annex A", tag_str(0x00020010))
        elif pixel is not None and pixel.tag == 0x7FE00010:
            if ts.is_encapsulated and pixel.length is not None:
                out.add("pixel.not-encapsulated", Severity.ERROR,
                        f"transfer syntax {ts.name} is encapsulated but Pixel Data has a "
                        "defined length", "PS3.5 A.4", tag_str(0x7FE00010))
            elif not ts.is_encapsulated and pixel.length is None:
                out.add("pixel.unexpected-encapsulation", Severity.ERROR,
                        f"transfer syntax {ts.name} is native but Pixel Data is encapsulated",
                        "PS3.5 A.4", tag_str(0x7FE00010))


def _int(ds: Dataset, tag: int, default: int | None = None) -> int | None:
    vals = values_of(ds, tag)
    try:
        return int(float(vals[0])) if vals else default
    except ValueError:
        return default


def _pixel_checks(out: _Collector, ds: Dataset, pixel: PixelHeader | None) -> None:
    if pixel is not None:
        for code, msg in pixel.problems:
            out.add(code, Severity.ERROR, msg, "PS3.5 A.4", tag_str(pixel.tag))
    pi_vals = values_of(ds, 0x00280004)
    photometric = pi_vals[0] if pi_vals else None
    spp = _int(ds, 0x00280002)
    if photometric in PHOTOMETRIC_SAMPLES and spp is not None \
            and PHOTOMETRIC_SAMPLES[photometric] != spp:
        out.add("pixel.photometric-samples", Severity.ERROR,
                f"Photometric Interpretation {photometric} needs Samples per Pixel "
                f"{PHOTOMETRIC_SAMPLES[photometric]}, found {spp}", "PS3.3 C.7.6.3.1.2",
                tag_str(0x00280002))
    if pixel is None or pixel.tag != 0x7FE00010 or pixel.length is None:
        return
    rows, cols = _int(ds, 0x00280010), _int(ds, 0x00280011)
    bits = _int(ds, 0x00280100)
    frames = _int(ds, 0x00280008, 1) or 1
    if None in (rows, cols, bits, spp):
        return
    total_bits = rows * cols * frames * spp * bits  # type: ignore[operator]
    expected = (total_bits + 7) // 8
    padded = expected + (expected & 1)
    if pixel.length < expected:
        out.add("pixel.length-short", Severity.ERROR,
                f"Pixel Data has {pixel.length} bytes; Rows x Columns x Frames x Samples x "
                f"Bits Allocated needs {expected}", "PS3.5 8.1.1 / PS3.3 C.7.6.3",
                tag_str(0x7FE00010), details={"expected": expected, "found": pixel.length})
    elif pixel.length > padded:
        out.add("pixel.length-long", Severity.ERROR,
                f"Pixel Data has {pixel.length} bytes, more than the {padded} needed",
                "PS3.5 8.1.1 / PS3.3 C.7.6.3", tag_str(0x7FE00010),
                details={"expected": expected, "found": pixel.length})


#: Default per-file time limit, seconds (``validate_file(time_limit=...)``).
TIME_LIMIT = 60.0


class _TimeLimit(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _TimeLimit


#: The SIGALRM handler of the time limit stays installed in this process (a validation
#: worker, :func:`keep_alarm_handler`) instead of being installed and restored per file.
_ALARM_KEPT = False
#: Python's warnings are ignored for the life of this process (see :func:`ignore_warnings`).
_WARNINGS_IGNORED = False


def keep_alarm_handler() -> None:
    """Install the time limit's SIGALRM handler for the life of this process (a process
    that only validates files; from its main thread, else nothing is done): each file
    then only arms and disarms the timer."""
    global _ALARM_KEPT
    import signal
    import threading
    if hasattr(signal, "setitimer") and \
            threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGALRM, _alarm)
        _ALARM_KEPT = True


def ignore_warnings() -> None:
    """Ignore Python's warnings for the life of this process (a process that only validates
    files): pydicom warns about what it reads, and here every problem is a finding instead.
    Each file then skips saving and restoring the warning filters (``catch_warnings``, which
    also makes every later warning search the filters afresh)."""
    global _WARNINGS_IGNORED
    warnings.simplefilter("ignore")
    _WARNINGS_IGNORED = True


def validate_file(path: str | os.PathLike[str], *, facts: Mapping[str, bool] | None = None,
                  index: StandardIndex | None = None, private_attributes: Iterable[Any] = (),
                  time_limit: float | None = TIME_LIMIT) -> list[Finding] | None:
    """Validate the file at *path*; ``None`` when it is not a DICOM file at all.

    *time_limit* (seconds) bounds the work on one file: when it is hit the file gets a
    ``file.time-limit`` error instead of hanging its worker.  It needs POSIX interval timers
    and the main thread (a worker process); elsewhere no limit is applied.
    """
    import signal
    import threading
    timed = bool(time_limit) and hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread()
    own = timed and not _ALARM_KEPT
    previous = signal.signal(signal.SIGALRM, _alarm) if own else None
    try:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, float(time_limit))  # type: ignore[arg-type]
        if _WARNINGS_IGNORED:
            return _validate_file(path, facts, index, tuple(private_attributes))
        with warnings.catch_warnings():
            # pydicom warns about what it reads; here every problem is a finding instead.
            warnings.simplefilter("ignore")
            return _validate_file(path, facts, index, tuple(private_attributes))
    except _TimeLimit:
        return [Finding("file.time-limit", Severity.ERROR,
                        f"validation stopped after the per-file time limit of {time_limit} s; "
                        "the file was not fully checked", reference="PS3.10 7",
                        source=str(path))]
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if own:
            signal.signal(signal.SIGALRM, previous)


def _validate_file(path: str | os.PathLike[str], facts: Mapping[str, bool] | None,
                   index: StandardIndex | None, private_attributes: tuple[Any, ...]
                   ) -> list[Finding] | None:
    source = str(path)
    try:
        result = read_for_validation(path)
    except OSError as exc:
        return [Finding("file.unreadable", Severity.ERROR, f"cannot read file: {exc}",
                        reference="PS3.10 7", source=source)]
    if result.not_dicom:
        return None
    findings = list(result.findings)
    if result.dataset is None:
        return findings
    limit = sys.getrecursionlimit()
    try:
        # Sequence values are parsed on first access and walked per level: legal deep nests
        # (PS3.5 7.5 sets no limit) need the depth the byte scan measured.
        sys.setrecursionlimit(max(limit, recursion_limit(result.depth)))
        findings += validate(result.dataset, facts=facts, source=source, index=index,
                             private_attributes=private_attributes,
                             _pixel=result.pixel, _has_preamble=result.has_preamble)
    finally:
        sys.setrecursionlimit(limit)
    return findings

"""What ``listen`` does with a received file off the network thread: in a worker process, IOD
validation with the instance's names read from the same data set (one read per file); for
instances not validated, a partial header read that names them (patient, study, series).
"""

from __future__ import annotations

import signal
import struct
from collections import Counter
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.filereader import read_partial

from conformance.findings import Finding, Severity
from conformance.listen.store import describe


def validate_worker(path: str, sop_class: str, sop_instance: str, private: tuple
                    ) -> tuple[list[Finding], dict[str, int], dict[str, str]]:
    """In a worker process: IOD validation of one received file, and its UIDs against the
    C-STORE command that brought it (PS3.7 9.3.1.1: the Affected SOP Class/Instance UIDs
    are those of the data set).

    Returns the error and warning findings, the info findings counted by code (e.g.
    ``iod.condition-not-verifiable``: context, not deviations; dozens per instance would
    swamp a session's record; ``conformance validate FILE`` lists them one by one), and the
    instance's names (patient, study, series: :func:`~conformance.listen.store.describe`) from
    the data set read here, so the session never reads the header a second time."""
    import warnings

    from conformance.iod.reading import read_for_validation
    from conformance.iod.validator import validate

    # The steps of conformance.iod.validate_file, keeping the data set it reads so that the
    # UIDs are checked without reading the file twice.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = read_for_validation(path)
        except OSError as exc:
            return [Finding("listen.unreadable-instance", Severity.ERROR, f"cannot read the stored file: {exc}",
                            reference="PS3.10 7")], {}, describe(None, sop_class, sop_instance)
        findings = list(result.findings)
        ds = result.dataset
        if ds is not None:
            findings += validate(ds, source=path, private_attributes=private, _pixel=result.pixel,
                                 _has_preamble=result.has_preamble)
    for tag, keyword, commanded in ((0x00080016, "SOPClassUID", sop_class),
                                    (0x00080018, "SOPInstanceUID", sop_instance)):
        have = str(ds.get(keyword, "")).rstrip("\x00 ") if ds is not None else ""
        if have != commanded:
            findings.append(Finding(
                "listen.store-uid-mismatch", Severity.ERROR,
                f"The data set's {keyword} {have!r} is not the C-STORE-RQ's Affected value {commanded!r}.",
                reference="PS3.7 9.3.1.1; PS3.4 B.2.3", tag=f"({tag >> 16:04X},{tag & 0xFFFF:04X})"))
    info = Counter(f.code for f in findings if f.severity is Severity.INFO)
    return ([f for f in findings if f.severity is not Severity.INFO], dict(info),
            describe(ds, sop_class, sop_instance))


def validate_batch(items: list[tuple[str, str, str]], private: tuple
                    ) -> list[tuple[list[Finding], dict[str, int], dict[str, str]]]:
    return [validate_worker(path, sop, uid, private) for path, sop, uid in items]


def worker_init() -> None:
    """Workers leave Ctrl-C to the session, which stops them after writing the reports."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def warm() -> int:
    from conformance.iod.validator import validate  # noqa: F401 - import cost paid before traffic
    return 0


#: What names an instance in the report (patient, study, series): all below group 0x0021.
_NAMING_TAGS = [0x00080005, 0x00100020, 0x00100010, 0x0020000D, 0x0020000E]


def _past_naming(tag: int, vr: str | None, length: int) -> bool:
    return tag > 0x0020000E


def naming_header(path: Path) -> Dataset:
    """The few attributes that name an instance that is not validated (the validation worker
    names the others from its own read), read on the arrivals thread: the
    read stops after Series Instance UID (0020,000E), so its cost does not grow with the
    data set (a full header parse here cost the acceptor about a quarter of its rate)."""
    with open(path, "rb") as fp:
        return read_partial(fp, stop_when=_past_naming, force=True, specific_tags=_NAMING_TAGS)


#: Explicit VR with a 4-byte length after two reserved bytes (PS3.5 7.1.2, Table 7.1-1).
_LONG_VRS = frozenset((b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"))
#: Specific Character Set values whose bytes this quick read decodes (PS3.3 C.12.1.1.2).
_CHARSETS = {"": "ascii", "ISO_IR 6": "ascii", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8"}
_TS_EXPLICIT_LE, _TS_IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
_KEYWORDS = {0x00100020: "patient_id", 0x00100010: "patient_name", 0x0020000D: "study_uid",
             0x0020000E: "series_uid"}


def quick_names(path: Path, transfer_syntax: str, sop_class_name: str, sop_instance: str,
                head: int = 65536) -> dict[str, str] | None:
    """The names of :func:`~conformance.listen.store.describe` read straight from the bytes of
    a file the harness wrote itself (preamble, File Meta Information, then the data set in
    *transfer_syntax*), about ten times cheaper than :func:`naming_header`. ``None`` when this
    simple read cannot be sure (another transfer syntax, an element of undefined length before
    Series Instance UID, a character set other than ASCII, Latin-1 or UTF-8, a short file):
    the caller then uses :func:`naming_header`. Element encoding: PS3.5 7.1.2-7.1.3."""
    if transfer_syntax not in (_TS_EXPLICIT_LE, _TS_IMPLICIT_LE):
        return None
    with open(path, "rb") as fp:
        buf = fp.read(head)
    if len(buf) < 144 or buf[128:132] != b"DICM" or buf[132:136] != b"\x02\x00\x00\x00":
        return None
    pos = 144 + struct.unpack_from("<I", buf, 140)[0]           # past (0002,0000)'s group
    explicit = transfer_syntax == _TS_EXPLICIT_LE
    found: dict[int, bytes] = {}
    while True:
        if pos + 8 > len(buf):
            return None                                          # not reached within *head*
        group, element = struct.unpack_from("<HH", buf, pos)
        tag = group << 16 | element
        if tag > 0x0020000E:
            break
        if explicit:
            if buf[pos + 4:pos + 6] in _LONG_VRS:
                if pos + 12 > len(buf):
                    return None
                length, start = struct.unpack_from("<I", buf, pos + 8)[0], pos + 12
            else:
                length, start = struct.unpack_from("<H", buf, pos + 6)[0], pos + 8
        else:
            length, start = struct.unpack_from("<I", buf, pos + 4)[0], pos + 8
        if length == 0xFFFFFFFF or start + length > len(buf):
            return None                                          # undefined length: pydicom's job
        if tag == 0x00080005 or tag in _KEYWORDS:
            found[tag] = buf[start:start + length]
        pos = start + length
    codec = _CHARSETS.get(found.get(0x00080005, b"").decode("ascii", "replace").strip(" \x00"))
    if codec is None:
        return None
    names = {key: found.get(tag, b"").decode(codec, "replace").strip(" \x00")[:64] for tag, key in _KEYWORDS.items()}
    return {**names, "sop_class_name": sop_class_name, "sop_instance": sop_instance[:80]}

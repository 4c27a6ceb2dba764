"""What ``listen`` does with a received file off the network thread: in a worker process, IOD
validation with the instance's names read from the same data set (one read per file); for
instances not validated, a partial header read that names them (patient, study, series).
"""

from __future__ import annotations

import signal
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

"""Element-by-element comparison of what was stored with what came back (data integrity).

PS3.4 B.4.1 (SCP behaviour: a level 2 storage SCP keeps all type 1, 2 and 3 attributes;
coercion only where the conformance statement says so), B.4.1.3 (coercion), and the
statement's ``services.storage`` (``coerced_attributes``, ``private_attributes``).

Each difference is a :class:`~conformance.findings.Finding` naming the tag. Text values are
compared after decoding with each side's Specific Character Set, so a device that re-encodes
UTF-8 as GB18030 correctly is not blamed, and one that mangles the characters is.
Pixel Data of lossless syntaxes is compared as decoded pixels; lossy syntaxes are not
compared. Not compared: File Meta Information (group 0002; it describes the file, not the
instance), group lengths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from conformance.findings import Finding, Severity

PIXEL_DATA = 0x7FE00010


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _normalise(value: Any) -> Any:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return tuple(_normalise(v) for v in value)
    if isinstance(value, bytes):
        return value.rstrip(b"\x00 ")
    if isinstance(value, str):
        return value.rstrip(" \x00")
    if value is None:
        return ""
    if type(value).__name__ == "PersonName":
        return str(value).rstrip(" ")
    try:
        return float(value) if type(value).__name__ in ("DSfloat", "DSdecimal", "IS") else value
    except (TypeError, ValueError):
        return str(value)


def _pixels_equal(sent: Dataset, got: Dataset) -> tuple[bool | None, str]:
    """True/False, or None with a reason when the pixels cannot be decoded here."""
    sent_ts = sent.file_meta.TransferSyntaxUID if "file_meta" in dir(sent) else None
    got_ts = getattr(getattr(got, "file_meta", None), "TransferSyntaxUID", None)
    if sent_ts == got_ts and sent.PixelData == got.PixelData:
        return True, ""
    try:
        import numpy as np

        return bool(np.array_equal(sent.pixel_array, got.pixel_array)), ""
    except Exception as exc:  # noqa: BLE001 - no decoder for the syntax it came back in
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"


def compare(sent: Dataset, got: Dataset, *, coerced: Iterable[int] = (),
            private_discarded: bool = False, compare_pixels: bool = True,
            where: str = "") -> list[Finding]:
    """Findings for every difference between *sent* (the reference) and *got*.

    ``coerced``: tags the statement says the device may change (info when they differ).
    ``private_discarded``: the statement says private attributes are not kept.
    """
    allowed = {int(Tag(t)) for t in coerced}
    findings: list[Finding] = []
    _walk(sent, got, "", allowed, private_discarded, compare_pixels, where, findings)
    return findings


def _walk(sent: Dataset, got: Dataset, prefix: str, allowed: set[int], private_discarded: bool,
          compare_pixels: bool, where: str, out: list[Finding]) -> None:
    for elem in sent:
        tag = int(elem.tag)
        if (tag >> 16) == 0x0002 or (tag & 0xFFFF) == 0:
            continue
        path = prefix + _tag(tag)
        name = elem.keyword or ("private attribute" if elem.tag.is_private else "attribute")
        private = elem.tag.is_private
        if tag not in got:
            if private and private_discarded:
                continue
            severity = Severity.INFO if tag in allowed else Severity.ERROR
            out.append(Finding(
                "storage.private-attribute-dropped" if private else "storage.attribute-dropped",
                severity, f"{where}{name} {path} was stored but is missing in what came back"
                + (" (the statement declares private attributes are kept)." if private else "."),
                reference="PS3.4 B.4.1; statement", tag=path))
            continue
        other = got[tag]
        if tag == PIXEL_DATA:
            if not compare_pixels:
                continue
            same, why = _pixels_equal(sent, got)
            if same is None:
                out.append(Finding("storage.pixels-not-compared", Severity.INFO,
                                   f"{where}Pixel Data came back in a syntax the harness cannot "
                                   f"decode ({why}); not compared.", reference="harness", tag=path))
            elif not same:
                out.append(Finding("storage.pixel-data-changed", Severity.ERROR,
                                   f"{where}Pixel Data stored in a lossless transfer syntax came "
                                   "back with different pixel values.",
                                   reference="PS3.4 B.4.1; PS3.5 8.2", tag=path))
            continue
        if elem.VR == "SQ" and isinstance(elem.value, Sequence):
            items = other.value if isinstance(other.value, Sequence) else []
            if len(items) != len(elem.value):
                out.append(_changed(where, name, path, f"{len(elem.value)} item(s)",
                                    f"{len(items)} item(s)", tag in allowed))
                continue
            for i, (a, b) in enumerate(zip(elem.value, items)):
                _walk(a, b, f"{path}[{i}].", allowed, private_discarded, compare_pixels, where, out)
            continue
        try:
            left, right = _normalise(elem.value), _normalise(other.value)
        except Exception:  # noqa: BLE001 - undecodable value: compare raw
            left, right = elem.value, other.value
        if isinstance(left, bytes) != isinstance(right, bytes):
            # Implicit VR: "US or OW" / "US or SS" elements (LUT Data) may come back as OW bytes.
            left, right = [_as_words(v) if not isinstance(v, (bytes, str)) else v for v in (left, right)]
        if isinstance(left, str) != isinstance(right, str) and isinstance(left, (str, bytes)) \
                and isinstance(right, (str, bytes)):
            # Implicit VR: an unknown private element comes back as UN bytes (PS3.5 6.2.2).
            left, right = [v.encode("utf-8", "replace").rstrip(b"\x00 ") if isinstance(v, str) else v
                           for v in (left, right)]
        if left != right:
            out.append(_changed(where, name, path, _short(left), _short(right), tag in allowed))


def _as_words(value: Any) -> Any:
    """Integers as the little-endian 16-bit words an OW element would hold."""
    values = value if isinstance(value, tuple) else (value,)
    if all(isinstance(v, int) for v in values):
        return b"".join((v & 0xFFFF).to_bytes(2, "little") for v in values).rstrip(b"\x00 ")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _changed(where: str, name: str, path: str, sent: str, got: str, allowed: bool) -> Finding:
    return Finding(
        "storage.attribute-coerced" if allowed else "storage.attribute-changed",
        Severity.INFO if allowed else Severity.ERROR,
        f"{where}{name} {path} changed: stored {sent}, got back {got}"
        + (" (coercion declared by the statement)." if allowed else "."),
        reference="PS3.4 B.4.1.3; statement", tag=path, details={"sent": sent, "got": got})


def added(sent: Dataset, got: Dataset, where: str = "") -> list[str]:
    """Top-level attributes in *got* that were not in *sent* (for the observation only)."""
    return [_tag(int(e.tag)) for e in got if int(e.tag) not in sent and (int(e.tag) >> 16) != 2]

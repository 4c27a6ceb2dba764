"""The encoding layer from the bytes (PS3.5 7, PS3.10 7.1): one mutant per rule, and legal
extremes (deep undefined-length nesting) read without errors."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from conformance.findings import Severity
from conformance.iod import synthesize, validate_file

SC = "1.2.840.10008.5.1.4.1.1.7"


@pytest.fixture()
def sc_bytes(tmp_path) -> bytes:
    ds = synthesize(SC)
    ds.PatientID = "AB"
    ds.save_as(tmp_path / "base.dcm", enforce_file_format=True)
    return (tmp_path / "base.dcm").read_bytes()


def _codes(path: Path) -> list[tuple[str, str | None]]:
    return [(f.code, f.tag) for f in validate_file(path) or [] if f.severity is Severity.ERROR]


def _element(data: bytes, tag: int) -> tuple[int, int]:
    """(offset, total length) of a short-VR explicit little endian element."""
    i = data.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF), 132)
    return i, 8 + struct.unpack("<H", data[i + 6:i + 8])[0]


def _write(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "mutant.dcm"
    p.write_bytes(data)
    return p


def test_clean_file_has_no_encoding_finding(tmp_path, sc_bytes):
    assert _codes(_write(tmp_path, sc_bytes)) == []


def test_duplicate_tag(tmp_path, sc_bytes):
    i, n = _element(sc_bytes, 0x00100020)
    codes = _codes(_write(tmp_path, sc_bytes[:i + n] + sc_bytes[i:i + n] + sc_bytes[i + n:]))
    assert ("encoding.duplicate-tag", "(0010,0020)") in codes


def test_tag_order(tmp_path, sc_bytes):
    i, n = _element(sc_bytes, 0x00100020)
    j, m = _element(sc_bytes, 0x00100010)
    assert j + m == i  # Patient's Name then Patient ID
    data = sc_bytes[:j] + sc_bytes[i:i + n] + sc_bytes[j:j + m] + sc_bytes[i + n:]
    assert ("encoding.tag-order", "(0010,0010)") in _codes(_write(tmp_path, data))


def test_meta_vr(tmp_path, sc_bytes):
    i = sc_bytes.index(b"\x02\x00\x10\x00UI")
    data = sc_bytes[:i + 4] + b"LO" + sc_bytes[i + 6:]
    assert ("meta.vr", "(0002,0010)") in _codes(_write(tmp_path, data))


def test_meta_bytes_that_are_not_a_vr(tmp_path, sc_bytes):
    """An element of group 0002 the dictionary does not know still has an explicit VR; bytes
    that are no VR are reported, and the file is read the way pydicom reads it."""
    i = sc_bytes.index(b"\x02\x00\x12\x00UI")      # Implementation Class UID -> (0002,F012)
    data = sc_bytes[:i + 2] + b"\x12\xf0\xe0\xa6" + sc_bytes[i + 6:]
    assert ("meta.vr", "(0002,F012)") in _codes(_write(tmp_path, data))


def test_meta_group_length(tmp_path, sc_bytes):
    i = sc_bytes.index(b"\x02\x00\x00\x00UL")
    value = struct.unpack("<L", sc_bytes[i + 8:i + 12])[0]
    data = sc_bytes[:i + 8] + struct.pack("<L", value + 2) + sc_bytes[i + 12:]
    assert ("meta.group-length", "(0002,0000)") in _codes(_write(tmp_path, data))


def test_transfer_syntax_does_not_match_encoding(tmp_path, sc_bytes):
    explicit = b"1.2.840.10008.1.2.1\x00"
    implicit = b"1.2.840.10008.1.2\x00\x00\x00"  # same length: the meta stays consistent
    data = sc_bytes.replace(explicit, implicit, 1)
    assert ("encoding.transfer-syntax-mismatch", None) in _codes(_write(tmp_path, data))


def test_trailing_bytes(tmp_path, sc_bytes):
    assert ("encoding.trailing-data", None) in _codes(_write(tmp_path, sc_bytes + b"\x00\x01"))


def test_value_length_past_the_end(tmp_path, sc_bytes):
    i, _ = _element(sc_bytes, 0x00100020)
    data = sc_bytes[:i + 6] + struct.pack("<H", 0x4000) + sc_bytes[i + 8:]
    codes = {c for c, _ in _codes(_write(tmp_path, data))}
    assert "encoding.length-overrun" in codes or "encoding.bad-vr" in codes


def _nest(data: bytes, depth: int, item_length: int | None = None) -> bytes:
    sq = struct.pack("<HH", 0x0040, 0xA730) + b"SQ\x00\x00" + b"\xff\xff\xff\xff"
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    code = struct.pack("<HH", 0x0008, 0x0100) + b"SH" + struct.pack("<H", 2) + b"1 "
    close = struct.pack("<HHL", 0xFFFE, 0xE00D, 0) + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    if item_length is not None:  # one defined-length item with a wrong length
        nest = sq + struct.pack("<HHL", 0xFFFE, 0xE000, item_length) + code + \
            struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    else:
        nest = (sq + item + code) * depth + close * depth
    i = data.index(b"\xe0\x7f\x10\x00")
    return data[:i] + nest + data[i:]


@pytest.mark.parametrize("depth", [200, 1000])
def test_deep_legal_nesting_reads_without_recursion_errors(tmp_path, sc_bytes, depth):
    findings = validate_file(_write(tmp_path, _nest(sc_bytes, depth))) or []
    assert [f.code for f in findings if f.severity is Severity.ERROR] == []


def test_item_length_that_does_not_match_its_content(tmp_path, sc_bytes):
    codes = {c for c, _ in _codes(_write(tmp_path, _nest(sc_bytes, 1, item_length=6)))}
    assert codes & {"encoding.length-overrun", "encoding.length-mismatch", "encoding.bad-vr"}


def test_damaged_dicm_prefix_is_read_with_a_finding(tmp_path, sc_bytes):
    data = sc_bytes[:128] + b"DICX" + sc_bytes[132:]
    findings = validate_file(_write(tmp_path, data))
    assert findings is not None
    assert [f.code for f in findings if f.severity is Severity.ERROR] == ["file.damaged-prefix"]
    assert {f.iod for f in findings if f.iod} == {"Secondary Capture Image"}


def test_per_file_time_limit_is_a_finding(tmp_path, sc_bytes, monkeypatch):
    import time

    from conformance.iod import validator

    def slow(*args, **kwargs):
        time.sleep(5)

    import signal
    before = signal.getsignal(signal.SIGALRM)
    monkeypatch.setattr(validator, "_validate_file", slow)
    start = time.monotonic()
    findings = validator.validate_file(_write(tmp_path, sc_bytes), time_limit=0.2)
    assert time.monotonic() - start < 3
    assert [f.code for f in findings or []] == ["file.time-limit"]
    assert signal.getsignal(signal.SIGALRM) is before  # the caller's handler is back


def test_a_worker_keeps_the_time_limits_handler(tmp_path, sc_bytes):
    """In a validation worker (``tune_worker``) the handler stays installed; the limit still
    stops a slow file, and the timer is disarmed after each file."""
    import subprocess
    import sys
    path = _write(tmp_path, sc_bytes)
    code = f"""
import signal, time
from conformance.iod import validator
from conformance.iod.warm import tune_worker
tune_worker()
assert signal.getsignal(signal.SIGALRM) is validator._alarm
ok = validator.validate_file({str(path)!r}, time_limit=5)
assert ok is not None and "file.time-limit" not in [f.code for f in ok]
assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
validator._validate_file = lambda *a: time.sleep(5)
start = time.monotonic()
slow = validator.validate_file({str(path)!r}, time_limit=0.2)
assert time.monotonic() - start < 3 and [f.code for f in slow] == ["file.time-limit"]
assert signal.getsignal(signal.SIGALRM) is validator._alarm
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_too_many_elements_are_not_built_in_memory(tmp_path, sc_bytes, monkeypatch):
    from conformance.iod import reading
    monkeypatch.setattr(reading, "MAX_READ_ELEMENTS", 10)
    findings = validate_file(_write(tmp_path, sc_bytes)) or []
    assert [f.code for f in findings if f.severity is not Severity.INFO] == \
        ["file.too-many-elements"]

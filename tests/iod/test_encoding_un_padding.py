"""Standard attributes encoded as VR UN are read with their dictionary VR and the UN is
reported (PS3.5 6.2.2); string values padded with NUL instead of a space (PS3.5 6.2)."""

from __future__ import annotations

import struct

from conformance.findings import Severity
from conformance.iod import synthesize, validate_file

SC = "1.2.840.10008.5.1.4.1.1.7"


def _as_un(data: bytes, tag: int) -> bytes:
    """Re-encode the explicit VR little endian element *tag* (short VR header) as UN."""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    i = data.index(head, 132)
    length = struct.unpack("<H", data[i + 6:i + 8])[0]
    return data[:i] + head + b"UN\x00\x00" + struct.pack("<I", length) + data[i + 8:]


def test_sop_class_encoded_as_un_is_read_and_reported(tmp_path):
    path = tmp_path / "sc.dcm"
    synthesize(SC).save_as(path, enforce_file_format=True)
    path.write_bytes(_as_un(path.read_bytes(), 0x00080016))
    findings = validate_file(path) or []
    assert not [f for f in findings if f.severity is Severity.ERROR], \
        [(f.code, f.tag) for f in findings if f.severity is Severity.ERROR]
    assert {f.iod for f in findings} == {"Secondary Capture Image"}
    un = [f for f in findings if f.code == "vr.un-for-standard-attribute"]
    assert [f.tag for f in un] == ["(0008,0016)"] and un[0].reference == "PS3.5 6.2.2"


def test_nul_padded_string_is_an_error(tmp_path):
    ds = synthesize(SC)
    path = tmp_path / "sc.dcm"
    ds.PatientID = "ABC"  # odd: padded to 4 bytes by the writer
    ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes().replace(b"ABC ", b"ABC\x00", 1)
    path.write_bytes(data)
    codes = [(f.code, f.tag) for f in validate_file(path) or [] if f.severity is Severity.ERROR]
    assert codes == [("vr.nul-padding", "(0010,0020)")]

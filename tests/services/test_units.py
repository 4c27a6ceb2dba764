"""Pure parts of the services family: status tables, encoders, data comparison, the wire
PDUs, and the statement's ``services`` section (no network)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pydicom import uid

from conformance.errors import InputError
from conformance.findings import Severity
from conformance.iod import synthesize
from conformance.negotiation.association import ProposedContext
from conformance.negotiation.target import Target
from conformance.services.compare import compare
from conformance.services.encoding import LOSSLESS, NoEncoder, encode, encoder_for, swap_other_words, top_copy
from conformance.services.status import classify
from conformance.statement import load_statement
from conformance.wire import dimse
from conformance.wire import requestor as wire
from tests.conftest import STATEMENTS

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.mark.parametrize(("code", "service", "category", "reference"), [
    (0x0000, "storage", "success", "PS3.7 C.1.1"),
    (0xB000, "storage", "warning", "PS3.4 Table B.2-1"),
    (0xB007, "storage", "warning", "PS3.4 Table B.2-1"),
    (0xA700, "storage", "failure", "PS3.4 Table B.2-1"),
    (0xA7FF, "storage", "failure", "PS3.4 Table B.2-1"),
    (0xC123, "storage", "failure", "PS3.4 Table B.2-1"),
    (0x0122, "storage", "failure", "PS3.7 C.5.3"),
    (0xFF00, "find", "pending", "PS3.4 Table C.4-1"),
    (0xFE00, "find", "cancel", "PS3.4 Table C.4-1"),
    (0xA801, "move", "failure", "PS3.4 Table C.4-2"),
    (0xB000, "get", "warning", "PS3.4 Table C.4-3"),
    (0x0110, "mpps", "failure", "PS3.4 F.7.2.2.2; PS3.7 C.5.5"),
])
def test_status_codes_are_classified_with_their_reference(code, service, category, reference):
    info = classify(code, service)
    assert (info.category, info.reference) == (category, reference)


@pytest.mark.parametrize("ts", [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian,
                                uid.DeflatedExplicitVRLittleEndian, uid.RLELossless, uid.JPEGLSLossless,
                                uid.JPEG2000Lossless, uid.JPEGLosslessSV1, uid.JPEGLossless])
def test_lossless_encodings_give_back_the_reference_pixels(ts):
    enc = encode(synthesize(CT), ts)
    assert enc.lossless and ts in LOSSLESS
    assert str(enc.dataset.file_meta.TransferSyntaxUID) == ts
    assert np.array_equal(enc.dataset.pixel_array, enc.reference.pixel_array)
    assert enc.reference.pixel_array.max() > 0            # a pattern, not zeros


def test_lossy_encodings_are_marked_lossy():
    enc = encode(synthesize(CT), uid.JPEGBaseline8Bit)
    assert not enc.lossless and enc.encoder == "dcmtk:dcmcjpeg"
    assert enc.reference.get("LossyImageCompression") == "01"   # the reference is what was sent


def test_a_syntax_without_encoder_raises_no_encoder():
    assert encoder_for(uid.MPEG2MPML) is None
    with pytest.raises(NoEncoder):
        encode(synthesize(CT), uid.MPEG2MPML)
    with pytest.raises(NoEncoder, match="JPIP"):
        encode(synthesize(CT), "1.2.840.10008.1.2.4.94")


def test_big_endian_pixel_words_are_swapped():
    enc = encode(synthesize(CT), uid.ExplicitVRBigEndian)
    sent = np.frombuffer(enc.dataset.PixelData, dtype=">u2")
    assert np.array_equal(sent, np.frombuffer(enc.reference.PixelData, dtype="<u2"))


def test_big_endian_other_float_words_nested_in_a_sequence_are_swapped_and_read_back_equal():
    """PS3.5 7.3: an OF value in a sequence item (Point Coordinates Data of a bulk annotation)
    is written most significant byte first in Big Endian; read back and swapped again it
    compares equal to what was sent (a false 'attribute changed' on dcmqrscp otherwise)."""
    ann = "1.2.840.10008.5.1.4.1.1.91.1"
    enc = encode(synthesize(ann), uid.ExplicitVRBigEndian)
    sent = enc.reference.AnnotationGroupSequence[0].PointCoordinatesData
    wire_bytes = enc.dataset.AnnotationGroupSequence[0].PointCoordinatesData
    assert np.array_equal(np.frombuffer(wire_bytes, ">f4"), np.frombuffer(sent, "<f4"))
    raw = dimse.encode_data_set(enc.dataset, uid.ExplicitVRBigEndian)
    back = dimse.decode_data_set(raw, uid.ExplicitVRBigEndian)
    back.file_meta = enc.dataset.file_meta
    assert compare(enc.reference, swap_other_words(back), compare_pixels=False) == []
    assert compare(enc.reference, back, compare_pixels=False) != []      # unswapped: differs


def test_compare_names_each_changed_and_dropped_tag():
    sent = encode(synthesize(CT), uid.ExplicitVRLittleEndian).reference
    block = sent.private_block(0x0019, "ACME", create=True)
    block.add_new(0x10, "LO", "secret")
    got = top_copy(sent)
    got.StudyID = "OTHER"
    del got[0x00191010]
    findings = compare(sent, got)
    assert {(f.code, f.tag) for f in findings} == {("storage.attribute-changed", "(0020,0010)"),
                                                   ("storage.private-attribute-dropped", "(0019,1010)")}
    assert all(f.severity is Severity.ERROR for f in findings)
    relaxed = compare(sent, got, coerced=[0x00200010], private_discarded=True)
    assert [(f.code, f.severity) for f in relaxed] == [("storage.attribute-coerced", Severity.INFO)]


def test_compare_sees_changed_pixels():
    sent = encode(synthesize(CT), uid.ExplicitVRLittleEndian).reference
    got = top_copy(sent)
    got.PixelData = bytes(len(sent.PixelData))
    assert [f.code for f in compare(sent, got)] == ["storage.pixel-data-changed"]
    assert compare(sent, got, compare_pixels=False) == []


def test_wire_associate_rq_and_store_command_follow_ps3_8_and_ps3_7():
    ctx = ProposedContext(CT, (uid.ExplicitVRLittleEndian,), scu_role=False, scp_role=True)
    pdu = wire.associate_rq(Target("127.0.0.1", 104, "CALLED", "CALLING"), [ctx])
    kind, _r, length = struct.unpack(">BBI", pdu[:6])
    assert kind == 0x01 and length == len(pdu) - 6
    assert pdu[10:26] == b"CALLED".ljust(16) and pdu[26:42] == b"CALLING".ljust(16)
    assert b"1.2.840.10008.3.1.1.1" in pdu and CT.encode() in pdu
    cmd = dimse.parse_command(dimse.encode_command({0x0002: CT, 0x0100: 0x0001, 0x0110: 7, 0x0700: 0,
                                                    0x0800: 0, 0x1000: "1.2.3"}))
    assert struct.unpack("<H", cmd[0x0100])[0] == 0x0001 and struct.unpack("<H", cmd[0x0110])[0] == 7
    assert cmd[0x1000] == b"1.2.3\x00" and struct.unpack("<I", cmd[0x0000])[0] > 0


def test_statement_services_section_is_optional_and_loaded():
    plain = load_statement(STATEMENTS / "dcmtk-storescp.yaml")
    assert plain.services.query_retrieve.matching[:3] == ("single-value", "universal", "wildcard")
    orthanc = load_statement(STATEMENTS / "orthanc-1.10.yaml")
    assert "case-insensitive-pn" in orthanc.services.query_retrieve.matching
    assert orthanc.services.storage_commitment.report_association == "new"


def test_bad_services_entries_give_file_line_key_errors(tmp_path):
    text = (STATEMENTS / "dcmtk-wlmscpfs.yaml").read_text()
    bad = text + "  storage:\n    coerced_attributes: [PatientNme]\n  query_retrieve:\n    matching: [fuzzy]\n"
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(InputError) as err:
        load_statement(path)
    message = str(err.value)
    assert "bad.yaml:" in message and "matching" in message
    path.write_text(text + "  storage:\n    coerced_attributes: [PatientNme]\n")
    with pytest.raises(InputError) as err:
        load_statement(path)
    assert "did you mean PatientName?" in str(err.value) and "coerced_attributes" in str(err.value)

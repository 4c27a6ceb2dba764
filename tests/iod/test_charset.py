"""Character sets (PS3.3 C.12.1.1.2, PS3.5 6.1): ISO 2022 escapes, UTF-8, GB18030."""

from __future__ import annotations

from pydicom.charset import encode_string

from conformance.findings import Severity
from conformance.iod import charset, validate
from tests.iod import corpus


def codes(raw: bytes, terms: list[str]) -> str | None:
    encodings, problems = charset.check_terms(terms)
    assert problems == []
    problem = charset.check_text(raw, encodings, declared=True)
    return problem[0] if problem else None


def test_iso_2022_japanese_with_escapes_decodes():
    raw = encode_string("Yamada^Tarou=山田^太郎", ["iso8859", "iso2022_jp"])
    assert b"\x1b$B" in raw
    assert codes(raw, ["", "ISO 2022 IR 87"]) is None


def test_escape_to_an_undeclared_code_element_is_reported():
    raw = encode_string("Yamada^Tarou=山田^太郎", ["iso8859", "iso2022_jp"])
    assert codes(raw, ["", "ISO 2022 IR 100"]) == "charset.escape-not-declared"


def test_unknown_escape_sequence_is_reported():
    assert codes(b"abc\x1b(Zdef", ["", "ISO 2022 IR 87"]) == "charset.unknown-escape"


def test_gb18030_and_utf8_decode_and_bad_bytes_do_not():
    assert codes("王^小东".encode("gb18030"), ["GB18030"]) is None
    assert codes("Müller".encode("utf-8"), ["ISO_IR 192"]) is None
    assert codes(b"M\xfcller", ["ISO_IR 192"]) == "charset.undecodable"


def test_latin1_bytes_under_default_repertoire_are_reported():
    encodings, _ = charset.check_terms([""])
    assert charset.check_text(b"M\xfcller", encodings, declared=True)[0] == \
        "charset.undecodable"  # type: ignore[index]


def test_utf8_cannot_be_combined_with_code_extensions():
    _, problems = charset.check_terms(["ISO_IR 192", "ISO 2022 IR 87"])
    assert "charset.code-extension-not-allowed" in {p[0] for p in problems}


def test_japanese_instance_with_code_extensions_validates_clean():
    ds = corpus.CLEAN["ct"]()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.PatientName = "Yamada^Tarou=山田^太郎"
    bad = [f for f in validate(ds) if f.severity is not Severity.INFO]
    assert bad == []

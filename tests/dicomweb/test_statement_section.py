"""The statement's ``dicomweb`` section: typed, resolved, and bad input said with file:line:key."""

from __future__ import annotations

import pytest

from conformance.errors import InputError
from conformance.statement import load_statement
from tests.conftest import DATA, STATEMENTS


def test_orthanc_statement_declares_its_dicomweb_services():
    web = load_statement(STATEMENTS / "orthanc-1.10.yaml").dicomweb
    assert web is not None and web.qido_rs is not None and web.wado_rs is not None
    assert web.stow_rs is not None and "1.2.840.10008.5.1.4.1.1.2" in web.stow_rs.sop_classes
    assert "1.2.840.10008.1.2.1" in web.wado_rs.resources["instances"].transfer_syntaxes
    assert "fuzzy" not in web.qido_rs.matching
    assert web.capabilities is False


def test_a_statement_without_the_section_has_none(reference_statement):
    assert reference_statement.dicomweb is None


def test_every_dicomweb_mistake_is_reported_with_line_and_key():
    path = DATA / "statements" / "broken" / "dicomweb-bad.yaml"
    with pytest.raises(InputError) as info:
        load_statement(path)
    text = "\n".join(str(p) for p in info.value.problems)
    # schema problems are reported first, all of them, each with its line
    assert "dicomweb-bad.yaml:12" in text and "qido_rs.url" in text
    assert "soundex" in text and "pictures" in text


def test_unknown_keywords_in_the_dicomweb_section_are_named(tmp_path):
    src = (DATA / "statements" / "broken" / "dicomweb-bad.yaml").read_text()
    src = src.replace("url: dicom-web", "url: /dicom-web").replace("[wildcard, soundex]", "[wildcard]")
    src = src.replace("      pictures: {media_types: [image/jpeg]}\n", "")
    path = tmp_path / "web.yaml"
    path.write_text(src)
    with pytest.raises(InputError) as info:
        load_statement(path)
    text = "\n".join(str(p) for p in info.value.problems)
    assert "web.yaml:7" in text and "ISO_IR 19" in text
    assert "web.yaml:10" in text and "CTImageStorag" in text and "did you mean CTImageStorage" in text
    assert "web.yaml:17" in text and "ExplicitVRLittleEndan" in text

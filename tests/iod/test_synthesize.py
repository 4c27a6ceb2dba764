"""The synthesizer builds a valid minimal instance of every storage SOP class in the index."""

from __future__ import annotations

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from conformance.findings import Severity
from conformance.iod import synthesize, validate
from conformance.standard.iod_index import load_index

ALL = load_index().storage_sop_classes()


def test_index_has_all_storage_sop_classes():
    assert len(ALL) >= 170


@pytest.mark.parametrize("uid", ALL)
def test_every_storage_sop_class_synthesizes_without_errors(uid):
    ds = synthesize(uid)
    assert ds.SOPClassUID == uid
    errors = [f"{f.code} {f.tag} {f.message}" for f in validate(ds)
              if f.severity is Severity.ERROR]
    assert errors == []


def test_synthesis_is_deterministic():
    a, b = synthesize(ALL[0]), synthesize(ALL[0])
    assert a == b and a.SOPInstanceUID == b.SOPInstanceUID


def test_implicit_vr_transfer_syntax_is_honoured_and_valid():
    ds = synthesize("1.2.840.10008.5.1.4.1.1.2", ImplicitVRLittleEndian)
    assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert not [f for f in validate(ds) if f.severity is Severity.ERROR]


def test_compressed_syntax_for_image_iod_is_refused_clearly():
    with pytest.raises(ValueError, match="compressed"):
        synthesize("1.2.840.10008.5.1.4.1.1.2", RLELossless)


def test_unknown_sop_class_is_refused_clearly():
    with pytest.raises(ValueError, match="no IOD"):
        synthesize("1.2.3.4", ExplicitVRLittleEndian)

"""Functional Group Macros an enhanced IOD requires (PS3.3 C.7.6.16.1 and each IOD's
Functional Group Macros table): absent from both Functional Groups Sequences -> error."""

from __future__ import annotations

import subprocess

import pytest

from conformance.findings import Severity
from conformance.iod import synthesize, validate
from conformance.iod.functional_groups import required_macros

CODE = "iod.functional-group-macro-missing"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
ENHANCED_PET = "1.2.840.10008.5.1.4.1.1.130"
LEGACY_CT = "1.2.840.10008.5.1.4.1.1.2.2"
PIXEL_MEASURES = 0x00289110
FRAME_CONTENT = 0x00209111


def _drop(ds, tag: int) -> int:
    """Remove *tag* from the shared and every per-frame Item; how many Items held it."""
    n = 0
    for seq in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for item in ds.get(seq) or []:
            if tag in item:
                del item[tag]
                n += 1
    return n


def _missing(ds):
    return [f for f in validate(ds) if f.code == CODE]


def test_a_required_macro_in_neither_sequence_is_an_error_naming_it():
    ds = synthesize(ENHANCED_CT)
    assert _drop(ds, PIXEL_MEASURES)
    found = _missing(ds)
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    assert "Pixel Measures" in found[0].message and "(0028,9110)" in found[0].tag
    assert "A.38" in found[0].reference and "C.7.6.16.1" in found[0].reference


def test_a_required_macro_in_the_shared_or_in_the_per_frame_items_is_enough():
    ds = synthesize(ENHANCED_CT)
    assert not _missing(ds)
    shared = ds.SharedFunctionalGroupsSequence[0]
    if PIXEL_MEASURES in shared:                      # move it to every per-frame Item
        element = shared[PIXEL_MEASURES]
        del shared[PIXEL_MEASURES]
        for item in ds.PerFrameFunctionalGroupsSequence:
            item[PIXEL_MEASURES] = element
    assert not _missing(ds)


def test_macros_whose_requirement_is_conditional_or_doubtful_are_not_reported():
    # Unassigned Shared Converted Attributes: usage M, but its sequence is type 1C.
    legacy = synthesize(LEGACY_CT)
    _drop(legacy, 0x00209170)
    assert not _missing(legacy)
    # Enhanced PET Frame VOI LUT: M in 2020a, not required by dciodvfy's 2022 tables ("M?").
    pet = synthesize(ENHANCED_PET)
    _drop(pet, 0x00289132)
    assert not _missing(pet)


def test_the_data_covers_the_enhanced_iods_and_only_checks_unconditional_sequences():
    data = required_macros()
    assert {"enhanced-ct-image", "enhanced-mr-image", "segmentation"} <= set(data)
    assert all(kind in ("1", "2") for rows in data.values() for _, _, kind in rows)
    assert ("Frame Content", FRAME_CONTENT, "1") in data["segmentation"]


def _with_sop_class() -> list[tuple[str, str]]:
    from conformance.standard.iod_index import load_index

    first: dict[str, str] = {}
    for uid, key in load_index().sop_classes.items():
        first.setdefault(key, uid)
    return sorted((k, first[k]) for k, rows in required_macros().items() if rows and k in first)


@pytest.mark.parametrize(("key", "uid"), _with_sop_class())
def test_each_required_macro_removed_is_reported_and_dciodvfy_agrees(key, uid, tmp_path):
    """Every checked M macro, removed from a synthesized object: ours reports exactly that
    macro, and dciodvfy (an independent reading of a later edition) names an error on the
    macro's sequence too."""
    from pydicom.datadict import keyword_for_tag

    for name, tag, _kind in required_macros()[key]:
        ds = synthesize(uid)
        assert _drop(ds, tag), f"{key}: the synthesized object lacks {name}"
        found = _missing(ds)
        assert [f.details["macro"] for f in found] == [name], (key, name, found)
        path = tmp_path / "x.dcm"
        ds.save_as(path, enforce_file_format=True)
        out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True).stderr
        assert any(line.startswith("Error") and keyword_for_tag(tag) in line
                   for line in out.splitlines()), f"{key}: dciodvfy does not require {name}"

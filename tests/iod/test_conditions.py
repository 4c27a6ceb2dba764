"""Conditions (PS3.3 5.4): parsed where the grammar allows, otherwise "not verifiable" and
settled by facts, never silently type 3."""

from __future__ import annotations

import pytest

from conformance.findings import Severity
from conformance.iod import validate
from conformance.standard.condition_text import parse_condition
from conformance.standard.conditions import evaluate
from tests.iod import corpus


@pytest.mark.parametrize("text, expected", [
    ("Required if Context Identifier (0008,010F) is present.", ["present", 0x0008010F]),
    ('Required if the value of Context Group Extension Flag (0008,010B) is "Y".',
     ["eq", 0x0008010B, None, ["Y"]]),
    ("Shall be present if Code Value (0008,0100) or Long Code Value (0008,0119) is present.",
     ["or", ["present", 0x00080100], ["present", 0x00080119]]),
    ("Required if Samples per Pixel (0028,0002) has a value greater than 1",
     ["gt", 0x00280002, None, 1.0]),
    ("Required if Image Type (0008,0008) Value 3 is GATED, GATED TOMO, or RECON GATED TOMO",
     ["eq", 0x00080008, 2, ["GATED", "GATED TOMO", "RECON GATED TOMO"]]),
    ("Required if contrast media was used in this image", None),
    # words beyond an attribute name are a fact the data cannot show: never dropped
    ("Required if the Patient is an animal and if Patient Species Code Sequence (0010,2202) "
     "is not present", None),
    ("Required if Selector Attribute VR (0072,0050) is present and the value is AT",
     ["and", ["present", 0x00720050], ["eq", 0x00720050, None, ["AT"]]]),
    ("Required if Number of Frames is greater than 1", ["gt", 0x00280008, None, 1.0]),
    ("Required if Universal Entity ID (0040,0032) is not present; may be present otherwise",
     ["absent", 0x00400032]),
    ("Required if the Patient is an animal", None),
])
def test_parse_condition(text, expected):
    assert parse_condition(text) == expected


def test_evaluate_is_three_valued():
    values = {0x00280002: ["3"], 0x00080008: ["ORIGINAL", "PRIMARY", "GATED"]}
    look = values.get
    assert evaluate(["gt", 0x00280002, None, 1.0], look) is True
    for op, limit, expected in (("gt", 3.0, False), ("ge", 3.0, True), ("lt", 3.0, False),
                                ("le", 3.0, True), ("lt", 4.0, True), ("ge", 4.0, False)):
        assert evaluate([op, 0x00280002, None, limit], look) is expected, (op, limit)
    assert evaluate(["gt", 0x00080008, None, 1.0], look) is None  # not numbers: cannot tell
    assert evaluate(["eq", 0x00080008, 2, ["GATED"]], look) is True
    assert evaluate(["present", 0x00100010], look) is False
    assert evaluate(["ne", 0x00100010, None, ["X"]], look) is None
    assert evaluate(["and", ["present", 0x00280002], ["ne", 0x00100010, None, ["X"]]],
                    look) is None


def test_unparseable_condition_is_reported_not_verifiable_with_fact_key():
    ds = corpus.CLEAN["ct"]()
    infos = [f for f in validate(ds) if f.code == "iod.condition-not-verifiable"]
    contrast = [f for f in infos if f.module == "Contrast/Bolus"]
    assert contrast and contrast[0].severity is Severity.INFO
    assert contrast[0].details["fact"] == "ct-image/contrast-bolus"
    assert "--facts" in contrast[0].message


def test_fact_settles_a_condition_true_and_reports_missing_module():
    ds = corpus.CLEAN["ct"]()
    findings = validate(ds, facts={"Required if contrast media was used in this image": True})
    missing = [f for f in findings if f.code == "iod.module-missing"]
    assert [f.module for f in missing] == ["Contrast/Bolus"]
    assert not [f for f in findings if f.code == "iod.condition-not-verifiable"
                and f.module == "Contrast/Bolus"]


def test_fact_false_silences_the_condition():
    ds = corpus.CLEAN["ct"]()
    findings = validate(ds, facts={"ct-image/contrast-bolus": False})
    assert not [f for f in findings if f.module == "Contrast/Bolus"]


def test_parsed_condition_true_makes_1c_required():
    ds = corpus.CLEAN["sc"]()
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    if "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    missing = [f for f in validate(ds) if f.code == "iod.type1-missing"]
    assert "(0028,0006)" in {f.tag for f in missing}


def test_every_condition_sentence_is_kept_and_any_of_them_holds():
    """A condition of several sentences is not cut at its first one (issue 14)."""
    from conformance.standard.condition_text import condition_sentence, parse_condition
    from conformance.standard.conditions import evaluate
    text = condition_sentence(
        "Top left corner. Required if Anchor Point (0070,0014) is not present. Required if "
        "Bounding Box Top Left Hand Corner (0070,0010) is present. May be present otherwise.")
    assert text is not None and text.count("Required if") == 2
    expr = parse_condition(text)
    assert expr == ["or", ["absent", 0x00700014], ["present", 0x00700010]]
    values = {0x00700014: ["1"], 0x00700010: ["1"]}
    assert evaluate(expr, values.get) is True
    assert parse_condition("Required if Anchor Point (0070,0014) is not present. Required if "
                           "the patient is an animal") is None

"""Pure parts of the dicomweb family: STOW-RS response judgement, multipart, JSON model."""

from __future__ import annotations

import json

from conformance.dicomweb import jsonmodel, multipart
from conformance.dicomweb.client import WebResponse, query_string, service_url
from conformance.dicomweb.stow import judge


def _stow_answer(status, ok=(), bad=(), warning=None, ctype="application/dicom+json"):
    def item(inst, extra):
        d = {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
             "00081155": {"vr": "UI", "Value": [inst]}}
        d.update(extra)
        return d
    ok_extra = {"00081190": {"vr": "UR", "Value": ["http://x/studies/1"]}}
    if warning is not None:
        ok_extra["00081196"] = {"vr": "US", "Value": [warning]}
    body = {"00081199": {"vr": "SQ", "Value": [item(i, ok_extra) for i in ok]},
            "00081198": {"vr": "SQ", "Value": [item(i, {"00081197": {"vr": "US", "Value": [272]}})
                                                 for i in bad]}}
    return WebResponse("POST", "http://x/studies", status, {"content-type": ctype}, json.dumps(body).encode())


SENT = {"1.2.3": "1.2.840.10008.5.1.4.1.1.2"}


def test_stow_200_with_the_instance_referenced_passes():
    assert judge(_stow_answer(200, ok=["1.2.3"]), SENT, "t") == []


def test_stow_202_stored_with_a_warning_reason_is_a_warning_not_a_failure():
    found = judge(_stow_answer(202, ok=["1.2.3"], warning=0xB000), SENT, "t")
    assert [(f.code, f.severity.value) for f in found] == [("stow.warning-reason", "warning")]


def test_stow_409_for_a_declared_class_fails_and_a_200_listing_failures_is_wrong():
    assert "stow.not-stored" in {f.code for f in judge(_stow_answer(409, bad=["1.2.3"]), SENT, "t")}
    assert "stow.failed-in-200" in {f.code for f in judge(_stow_answer(200, ok=["1.2.3"], bad=["9"]), SENT, "t")}
    assert "stow.referenced-missing" in {f.code for f in judge(_stow_answer(200), SENT, "t")}


def test_stow_refusal_without_failure_reason_or_stored_anyway_is_flagged():
    assert "stow.mismatch-stored" in {f.code for f in judge(_stow_answer(200, ok=["1.2.3"]), SENT, "t",
                                                          expect_stored=False)}
    assert judge(_stow_answer(409, bad=["1.2.3"]), SENT, "t", expect_stored=False) == []


def test_multipart_parts_with_quoted_type_parameters():
    ctype = ('multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; '
             "boundary=abc")
    body = b"preamble\r\n--abc\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--abc--\r\n"
    mp = multipart.parse(ctype, body)
    assert mp.problems == [] and [p.body for p in mp.parts] == [b"\x00\x01"]
    assert multipart.parse("application/json", body).problems
    assert "no boundary" in multipart.parse('multipart/related; type="x"', body).problems[0]


def test_json_model_accepts_the_standard_examples_and_names_each_problem():
    good = [{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎"}]},
             "00280010": {"vr": "US", "Value": [64]}, "00201206": {"vr": "IS", "Value": [1]},
             "7FE00010": {"vr": "OW", "BulkDataURI": "http://x/bulk"},
             "00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2"]}}]},
             "00091002": {"vr": "UN", "InlineBinary": "AAEC"}}]
    assert jsonmodel.problems(good) == []
    bad = [{"00100010": {"vr": "PN", "Value": ["Yamada^Tarou"]}, "0010001": {"vr": "LO"},
            "00280010": {"vr": "US", "Value": ["64"]}, "00091002": {"vr": "UN", "InlineBinary": "*not*"},
            "00200013": {"vr": "IS", "Value": [1], "BulkDataURI": "x"}, "00080060": {"vr": "XX"}}]
    text = "\n".join(jsonmodel.problems(bad))
    for needle in ("PN value must be an object", "8 upper-case hex", "JSON numbers", "not base64",
                   "at most one", "not a VR"):
        assert needle in text
    assert jsonmodel.value_of(good[0], "00100010") == "Yamada^Tarou=山田^太郎"


def test_query_values_keep_wildcards_and_the_origin_is_joined_to_paths():
    assert query_string([("PatientName", "张*"), ("StudyDate", "2026-")]) == \
        "PatientName=%E5%BC%A0*&StudyDate=2026-"
    assert service_url("/dicom-web", "http://h:8042/ignored") == "http://h:8042/dicom-web"
    assert service_url("https://pacs/wado", None) == "https://pacs/wado"
    assert service_url("/dicom-web", None) is None

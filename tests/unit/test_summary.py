"""The one-minute answer (conformance/reporting/summary.py), the evidence per failure and the
site profile, on small hand-made results: each test names the behaviour a purchaser relies on."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conformance.engine.results import RunResults, StepRecord
from conformance.errors import InputError
from conformance.findings import Finding, Severity
from conformance.reporting.evidence import build_evidence
from conformance.reporting.profile import load_site_profile
from conformance.reporting.summary import build_summary
from conformance.reporting.writers import junit_xml

TARGET = {"host": "127.0.0.1", "port": 4242, "called_ae": "PACS", "calling_ae": "CONFORMANCE", "harness_port": None}


def run_of(*steps: StepRecord, statement: dict | None = None) -> RunResults:
    return RunResults(run_id="t", started_at="now", finished_at="later", target=TARGET,
                      statement=statement or {}, statement_file="pacs.yaml", steps=list(steps))


def err(code: str, message: str) -> Finding:
    return Finding(code, Severity.ERROR, message, "PS3.4 K.4")


def test_a_run_with_nothing_tested_is_never_conforms():
    results = run_of(StepRecord("storage/store/CTImageStorage/JPEGLSLossless", "Store", "", "skipped",
                                message="not tested: no encoder (x)"))
    summary = build_summary(results)
    assert summary.banner == "INCOMPLETE - NOT TESTED"


def test_warnings_make_it_conforms_with_warnings_and_data_impact_is_promoted():
    lossy = Finding("find.character-set-lossy", Severity.WARNING, "'张三^李四' came back as '^'.", "PS3.5 6.1")
    results = run_of(StepRecord("storage/character-set/GB18030", "names", "", "pass", findings=[lossy]),
                     StepRecord("negotiation/verification", "echo", "", "pass"))
    summary = build_summary(results)
    assert summary.banner == "CONFORMS WITH WARNINGS"
    assert summary.data_impact and summary.data_impact[0].text.startswith("Characters lost:")
    find = next(s for s in summary.services if s.key == "find")     # counted against C-FIND
    assert find.status == "works, data changed"


def test_identical_failures_merge_and_a_failing_service_is_never_under_what_works():
    same = [StepRecord(f"worklist/match-{n}", "MWL", "", "fail", findings=[err("worklist.match-missing",
                                                                              "no worklist item matched")])
            for n in range(4)]
    results = run_of(*same, StepRecord("negotiation/verification", "echo", "", "pass"))
    summary = build_summary(results)
    worklist = next(s for s in summary.services if s.key == "worklist")
    assert [(line.text, line.count) for line in worklist.lines] == [("no worklist item matched", 4)]
    assert worklist.status == "claimed, refused"          # 0 of 4 pass: nothing of it works
    assert worklist not in summary.works and summary.banner == "DEVIATES"
    assert summary.services[0] is worklist                 # ranked first


def test_services_are_ranked_by_impact_storage_before_verification():
    results = run_of(StepRecord("negotiation/verification", "echo", "", "fail", findings=[err("x", "echo refused")]),
                     StepRecord("storage/store/CTImageStorage/ExplicitVRLittleEndian", "store", "", "fail",
                                findings=[err("storage.store-failed", "C-STORE refused")]),
                     StepRecord("storage/store/CTImageStorage/ImplicitVRLittleEndian", "store", "", "pass"))
    keys = [s.key for s in build_summary(results).services]
    assert keys.index("verification") < keys.index("storage")   # refused outranks deviates
    results = run_of(StepRecord("query/StudyRoot/STUDY/a", "find", "", "fail", findings=[err("x", "refused")]),
                     StepRecord("query/StudyRoot/STUDY/b", "find", "", "pass"),
                     StepRecord("storage/store/CTImageStorage/ExplicitVRLittleEndian", "store", "", "fail",
                                findings=[err("storage.store-failed", "C-STORE refused")]),
                     StepRecord("storage/store/CTImageStorage/ImplicitVRLittleEndian", "store", "", "pass"))
    keys = [s.key for s in build_summary(results).services]
    assert keys.index("storage") < keys.index("find")   # same status: storage weighs more


def test_what_was_not_tested_says_why_and_declared_services_without_steps_are_named():
    statement = {"transfer_capabilities": [{"sop_classes": ["StorageCommitmentPushModel"], "role": "SCP",
                                            "transfer_syntaxes": ["ImplicitVRLittleEndian"]}]}
    results = run_of(StepRecord("retrieve/move/StudyRoot/STUDY", "move", "", "skipped",
                                message="not tested: no harness port (--harness-port) for the C-MOVE destination"),
                     StepRecord("negotiation/verification", "echo", "", "pass"), statement=statement)
    summary = build_summary(results)
    texts = " | ".join(line.text for line in summary.not_tested)
    assert "Retrieve (C-MOVE): 1 step(s): no harness port" in texts
    assert "Storage commitment: declared, but no step of this run tested it" in texts
    assert summary.banner == "CONFORMS WITH WARNINGS"


def test_evidence_has_expected_observed_sent_received_and_reproduce_lines():
    sent = [["(0008,0052)", "QueryRetrieveLevel", "CS", "STUDY"], ["(0010,0020)", "PatientID", "LO", "P1"],
            ["(0010,0010)", "PatientName", "PN", ""]]
    step = StepRecord("query/StudyRoot/STUDY/single-value", "StudyRoot C-FIND, single-value matching",
                      "PS3.4 C.2.2.2", "fail", findings=[err("find.match-missing", "the stored study was not found")],
                      observations=[{"kind": "find", "what": "q", "sent": sent, "received": sent[:1],
                                     "model": "StudyRoot"}])
    results = run_of(step)
    evidence = build_evidence(step, results)
    assert evidence.expected.startswith("StudyRoot C-FIND") and "not found" in evidence.observed[0]
    assert [caption.split(":")[0] for caption, _ in evidence.datasets] == ["Identifier sent", "First response received"]
    commands = [cmd for _, cmd in evidence.reproduce]
    assert commands[0] == ("conformance run pacs.yaml --host 127.0.0.1 --port 4242 --called-ae PACS "
                           "-k query/StudyRoot/STUDY/single-value")
    assert commands[1].startswith("findscu -v -S -aet CONFORMANCE -aec PACS -k QueryRetrieveLevel=STUDY "
                                  "-k PatientID=P1 -k PatientName 127.0.0.1 4242")
    failure = junit_xml(results).getroot().find(".//failure")
    assert failure is not None and "Reproduce with:" in (failure.text or "") and "findscu" in (failure.text or "")
    assert ET.tostring(junit_xml(results).getroot())


def test_a_rejected_storage_context_reproduces_with_storescu_proposing_that_syntax():
    step = StepRecord("negotiation/accept/CTImageStorage/JPEGLosslessSV1", "CT in JPEG Lossless", "PS3.8", "fail",
                      findings=[err("negotiation.declared-ts-rejected", "rejected")],
                      observations=[{"sop_class": "1.2.840.10008.5.1.4.1.1.2", "transfer_syntax": "1.2.840.10008.1.2.4.70",
                                     "role": "SCP", "declared": True, "result": 4}])
    evidence = build_evidence(step, run_of(step))
    assert "storescu -v -aet CONFORMANCE -aec PACS -xs 127.0.0.1 4242 FILE.dcm" in evidence.reproduce[1][1]
    assert "transfer-syntaxes-not-supported" in evidence.association[0]


def test_a_fuzz_step_reproduces_with_its_area_and_each_saved_case_replayed():
    crash = Finding("fuzz.device-down", Severity.ERROR, "the device stopped answering", "PS3.8 9.3",
                    details={"case": "reports/x/cases/associate-rq-crash.bin"})
    step = StepRecord("fuzz/associate-rq", "robustness: A-ASSOCIATE-RQ", "PS3.8 9.3.2", "fail", findings=[crash])
    commands = [cmd for _, cmd in build_evidence(step, run_of(step)).reproduce]
    assert commands == [
        "conformance fuzz pacs.yaml --host 127.0.0.1 --port 4242 --called-ae PACS --area associate-rq",
        "conformance fuzz --replay reports/x/cases/associate-rq-crash.bin --host 127.0.0.1 --port 4242 "
        "--called-ae PACS"]


def test_a_site_profile_filters_the_summary_to_what_matters(tmp_path):
    profile_file = tmp_path / "site.yaml"
    profile_file.write_text("sop_classes: [CTImageStorage]\ntransfer_syntaxes: [ExplicitVRLittleEndian]\n")
    profile = load_site_profile(profile_file)
    results = run_of(StepRecord("storage/store/MRImageStorage/ExplicitVRLittleEndian", "MR", "", "fail",
                                findings=[err("storage.store-failed", "MR refused")]),
                     StepRecord("storage/store/CTImageStorage/JPEG2000Lossless", "CT j2k", "", "fail",
                                findings=[err("storage.store-failed", "CT J2K refused")]),
                     StepRecord("storage/store/CTImageStorage/ExplicitVRLittleEndian", "CT", "", "pass"))
    assert build_summary(results).banner == "DEVIATES"
    filtered = build_summary(results, profile)
    assert filtered.banner == "CONFORMS" and filtered.profile is profile


def test_a_bad_site_profile_names_file_line_and_key(tmp_path):
    bad = tmp_path / "site.yaml"
    bad.write_text("sop_classes:\n  - CTImageStorag\n")
    with pytest.raises(InputError) as caught:
        load_site_profile(bad)
    text = str(caught.value.problems[0])
    assert "site.yaml:2" in text and "CTImageStorag" in text and "CTImageStorage" in text


def test_the_reproduce_pattern_selects_exactly_the_failed_step():
    from conformance.reporting.evidence import exact_pattern
    from conformance.suite import matches

    ids = ["negotiation/accept/CTImageStorage/JPEGLossless", "negotiation/accept/CTImageStorage/JPEGLosslessSV1",
           "negotiation/verification"]
    results = run_of(*[StepRecord(i, i, "", "fail") for i in ids])
    for step_id in ids:
        pattern = exact_pattern(step_id, results)
        assert [i for i in ids if matches(i, pattern)] == [step_id]
    assert exact_pattern("negotiation/verification", results) == "negotiation/verification"

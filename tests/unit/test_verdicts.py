"""The verdict rules (conformance.families.verdict) and what a run concludes from them:
each row of the table, declared refusals, set-up problems and the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.engine.events import RunStarted, StepFinished
from conformance.engine.model import Outcome
from conformance.engine.results import ResultsBuilder
from conformance.errors import InputError
from conformance.exitcodes import ExitCode
from conformance.families.verdict import RULES, Reply, Unanswered, judge, judge_declared
from conformance.services.status import classify
from conformance.statement import load_statement
from conformance.statement.model import Refusal

from tests.conftest import STATEMENTS

GET = "1.2.840.10008.5.1.4.1.2.2.3"


def test_abort_after_a_claimed_request_fails_naming_the_claim_with_a_standard_warning():
    result = judge("C-GET (StudyRootQueryRetrieveInformationModelGet)",
                   Unanswered("C-GET", Reply.ABORTED, 3.2, 0, 0))
    assert result.final_outcome() is Outcome.FAIL
    assert result.message.startswith("C-GET (StudyRootQueryRetrieveInformationModelGet) claimed; the device "
                                     "aborted the association 3 ms after the C-GET request")
    codes = {(f.code, f.severity.value) for f in result.findings}
    assert codes == {("service.aborted", "error"), ("service.abort-instead-of-status", "warning")}
    assert "PS3.4 C.4.3.1.4" in result.findings[0].reference


def test_closed_connection_is_judged_as_an_abort():
    result = judge("N-ACTION (StorageCommitmentPushModel)", Unanswered("N-ACTION", Reply.CLOSED, 1.0))
    assert result.final_outcome() is Outcome.FAIL
    assert "closed the connection 1 ms after the N-ACTION request" in result.message


def test_no_answer_within_the_timeout_is_could_not_test():
    result = judge("C-FIND (X)", Unanswered("C-FIND", Reply.NO_ANSWER))
    assert result.final_outcome() is Outcome.ERROR and not result.findings
    assert RULES[Reply.NO_ANSWER].outcome is Outcome.ERROR


def test_a_set_up_problem_wins_over_the_abort():
    result = judge("C-FIND (X)", Unanswered("C-FIND", Reply.ABORTED, 2.0), setup="set-up problem: configure it")
    assert result.final_outcome() is Outcome.SETUP and result.message == "set-up problem: configure it"
    assert not result.findings


@pytest.mark.parametrize("declared,reply,status,outcome,code", [
    (Refusal(GET, "abort"), Reply.ABORTED, None, Outcome.PASS, None),
    (Refusal(GET, "abort"), Reply.ANSWERED, 0x0000, Outcome.FAIL, "service.refused-but-performed"),
    (Refusal(GET, "abort"), Reply.ANSWERED, 0xC000, Outcome.FAIL, "service.refused-but-performed"),
    (Refusal(GET, "status", 0xA701), Reply.ANSWERED, 0xA701, Outcome.PASS, None),
    (Refusal(GET, "status", 0xA701), Reply.ANSWERED, 0xC000, Outcome.PASS, "service.refusal-differs"),
    (Refusal(GET, "status"), Reply.ABORTED, None, Outcome.PASS, "service.refusal-differs"),
    (Refusal(GET, "status"), Reply.ANSWERED, 0x0000, Outcome.FAIL, "service.refused-but-performed"),
])
def test_declared_refusals(declared, reply, status, outcome, code):
    info = classify(status, "get") if status is not None else None
    result = judge_declared("C-GET (X)", declared, reply, info, {}, "what happened")
    assert result.final_outcome() is outcome
    assert {f.code for f in result.findings} == ({code} if code else set())


def _results(*outcomes: str):
    builder = ResultsBuilder()
    builder.handle(RunStarted("r", "t", "v", {}, {}, None, [], {}))
    for i, outcome in enumerate(outcomes):
        builder.handle(StepFinished(f"s/{i}", outcome, 0.0))
    return builder.results


@pytest.mark.parametrize("outcomes,code,verdict", [
    (("pass", "skipped"), ExitCode.OK, "conforms"),
    (("skipped", "skipped"), ExitCode.COULD_NOT_TEST, "incomplete"),
    (("pass", "setup"), ExitCode.SETUP_PROBLEM, "set-up-problem"),
    (("fail", "setup"), ExitCode.DEVIATION, "deviates"),
    (("pass", "error"), ExitCode.COULD_NOT_TEST, "incomplete"),
])
def test_exit_codes(outcomes, code, verdict):
    results = _results(*outcomes)
    assert results.exit_code() is code and results.verdict() == verdict


def test_a_run_with_nothing_tested_is_not_conforms():
    results = _results("skipped")
    assert results.nothing_tested and results.exit_code() is not ExitCode.OK


def _with_services(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "st.yaml"
    source = (STATEMENTS / "orthanc-1.10.yaml").read_text()
    head, sep, tail = source.partition("\ndicomweb:")      # the services section ends there
    path.write_text(head + "\n" + text + sep + tail)
    return path


def test_statement_declares_negotiable_but_refused_services(tmp_path):
    st = load_statement(_with_services(tmp_path, "  refused:\n"
                                       "    - {sop_class: StudyRootQueryRetrieveInformationModelGet, how: abort}\n"
                                       "    - {sop_class: StorageCommitmentPushModel, how: status, status: \"0124\"}\n"))
    assert st.services.refusal(GET) == Refusal(GET, "abort")
    assert st.services.refusal("1.2.840.10008.1.20.1") == Refusal("1.2.840.10008.1.20.1", "status", 0x0124)
    assert not st.performs(GET) and st.performs("1.2.840.10008.5.1.4.1.2.2.2")
    assert st.services.query_retrieve.unknown_destination_status == 0xC000


def test_a_refused_service_must_be_declared_scp(tmp_path):
    with pytest.raises(InputError) as info:
        load_statement(_with_services(tmp_path, "  refused:\n    - {sop_class: ModalityPerformedProcedureStep, how: abort}\n"))
    [problem] = info.value.problems
    assert problem.key == "services.refused[0].sop_class" and "declared in transfer_capabilities as SCP" in problem.message
    with pytest.raises(InputError) as info:
        load_statement(_with_services(tmp_path, "  refused:\n    - {sop_class: StudyRootQueryRetrieveInformationModelGet, how: maybe}\n"))
    assert info.value.problems[0].key.startswith("services.refused[0]")


def _find(*values: str):
    from pydicom.dataset import Dataset

    from conformance.services.query import FindResult
    res = FindResult()
    for v in values:
        ds = Dataset()
        ds.StudyInstanceUID = v
        res.matches.append(ds)
    return res


def test_duplicate_answers_to_a_unique_key_are_a_failure():
    from conformance.families.query import duplicate_findings
    assert duplicate_findings(_find("1.2.3"), "StudyInstanceUID", "1.2.3", "q") == []
    [finding] = duplicate_findings(_find("1.2.3", "1.2.3", "1.2.3"), "StudyInstanceUID", "1.2.3", "q")
    assert finding.code == "find.duplicate-answers" and "3 times" in finding.message


def test_a_lower_case_value_matching_upper_case_is_a_failure():
    from conformance.families.query import case_findings
    hit = _find("1.2.3")
    [finding] = case_findings({"AccessionNumber": "a12*"}, False, hit, "StudyInstanceUID", "1.2.3", "q")
    assert finding.code == "find.case-insensitive-match" and "PS3.4 C.2.2.2.1" in finding.reference
    assert case_findings({"AccessionNumber": "a12*"}, False, _find(), "StudyInstanceUID", "1.2.3", "q") == []
    assert case_findings({"AccessionNumber": "A12*"}, True, hit, "StudyInstanceUID", "1.2.3", "q") == []

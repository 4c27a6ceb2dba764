"""AE titles (PS3.5 Table 6.2-1, VR AE) and hosts (RFC 1123 2.1, IP literals) given on the
command line: checked by one click parameter type in every command (exit 2) and by the pytest
plugin's options, with a clear, short message."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.addresses import ae_title_problem, host_problem
from conformance.cli.main import cli

from tests.conftest import STATEMENTS

REFERENCE = str(STATEMENTS / "reference-device.yaml")
SCU_STATEMENT = str(STATEMENTS / "dcmtk-storescu.yaml")


@pytest.mark.parametrize("value", ["PACS", "ANY-SCP", "A" * 16, " STORE SCP ", "a_b.c:1+~", "X"])
def test_ae_titles_of_the_default_repertoire_up_to_16_characters_are_accepted(value):
    assert ae_title_problem(value) is None


@pytest.mark.parametrize(("value", "why"), [
    ("A" * 17, "17 characters"), ("A" * 10_000, "10000 characters"), ("A\\B", "backslash"),
    ("", "spaces only"), ("    ", "spaces only"), ("PACS\n", "'\\n'"), ("ÄRZTE", "'Ä'"),
    ("A\tB", "'\\t'"), ("A\x00", "'\\x00'"),
])
def test_ae_titles_breaking_ps3_5_are_refused_saying_why(value, why):
    problem = ae_title_problem(value)
    assert problem is not None and why in problem and "PS3.5 Table 6.2-1" in problem
    assert len(problem) < 200


@pytest.mark.parametrize("value", ["127.0.0.1", "::1", "fe80::1%lo", "localhost", "pacs-01.example.org",
                                   "a" * 63 + ".example", "1host.example.", "0.0.0.0", "::"])
def test_ip_literals_and_rfc_1123_host_names_are_accepted(value):
    assert host_problem(value) is None


@pytest.mark.parametrize(("value", "why"), [
    ("a" * 70 + ".example", "70 characters, at most 63"), ("", "empty"), ("bad_host", "'bad_host'"),
    ("-pacs", "'-pacs'"), ("pacs-", "'pacs-'"), ("a..b", "empty label"), ("999.1.1.1", "IPv4"),
    ("1.2.3", "IPv4"), ("::zz", "IPv6"), ("[::1]", "IPv6"), ("host:104", "IPv6"),
    (".".join(["abcdefghi"] * 30), "299 characters, at most 253"), ("pacs example", "'pacs example'"),
])
def test_bad_hosts_are_refused_saying_why(value, why):
    problem = host_problem(value)
    assert problem is not None and why in problem and len(problem) < 300


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_the_ae_title_check_agrees_with_ps3_5_on_any_text(value):
    allowed = (len(value) <= 16 and all(" " <= c <= "~" and c != "\\" for c in value)
               and value.strip(" ") != "")
    assert (ae_title_problem(value) is None) == allowed


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_the_host_check_never_raises_and_names_the_value(value):
    problem = host_problem(value)
    assert problem is None or isinstance(problem, str)


LABEL = st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


@settings(max_examples=200, deadline=None)
@given(st.lists(LABEL, min_size=1, max_size=4).filter(lambda labels: not labels[-1].isdigit()))
def test_every_rfc_1123_host_name_is_accepted(labels):
    assert host_problem(".".join(labels)) is None


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses())
def test_every_ip_address_literal_is_accepted(address):
    assert host_problem(str(address)) is None


LONG = "A" * 10_000
CLI_CASES = [
    (["discover", "--port", "1", "--called-ae", LONG], "--called-ae"),
    (["discover", "--port", "1", "--calling-ae", "A\\B"], "--calling-ae"),
    (["discover", "--port", "1", "--host", "a" * 70 + ".example"], "--host"),
    (["diff", REFERENCE, "--port", "1", "--called-ae", "   "], "--called-ae"),
    (["diff", REFERENCE, "--port", "1", "--host", "999.1.1.1"], "--host"),
    (["run", REFERENCE, "--port", "1", "--calling-ae", "ÄRZTE"], "--calling-ae"),
    (["run", REFERENCE, "--port", "1", "--host", "bad_host"], "--host"),
    (["listen", SCU_STATEMENT, "--bind", "-x-"], "--bind"),
]


@pytest.mark.parametrize(("args", "option"), CLI_CASES, ids=[" ".join(c[0][:1] + c[0][-2:-1]) for c in CLI_CASES])
def test_every_command_refuses_a_bad_ae_title_or_host_with_exit_2(args, option):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert f"Invalid value for '{option}'" in line and len(line) < 300
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_listen_destinations_are_checked_too():
    result = CliRunner().invoke(cli, ["listen", SCU_STATEMENT, "--destination", f"{LONG}=127.0.0.1:104"])
    assert result.exit_code == 2 and "(10000 characters)' is not an AE title" in result.output
    result = CliRunner().invoke(cli, ["listen", SCU_STATEMENT, "--destination", "PACS=bad_host:104"])
    assert result.exit_code == 2 and "'bad_host' is not a host name" in result.output


@pytest.mark.parametrize(("option", "value"), [("--dicom-called-ae", LONG), ("--dicom-host", "a" * 70 + ".x")])
def test_the_pytest_plugin_refuses_a_bad_ae_title_or_host_as_a_usage_error(option, value, tmp_path):
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir",
                           str(tmp_path), "--dicom-statement", REFERENCE, f"{option}={value}"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert done.returncode == 4      # pytest's usage error
    assert "Traceback" not in done.stderr and f"argument {option}" in done.stderr
    assert "(10000 characters)" in done.stderr or "at most 63" in done.stderr

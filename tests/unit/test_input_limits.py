"""Bounded input files (conformance.limits): statements, scenarios, facts and worklist files end
with an InputError (exit 2) naming file, line and key when a limit is hit, never a traceback,
never gigabytes; long values are quoted shortened."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import limits
from conformance.cli.main import cli
from conformance.errors import InputError
from conformance.statement import load_statement
from conformance.statement.yamlsource import load_document

from tests.conftest import STATEMENTS

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The 'billion laughs' of YAML: *levels* levels of *width* aliases each."""
    lines = ["format: conformance-statement/1", 'a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"identity: *a{levels}")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def error_of(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_document(path)
    return caught.value


def test_an_alias_bomb_ends_at_once_with_the_line_and_key_that_passed_the_limit(tmp_path):
    path = write(tmp_path, alias_bomb())
    assert len(path.read_bytes()) < 600
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    problem = error_of(path).problems[0]
    assert time.monotonic() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000   # KB
    assert "aliases are expanded" in problem.message
    # 9**6 values in a6 pass the limit first: its line and key are named.
    assert (problem.line, problem.key) == (8, "a6")


def test_a_bomb_of_long_strings_is_stopped_by_the_character_limit(tmp_path):
    text = "a: &a " + "x" * 500_000 + "\nb: [" + ", ".join(["*a"] * 40) + "]\n"
    problem = error_of(write(tmp_path, text)).problems[0]
    assert "characters" in problem.message and problem.key == "b" and problem.line == 2


def count_values(data) -> int:
    """Values of plain data as the reader counts them: containers, keys and scalars."""
    if isinstance(data, dict):
        return 1 + sum(1 + count_values(v) for v in data.values())
    if isinstance(data, list):
        return 1 + sum(count_values(v) for v in data)
    return 1


def test_the_value_limit_falls_between_nine_to_the_fifth_and_nine_to_the_sixth(tmp_path):
    # Without the last line (identity: *aN) each level is there once: a5 holds 125,479 values.
    five = "\n".join(alias_bomb(levels=5).splitlines()[:-1]) + "\n"
    doc = load_document(write(tmp_path, five))
    assert 9 ** 5 < count_values(doc.data) < limits.MAX_DOCUMENT_VALUES < 9 ** 6
    six = "\n".join(alias_bomb(levels=6).splitlines()[:-1]) + "\n"
    assert error_of(write(tmp_path, six)).problems[0].key == "a6"


def test_aliases_within_the_limits_still_work(tmp_path):
    doc = load_document(write(tmp_path, alias_bomb(levels=3, width=3)))
    assert len(doc.data["a3"]) == 3 and doc.data["a3"][0][0][0] == ["lol"]


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000,
                                  "a:\n" + "".join("  " * i + "-\n" for i in range(1, 70))])
def test_nesting_deeper_than_the_limit_is_refused(tmp_path, text):
    problem = error_of(write(tmp_path, text)).problems[0]
    assert f"more than {limits.MAX_DOCUMENT_DEPTH} levels" in problem.message


def test_nesting_up_to_the_limit_is_read(tmp_path):
    depth = limits.MAX_DOCUMENT_DEPTH
    doc = load_document(write(tmp_path, "[" * depth + "]" * depth))
    assert doc.data is not None


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.write(b"a: 1\n")
        handle.truncate(50 * 1024 * 1024)       # sparse: 50 MB on disk in no time
    start = time.monotonic()
    problem = error_of(path).problems[0]
    assert time.monotonic() - start < 2
    assert f"larger than {limits.MAX_DOCUMENT_BYTES // 1024 // 1024} MiB" in problem.message and problem.file == str(path)


def test_text_that_is_not_utf8_names_the_line(tmp_path):
    problem = error_of(write(tmp_path, b"a: 1\nb: \xc3\n")).problems[0]
    assert problem.line == 2 and "not UTF-8" in problem.message


@pytest.mark.parametrize("text", ["a: " + "9" * 6000, "? [[1, 2], [3]]\n: 2\n", "a: 2001-13-45\n",
                                  "a: &a [1, *a]\n", "a: &x 1\nb: &x 2\n", "a: *nope\n",
                                  "a: &a {x: 1}\nb: {<<: [*a, *a]}\n", "a: \x00\n", "a: 1\n---\nb: 2\n"])
def test_odd_yaml_gives_an_input_error_or_data_never_another_exception(tmp_path, text):
    try:
        load_document(write(tmp_path, text))
    except InputError as exc:
        assert all("\n" not in str(p) for p in exc.problems)


def test_a_10000_character_ae_title_is_quoted_shortened(tmp_path):
    text = (STATEMENTS / "reference-device.yaml").read_text()
    path = write(tmp_path, text.replace("ae_titles: [REFERENCE]", f"ae_titles: [{'A' * 10_000}]"))
    with pytest.raises(InputError) as caught:
        load_statement(path)
    message = str(caught.value)
    assert len(message) < 300 and "(10000 characters)" in message
    assert "network.ae_titles[0]" in message


def test_a_10000_character_unknown_key_is_shortened_in_message_and_key(tmp_path):
    text = (STATEMENTS / "reference-device.yaml").read_text() + f"\n{'k' * 10_000}: 1\n"
    with pytest.raises(InputError) as caught:
        load_statement(write(tmp_path, text))
    assert len(str(caught.value)) < 400


def test_statement_check_on_an_alias_bomb_exits_2_with_one_line(tmp_path):
    path = write(tmp_path, alias_bomb())
    result = CliRunner().invoke(cli, ["statement", "check", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:8: [a6]")


def test_a_facts_file_is_read_within_the_same_limits(tmp_path):
    facts = write(tmp_path, alias_bomb(), "facts.yaml")
    result = CliRunner().invoke(cli, ["validate", "--facts", str(facts), str(tmp_path)])
    assert result.exit_code == 2 and "aliases are expanded" in result.output


def test_the_shipped_statements_are_far_within_the_limits():
    for path in STATEMENTS.glob("*.yaml"):
        assert os.path.getsize(path) < limits.MAX_DOCUMENT_BYTES // 20
        load_statement(path)


def test_shorten_keeps_short_values_and_cuts_long_ones():
    assert limits.shorten("PACS") == "PACS"
    uid = "1.2.826.0.1.3680043.9.3811.3.0.4.1234567890.1234567890.123456789"    # 64 characters
    assert limits.shorten(uid) == uid
    short = limits.shorten("A" * 10_000)
    assert len(short) < 100 and short.endswith("(10000 characters)")
    assert limits.shorten_message("x" * 10_000).endswith("(10000 characters)")
    assert len(limits.shorten_message("word " * 10_000)) <= limits.MAX_MESSAGE_LENGTH


# Property: whatever the bytes, the reader gives data or an InputError, nothing else.

YAML_PIECES = st.sampled_from([
    "a", "b:", ": ", "- ", " ", "  ", "\n", "\t", "[", "]", "{", "}", ",", "? ", "&x ", "*x", "&y ",
    "*y", "<<: ", "!!set ", "!!binary ", "!!int ", "!!map ", "!!str ", "!custom ", "'", '"', "|",
    ">-", "#", "1", "-1.5e9", "0x1F", "2001-12-14", "~", "null", "true", "---", "...", "%YAML 1.2",
    "%TAG ! tag:x,2000:", "\\", "\u00e9", "\ufeff", "\x00", "\x85", "9" * 5000,
])


def _check_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.yaml"
        path.write_bytes(data)
        try:
            load_document(path)
        except InputError as exc:
            assert exc.problems and all(p.file == str(path) for p in exc.problems)


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_give_data_or_an_input_error(data):
    _check_bytes(data)


@SETTINGS
@given(st.text(max_size=400))
def test_any_text_gives_data_or_an_input_error(text):
    _check_bytes(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.lists(YAML_PIECES, max_size=80).map("".join))
def test_yaml_shaped_text_gives_data_or_an_input_error(text):
    _check_bytes(text.encode("utf-8"))


def test_a_file_with_thousands_of_problems_prints_the_first_50_and_a_count(tmp_path):
    text = (STATEMENTS / "reference-device.yaml").read_text() + "".join(f"\nbad_{i}: 1" for i in range(70))
    result = CliRunner().invoke(cli, ["statement", "check", str(write(tmp_path, text))])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == limits.MAX_PROBLEMS_SHOWN + 1
    assert lines[-1] == "error: ... and 20 more problems (fix these first)"


def test_a_shortened_value_is_not_shortened_twice():
    once = limits.shorten_message(f"'{'A' * 10_000}' is too long")
    assert limits.shorten_message(once) == once and once.count("characters") == 1

"""`conformance report` on a results.jsonl cut anywhere (even inside a UTF-8 character) or with
garbage lines: every readable event is used, the damage is noted with its line, never a
traceback; a file with no readable run-started event is bad input (exit 2)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.cli.main import cli
from conformance.engine.results import read_jsonl
from conformance.errors import InputError
from conformance.reporting import write_reports


@pytest.fixture(scope="module")
def real_results(tmp_path_factory) -> bytes:
    """A results.jsonl of a real (short) run of the reference device, with a multi-byte
    character in it (the ISO_IR 192 patient name of the character-set step)."""
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q", "-k", "storage/character-set",
                                      "-k", "negotiation/verification"])
    assert result.exit_code == 0, result.output
    data = (out / "results.jsonl").read_bytes()
    assert any(b >= 0x80 for b in data)
    return data


def _write(folder: Path, data: bytes) -> Path:
    path = folder / "results.jsonl"
    path.write_bytes(data)
    return path


def test_a_file_cut_inside_a_multibyte_character_renders_with_a_note(real_results, tmp_path):
    cut = next(i for i, b in enumerate(real_results) if b >= 0xC2) + 1     # after the lead byte
    path = _write(tmp_path, real_results[:cut])
    damaged_line = real_results[:cut].count(b"\n") + 1
    result = CliRunner().invoke(cli, ["report", str(path)])
    assert result.exit_code == 0, result.output
    assert f"1 damaged line(s) of {path} skipped (line {damaged_line})" in result.output
    assert "did not finish" in result.output and (tmp_path / "report.html").exists()


def test_garbage_lines_in_the_middle_are_skipped_and_named(real_results, tmp_path):
    lines = real_results.split(b"\n")
    lines[2:2] = [b"\xff\xfe not even UTF-8", b"{not json", b'{"kind": "no-such-event"}', b"[1, 2]"]
    results = read_jsonl(_write(tmp_path, b"\n".join(lines)))
    assert results.damaged_line_numbers == [3, 4, 5, 6]
    assert results.complete
    # A lost line may have been a finding: the verdict cannot be "conforms".
    assert results.verdict() == "incomplete"


def test_a_line_over_the_line_limit_is_damaged_not_read_into_memory(real_results, tmp_path, monkeypatch):
    from conformance import limits
    lines = real_results.split(b"\n")
    longest = max(map(len, lines))
    monkeypatch.setattr(limits, "MAX_RESULTS_LINE_BYTES", longest + 1)
    lines.insert(1, b'{"kind": "' + b"x" * (3 * longest) + b'"}')
    results = read_jsonl(_write(tmp_path, b"\n".join(lines)))
    assert results.damaged_line_numbers == [2] and results.complete


@pytest.mark.parametrize("data", [b"", b"\n\n", b'{"kind": "nonsense"}\n', b"\xc3", b"garbage\n"])
def test_a_file_without_a_readable_run_started_event_exits_2(tmp_path, data):
    result = CliRunner().invoke(cli, ["report", str(_write(tmp_path, data))])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "not a results file" in result.output


def test_a_results_file_that_starts_with_another_event_exits_2_with_the_line(real_results, tmp_path):
    lines = real_results.split(b"\n")
    result = CliRunner().invoke(cli, ["report", str(_write(tmp_path, b"\n".join(lines[1:])))])
    assert result.exit_code == 2 and "results.jsonl:1:" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0, max_value=1), garbage=st.binary(max_size=40))
def test_any_truncation_reads_and_renders_or_is_bad_input(real_results, cut, garbage):
    """Property: the real file cut at any byte, with any tail of garbage bytes, gives results
    that render (all events before the cut used), or an InputError when nothing is left of
    its first line; never another exception."""
    end = int(cut * len(real_results))
    data = real_results[:end] + garbage
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), data)
        try:
            results = read_jsonl(path)
        except InputError:
            assert b"\n" not in real_results[:end]      # the run-started line itself is cut
            return
        assert len(results.steps) > 0
        finished = sum(s.outcome is not None for s in results.steps)
        assert finished >= real_results[:end].count(b'"kind": "step-finished"') - 1
        write_reports(results, Path(folder) / "out")


def test_an_endless_file_ends_at_the_size_limit(monkeypatch):
    from conformance import limits
    monkeypatch.setattr(limits, "MAX_RESULTS_LINE_BYTES", 1024)
    monkeypatch.setattr(limits, "MAX_RESULTS_BYTES", 1024 * 1024)
    with pytest.raises(InputError) as caught:
        read_jsonl("/dev/zero")
    assert "larger than 1,048,576 bytes" in str(caught.value)


def test_an_event_with_a_field_of_the_wrong_type_is_a_damaged_line(real_results, tmp_path):
    import json
    lines = real_results.decode("utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if '"kind": "step-finished"' in line)
    event = json.loads(lines[number])
    event["duration"] = "slow"
    lines[number] = json.dumps(event)
    path = _write(tmp_path, "\n".join(lines).encode("utf-8") + b"\n")
    result = CliRunner().invoke(cli, ["report", str(path)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert f"(line {number + 1})" in result.output


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                           max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_top_level_field_of_any_event_replaced_by_any_json_value_reads_and_renders(real_results, data):
    """Property: an event whose field holds a value of the wrong type is a damaged line,
    never a traceback in reading or rendering."""
    import json
    lines = real_results.decode("utf-8").splitlines()
    number = data.draw(st.integers(0, len(lines) - 1))
    event = json.loads(lines[number])
    event[data.draw(st.sampled_from(sorted(event)))] = data.draw(JSON_VALUES)
    lines[number] = json.dumps(event)
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), "\n".join(lines).encode("utf-8") + b"\n")
        try:
            results = read_jsonl(path)
        except InputError:
            assert number == 0
            return
        write_reports(results, Path(folder) / "out")

"""Bad input on the command line and in the files it names, run through the real `conformance`
console entry point in a subprocess (no click test runner in between), with 1 GiB of address
space: each ends with exit 2 and a one-line error, never a traceback, never a hang (every
subprocess has a 60 s timeout); a damaged results file is read, with a note.

The cases are those of the "hostile networks" issue: a 600-byte YAML alias bomb, a 50 MB
statement, a 10,000-character AE title in a statement and on the command line, a host name
with a 70-character label, an AE title with a backslash, a dotted host that is no IPv4
address, deep nesting, a facts file that is an alias bomb; and a results.jsonl cut inside a
UTF-8 character or with garbage lines.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STATEMENTS

REFERENCE = STATEMENTS / "reference-device.yaml"
ONE_GIB = 1024 ** 3


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ONE_GIB, ONE_GIB))


def conformance(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, preexec_fn=_limit_memory, check=False)


def alias_bomb() -> str:
    lines = ["format: conformance-statement/1", 'a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines + ["identity: *a9"]) + "\n"


def _bomb(folder: Path) -> list[str]:
    (folder / "bomb.yaml").write_text(alias_bomb())
    return ["statement", "check", "bomb.yaml"]


def _huge(folder: Path) -> list[str]:
    with open(folder / "huge.yaml", "wb") as handle:
        handle.write(REFERENCE.read_bytes() + b"\nx: |\n")
        handle.writelines([b"  " + b"y" * 1000 + b"\n"] * (50 * 1024))
    return ["statement", "check", "huge.yaml"]


def _long_ae_in_statement(folder: Path) -> list[str]:
    text = REFERENCE.read_text().replace("ae_titles: [REFERENCE]", f"ae_titles: [{'A' * 10_000}]")
    (folder / "long-ae.yaml").write_text(text)
    return ["statement", "check", "long-ae.yaml"]


def _deep_scenario(folder: Path) -> list[str]:
    (folder / "deep.yaml").write_text("format: conformance-scenario/1\nsteps: " + "[" * 5000 + "]" * 5000 + "\n")
    return ["scenario", "check", "deep.yaml"]


def _bomb_facts(folder: Path) -> list[str]:
    (folder / "facts.yaml").write_text(alias_bomb())
    (folder / "x.dcm").write_bytes(b"not dicom")
    return ["validate", "--facts", "facts.yaml", "x.dcm"]


CASES = {
    "a 600-byte YAML alias bomb": (_bomb, "aliases are expanded"),
    "a 50 MB statement": (_huge, "larger than 1 MiB"),
    "a 10,000-character AE title in a statement": (_long_ae_in_statement, "(10000 characters)' is too long"),
    "a YAML nesting 5000 levels deep": (_deep_scenario, "levels deep"),
    "a facts file that is an alias bomb": (_bomb_facts, "aliases are expanded"),
    "a 10,000-character --called-ae": (
        lambda f: ["discover", "--port", "104", "--called-ae", "A" * 10_000], "(10000 characters)' is not an AE title"),
    "a host name with a 70-character label": (
        lambda f: ["discover", "--port", "104", "--host", "a" * 70 + ".invalid"], "at most 63"),
    "an AE title with a backslash": (
        lambda f: ["run", str(REFERENCE), "--port", "104", "--calling-ae", "HARNESS\\1"], "backslash"),
    "a dotted host that is no IPv4 address": (
        lambda f: ["diff", str(REFERENCE), "--port", "104", "--host", "300.0.0.1"], "not a valid IPv4 address"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_input_exits_2_with_one_error_line_and_no_traceback(case, tmp_path):
    make, expected = CASES[case]
    done = conformance(*make(tmp_path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.lower().startswith("error:")]
    assert len(errors) == 1, done.stderr[-2000:]
    assert expected in errors[0] and len(errors[0]) < 400


@pytest.fixture(scope="module")
def results_file(tmp_path_factory) -> bytes:
    """results.jsonl of a short real run of the reference device, with a multi-byte character."""
    out = tmp_path_factory.mktemp("run")
    done = conformance("demo", "--out", str(out), "-q", "-k", "storage/character-set", cwd=out)
    assert done.returncode == 0, done.stderr[-2000:]
    return (out / "results.jsonl").read_bytes()


def test_a_results_file_cut_inside_a_utf8_character_is_reported_with_a_note(results_file, tmp_path):
    cut = next(i for i, b in enumerate(results_file) if b >= 0xC2) + 1
    (tmp_path / "results.jsonl").write_bytes(results_file[:cut])
    done = conformance("report", "results.jsonl", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "damaged line(s) of results.jsonl skipped (line" in done.stderr
    assert (tmp_path / "report.html").exists()


def test_garbage_lines_in_a_results_file_are_skipped_and_named(results_file, tmp_path):
    lines = results_file.split(b"\n")
    lines.insert(1, b"\xff\xfe\x00 garbage")
    (tmp_path / "results.jsonl").write_bytes(b"\n".join(lines))
    done = conformance("report", "results.jsonl", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "skipped (line 2)" in done.stderr and "INCOMPLETE" in done.stdout + done.stderr

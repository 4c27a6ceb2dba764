"""Archive-mode validation: schedulers agree, killed runs resume, every input kind works."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.archive.aggregate import summarize
from conformance.archive.listing import Source
from conformance.archive.run import validate_archive
from conformance.archive.schedulers import DaskScheduler, InProcess, LocalProcesses
from conformance.archive.store import ResultStore, iter_records
from conformance.cli.main import cli
from tests.iod import corpus

NOT_DICOM = ("notes.txt", "sub/empty.dcm")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The IOD test corpus (clean and defect files) plus two non-DICOM files in a sub-folder."""
    root = tmp_path_factory.mktemp("archive")
    corpus.build_corpus(root / "corpus")
    (root / "notes.txt").write_text("not DICOM\n")
    (root / "sub").mkdir()
    (root / "sub" / "empty.dcm").write_bytes(b"")
    return root


def _records(path: Path) -> dict[str, dict]:
    """Records by file, without the timing (the only field that may differ)."""
    out = {}
    for rec in iter_records(str(path)):
        rec.pop("ms", None)
        out[rec["file"]] = rec
    return out


def _run(sources, results: Path, scheduler) -> dict[str, dict]:
    try:
        with ResultStore(str(results)) as store:
            validate_archive(sources, store, scheduler, batch_size=5)
    finally:
        scheduler.close()
    return _records(results)


def test_local_cluster_gives_the_same_findings_as_local_processes(archive, tmp_path):
    sources = [Source("path", str(archive))]
    local = _run(sources, tmp_path / "local.jsonl", LocalProcesses(2))
    dask = _run(sources, tmp_path / "dask.jsonl", DaskScheduler("local:2", processes=False))
    assert len(local) == sum(1 for _ in archive.rglob("*") if _.is_file())
    assert local == dask
    assert any(r["errors"] for r in local.values())  # the corpus has defects to compare


def test_in_process_gives_the_same_findings_as_local_processes(archive, tmp_path):
    sources = [Source("path", str(archive))]
    assert _run(sources, tmp_path / "a.jsonl", InProcess()) == \
        _run(sources, tmp_path / "b.jsonl", LocalProcesses(2))


def test_non_dicom_files_are_counted_never_fatal(archive, tmp_path):
    recs = _run([Source("path", str(archive))], tmp_path / "r.jsonl", InProcess())
    not_dicom = sorted(os.path.relpath(f, archive) for f, r in recs.items()
                       if r["status"] == "not-dicom")
    assert not_dicom == sorted(NOT_DICOM)
    s = summarize(iter_records(str(tmp_path / "r.jsonl")))
    assert s.status["not-dicom"] == 2
    assert s.dicom == s.files - 2
    assert s.verdict == "not fit"  # the corpus holds truncated files: they block migration
    assert "file.truncated" in s.codes and s.codes["file.truncated"].blocker


def _cli(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["validate", *args], input=stdin)


def test_stdin_and_list_file_list_the_same_files_as_the_folder(archive, tmp_path):
    files = sorted(str(p) for p in archive.rglob("*") if p.is_file())
    r1 = _cli("-", "--results", str(tmp_path / "stdin.jsonl"), "-j", "1",
              stdin="\n".join(files) + "\n")
    assert r1.exit_code == 1, r1.output  # the corpus has errors
    listing = tmp_path / "list.txt"
    # A list file may name folders too, and carry comments and blank lines.
    listing.write_text(f"# the archive\n{archive / 'corpus'}\n\n{archive / 'notes.txt'}\n"
                       f"{archive / 'sub' / 'empty.dcm'}\n")
    r2 = _cli("--from-list", str(listing), "--results", str(tmp_path / "list.jsonl"), "-j", "2")
    assert r2.exit_code == 1, r2.output
    r3 = _cli(str(archive), "--results", str(tmp_path / "dir.jsonl"), "-j", "2")
    by_stdin = _records(tmp_path / "stdin.jsonl")
    assert sorted(by_stdin) == files
    assert by_stdin == _records(tmp_path / "list.jsonl") == _records(tmp_path / "dir.jsonl")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["files"] == len(files) and report["status"]["not-dicom"] == 2
    assert (tmp_path / "junit.xml").read_text().count("<testcase") > 3
    assert "to migrate" in (tmp_path / "report.html").read_text()
    assert r3.exit_code == 1


def test_a_rerun_skips_recorded_files_and_force_validates_again(archive, tmp_path):
    results = str(tmp_path / "r.jsonl")
    first = _cli(str(archive), "--results", results, "-j", "1")
    n = len(list(iter_records(results)))
    again = _cli(str(archive), "--results", results, "-j", "1")
    assert "0 file(s) validated" in again.output and f"{n} resumed" in again.output
    assert len(list(iter_records(results))) == n
    forced = _cli(str(archive), "--results", results, "-j", "1", "--force")
    assert f"{n} file(s) validated" in forced.output
    assert len(list(iter_records(results))) == n
    assert first.exit_code == again.exit_code == forced.exit_code == 1


def test_a_killed_run_resumes_and_ends_with_the_same_results(archive, tmp_path):
    big = tmp_path / "big"
    for i in range(12):  # ~550 files: long enough to kill the run mid-way
        (big / f"copy{i}").mkdir(parents=True)
        for f in (archive / "corpus").iterdir():
            os.link(f, big / f"copy{i}" / f.name)
    total = sum(1 for _ in big.rglob("*.dcm"))
    reference = _run([Source("path", str(big))], tmp_path / "ref.jsonl", LocalProcesses(2))
    results = tmp_path / "killed.jsonl"
    cmd = [sys.executable, "-m", "conformance", "validate", str(big), "--results",
           str(results), "-j", "2", "--batch-size", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    recorded = results.read_bytes().count(b"\n")
    assert 0 < recorded < total
    with results.open("a") as fp:
        fp.write('{"file": "/half/a/line')  # as if killed in the middle of a write
    resumed = _cli(str(big), "--results", str(results), "-j", "2", "--batch-size", "4")
    assert resumed.exit_code == 1
    assert f"{total - recorded} file(s) validated" in resumed.output
    assert _records(results) == reference
    assert sum(1 for _ in iter_records(str(results))) == total  # nothing twice


def test_bad_dask_address_and_missing_results_are_bad_input(archive, tmp_path):
    r = _cli(str(archive), "--dask", "local:x", "--results", str(tmp_path / "r.jsonl"))
    assert r.exit_code == 2 and "local:N" in r.output
    r = _cli("-", stdin="")
    assert r.exit_code == 2 and "--results" in r.output
    r = _cli(str(tmp_path / "nothing-here"), "--results", str(tmp_path / "r.jsonl"))
    assert r.exit_code == 2


def test_only_non_dicom_files_is_bad_input(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    r = _cli(str(tmp_path / "a.txt"), "--results", str(tmp_path / "r.jsonl"), "-j", "1")
    assert r.exit_code == 2 and "no DICOM file" in r.output


def test_a_file_name_that_is_not_utf8_is_validated_and_resumed(archive, tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    raw_name = os.fsencode(str(folder)) + b"/caf\xe9.dcm"
    with open(archive / "corpus" / "clean-ct.dcm", "rb") as src, open(raw_name, "wb") as dst:
        dst.write(src.read())
    results = str(tmp_path / "r.jsonl")
    first = _cli(str(folder), "--results", results, "-j", "1")
    assert first.exit_code == 0, first.output
    (rec,) = iter_records(results)
    assert os.fsencode(rec["file"]) == raw_name and rec["status"] == "dicom"
    again = _cli(str(folder), "--results", results, "-j", "1")
    assert "0 file(s) validated" in again.output and "1 resumed" in again.output
    assert "caf\ufffd.dcm" in (tmp_path / "report.json").read_text(encoding="utf-8") or \
        "caf\\ufffd.dcm" in (tmp_path / "report.json").read_text(encoding="utf-8")


def test_progress_shows_counts_and_an_eta_once_the_total_is_known():
    from conformance.archive.run import Progress

    p = Progress(validated=50, already_done=10, total=110, started=time.monotonic() - 10)
    line = p.line()
    assert "validated 50/100" in line and "10 already in the results" in line
    assert "5 files/s" in line and "ETA 0:10" in line
    assert "ETA" not in Progress(validated=5, started=time.monotonic() - 1).line()


def test_an_unreachable_or_malformed_dask_address_is_a_clear_error(archive, tmp_path):
    from conformance.archive.schedulers import SchedulerError
    from conformance.testing import free_port

    with pytest.raises(SchedulerError, match="cannot reach the Dask scheduler"):
        DaskScheduler(f"tcp://127.0.0.1:{free_port()}", timeout=1)
    r = _cli(str(archive), "--dask", "nonsense://x", "--results", str(tmp_path / "r.jsonl"))
    assert r.exit_code == 2 and "tcp://HOST:PORT" in r.output


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly_and_keeps_the_results(archive, tmp_path):
    """Ctrl-C in the middle of a run: the results so far stay, the reports say so, no
    traceback.  The paths come on stdin, kept open until the run has exited, so that only
    the interrupt can end the run, however fast it validates.  The run starts with SIGINT's
    default action, as from a terminal: a suite launched as a background job of a
    non-interactive shell inherits SIGINT ignored (POSIX), and Python then keeps ignoring it."""
    files = sorted(str(f) for f in (archive / "corpus").iterdir())
    results = tmp_path / "r.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "validate", "-",
                             "--results", str(results), "-j", "2", "--batch-size", "4"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, text=True,
                            preexec_fn=_sigint_default)
    assert proc.stdin is not None
    try:
        proc.stdin.write("\n".join(files) + "\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        proc.wait(timeout=60)  # with stdin still open: only the interrupt ends the run
        proc.stdin.close()
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1, err  # the corpus has errors: they win over "not finished" (3)
    assert "Traceback" not in err and "interrupted" in err
    recorded = sum(1 for _ in iter_records(str(results)))
    assert recorded >= 20
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["files"] == recorded and report["run"]["complete"] is False


def test_dask_tasks_join_batches_lazily_and_keep_every_file():
    """Batches are joined into tasks of at least N files (the scheduler's cost is per task),
    pulled from the listing one at a time, each file once and in order."""
    from conformance.archive.schedulers import joined

    pulled: list[int] = []

    def batches():
        for i in range(10):
            pulled.append(i)
            yield [f"f{i}-{j}" for j in range(3)]

    it = joined(batches(), 7)
    first = next(it)
    assert len(first) == 9 and pulled == [0, 1, 2]  # lazily: only what the first task needs
    rest = list(it)
    assert [len(b) for b in rest] == [9, 9, 3]
    assert first + [f for b in rest for f in b] == [f"f{i}-{j}" for i in range(10) for j in range(3)]

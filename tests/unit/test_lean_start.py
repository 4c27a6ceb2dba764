"""conformance.cli.lean: modules kept out of the validate command's process, and modules
deferred until first use.  Each case runs in a fresh interpreter (the modules are already
imported in pytest's)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_deferred_module_runs_on_first_use_of_a_missing_attribute() -> None:
    out = _fresh("""
        import sys
        from conformance.cli.lean import defer_modules
        defer_modules(["urllib.request"])
        import urllib.request
        import urllib.request  # again: Python 3.11 reads __spec__ here; must not run it
        from importlib.machinery import SourceFileLoader
        print(type(urllib.request).__name__, "http.client" in sys.modules,
              urllib.request.__name__, urllib.request.__spec__.name)
        opener = urllib.request.build_opener  # the first missing attribute: runs the code
        print(type(urllib.request).__name__, "http.client" in sys.modules, callable(opener),
              isinstance(urllib.request.__loader__, SourceFileLoader),
              urllib.request.__spec__.loader is urllib.request.__loader__)
        from urllib.request import Request
        print(Request("http://127.0.0.1/").host, sys.modules["urllib.request"] is urllib.request)
        try:
            urllib.request.no_such_name
        except AttributeError as exc:
            print("AttributeError", exc)
        print(any(type(f).__name__ == "_DeferringFinder" for f in sys.meta_path))
        """).splitlines()
    assert out[0] == "_DeferredModule False urllib.request urllib.request"
    assert out[1] == "module True True True True"
    assert out[2] == "127.0.0.1 True"
    assert out[3].startswith("AttributeError") and "no_such_name" in out[3]
    assert out[4] == "False"  # the finder leaves once every deferred name is found


def test_a_from_import_of_a_deferred_module_runs_it() -> None:
    out = _fresh("""
        from conformance.cli.lean import defer_modules
        defer_modules(["urllib.request"])
        from urllib.request import urlopen
        import urllib.request
        print(urlopen.__module__, type(urllib.request).__name__)
        """)
    assert out.split() == ["urllib.request", "module"]


def test_lean_start_keeps_pydicom_whole_for_what_the_user_reads() -> None:
    """After lean_start pydicom reads files the same; its examples and download helper still
    work when used; the pixel libraries stay out."""
    out = _fresh("""
        import sys
        from conformance.cli.lean import lean_start
        print(lean_start())
        import pydicom
        print(type(pydicom.examples).__name__, type(sys.modules["urllib.request"]).__name__,
              sys.modules.get("numpy"))
        ds = pydicom.dcmread(pydicom.examples.get_path("ct"))
        print(ds.PatientName, pydicom.examples.ct.SOPInstanceUID == ds.SOPInstanceUID,
              type(pydicom.examples).__name__)
        from pydicom.data.download import data_path_with_download
        import pydicom.data.download as dl
        print(callable(dl.urllib.request.urlopen), callable(data_path_with_download))
        print(type(sys.modules["hashlib"]).__name__, type(sys.modules["secrets"]).__name__)
        from pydicom.uid import generate_uid
        import hashlib, secrets
        print(generate_uid(entropy_srcs=["a"]) == "1.2.826.0.1.3680043.8.498." +
              str(int(hashlib.sha512(b"a").hexdigest(), 16))[:64 - 26],
              generate_uid().startswith("1.2.826.0.1.3680043.8.498."), type(secrets).__name__)
        print(lean_start())  # pydicom imported: too late, nothing done
        """).splitlines()
    assert out[0] == "True"
    assert out[1] == "_DeferredModule _DeferredModule None"
    assert out[2] == "CompressedSamples^CT1 True module"
    assert out[3] == "True True"
    assert out[4] == "_DeferredModule _DeferredModule"  # until generate_uid uses them
    assert out[5] == "True True module"
    assert out[6] == "False"


def test_lean_start_pauses_the_collector_until_start_up_is_done() -> None:
    out = _fresh("""
        import gc
        from conformance.cli.lean import lean_start, start_up_done
        print(lean_start(), gc.isenabled())
        start_up_done()
        print(gc.isenabled())
        start_up_done()  # once only
        print(gc.isenabled())
        """).split()
    assert out == ["True", "False", "True", "True"]


def test_lean_start_leaves_a_collector_the_caller_disabled_disabled() -> None:
    out = _fresh("""
        import gc
        gc.disable()
        from conformance.cli.lean import lean_start, start_up_done
        print(lean_start())
        start_up_done()
        print(gc.isenabled())
        """).split()
    assert out == ["True", "False"]


def test_the_console_validate_and_its_workers_collect_garbage(tmp_path) -> None:
    """The collector paused for the start-up runs again in the command and in every worker
    it forks (each file's part of the report here says whether it did)."""
    import pydicom

    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    files = [str(folder / n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm",
                                       "test-SR.dcm", "waveform_ecg.dcm")]
    for jobs in ("2", "1"):
        out = _fresh(f"""
            import gc, json, sys
            from conformance.cli import main, validate_cmd
            def probe(path):
                return path, json.dumps(gc.isenabled()), 0, None
            validate_cmd._rendered = probe
            sys.argv = ["conformance", "validate", "--jobs", "{jobs}", "--format", "json",
                        *{files!r}]
            try:
                main.main()
            except SystemExit:
                pass
            print()
            print("parent", gc.isenabled())
            """)
        assert out.count("true") == len(files) and "false" not in out, out
        assert out.rstrip().endswith("parent True"), out

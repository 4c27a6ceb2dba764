"""The validator's fast paths give what the plain code gives: findings built without
``Finding.__init__``, the per-rules check plans (facts keys without item indices), the
memo of string value checks, the byte scan over an mmap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from conformance.findings import Finding, Severity
from conformance.iod import elements, modules, validator
from conformance.iod.encoding import scan


def test_fast_finding_equals_a_constructed_one() -> None:
    assert validator._FAST_FINDING
    out = validator._Collector("a.dcm")
    out.iod = "CT Image"
    out.add("x.code", Severity.WARNING, "msg", "PS3.3 A", "(0008,0016)", module="SOP Common",
            details={"k": 1})
    made = Finding("x.code", Severity.WARNING, "msg", reference="PS3.3 A", tag="(0008,0016)",
                   module="SOP Common", iod="CT Image", source="a.dcm", details={"k": 1})
    assert out.findings == [made]
    assert repr(out.findings[0]) == repr(made) and type(out.findings[0]) is Finding


def test_generic_prefix_matches_the_regex_form() -> None:
    path = "(0040,0275)[12].(0008,1110)[0]."
    assert modules._generic(path) + "(0008,1150)" == modules._generic(path + "(0008,1150)")
    assert modules._generic(path) == "(0040,0275)[].(0008,1110)[]."


def test_plan_is_rebuilt_for_another_rules_tuple_with_a_reused_id() -> None:
    from conformance.standard.iod_index import load_index

    iod = load_index().iod_for_sop_class("1.2.840.10008.5.1.4.1.1.2")
    assert iod is not None
    mod = iod.modules[0].module
    first = modules._plan(mod.attributes, mod, "", iod, {})
    assert [p[1] for p in first] == [r.tag for r in mod.attributes
                                     if r.type != "3" or modules._checked_when_present(r)]
    assert all(p[4] == f"{mod.key}:{elements.tag_str(p[1])}" for p in first)
    # A stale entry under the same key (as after an id is reused) is not trusted.
    key = (id(mod.attributes), mod.key, "", id(iod))
    modules._PLANS[key] = ((), iod, ())
    assert modules._plan(mod.attributes, mod, "", iod, {}) == first


def test_plans_leave_out_only_type_3_rows_with_nothing_to_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A type 3 row stays in a plan when a present attribute has Items, enumerated values
    or defined terms to check; the others (never reported, present or absent) are left
    out, in table order; a row the IOD makes type 1 or 2 stays whatever it holds."""
    from conformance.standard.iod_index import load_index

    iod = load_index().iod_for_sop_class("1.2.840.10008.5.1.4.1.1.2")
    assert iod is not None
    overrides = modules.type_overrides(iod)  # (the IOD's types: Patient Position is 2C)
    kept = dropped = 0
    for use in iod.modules:
        mod = use.module
        plan = modules._plan(mod.attributes, mod, "", iod, overrides)
        rows = {id(p[0]) for p in plan}
        for rule in mod.attributes:
            atype = overrides.get((mod.key, rule.tag), rule.type)
            checked = bool(rule.children) or rule.enumerated is not None or \
                rule.defined is not None or rule.tag in modules.FUNCTIONAL_GROUP_SEQUENCES
            assert (id(rule) in rows) == (atype != "3" or checked), (mod.key, rule.tag)
            kept += atype == "3" and checked
            dropped += atype == "3" and not checked
        assert [p[0] for p in plan] == [r for r in mod.attributes if id(r) in rows]
    assert kept and dropped
    mod = next(u.module for u in iod.modules
               if any(r.type == "3" and not modules._checked_when_present(r)
                      for r in u.module.attributes))
    row = next(r for r in mod.attributes
               if r.type == "3" and not modules._checked_when_present(r))
    monkeypatch.setattr(modules, "_PLANS", {})  # (plans are kept per IOD)
    plan = modules._plan(mod.attributes, mod, "", iod, {(mod.key, row.tag): "1"})
    assert [p[3] for p in plan if p[0] is row] == ["1"]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_string_memo_gives_the_same_findings_twice() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^John^^^^^"  # too many components
    ds.StudyDate = "20241301"  # month 13
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    elements._STRING_MEMO.clear()
    first = validator.validate(ds)
    second = validator.validate(ds)
    assert first == second
    assert {f.code for f in first} >= {"vr.invalid-format", "vr.pn-components"}


def test_scan_reads_bytes_and_mmap_alike(tmp_path) -> None:
    import mmap
    import struct

    # Two elements out of order, explicit VR little endian.
    data = (struct.pack("<HH2sH", 0x0010, 0x0020, b"LO", 2) + b"ID"
            + struct.pack("<HH2sH", 0x0010, 0x0010, b"PN", 4) + b"Doe ")
    p = tmp_path / "ds.bin"
    p.write_bytes(data)
    found: list[list[object]] = [[], []]
    scan(data, 0, len(data), False, True, lambda *a: found[0].append(a))
    with open(p, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
        scan(m, 0, len(data), False, True, lambda *a: found[1].append(a))
    assert found[0] == found[1] and found[0][0][0] == "encoding.tag-order"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_element_memo_keeps_each_path() -> None:
    from pydicom.sequence import Sequence

    item = Dataset()
    item.StudyDate = "20241301"
    ds = Dataset()
    ds.StudyDate = "20241301"
    ds.ReferencedStudySequence = Sequence([item])
    elements._ELEMENT_MEMO.clear()
    first = [(f.code, f.tag) for f in validator.validate(ds) if f.code == "vr.invalid-format"]
    again = [(f.code, f.tag) for f in validator.validate(ds) if f.code == "vr.invalid-format"]
    assert first == again == [("vr.invalid-format", "(0008,0020)"),
                              ("vr.invalid-format", "(0008,1110)[0].(0008,0020)")]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_element_memo_of_private_elements_keeps_creators_and_declarations() -> None:
    """Private elements' findings are remembered like standard ones; whether the element has
    a creator is still judged per data set, and one declared in a statement is checked
    against its declaration, not recalled."""
    from types import SimpleNamespace

    from pydicom.sequence import Sequence

    item = Dataset()
    item.add_new(0x00091001, "DA", "20241301")  # no creator in this item
    ds = Dataset()
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    ds.add_new(0x00091001, "DA", "20241301")
    ds.ReferencedStudySequence = Sequence([item])
    elements._ELEMENT_MEMO.clear()
    for _ in range(2):
        found = sorted((f.code, f.tag) for f in validator.validate(ds)
                       if f.code.startswith(("vr.", "private.")))
        assert found == [("private.no-creator", "(0008,1110)[0].(0009,1001)"),
                         ("vr.invalid-format", "(0008,1110)[0].(0009,1001)"),
                         ("vr.invalid-format", "(0009,1001)")]
    declared = SimpleNamespace(creator="ACME 1.0", group=0x0009, element=0x01, vr="TM", vm="1")
    codes = {(f.code, f.tag) for f in validator.validate(ds, private_attributes=[declared])}
    assert ("private.vr-mismatch", "(0009,1001)") in codes


def test_lazy_rule_children_equal_the_eager_rows() -> None:
    import pickle

    from conformance.standard.iod_index import AttributeRule, StandardIndex, load_index

    index = load_index()
    fresh = StandardIndex({"about": index.about, "sop_classes": index.sop_classes,
                           "iods": index._raw_iods, "modules": index._raw_modules,
                           "sequences": index._raw_sequences,
                           "terms": [list(t) for t in index._terms],
                           "conditions": [{"text": c.text, "expr": c.expr}
                                          for c in index._conditions]}, index.path)
    iod = fresh.iod_for_sop_class("1.2.840.10008.5.1.4.1.1.2")
    assert iod is not None
    seq = next(a for u in iod.modules for a in u.module.attributes
               if a.__dict__.get("_children", ()) is None)  # a sequence row, not built yet
    kids = seq.children
    assert kids and all(isinstance(k, AttributeRule) for k in kids)
    assert seq.__dict__["_children"] is kids and seq.children is kids  # built once
    plain = pickle.loads(pickle.dumps(seq))
    assert type(plain) is AttributeRule and plain == seq and seq == plain
    assert hash(plain) == hash(seq) and repr(plain) == repr(seq)


_TEXT = st.text(max_size=8)
_FINDINGS = st.lists(st.builds(
    Finding, _TEXT, st.sampled_from(list(Severity)), _TEXT,
    reference=st.none() | _TEXT, tag=st.none() | _TEXT, module=st.none() | _TEXT,
    iod=st.none() | _TEXT, source=st.none() | _TEXT,
    details=st.dictionaries(_TEXT, st.none() | st.integers() | _TEXT
                            | st.lists(st.integers(), max_size=3), max_size=3)), max_size=4)


@given(st.lists(st.tuples(_TEXT, st.none() | _FINDINGS), max_size=4),
       st.dictionaries(_TEXT, _TEXT, max_size=2))
def test_report_json_is_the_findings_one_per_line(results, reasons) -> None:
    """as_json is valid JSON holding exactly each file's findings (``to_dict``), each finding
    on a line of its own."""
    import json

    from conformance.iod.report import as_json

    text = as_json(results, reasons)
    expected = []
    for path, findings in results:
        entry = {"file": path, "skipped": findings is None,
                 "findings": [f.to_dict() for f in findings or []]}
        if findings is None:
            entry["skip_reason"] = reasons.get(path) or "not a DICOM file"
        expected.append(entry)
    assert json.loads(text) == expected
    lines = [line for line in text.splitlines() if line.lstrip().startswith('{"code": ')]
    assert len(lines) == sum(len(f or []) for _, f in results)


def test_report_finding_dict_is_to_dict() -> None:
    from conformance.iod.report import _finding_dict

    for f in (Finding("a", Severity.ERROR, "m"),
              Finding("b", Severity.INFO, "m", reference="PS3.5", tag="(0008,0016)",
                      module="M", iod="I", source="s", details={"x": [1, 2], "y": {"z": 1}})):
        assert _finding_dict(f) == f.to_dict()
        assert list(_finding_dict(f)) == list(f.to_dict())


def test_report_finding_json_is_the_encoded_finding() -> None:
    """A finding's JSON line, remembered per content apart from the source, is the text the
    encoder gives for the whole finding: first time and again, for another source, without
    one, with details of other types that compare equal (1, 1.0, True) or not hashable."""
    from conformance.iod import report

    report._JSON_MEMO.clear()
    seen = []
    for source in ("a.dcm", "b \"quoted\" \u00e9.dcm", None, "", "a.dcm"):
        for details in ({}, {"fact": "k", "condition": "Required if x"}, {"n": 1},
                        {"n": 1.0}, {"n": True}, {"n": None}, {"allowed": ["A", "B"]}):
            for tag in ("(0018,0050)", None, ""):
                f = Finding("iod.x", Severity.INFO, "type 1C \"q\"", reference="PS3.3 C.8",
                            tag=tag, module="CT Image", iod="CT Image", source=source,
                            details=details)
                seen.append(report._finding_json(f))
                assert seen[-1] == report._scalar(report._finding_dict(f)), (source, details)
    assert len(set(seen)) < len(seen) and report._JSON_MEMO  # (repeats were remembered)


def test_validation_worker_settings() -> None:
    """A validation worker collects less often, skips pydicom's value checks, parses sequence
    values with the direct reader, keeps the time limit's signal handler and ignores Python's
    warnings for good."""
    import gc
    import warnings

    from pydicom import config

    from conformance.cli.validate_cmd import _init_worker
    from conformance.iod.warm import GC_YOUNG

    import signal

    from pydicom import values
    from pydicom.valuerep import VR

    from conformance.iod import raw_dataset, validator

    before = gc.get_threshold()
    mode = config.settings._reading_validation_mode
    converter = values.converters[VR.SQ]
    handler = signal.getsignal(signal.SIGALRM)
    filters = list(warnings.filters)
    try:
        _init_worker({})
        assert gc.get_threshold() == (GC_YOUNG,) + before[1:]
        assert config.settings.reading_validation_mode == config.IGNORE
        assert values.converters[VR.SQ] is raw_dataset.convert_sequence
        assert signal.getsignal(signal.SIGALRM) is validator._alarm and validator._ALARM_KEPT
        assert validator._WARNINGS_IGNORED and warnings.filters[0][0] == "ignore"
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("pydicom would say this", stacklevel=1)  # ignored here
        assert caught == []
    finally:  # this process is pytest's, not a worker
        gc.set_threshold(*before)
        config.settings._reading_validation_mode = mode
        values.converters[VR.SQ] = converter
        signal.signal(signal.SIGALRM, handler)
        validator._ALARM_KEPT = False
        warnings.filters[:] = filters
        warnings._filters_mutated()  # type: ignore[attr-defined]
        validator._WARNINGS_IGNORED = False


def test_warm_up_imports_what_a_validation_worker_uses() -> None:
    """Workers fork after ``warm_up``: a module first imported while validating or rendering
    is imported again in every worker (and compiled where there is no byte-code cache)."""
    import subprocess
    import sys
    from pathlib import Path

    import pydicom

    files = Path(pydicom.__file__).parent / "data" / "test_files"
    names = ["CT_small.dcm", "test-SR.dcm", "dicomdirtests/DICOMDIR", "image_dfl.dcm",
             "no_meta.dcm", "rtplan_truncated.dcm", "JPEG2000.dcm", "MR_small_bigendian.dcm",
             "chr_japanese.dcm", "waveform_ecg.dcm"]
    code = (
        "import sys\n"
        "from conformance.cli.lean import lean_start\n"
        "from conformance.cli.validate_cmd import _init_worker, "
        "_rendered, _validate_one\n"
        "lean_start()\n"
        "from conformance.iod.warm import warm_up\n"
        "warm_up()\n"
        "_init_worker({})\n"
        "from conformance.cli.lean import start_up_done\n"
        "start_up_done()\n"
        "before = set(sys.modules)\n"
        "for p in sys.argv[1:]:\n"
        "    _rendered(p)\n"
        "    _validate_one(p)\n"
        "print(sorted(set(sys.modules) - before))\n"
        "print('conformance.standard.condition_text' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code, *(str(files / n) for n in names)],
                          capture_output=True, text=True, timeout=120, check=True)
    # Nothing imported while validating; the condition prose parser (index builds) not at all.
    assert done.stdout.split("\n")[:2] == ["[]", "False"], done.stdout


def test_interned_tags_are_shared_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydicom.tag import BaseTag

    monkeypatch.setattr(elements, "INTERNED_TAGS", {})
    monkeypatch.setattr(elements, "_MAX_TAGS", 2)
    first = elements.interned(0x00100010)
    assert type(first) is BaseTag and first == 0x00100010
    assert elements.interned(0x00100010) is first
    elements.interned(0x00100020)
    third = elements.interned(0x00100030)            # the table is full: a fresh tag each time
    assert third == 0x00100030 and elements.interned(0x00100030) is not third
    assert len(elements.INTERNED_TAGS) == 2


def test_the_pools_result_pipe_holds_a_chunk_of_report_parts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """validate widens its pool's result pipe (Linux F_SETPIPE_SZ), so that a worker does not
    wait for the parent within a chunk; a pool without that pipe, or a size the system
    refuses, leaves things as they are."""
    import errno
    import fcntl
    import os
    from multiprocessing import get_context
    from pathlib import Path

    from conformance.cli import validate_cmd

    allowed = (os.geteuid() == 0 or  # CAP_SYS_RESOURCE passes the system's maximum
               int(Path("/proc/sys/fs/pipe-max-size").read_text()) >= validate_cmd.RESULT_PIPE_BYTES)
    pool = get_context("fork").Pool(1)
    try:
        fd = pool._outqueue._reader.fileno()  # type: ignore[attr-defined]
        before = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
        validate_cmd._widen_result_pipe(pool)
        widened = fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
        if allowed:
            assert widened == validate_cmd.RESULT_PIPE_BYTES > before
        else:
            assert widened == before
        assert pool.apply(len, ("x" * 300_000,)) == 300_000  # the pipe still carries results

        def refused(*args: object) -> int:
            raise OSError(errno.EPERM, "over the user's pipe limit")

        with monkeypatch.context() as patched:
            patched.setattr(fcntl, "fcntl", refused)
            validate_cmd._widen_result_pipe(pool)  # no error
        assert fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) == widened
    finally:
        pool.terminate()
        pool.join()
    validate_cmd._widen_result_pipe(object())  # no _outqueue: nothing to do


def test_the_console_validate_widens_its_pools_result_pipe() -> None:
    """The pool's result pipe holds a chunk of report parts when the workers start sending
    (conformance.cli.validate_cmd._widen_result_pipe)."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    import pydicom

    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    files = [str(folder / n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm",
                                       "test-SR.dcm")]
    code = textwrap.dedent(f"""
        import fcntl, sys
        from conformance.cli import main, validate_cmd
        real = validate_cmd.get_context
        class Context:
            def __init__(self, kind):
                self.real = real(kind)
            def Pool(self, *args, **kwargs):
                pool = self.real.Pool(*args, **kwargs)
                imap = pool.imap_unordered
                def sized(*a, **k):
                    fd = pool._outqueue._reader.fileno()
                    print("pipe", fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ), file=sys.stderr)
                    return imap(*a, **k)
                pool.imap_unordered = sized
                return pool
        validate_cmd.get_context = Context
        sys.argv = ["conformance", "validate", "--jobs", "2", "--format", "json", *{files!r}]
        try:
            main.main()
        except SystemExit:
            pass
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    from conformance.cli.validate_cmd import RESULT_PIPE_BYTES
    assert f"pipe {RESULT_PIPE_BYTES}" in done.stderr, done.stderr

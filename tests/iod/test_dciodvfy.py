"""Agreement with the reference validator dciodvfy (dicom3tools) on the deterministic corpus.

These tests need /usr/bin/dciodvfy and fail (never skip) when it is missing.
"""

from __future__ import annotations

import pytest

from conformance.findings import Severity
from conformance.iod import synthesize, validate_file
from conformance.standard.iod_index import load_index
from tests.iod import corpus


@pytest.mark.parametrize("name", sorted(corpus.CLEAN))
def test_clean_instances_are_clean_for_dciodvfy_too(built_corpus, dciodvfy, name):
    clean, _ = built_corpus
    assert dciodvfy(clean[name]) == []


@pytest.mark.parametrize("defect", corpus.DEFECTS, ids=lambda d: d.name)
def test_whatever_dciodvfy_flags_as_error_we_flag_too(built_corpus, dciodvfy, defect):
    _, defects = built_corpus
    _, path = defects[defect.name]
    theirs = dciodvfy(path)
    ours = [f for f in validate_file(path) or [] if f.severity is Severity.ERROR]
    if theirs:
        assert ours, f"dciodvfy: {theirs}; we found no error"


def test_agreement_table(built_corpus, dciodvfy, capsys):
    """Caught / missed per tool on the defect corpus (printed with -s; asserted for ours)."""
    _, defects = built_corpus
    rows = []
    for name, (defect, path) in sorted(defects.items()):
        ours = {f.code for f in validate_file(path) or [] if f.severity is not Severity.INFO}
        rows.append((name, defect.code in ours, bool(dciodvfy(path))))
    with capsys.disabled():
        print("\n defect                        ours  dciodvfy")
        for name, a, b in rows:
            print(f" {name:30} {'caught' if a else 'MISSED':6} {'caught' if b else 'missed'}")
        print(f" total {len(rows)}: ours caught {sum(r[1] for r in rows)}, "
              f"dciodvfy caught {sum(r[2] for r in rows)}")
    assert all(r[1] for r in rows)


def test_synthesized_instances_pass_dciodvfy_for_at_least_40_sop_classes(dciodvfy, tmp_path):
    agreed = []
    for uid in load_index().storage_sop_classes():
        path = corpus.write(synthesize(uid), tmp_path / f"{uid}.dcm")
        if not dciodvfy(path):
            agreed.append(uid)
    assert len(agreed) >= 40, agreed  # 67 of 180: "Information Object Not found"

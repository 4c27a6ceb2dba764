"""Fuzz: random byte mutations and truncations of valid files give findings, never an
exception (PS3.10 files from untrusted devices)."""

from __future__ import annotations

import random

import pytest

from conformance.iod import validate_file


@pytest.mark.parametrize("base", ["ct", "sr-basic-text", "ct-gb18030", "multiframe-sc"])
def test_random_mutations_never_raise(built_corpus, tmp_path, base):
    clean, _ = built_corpus
    data = clean[base].read_bytes()
    rng = random.Random(f"fuzz-{base}")  # deterministic
    target = tmp_path / "fuzzed.dcm"
    reported = 0
    for i in range(120):
        buf = bytearray(data)
        kind = i % 4
        if kind == 0:  # flip bytes in the data set
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(132, len(buf))] = rng.randrange(256)
        elif kind == 1:  # truncate anywhere
            del buf[rng.randrange(1, len(buf)):]
        elif kind == 2:  # corrupt a length field region
            pos = rng.randrange(132, len(buf) - 4)
            buf[pos:pos + 4] = rng.randbytes(4)
        else:  # insert junk
            pos = rng.randrange(132, len(buf))
            buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
        target.write_bytes(bytes(buf))
        findings = validate_file(target)  # must not raise
        assert findings is None or isinstance(findings, list)
        reported += bool(findings)
    assert reported > 60  # most mutations are noticed

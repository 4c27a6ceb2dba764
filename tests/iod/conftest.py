"""Fixtures for the IOD validation tests: the corpus (built once per session) and dciodvfy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.iod import corpus

DCIODVFY = "/usr/bin/dciodvfy"


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory: pytest.TempPathFactory):
    return corpus.build_corpus(tmp_path_factory.mktemp("iod-corpus"))


@pytest.fixture(scope="session")
def dciodvfy():
    """Run dciodvfy on a file; returns its "Error" lines. Fails (never skips) without it."""
    if not os.access(DCIODVFY, os.X_OK):
        pytest.fail(f"{DCIODVFY} is missing: install the Debian package dicom3tools "
                    "(apt-get install -y dicom3tools); these tests must not be skipped")

    def run(path: Path) -> list[str]:
        out = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True,
                             errors="replace", timeout=60)
        return [line for line in (out.stdout + out.stderr).splitlines()
                if line.startswith("Error")]
    return run

"""The results file: one JSON line per validated file, appended as results come.

Each batch's lines are written and flushed at once, so a killed run leaves every finished
file on disk (at worst one partial last line, which :meth:`ResultStore.open` cuts off).
Re-running with the same file resumes: the files already recorded are skipped.  The driver
remembers them as 64-bit hashes of the path in one sorted array (8 bytes a file: 8 MB for a
million files), not as a set of strings.
"""

from __future__ import annotations

import hashlib
import json
import os
from array import array
from collections.abc import Iterator
from typing import IO, Any

import numpy as np


def path_key(path: str) -> int:
    """A 64-bit key of a path (BLAKE2b); collisions are negligible below billions of files."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8", "surrogateescape"),
                                          digest_size=8).digest(), "little")


def iter_records(path: str) -> Iterator[dict[str, Any]]:
    """Every complete record of a results file, in file order (a partial last line is left)."""
    with open(path, encoding="utf-8") as fp:
        for line in fp:
            if not line.endswith("\n"):
                return
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("file"), str):
                yield rec


class ResultStore:
    """Append-only JSONL results with resume.

    Parameters
    ----------
    path
        The results file (created with its folder when missing).
    force
        Start afresh: the file is emptied and every file validated again.
    """

    def __init__(self, path: str, force: bool = False) -> None:
        self.path = path
        self.force = force
        self.resumed = 0
        self._done = np.empty(0, dtype=np.uint64)
        self._fp: IO[str] | None = None

    def open(self) -> ResultStore:
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        if self.force or not os.path.exists(self.path):
            self._fp = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed by close())
            return self
        keys = array("Q")  # 8 bytes a file, also while reading
        good = 0
        with open(self.path, "rb") as fp:
            for raw in fp:
                if not raw.endswith(b"\n"):
                    break  # cut off mid-write by a kill
                try:
                    rec = json.loads(raw)
                    keys.append(path_key(rec["file"]))
                except (ValueError, KeyError, TypeError):
                    break
                good += len(raw)
        with open(self.path, "r+b") as fp:
            fp.truncate(good)
        self._done = np.unique(np.frombuffer(keys, dtype=np.uint64)) if len(keys) else \
            np.empty(0, dtype=np.uint64)
        self.resumed = len(keys)
        del keys
        self._fp = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        return self

    def done(self, path: str) -> bool:
        """True when *path* is already in the results (and the run was not forced)."""
        if not len(self._done):
            return False
        key = np.uint64(path_key(path))
        i = int(np.searchsorted(self._done, key))
        return i < len(self._done) and self._done[i] == key

    def append(self, lines: str) -> None:
        """Write one batch's JSON lines and flush them to the operating system."""
        assert self._fp is not None, "ResultStore.open() first"
        self._fp.write(lines)
        self._fp.flush()

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None

    def __enter__(self) -> ResultStore:  # noqa: PYI034 (final class in practice)
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

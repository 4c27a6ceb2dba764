"""The files of an archive, listed lazily.

An archive of millions of instances does not fit in a Python list, so every source yields
paths one at a time: a folder is walked with :func:`os.scandir` (one directory's entries in
memory at a time, sorted so runs list files in the same order), a list file and stdin are read
line by line.  Paths are made absolute, so a remote Dask worker that mounts the same tree at the
same place opens the same file, and a resumed run recognises files by the same key.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TextIO

#: Source name meaning "one path per line on standard input".
STDIN = "-"


@dataclass(frozen=True)
class Source:
    """Where paths come from: ``kind`` is ``path`` (file or folder), ``list`` or ``stdin``."""

    kind: str
    value: str = ""

    @property
    def countable(self) -> bool:
        """True when the source can be listed twice (to count it for an ETA)."""
        return self.kind != "stdin"


def walk(folder: str) -> Iterator[str]:
    """Every regular file under *folder*, depth first, names sorted per directory."""
    stack = [folder]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder: nothing to list (its files cannot be opened either)
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.path)
                elif entry.is_file():
                    yield entry.path
            except OSError:
                continue
        stack.extend(reversed(subdirs))


def _stdin() -> TextIO:
    """Standard input as UTF-8 text; bytes that are not UTF-8 kept as surrogate escapes (a
    file name on Linux is bytes), as :func:`os.fsdecode` does."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:
        return sys.stdin
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape")


def _lines(fp: TextIO) -> Iterator[str]:
    for line in fp:
        line = line.rstrip("\r\n")
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def paths_of(source: Source, stdin: TextIO | None = None) -> Iterator[str]:
    """The absolute paths one source names; a folder listed in a list file is walked too."""
    if source.kind == "path":
        names: Iterable[str] = [source.value]
    elif source.kind == "list":
        names = _list_file(source.value)
    else:
        names = _lines(stdin or _stdin())
    for name in names:
        full = os.path.abspath(name)
        if os.path.isdir(full):
            yield from walk(full)
        else:
            yield full


def _list_file(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="surrogateescape") as fp:
        yield from _lines(fp)


def all_paths(sources: Iterable[Source], stdin: TextIO | None = None) -> Iterator[str]:
    """The paths of every source, in order."""
    for source in sources:
        yield from paths_of(source, stdin)


def count(sources: Iterable[Source]) -> int | None:
    """How many paths the sources name, or ``None`` when one of them is stdin."""
    srcs = list(sources)
    if not all(s.countable for s in srcs):
        return None
    return sum(1 for _ in all_paths(srcs))


def batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most *size* items, read lazily."""
    it = iter(items)
    while True:
        chunk = list(islice(it, size))
        if not chunk:
            return
        yield chunk

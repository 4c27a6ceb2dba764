"""Limits on what the harness reads from files, and short quotes of long values in messages.

A statement, scenario, facts or worklist file, or a results.jsonl, comes from someone else: it
may be huge, cut, not UTF-8, or built to exhaust memory (a YAML alias bomb: nine levels of nine
aliases are 387 million values from 600 bytes). Every reader goes through this module, so each
such file ends quickly with an :class:`~conformance.errors.InputError` (exit code 2) that says
which limit was hit, where (file, line, key) and how to tell a real file from an attack.

The limits are documented in README.md ("Limits on input files"). They are far above any real
conformance statement (the shipped ones are 4-18 KB, a few hundred values) and far below what
would take the harness more than a few seconds or a few hundred MB.

Not covered here: DICOM files (``validate`` reads them with pydicom) and network input (the
wire stack has its own limits).
"""

from __future__ import annotations

import re
from pathlib import Path

from conformance.errors import InputError, Problem

#: Largest statement, scenario, facts or worklist file read, in bytes (1 MiB: 60 times the
#: largest shipped statement; ruamel.yaml reads about 0.2-0.5 MB/s, so any file within the
#: limit is parsed in a few seconds).
MAX_DOCUMENT_BYTES = 1024 * 1024
#: Most values (mappings, sequences, keys, scalars) a document may hold once YAML aliases
#: are expanded.
MAX_DOCUMENT_VALUES = 250_000
#: Most characters of text a document may hold once YAML aliases are expanded.
MAX_DOCUMENT_CHARACTERS = 8 * 1024 * 1024
#: Deepest nesting of mappings and sequences in a document.
MAX_DOCUMENT_DEPTH = 64

#: Largest results.jsonl read, in bytes (1 GiB).
MAX_RESULTS_BYTES = 1024 * 1024 * 1024
#: Longest line of a results.jsonl (one event), in bytes (16 MiB); a longer line is damaged.
MAX_RESULTS_LINE_BYTES = 16 * 1024 * 1024

#: Values longer than this are quoted shortened in messages (64: the longest UID, PS3.5 9.1,
#: is still quoted whole).
QUOTE_LENGTH = 64
#: A message longer than this is cut.
MAX_MESSAGE_LENGTH = 600
#: At most this many problems of one InputError are printed (then a count of the others).
MAX_PROBLEMS_SHOWN = 50


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    return f"{n:,} bytes"


def shorten(value: str, length: int = QUOTE_LENGTH) -> str:
    """*value* itself when short; else its start and end around the number of characters.

    >>> shorten("A" * 10000, 8)
    'AAAA...AAAA (10000 characters)'
    """
    if len(value) <= length:
        return value
    half = max(length // 2, 1)
    return f"{value[:half]}...{value[-half:]} ({len(value)} characters)"


#: A quoted literal (as ``repr`` writes one) longer than QUOTE_LENGTH.
_LONG_QUOTED = re.compile(
    rf"'([^'\\\n]{{{QUOTE_LENGTH + 1},}})'|\"([^\"\\\n]{{{QUOTE_LENGTH + 1},}})\"")
_SHORTENED = re.compile(r"\.\.\.\S* \(\d+ characters\)$")
#: Any run of non-blanks this long (a value quoted some other way).
_LONG_WORD = re.compile(rf"\S{{{4 * QUOTE_LENGTH + 1},}}")


def shorten_message(message: str) -> str:
    """*message* with every long quoted value (and any very long word) shortened, at most
    MAX_MESSAGE_LENGTH characters: an error about a 10,000-character AE title stays one line."""
    def quoted(m: re.Match[str]) -> str:
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        if _SHORTENED.search(inner):        # shortened already
            return m.group(0)
        return f"'{shorten(inner)}'"

    out = _LONG_QUOTED.sub(quoted, message)
    out = _LONG_WORD.sub(lambda m: shorten(m.group(0)), out)
    if len(out) > MAX_MESSAGE_LENGTH:
        out = out[: MAX_MESSAGE_LENGTH - 30] + f"... ({len(out)} characters)"
    return out


def read_bytes(path: str | Path, what: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of *path*, at most *limit* of them; InputError (exit 2) when the file is
    missing, unreadable or larger (without reading more than *limit* + 1 bytes)."""
    file = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(Problem("file not found", file)) from None
    except IsADirectoryError:
        raise InputError(Problem(f"is a folder, not a {what}", file)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror or exc}", file)) from None
    if len(data) > limit:
        raise InputError(Problem(
            f"file is larger than {_size(limit)}, the limit for a {what} "
            "(see 'Limits on input files' in README.md)", file))
    return data


def decode_utf8(data: bytes, file: str) -> str:
    """*data* as UTF-8 text; InputError naming the line of the first undecodable byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(Problem(f"not UTF-8 text (byte 0x{data[exc.start]:02X} at offset "
                                 f"{exc.start})", file, line)) from None


def read_text(path: str | Path, what: str, limit: int = MAX_DOCUMENT_BYTES) -> str:
    """UTF-8 text of *path* within *limit* bytes (see :func:`read_bytes`)."""
    return decode_utf8(read_bytes(path, what, limit), str(path))

"""Character set checks, PS3.3 C.12.1.1.2 (Specific Character Set) and PS3.5 6.1.

* every term of Specific Character Set (0008,0005) is a defined term;
* ISO 2022 code extensions are not combined with UTF-8 / GB18030 / GBK (PS3.5 6.1.2.5.4);
* text values (SH, LO, ST, LT, PN, UC, UT) decode in the declared character set, and escape
  sequences name a declared code element (PS3.5 6.1.2.5.3);
* bytes above 0x7F with no Specific Character Set are an error (the default repertoire is
  ISO-IR 6, PS3.5 6.1.2.2).

Not covered: whether the glyphs used are within the repertoire's *graphic* subset beyond what
Python's codecs reject, and the PN per-component-group escape reset subtleties beyond the
delimiters ``^`` and ``=``.
"""

from __future__ import annotations

from pydicom.charset import CODES_TO_ENCODINGS, STAND_ALONE_ENCODINGS, python_encoding

Problem = tuple[str, str]
_HANDLED = ("iso2022_jp", "iso2022_jp_2", "iso_ir_58")
_DELIMS = {0x5C, 0x0D, 0x0A, 0x09, 0x0C, 0x5E, 0x3D}


def check_terms(terms: list[str]) -> tuple[list[str] | None, list[Problem]]:
    """Check Specific Character Set values; return (python encodings or None, problems)."""
    problems: list[Problem] = []
    encodings: list[str] = []
    for i, term in enumerate(terms):
        if term == "" and i == 0:
            encodings.append("iso8859")
            continue
        enc = python_encoding.get(term)
        if enc is None:
            problems.append(("charset.unknown-term",
                             f"Specific Character Set term {term!r} is not a defined term"))
            continue
        encodings.append(enc)
    if len(terms) > 1 and any(t in STAND_ALONE_ENCODINGS for t in terms):
        problems.append(("charset.code-extension-not-allowed",
                         "UTF-8, GB18030 and GBK may not be combined with other terms"))
    if len(terms) > 1 and any(t and not t.startswith("ISO 2022") for t in terms):
        problems.append(("charset.code-extension-not-allowed",
                         "multiple Specific Character Set values need ISO 2022 terms"))
    if problems and not encodings:
        return None, problems
    return encodings or ["iso8859"], problems


def _decode_fragment(fragment: bytes, encodings: list[str]) -> Problem | None:
    if fragment.startswith(b"\x1b"):
        n = 4 if fragment.startswith((b"\x1b$(", b"\x1b$)")) else 3
        code = fragment[:n]
        enc = CODES_TO_ENCODINGS.get(code)
        if enc is None:
            return ("charset.unknown-escape", f"unknown escape sequence {code!r}")
        if enc not in encodings and enc != "iso8859" and code != b"\x1b(B":
            return ("charset.escape-not-declared",
                    f"escape sequence {code!r} switches to a character set not declared in "
                    "Specific Character Set")
        body = fragment if enc in _HANDLED else fragment[n:]
        cut = next((i for i, ch in enumerate(body) if ch in _DELIMS), None) \
            if enc not in _HANDLED else None
        try:
            if cut is None:
                body.decode(enc)
            else:
                body[:cut].decode(enc)
                body[cut:].decode(encodings[0])
        except (UnicodeError, LookupError):
            return ("charset.undecodable", f"bytes after escape {code!r} do not decode as {enc}")
        return None
    try:
        fragment.decode(encodings[0])
    except (UnicodeError, LookupError):
        return ("charset.undecodable", f"value does not decode as {encodings[0]}")
    return None


def check_text(raw: bytes, encodings: list[str] | None, declared: bool) -> Problem | None:
    """Check one encoded text value against the declared character set."""
    if not raw or (raw.isascii() and b"\x1b" not in raw):
        return None
    if not declared:
        return ("charset.undeclared-non-ascii",
                "value has bytes outside ISO-IR 6 but Specific Character Set (0008,0005) "
                "is absent")
    if encodings is None:
        return None  # unknown term already reported
    if b"\x1b" not in raw:
        if encodings[0] == "iso8859" and not raw.isascii():
            return ("charset.undecodable",
                    "value has bytes outside ISO-IR 6 and no escape sequence switches to "
                    "another code element")
        return _decode_fragment(raw, encodings)
    parts = raw.split(b"\x1b")
    fragments = ([parts[0]] if parts[0] else []) + [b"\x1b" + p for p in parts[1:]]
    for frag in fragments:
        problem = _decode_fragment(frag, encodings)
        if problem:
            return problem
    return None

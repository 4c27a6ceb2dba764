"""Conditions of conditional modules (usage C) and attributes (types 1C/2C), PS3.3 5.4.

The standard writes conditions in prose ("Required if Samples per Pixel (0028,0002) has a
value greater than 1"). :func:`parse_condition` turns the subset of sentences that name their
attributes by tag and compare them with literal values into a small expression; anything
else (real-world facts such as "contrast media was used", references to macros, value
lengths, ...) yields ``None`` and is reported as *not verifiable*, never guessed.

Expression forms (JSON-serialisable lists, stored in the shipped index)::

    ["present", tag]             ["absent", tag]          ["nonempty", tag]
    ["eq", tag, index, [v, ...]] ["ne", tag, index, [v, ...]]
    ["gt"|"lt"|"ge"|"le", tag, index, number]
    ["and", e1, e2, ...]         ["or", e1, e2, ...]

``tag`` is an int, ``index`` the 0-based value index or ``None`` for "any value".
:func:`evaluate` is three-valued: ``True``, ``False`` or ``None`` (cannot tell).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

Expr = list
#: lookup(tag) -> None when absent, else the list of string values (possibly empty).
Lookup = Callable[[int], Sequence[str] | None]

_LEAD = re.compile(r"^(?:Required|Shall be present)\s+if\s+", re.IGNORECASE)
_CLAUSE = re.compile(
    r"^(?:the\s+value\s+of\s+|the\s+)?(?P<name>[A-Za-z][A-Za-z0-9'\-/ ]*?)\s*"
    r"\((?P<tag>[0-9A-Fa-f]{4}),(?P<elem>[0-9A-Fa-f]{4})\)"
    r"(?:\s*,?\s*Value\s+(?P<vi>\d+))?\s*,?\s*(?P<pred>.*)$")
_VALUE = r"\"?[A-Z0-9_][A-Z0-9_ ]*\"?"
_VALUES = re.compile(rf"^{_VALUE}(?:\s*(?:,\s*or|,|or)\s+{_VALUE})*$")
_EQ = re.compile(r"^(?:is\s+equal\s+to|is|equals|=|has\s+(?:a\s+|the\s+)?values?\s+of|"
                 r"has\s+(?:a\s+|the\s+)?values?|value\s+is)\s+(?P<v>.+)$")
_NE = re.compile(r"^(?:is\s+not\s+equal\s+to|is\s+not|does\s+not\s+equal|!=|is\s+other\s+than|"
                 r"has\s+a\s+value\s+other\s+than)\s+(?P<v>.+)$")
_CMP = re.compile(r"^(?:is\s+|has\s+a\s+value\s+)?(?P<op>greater\s+than\s+or\s+equal\s+to|"
                  r"less\s+than\s+or\s+equal\s+to|greater\s+than|less\s+than|>=|<=|>|<)\s+"
                  r"(?P<n>-?\d+(?:\.\d+)?)$")
_OPS = {"greater than": "gt", ">": "gt", "less than": "lt", "<": "lt",
        "greater than or equal to": "ge", ">=": "ge", "less than or equal to": "le", "<=": "le"}
_PRESENT = re.compile(r"^(?:is|are)\s+present(?:\s+in\s+the\s+(?:SOP\s+Instance|Data\s*set))?$")
_NONEMPTY = re.compile(r"^(?:is|are)\s+present\s+(?:and\s+has|with)\s+a\s+value$")
_ABSENT = re.compile(r"^(?:is|are)\s+(?:not\s+present|absent)$")


def _values(text: str) -> list[str] | None:
    text = text.strip()
    if not _VALUES.match(text):
        return None
    parts = re.split(r"\s*(?:,\s*or|,|\bor\b)\s+", text)
    vals = [p.strip().strip('"').strip() for p in parts]
    return vals if all(vals) else None


def _predicate(pred: str, tag: int, index: int | None) -> Expr | None:
    pred = pred.strip().rstrip(".").strip()
    if _NONEMPTY.match(pred):
        return ["nonempty", tag]
    if _PRESENT.match(pred):
        return ["present", tag]
    if _ABSENT.match(pred):
        return ["absent", tag]
    m = _CMP.match(pred)
    if m:
        return [_OPS[" ".join(m.group("op").split())], tag, index, float(m.group("n"))]
    m = _NE.match(pred)
    if m:
        vals = _values(m.group("v"))
        return ["ne", tag, index, vals] if vals else None
    m = _EQ.match(pred)
    if m:
        vals = _values(m.group("v"))
        return ["eq", tag, index, vals] if vals else None
    return None


_TAG = re.compile(r"\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)")
_SAME_ATTRIBUTE = re.compile(r"^(?:(?:the|its)\s+value\s+)?(?P<pred>(?:is|equals|has\s+(?:a\s+|the\s+)?"
                             r"value(?:\s+of)?)\s+[\"A-Z0-9].*)$")
_OTHERWISE = re.compile(r"\s*[;,.]\s*may\s+be\s+present\s+otherwise\.?\s*$", re.IGNORECASE)


def _named_attribute(clause: str) -> str:
    """``Number of Frames is greater than 1`` -> ``Number of Frames (0028,0008) is ...``
    when the words before the predicate are exactly an attribute name of PS3.6."""
    m = re.match(r"^(?:the\s+value\s+of\s+|the\s+)?(?P<name>[A-Z][A-Za-z0-9'\- ]*?)"
                 r"(?:\s+value)?\s+(?P<pred>(?:is|equals|has|=|>|<)\b.*)$", clause)
    if not m:
        return clause
    tag = _names().get(m.group("name").strip().lower())
    if tag is None:
        return clause
    return f"{m.group('name')} ({tag >> 16:04X},{tag & 0xFFFF:04X}) {m.group('pred')}"


_NAMES: dict[str, int] = {}


def _names() -> dict[str, int]:
    if not _NAMES:
        from pydicom.datadict import DicomDictionary
        for tag, entry in DicomDictionary.items():
            if entry[3] != "Retired":
                _NAMES.setdefault(entry[2].lower(), tag)
    return _NAMES


_NEXT_SENTENCE = re.compile(r"\.\s+(?=(?:Required|Shall be present)\s+if\b)", re.IGNORECASE)


def parse_condition(text: str | None) -> Expr | None:
    """Parse a PS3.3 condition; ``None`` if it is not fully understood.

    A condition of several sentences ("Required if A. Required if B.") holds when any of them
    does; it parses only when every sentence does."""
    if not text:
        return None
    sentences = _NEXT_SENTENCE.split(" ".join(text.split()))
    if len(sentences) == 1:
        return _parse_sentence(sentences[0])
    flat: list[Expr] = []
    for sentence in sentences:
        e = _parse_sentence(sentence)
        if e is None:
            return None
        flat.extend(e[1:] if e[0] == "or" else [e])
    return ["or", *flat]


def _parse_sentence(text: str) -> Expr | None:
    body = _LEAD.sub("", " ".join(text.split())).rstrip(". ")
    if body == text.strip():
        return None
    body = _OTHERWISE.sub("", body)
    # Split at "and"/"or" between clauses; a piece naming no attribute (a name that itself
    # contains "and", or "the value is X" about the previous attribute) is merged back.
    raw = re.split(r"\s*,?\s+\b(and|or)\s+", body)
    clauses: list[str] = [raw[0]]
    ops: set[str] = set()
    for op, piece in zip(raw[1::2], raw[2::2]):
        if _SAME_ATTRIBUTE.match(piece) and _TAG.search(clauses[-1]):
            prev = _CLAUSE.match(clauses[-1].strip())
            if not prev:
                return None
            pred = _SAME_ATTRIBUTE.match(piece).group("pred")  # type: ignore[union-attr]
            clauses.append(f"{prev.group('name')} ({prev.group('tag')},{prev.group('elem')})"
                           f" {pred}")
            ops.add(op)
        elif not _TAG.search(clauses[-1]) or (not _TAG.search(piece) and
                                              not _names_piece(piece)):
            clauses[-1] = f"{clauses[-1]} {op} {piece}"
        else:
            clauses.append(piece)
            ops.add(op)
    if len(ops) > 1:
        return None
    parsed: list[tuple[int, int | None, str]] = []
    for clause in clauses:
        clause = clause.strip()
        if not _TAG.search(clause):
            clause = _named_attribute(clause)
        m = _CLAUSE.match(clause)
        if not m:
            return None
        tag = int(m.group("tag") + m.group("elem"), 16)
        if not _is_name_of(m.group("name"), tag):
            return None  # more words than the attribute's name: a fact we cannot see
        index = int(m.group("vi")) - 1 if m.group("vi") else None
        parsed.append((tag, index, m.group("pred")))
    # "A (x) or B (y) is present": a clause without predicate borrows the next one's.
    exprs: list[Expr] = []
    pending: list[tuple[int, int | None]] = []
    for tag, index, pred in parsed:
        if not pred.strip():
            pending.append((tag, index))
            continue
        for ptag, pindex in pending + [(tag, index)]:
            e = _predicate(pred, ptag, pindex)
            if e is None:
                return None
            exprs.append(e)
        pending = []
    if pending or not exprs:
        return None
    if len(exprs) == 1:
        return exprs[0]
    return ["and" if ops == {"and"} else "or", *exprs]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _is_name_of(name: str, tag: int) -> bool:
    """*name* is the PS3.6 name of *tag* (or, for a tag pydicom does not know, reads as a
    bare attribute name without connecting words)."""
    from pydicom.datadict import DicomDictionary
    entry = DicomDictionary.get(tag)
    if entry is not None:
        return _norm(name) == _norm(entry[2])
    return not re.search(r"\b(if|and|or|is|are|the|when|of this|not)\b", name)


def _names_piece(piece: str) -> bool:
    return _named_attribute(piece.strip()) != piece.strip()


def _num(v: str) -> float | None:
    try:
        return float(v)
    except ValueError:
        return None


def evaluate(expr: Expr, lookup: Lookup) -> bool | None:
    """Evaluate *expr*: True, False, or None when the data cannot tell."""
    op = expr[0]
    if op in ("and", "or"):
        results = [evaluate(e, lookup) for e in expr[1:]]
        if op == "and":
            if False in results:
                return False
            return None if None in results else True
        if True in results:
            return True
        return None if None in results else False
    values = lookup(expr[1])
    if op == "present":
        return values is not None
    if op == "absent":
        return values is None
    if op == "nonempty":
        return bool(values)
    if values is None:
        # An absent attribute equals nothing; "is not X" of an absent attribute is unclear.
        return False if op != "ne" else None
    index = expr[2]
    if index is not None:
        values = values[index:index + 1]
    if op == "eq":
        return any(v in expr[3] for v in values)
    if op == "ne":
        return bool(values) and all(v not in expr[3] for v in values)
    nums = [_num(v) for v in values]
    if not nums or None in nums:
        return None
    limit = expr[3]
    cmp: dict[str, Callable[[float], bool]] = {
        "gt": lambda x: x > limit, "lt": lambda x: x < limit,
        "ge": lambda x: x >= limit, "le": lambda x: x <= limit}
    return any(cmp[op](n) for n in nums)  # type: ignore[arg-type]


def tags_in(expr: Any) -> set[int]:
    """Every tag an expression refers to."""
    if not isinstance(expr, list) or not expr:
        return set()
    if expr[0] in ("and", "or"):
        return set().union(*(tags_in(e) for e in expr[1:]))
    return {expr[1]}


# --- sentences of attribute descriptions (PS3.3), shared by the index builders -------------

_CONDITION_SENTENCE = re.compile(r"((?:Required|Shall be present) if\b.*?)(?:\.(?:\s|$)|$)", re.DOTALL)
_ITEM_COUNTS = [(r"Only a single Item shall be (?:included|present) in (?:this|the) Sequence", 1, 1),
                (r"Exactly one Item shall be (?:included|present) in (?:this|the) Sequence", 1, 1),
                (r"One or more Items shall be (?:included|present) in (?:this|the) Sequence", 1, None),
                (r"Zero or one Items? shall be (?:included|present) in (?:this|the) Sequence", 0, 1),
                (r"One or two Items shall be (?:included|present) in (?:this|the) Sequence", 1, 2),
                (r"Two or more Items shall be (?:included|present) in (?:this|the) Sequence", 2, None)]


def condition_sentence(text: str) -> str | None:
    """The condition sentence of an attribute description ("Required if ..."), plus "May be
    present otherwise" when the next sentence says so (PS3.5 7.4.4: otherwise a 1C/2C
    attribute shall not be present when its condition is false). *text* is plain text."""
    found = list(_CONDITION_SENTENCE.finditer(text))
    if not found:
        return None
    # Every condition sentence, not only the first ("Required if A. Required if B.").
    cond = ". ".join(" ".join(m.group(1).split()) for m in found)
    if any(re.match(r"\s*May be present otherwise", text[m.end():], re.IGNORECASE)
           for m in found):
        cond += ". May be present otherwise"
    return cond


def item_count(text: str) -> list | None:
    """Unconditional number of Items of a sequence ("Only a single Item shall be included in
    this Sequence.") as [min, max or None]; a sentence that goes on ("unless", "if", "for
    each") is ignored."""
    for pattern, lo, hi in _ITEM_COUNTS:
        if re.search(pattern + r"\s*\.", text):
            return [lo, hi]
    return None

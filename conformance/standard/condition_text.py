"""Conditions as the standard writes them (PS3.3 5.4): the prose of a 1C/2C attribute or a
conditional module parsed into the expressions of :mod:`conformance.standard.conditions`,
and the sentences of attribute descriptions the index builders read (condition sentences,
item counts).  Used when the index is built (``bin/build_standard_index.py``,
:mod:`conformance.standard.docbook`); a validation only evaluates what was stored, so its
regular expressions are compiled there and never in a validating process.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from conformance.standard.conditions import Expr

_LEAD = re.compile(r"^(?:Required|Shall be present)\s+if\s+", re.IGNORECASE)
_CLAUSE = re.compile(
    r"^(?:(?:the\s+|a\s+|any\s+)?value\s+(?:of|for)\s+|value\s+|the\s+|Attribute\s+)?"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9'\-/ ]*?(?:\s*\([A-Za-z][A-Za-z ]*\))?)\s*"
    r"\((?P<tag>[0-9A-Fa-f]{4}),(?P<elem>[0-9A-Fa-f]{4})\)"
    r"(?:\s*,?\s*[Vv]alue\s+(?P<vi>\d+))?\s*,?\s*(?P<pred>.*)$")
#: "Value 3 of Image Type (0008,0008) is PORTAL" -> "Image Type (0008,0008) Value 3 is PORTAL".
_VALUE_OF = re.compile(r"^(?:Value\s+(?P<vi>\d+)|the\s+(?P<ord>first|second|third|fourth)"
                       r"\s+value)\s+of\s+(?P<attr>[A-Za-z][^()]*?"
                       r"\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\))\s+(?P<pred>.+)$")
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4"}
#: A UID value: bare or quoted with an optional comment, or after its PS3.6 name.
_UID = re.compile(r'^(?:"?(?P<bare>\d+(?:\.\d+)+)"?(?:\s+\([^()"]*\))?|'
                  r'(?P<name>[A-Z][A-Za-z0-9 \-/]*?)\s+\("?(?P<named>\d+(?:\.\d+)+)"?\))$')
#: A single coded value with its meaning in parentheses: "DF (Digitized Film)".
_EXPLAINED = re.compile(r"^(?P<v>[A-Z0-9_]+)\s+\([A-Za-z][A-Za-z ]*\)$")
_VALUE = r"\"?[A-Z0-9_][A-Z0-9_ ]*\"?"
_VALUES = re.compile(rf"^{_VALUE}(?:\s*(?:,\s*or|,|or)\s+{_VALUE})*$")
_EQ = re.compile(r"^(?:is\s+equal\s+to|is\s+either|is\s+set\s+to|is\s+of\s+Value|is:?|equals|=|"
                 r"has\s+(?:a\s+|the\s+)?values?\s+of|contains\s+the\s+value|"
                 r"has\s+(?:a\s+|the\s+)?values?|(?:Attribute\s+)?value\s+is)"
                 r"\s+(?P<v>.+)$", re.IGNORECASE)
_NE = re.compile(r"^(?:is\s+not\s+equal\s+to|is\s+not\s+any\s+of|is\s+not|value\s+is\s+not|does\s+not\s+equal|!=|is\s+other\s+than|"
                 r"equals\s+other\s+than|has\s+a\s+value\s+other\s+than)\s+(?P<v>.+)$")
_CMP = re.compile(r"^(?:is\s+|has\s+a\s+value\s+(?:of\s+)?)?(?P<op>greater\s+than\s+or\s+"
                  r"equal\s+to|less\s+than\s+or\s+equal\s+to|greater\s+than|less\s+than|"
                  r"more\s+than|>=|<=|>|<)\s+(?P<n>-?\d+(?:\.\d+)?|zero|one)$")
_NONZERO = re.compile(r"^(?:is\s+non-zero|is\s+not\s+zero|has\s+a\s+non-zero\s+value)$")
_HAS_VALUE = re.compile(r"^(?:has\s+a\s+value|is\s+non-zero\s+length|is\s+not\s+zero\s+length|"
                        r"is\s+non-null)$")
_ZERO_LENGTH = re.compile(r"^is\s+zero[\s-]length$")
#: "is present with a value of X", "is present and has a non-zero value": the value test
#: alone (every value test is false for an absent attribute).
_PRESENT_WITH = re.compile(r"^(?:is|are)\s+present\s+(?:(?P<with>with)|and)\s+(?P<rest>.+)$")
_ABSENT_OR_NOT = re.compile(r"^is\s+absent\s+or\s+(?:is\s+)?not\s+(?P<v>.+)$")
_OPS = {"greater than": "gt", ">": "gt", "less than": "lt", "<": "lt", "more than": "gt",
        "greater than or equal to": "ge", ">=": "ge", "less than or equal to": "le", "<=": "le"}
_PRESENT = re.compile(r"^(?:is|are)\s+present(?:\s+in\s+the\s+(?:SOP\s+Instance|Data\s*set))?$")
_NONEMPTY = re.compile(r"^(?:is|are)\s+present\s+(?:and\s+has|with)\s+a\s+value$")
_ABSENT = re.compile(r"^(?:is|are)\s+(?:not\s+present|absent)$")


def _values(text: str) -> list[str] | None:
    text = text.strip()
    uids = _uid_values(text)
    if uids is not None:
        return uids
    m = _EXPLAINED.match(text)
    if m:
        return [m.group("v")]
    if not _VALUES.match(text):
        return None
    parts = re.split(r"\s*(?:,\s*or|,|\bor\b)\s+", text)
    vals = [p.strip().strip('"').strip() for p in parts]
    return vals if all(vals) else None


def _uid_values(text: str) -> list[str] | None:
    """'"1.2.3" (comment) or "1.2.4"', 'Name ("1.2.3")': the UIDs; None if not UIDs.
    A name before a UID must be the UID's PS3.6 name."""
    from pydicom.uid import UID_dictionary
    out: list[str] = []
    for part in re.split(r"\s*(?:,\s*or|,|\bor\b)\s+(?=[\"0-9A-Z])", text):
        m = _UID.match(part.strip())
        if not m:
            return None
        if m.group("named"):
            entry = UID_dictionary.get(m.group("named"))
            if entry is None or _norm(entry[0]) != _norm(m.group("name")):
                return None
            out.append(m.group("named"))
        else:
            out.append(m.group("bare"))
    return out or None


def _is_sequence(tag: int) -> bool:
    from pydicom.datadict import DicomDictionary
    entry = DicomDictionary.get(tag)
    return entry is None or entry[0] == "SQ"


def _predicate(pred: str, tag: int, index: int | None) -> Expr | None:
    pred = pred.strip().rstrip(".").strip()
    m = _PRESENT_WITH.match(pred)
    if m and not _NONEMPTY.match(pred):
        rest = m.group("rest")
        if m.group("with"):
            rest = re.sub(r"^(?:a\s+)?(values?)\b", r"has a \1", rest)
        rest = re.sub(r"^is\s+either\b", "is", rest)
        e = _predicate(rest, tag, index)
        return e if e is not None and e[0] not in ("present", "absent") else None
    m = _ABSENT_OR_NOT.match(pred)
    if m:
        vals = _values(m.group("v"))
        return ["or", ["absent", tag], ["ne", tag, index, vals]] if vals else None
    if _NONZERO.match(pred):
        return ["or", ["gt", tag, index, 0.0], ["lt", tag, index, 0.0]]
    if _HAS_VALUE.match(pred) or _ZERO_LENGTH.match(pred):
        # Value length of an element; the value of a sequence (its Items) is not seen here.
        if _is_sequence(tag) or index is not None:
            return None
        return ["nonempty" if _HAS_VALUE.match(pred) else "empty", tag]
    if _NONEMPTY.match(pred):
        return ["nonempty", tag]
    if _PRESENT.match(pred):
        return ["present", tag]
    if _ABSENT.match(pred):
        return ["absent", tag]
    m = _CMP.match(pred)
    if m:
        n = {"zero": "0", "one": "1"}.get(m.group("n"), m.group("n"))
        return [_OPS[" ".join(m.group("op").split())], tag, index, float(n)]
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
_OTHERWISE = re.compile(r"\s*[;,.]?\s*may\s+be\s+present\s+otherwise\.?\s*$", re.IGNORECASE)
_SHALL_NOT = re.compile(r"\s*[;,.]?\s*shall\s+not\s+be\s+present\s+otherwise\.?"
                        r"(?:\s*See\s+Note\s+\d+\.?)?\s*$", re.IGNORECASE)
_NOTE = re.compile(r"\s+Note\s+[A-Z].*$")
_IN_MODULE = re.compile(r"(\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\))\s+in\s+the\s+[A-Z][A-Za-z\- ]*?"
                        r"\s+(?:[Ii]mage\s+)?Module\b")
#: "A (t1), B (t2), and C (t3) are not present": the attributes of a list before its last one.
_LISTED = re.compile(r"(?<=[0-9A-Fa-f]{4}\)),\s+(?=(?:the\s+)?(?!Value\s+\d)[A-Z])")


def _named_attribute(clause: str) -> str:
    """``Number of Frames is greater than 1`` -> ``Number of Frames (0028,0008) is ...``
    when the words before the predicate are exactly an attribute name of PS3.6."""
    m = re.match(r"^(?:the\s+value\s+of\s+|the\s+)?(?P<name>[A-Z][A-Za-z0-9'\- ]*?)"
                 r"(?P<vi>\s+Value\s+\d+)?(?:\s+value)?\s+"
                 r"(?P<pred>(?:is|equals|has|=|>|<)(?=\s|$).*)$", clause)
    if not m:
        return clause
    tag = _names().get(m.group("name").strip().lower())
    if tag is None:
        return clause
    return (f"{m.group('name')} ({tag >> 16:04X},{tag & 0xFFFF:04X}){m.group('vi') or ''} "
            f"{m.group('pred')}")


_POINTS = re.compile(r"^(?:points\s+to|is|includes\s+the\s+Tag\s+for|contains\s+the\s+Tag\s+for)"
                     r"\s+(?P<refs>.+)$")
_REF = re.compile(r"^(?P<name>[A-Z][A-Za-z0-9'\-/ ]*?)(?:\s*\((?P<g>[0-9A-Fa-f]{4}),"
                  r"(?P<e>[0-9A-Fa-f]{4})\))?$")


def _pointer(body: str) -> Expr | None:
    """"Frame Increment Pointer (0028,0009) points to Frame Time (0018,1063)" (or "includes
    the Tag for", "is A (t1) or B (t2)"): an attribute of VR AT whose values are the tags of
    the attributes named, each by its PS3.6 name; ``["tag", tag, [tags]]``."""
    from pydicom.datadict import DicomDictionary
    m = _CLAUSE.match(body)
    if not m or m.group("vi"):
        return None
    tag = int(m.group("tag") + m.group("elem"), 16)
    entry = DicomDictionary.get(tag)
    v = _POINTS.match(m.group("pred"))
    if entry is None or entry[0] != "AT" or not v or not _is_name_of(m.group("name"), tag):
        return None
    targets: list[int] = []
    for ref in re.split(r"\s*(?:,\s*or|,|\bor\b)\s+", v.group("refs")):
        r = _REF.match(ref.strip())
        if not r:
            return None
        if r.group("g"):
            target = int(r.group("g") + r.group("e"), 16)
            named = DicomDictionary.get(target)
            if named is None or _norm(named[2]) != _norm(r.group("name")):
                return None
        else:
            found = _names().get(r.group("name").strip().lower())
            if found is None:
                return None
            target = found
        targets.append(target)
    return ["tag", tag, targets]


#: Attributes that multi-frame IODs carry in Functional Group Macros (PS3.3 C.7.6.16.2:
#: Plane Position (Patient), Plane Orientation (Patient), Pixel Measures, Frame Type), where
#: a condition's look-up (the item, then the top level) does not see them.
_FRAME_LEVEL = {0x00200032, 0x00200037, 0x00280030, 0x00180050, 0x00089007}
#: "... of this frame": the attribute of the current frame (parsed as ["frame", e]).
_THIS_FRAME = re.compile(r"\s+of\s+this\s+frame\b")

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
    return _any_of(_NEXT_SENTENCE.split(" ".join(text.split())), _parse_sentence)


def _any_of(parts: list[str], parse: Callable[[str], Expr | None]) -> Expr | None:
    """The alternatives *parts*, each parsed by *parse*: one alone, else their "or" (nested
    "or"s flattened); None unless every part parses."""
    if len(parts) == 1:
        return parse(parts[0])
    flat: list[Expr] = []
    for part in parts:
        e = parse(part)
        if e is None:
            return None
        flat.extend(e[1:] if e[0] == "or" else [e])
    return ["or", *flat]


def _parse_sentence(text: str) -> Expr | None:
    body = _LEAD.sub("", " ".join(text.split())).rstrip(". ")
    if body == text.strip():
        return None
    body = _LEAD.sub("", body)  # "Required if Required if ..." (a slip in the standard)
    body = _OTHERWISE.sub("", body).rstrip(". ")
    # What PS3.5 7.4.4 says anyway, and informative Notes (PS3.3 5.4: notes add nothing).
    body = _SHALL_NOT.sub("", _NOTE.sub("", body)).rstrip(". ")
    # "Pixel Presentation (0008,9205) in the Enhanced CT Image Module": a top-level attribute.
    body = _IN_MODULE.sub(r"\1", body)
    # "A, or if B and C": each "or if" opens an alternative of its own (A or (B and C)).
    return _any_of(re.split(r"\s*,?\s+or\s+if\s+", body), _parse_body)


def _parse_body(body: str) -> Expr | None:
    """Clauses joined by "and" only or by "or" only; "A and either B or C"."""
    body = re.sub(r"^either\s+", "", body)
    both = re.split(r",?\s+and\s+either\s+", body)
    if len(both) == 2:
        left, right = _parse_body(both[0]), _parse_body(both[1])
        if left is None or right is None or right[0] != "or":
            return None
        return ["and", *(left[1:] if left[0] == "and" else [left]), right]
    pointer = _pointer(body)
    if pointer is not None:
        return pointer
    body = re.sub(r"(,?\s+and)\s+if\s+", r"\1 ", body)
    # Split at "and"/"or" between clauses; a piece naming no attribute (a name that itself
    # contains "and", or "the value is X" about the previous attribute) is merged back.
    raw = _split_lists(re.split(r"\s*,?\s+\b(and|or)\s+", body))
    if raw is None:
        return None
    clauses: list[str] = [raw[0]]
    ops: set[str] = set()
    for op, piece in zip(raw[1::2], raw[2::2]):
        other_value = re.match(r"^Value\s+(?P<vi>\d+)\s+(?P<pred>(?:is|equals)\s.+)$", piece)
        if other_value and _TAG.search(clauses[-1]):
            prev = _CLAUSE.match(clauses[-1].strip())
            if not prev:
                return None
            clauses.append(f"{prev.group('name')} ({prev.group('tag')},{prev.group('elem')}) "
                           f"Value {other_value.group('vi')} {other_value.group('pred')}")
            ops.add(op)
        elif _SAME_ATTRIBUTE.match(piece) and _TAG.search(clauses[-1]):
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
    parsed: list[tuple[int, int | None, str, bool]] = []
    for clause in clauses:
        clause = clause.strip()
        m = _VALUE_OF.match(clause)
        if m:
            vi = m.group("vi") or _ORDINALS[m.group("ord")]
            clause = f"{m.group('attr')} Value {vi} {m.group('pred')}"
        frame = _THIS_FRAME.search(clause)
        if frame:  # "Frame Type (0008,9007) Value 1 of this frame is ORIGINAL"
            clause = clause[:frame.start()] + clause[frame.end():]
        if not _TAG.search(clause):
            clause = _named_attribute(clause)
        m = _CLAUSE.match(clause)
        if not m:
            return None
        tag = int(m.group("tag") + m.group("elem"), 16)
        if tag in _FRAME_LEVEL and not frame:
            return None
        if not _is_name_of(m.group("name"), tag):
            return None  # more words than the attribute's name: a fact we cannot see
        index = int(m.group("vi")) - 1 if m.group("vi") else None
        parsed.append((tag, index, m.group("pred"), bool(frame)))
    # "A (x) or B (y) is present": a clause without predicate borrows the next one's.
    exprs: list[Expr] = []
    pending: list[tuple[int, int | None, bool]] = []
    for tag, index, pred, in_frame in parsed:
        if not pred.strip():
            pending.append((tag, index, in_frame))
            continue
        for ptag, pindex, pframe in pending + [(tag, index, in_frame)]:
            e = _predicate(pred, ptag, pindex)
            if e is None:
                return None
            exprs.append(["frame", e] if pframe else e)
        pending = []
    if pending or not exprs:
        return None
    if len(exprs) == 1:
        return exprs[0]
    return ["and" if ops == {"and"} else "or", *exprs]


def _split_lists(raw: list[str]) -> list[str] | None:
    """"A (t1), B (t2)" followed by "and"/"or": the list's attributes joined by that word.
    *raw* alternates pieces and the words between them; None for a list with no word after
    it (the join is unknown)."""
    out: list[str] = []
    for i in range(0, len(raw), 2):
        parts = _LISTED.split(raw[i])
        if len(parts) > 1 and all(_CLAUSE.match(p) and not _CLAUSE.match(p).group("pred")  # type: ignore[union-attr]
                                  for p in parts[:-1]):
            if i + 1 >= len(raw):
                return None
            for part in parts[:-1]:
                out.extend([part, raw[i + 1]])
            out.append(parts[-1])
        else:
            out.append(raw[i])
        if i + 1 < len(raw):
            out.append(raw[i + 1])
    return out


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", name.lower())


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _is_name_of(name: str, tag: int) -> bool:
    """*name* is the PS3.6 name of *tag* (or, for a tag pydicom does not know, reads as a
    bare attribute name without connecting words)."""
    from pydicom.datadict import DicomDictionary
    entry = DicomDictionary.get(tag)
    if entry is not None and _norm(name) == _norm(entry[2]):
        return True
    if entry is not None and sorted(_words(name)) == sorted(_words(entry[2])):
        # the same words in another order, a slip of the standard ("Patient's Alternative
        # Death Date in Calendar (0010,0034)"): nothing added, the tag decides
        return True
    if re.search(r"\b(if|and|or|is|are|the|an?|when|this|not|in|within|any)\b", name):
        return False
    # The standard sometimes shortens a name next to its tag ("Identifier (0070,0310)" for
    # Fiducial Identifier, "Scan Option" for Scan Options): the tag decides.
    return entry is None or (len(_norm(name)) >= 6 and _norm(name) in _norm(entry[2]))


def _names_piece(piece: str) -> bool:
    return _named_attribute(piece.strip()) != piece.strip()


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

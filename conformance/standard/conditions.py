"""Conditions of conditional modules (usage C) and attributes (types 1C/2C), PS3.3 5.4.

The standard writes conditions in prose ("Required if Samples per Pixel (0028,0002) has a
value greater than 1"). :func:`~conformance.standard.condition_text.parse_condition` (used when the index is
built) turns the subset of sentences that name their
attributes by tag and compare them with literal values into a small expression; anything
else (real-world facts such as "contrast media was used", references to macros, value
lengths, ...) yields ``None`` and is reported as *not verifiable*, never guessed.

Expression forms (JSON-serialisable lists, stored in the shipped index)::

    ["present", tag]             ["absent", tag]          ["nonempty", tag]  ["empty", tag]
    ["eq", tag, index, [v, ...]] ["ne", tag, index, [v, ...]]
    ["gt"|"lt"|"ge"|"le", tag, index, number]
    ["and", e1, e2, ...]         ["or", e1, e2, ...]

``["frame", e]``: *e* about the current frame ("Frame Type (0008,9007) Value 1 of this frame
is ORIGINAL", in a Functional Group Macro, PS3.3 C.7.6.16): its attributes are looked up in
that frame's Functional Group Macros (see :func:`evaluate`).
``tag`` is an int, ``index`` the 0-based value index or ``None`` for "any value".
``["tag", tag, [t, ...]]``: an attribute of VR AT (Frame Increment Pointer) has one of
the tags as a value. ``["empty", tag]`` is "present with zero length"; a "non-zero" number is
``["or", ["gt", tag, None, 0], ["lt", tag, None, 0]]``. UIDs are values like any other: the
standard writes them bare, quoted, with a comment ('"1.2.840.10008.5.1.4.1.1.128.1" (Legacy
Converted)') or after their PS3.6 name ('Spatial Fiducials Storage ("1.2.840...")'); a name
that is not the UID's PS3.6 name is not parsed.
:func:`evaluate` is three-valued: ``True``, ``False`` or ``None`` (cannot tell).

This module evaluates the stored expressions (a validation needs nothing else); the prose is
parsed by :mod:`conformance.standard.condition_text`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

Expr = list
#: lookup(tag) -> None when absent, else the list of string values (possibly empty).
Lookup = Callable[[int], Sequence[str] | None]


def _as_tag(v: str) -> int | None:
    """A value of VR AT as the look-up gives it: "(0018,1063)" or a decimal number; None
    for anything else (e.g. undecoded bytes)."""
    m = re.fullmatch(r"\(?([0-9A-Fa-f]{4}),\s*([0-9A-Fa-f]{4})\)?", v.strip())
    if m:
        return int(m.group(1) + m.group(2), 16)
    return int(v) if v.strip().isdigit() else None


def _num(v: str) -> float | None:
    try:
        return float(v)
    except ValueError:
        return None


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "lt": operator.lt, "ge": operator.ge, "le": operator.le}


def evaluate(expr: Expr, lookup: Lookup) -> bool | None:
    """Evaluate *expr*: True, False, or None when the data cannot tell."""
    op = expr[0]
    if op == "frame":
        return _in_frames(expr[1], lookup)
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
    if op == "empty":
        return values is not None and not values
    if values is None:
        # An absent attribute equals nothing; "is not X" of an absent attribute is unclear.
        return False if op != "ne" else None
    if op == "tag":
        tags = [_as_tag(v) for v in values]
        return None if None in tags else any(t in expr[2] for t in tags)
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
    compare, limit = _COMPARISONS[op], expr[3]
    return any(compare(n, limit) for n in nums)


def _in_frames(expr: Expr, lookup: Lookup) -> bool | None:
    """*expr* about "this frame": *lookup* carries ``frames(tags)``, which gives the values of
    *tags* in each frame the current Item describes (the frame of a Per-frame Functional
    Groups Item; every frame for the Shared Item), read in that frame's Functional Group
    Macros: a list of ``{tag: values}`` (equal frames once), or None when a frame lacks one
    of the tags.  True when *expr* holds for some frame (an attribute shared by all frames is
    then required), False when it is false for every frame; None without a frame context or
    when the data cannot tell."""
    frames = getattr(lookup, "frames", None)
    views = frames(frozenset(tags_in(expr, in_frame=True))) if frames is not None else None
    if not views:
        return None
    unknown = False
    for view in views:
        result = evaluate(expr, view.get)
        if result is True:
            return True
        unknown = unknown or result is None
    return None if unknown else False


def tags_in(expr: Any, *, in_frame: bool = False) -> set[int]:
    """Every tag an expression looks up in its Item or the top level; those about "this
    frame" (read in the frame's Functional Group Macros) only with *in_frame*."""
    if not isinstance(expr, list) or not expr or (expr[0] == "frame" and not in_frame):
        return set()
    if expr[0] in ("and", "or", "frame"):
        return set().union(*(tags_in(e, in_frame=in_frame) for e in expr[1:]))
    return {expr[1]}

"""Facts that settle conditions the data cannot show (``--facts FILE``), checked for typos.

A fact key is a condition's text, ``IOD/module`` for a conditional module, or
``module:attribute path`` for a type 1C/2C attribute (the key each
``iod.condition-not-verifiable`` finding gives in ``details["fact"]``).  A key that names
nothing in the index would be silently ignored; :func:`unknown_facts` finds such keys and the
closest known key, so the command line can refuse the file (exit 2) with a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from conformance.iod.elements import tag_str
from conformance.standard.iod_index import AttributeRule, StandardIndex, load_index


def known_fact_keys(index: StandardIndex | None = None) -> set[str]:
    """Every fact key the index knows."""
    index = index or load_index()
    keys = {c.text for c in index._conditions}
    for ikey in index._raw_iods:
        iod = index.iod(ikey)
        for use in iod.modules:
            if use.usage == "C":
                keys.add(f"{iod.key}/{use.module.key}")
    for mkey in index._raw_modules:
        stack: list[tuple[AttributeRule, str]] = [
            (r, "") for r in index.module(mkey).attributes]
        while stack:
            rule, prefix = stack.pop()
            path = prefix + tag_str(rule.tag)
            if rule.type in ("1C", "2C"):
                keys.add(f"{mkey}:{path}")
            stack.extend((c, f"{path}[].") for c in rule.children)
    return keys


def unknown_facts(keys: Iterable[str], index: StandardIndex | None = None
                  ) -> list[tuple[str, str | None]]:
    """(key, closest known key or None) for each key the index does not know."""
    known = known_fact_keys(index)
    out = []
    for key in keys:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        out.append((key, close[0] if close else None))
    return out

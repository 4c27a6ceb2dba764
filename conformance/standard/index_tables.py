"""The shared tables of an IOD index being built: conditions and term sets, each stored once
and referred to by position (-1 = none). Used by ``bin/build_standard_index.py`` and by
:mod:`conformance.standard.docbook`, so that both write the same format the same way."""

from __future__ import annotations

import collections
from typing import Any, Mapping

from conformance.standard.condition_text import parse_condition


class IndexTables:
    """Interns condition texts (parsed once, with curated *overrides* first) and term sets."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self.conditions: list[dict[str, Any]] = []
        self.terms: list[list[str]] = []
        self.stats: collections.Counter = collections.Counter()
        self._overrides = dict(overrides or {})
        self._cond_ids: dict[str, int] = {}
        self._term_ids: dict[tuple[str, ...], int] = {}

    def cond_id(self, text: str | None) -> int:
        """Position of the condition *text*, parsed with the condition grammar on first sight."""
        if not text:
            return -1
        if text not in self._cond_ids:
            overridden = text in self._overrides
            expr = self._overrides[text] if overridden else parse_condition(text)
            if self._overrides:
                self.stats["conditions_from_overrides"] += overridden
            self.stats["conditions"] += 1
            self.stats["conditions_parsed"] += expr is not None
            self._cond_ids[text] = len(self.conditions)
            self.conditions.append({"text": text, "expr": expr})
        return self._cond_ids[text]

    def term_id(self, terms: list[str] | None) -> int:
        """Position of the term set (enumerated values or defined terms)."""
        if not terms:
            return -1
        key = tuple(terms)
        if key not in self._term_ids:
            self._term_ids[key] = len(self.terms)
            self.terms.append(list(terms))
        return self._term_ids[key]

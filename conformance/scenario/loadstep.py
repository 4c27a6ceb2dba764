"""The ``load`` step kind of a site scenario: the statement's ``load`` section as a step.

A step ``load: {associations, instances_per_association, sop_classes, transfer_syntaxes,
time_limit, targets}`` takes the same keys as the statement's ``load`` section and is run by the
same code as the family's ``load/c-store`` step (:func:`conformance.load.plan.run_load_step`):
N associations open at once, M synthesized C-STOREs each (PS3.4 B.2), judged against the
targets and the declared maximum associations (PS3.8 9.3.4, Table 9-21).  The report shows
the step's results and latency chart like the family's.

This module is the light half (no network code): the step's spec turned into a
:class:`~conformance.statement.model.Load`, and the names in it checked with file:line:key
when the scenario is loaded.  SOP classes and transfer syntaxes are keywords
(``CTImageStorage``, ``ExplicitVRLittleEndian``) or UIDs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.errors import Problem
from conformance.standard import uids
from conformance.statement.model import Load, LoadTargets
from conformance.statement.yamlsource import SourceDocument

REFERENCE = "PS3.4 B.2; PS3.7 9.3.1; PS3.8 9.3.4"
_NAMES = (("sop_classes", "SOP class", uids.sop_class_keywords),
          ("transfer_syntaxes", "transfer syntax", uids.transfer_syntax_keywords))


def _uid(value: str, table: Mapping[str, str]) -> str | None:
    """A keyword or a valid UID → the UID; anything else → None."""
    if uids.looks_like_uid(value):
        return value if uids.is_valid_uid(value) else None
    return table.get(value)


def load_of(spec: Mapping[str, Any]) -> Load:
    """The step's spec (already checked by :func:`problems`) → the load it declares."""
    names = {key: tuple(dict.fromkeys(u for v in spec.get(key, [])
                                      if (u := _uid(str(v), table())) is not None))
             for key, _kind, table in _NAMES}
    t = spec.get("targets") or {}
    return Load(associations=int(spec["associations"]),
                instances_per_association=int(spec["instances_per_association"]),
                sop_classes=names["sop_classes"], transfer_syntaxes=names["transfer_syntaxes"],
                time_limit=float(spec.get("time_limit", 120)),
                targets=LoadTargets(throughput=t.get("throughput"),
                                    p95_latency_ms=t.get("p95_latency_ms"),
                                    error_rate=t.get("error_rate")))


def problems(doc: SourceDocument, index: int, spec: Mapping[str, Any]) -> list[Problem]:
    """Unknown SOP class or transfer syntax names in step *index*'s ``load``, each located to
    its line (``steps[i].load.sop_classes[j]``), with a suggestion when one is close."""
    out: list[Problem] = []
    for key, kind, table in _NAMES:
        for j, value in enumerate(spec.get(key, [])):
            value = str(value)
            if "${" in value or _uid(value, table()) is not None:
                continue
            if uids.looks_like_uid(value):
                why = (f"{value!r} is not a valid UID (PS3.5 9.1: digits and dots, no leading "
                       "zeros, at most 64 characters)")
            else:
                hint = uids.suggest(value, list(table()))
                why = f"{value}: unknown {kind}" + (f"; did you mean {hint}?" if hint else "")
            out.append(doc.problem(("steps", index, "load", key, j), why))
    return out

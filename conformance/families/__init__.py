"""Scenario families: a statement turned into steps, one module per service.

Each module registers its planner with :func:`conformance.families.registry.planner`;
importing this package registers them all. :func:`families` gives what the shipped scenario
files name (``family: negotiation``, ``family: services``):

- ``negotiation`` (:mod:`.negotiation`): PS3.7 Annex D, PS3.8 section 9.
- ``services``: :mod:`.storage` (``storage/store/...``), :mod:`.round_trip`
  (``storage/round-trip/...``), :mod:`.charsets` (``storage/character-set/...``),
  :mod:`.query` (``query/...``), :mod:`.retrieve` (``retrieve/...``), :mod:`.worklist`,
  :mod:`.mpps`, :mod:`.commitment`; in that order, each group of step ids contiguous.

- ``tls`` (:mod:`.tls`): DICOM over TLS as ``secure_transport`` declares it (PS3.15 Annex B).

Shared: :mod:`.session` (open a session for a SOP class; step results), :mod:`.fetch`
(get stored instances back; integrity and validity), :mod:`.qrdata` (the run's Q/R study).
Steps that need data stored earlier find it in ``RunContext.shared`` (see
:mod:`conformance.services.data`); a step run alone (``-k query/``) stores what it needs.
"""

from conformance.families import (  # noqa: F401 - imported to register their planners
    charsets, commitment, mpps, negotiation, query, retrieve, round_trip, storage, tls, worklist,
)
from conformance.families.registry import Planner, families, plan_family, planner

__all__ = ["Planner", "families", "plan_family", "planner"]

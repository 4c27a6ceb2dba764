"""Open one association with a device on the harness's own stack (:mod:`conformance.wire`)
and hand it out with pynetdicom-shaped SCU calls (:class:`conformance.wire.scu.WireSCU`).

Kept for the callers that want ``with associate(target, contexts) as (outcome, assoc)``: the
scenario kinds, the DICOMweb agreement steps and the pytest fixture ``dicom_association``.
Every outcome (accepted, rejected with result / source / reason, aborted, no TCP connection,
no answer within the ACSE timeout) is a value (PS3.8 9.3.2 - 9.3.4, Tables 9-18 and 9-21),
classified in one place (:mod:`conformance.wire.outcome`). The outcome types are re-exported
here for the modules that import them from this path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from conformance.wire.contexts import CONTEXT_RESULTS, ContextResult, ProposedContext
from conformance.wire.outcome import REJECT_REASONS, AssociationOutcome, Establishment
from conformance.wire.requestor import open_association
from conformance.wire.scu import WireSCU
from conformance.wire.target import Target

__all__ = ["CONTEXT_RESULTS", "REJECT_REASONS", "AssociationOutcome", "ContextResult", "Establishment",
           "ProposedContext", "associate"]


@contextmanager
def associate(target: Target, contexts: Sequence[ProposedContext],
              on_event_report: Callable[[Any], Any] | None = None
              ) -> Iterator[tuple[AssociationOutcome, WireSCU | None]]:
    """Request an association; yield ``(outcome, assoc)``; release (or abort) on exit.

    *assoc* is ``None`` unless the association was accepted with at least one presentation
    context (an A-ASSOCIATE-AC rejecting every context is ``ACCEPTED`` with the per-context
    results, and is aborted). At most 128 contexts (PS3.8 9.3.2.2: presentation context IDs
    are odd integers 1-255). *on_event_report* gets the N-EVENT-REPORTs the device sends on
    this association after an N-ACTION (PS3.4 J.3.3).
    """
    if not 1 <= len(contexts) <= 128:
        raise ValueError(f"between 1 and 128 presentation contexts per association, not {len(contexts)}")
    outcome, wire = open_association(target, contexts)
    scu = None if wire is None else WireSCU(wire, on_event_report=on_event_report)
    try:
        yield outcome, scu
    finally:
        if scu is not None:
            scu.release()               # closes the socket in every state (wire/association.py)

"""What every service step shares: opening a session for a SOP class, and turning what
happened into a step result.

:func:`session` opens an association proposing one SOP class (or a few contexts) and yields
a :class:`Session`; when the association cannot be used it raises :class:`NotOpen` carrying
the step's result (a rejected presentation context of a declared SCP service is a failure,
PS3.8 9.3.3.2; no association at all means the harness could not test). Step actions are
wrapped in :func:`step_action`, which turns :class:`NotOpen` into that result, so no step
repeats the opening boilerplate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from conformance.engine.model import Outcome, RunContext, StepResult
from conformance.families.verdict import ae_title_setup
from conformance.findings import Finding, Severity
from conformance.negotiation.association import (
    AssociationOutcome,
    Establishment,
    ProposedContext,
)
from conformance.negotiation.target import Target
from conformance.services.common import Exchange
from conformance.services.wire import WireAssociation, open_association
from conformance.standard import uids
from conformance.statement.model import Statement
from conformance.wire.scu import WireMonitor, WireSCU

EXPLICIT = uids.EXPLICIT_VR_LITTLE_ENDIAN
IMPLICIT = uids.IMPLICIT_VR_LITTLE_ENDIAN
UNCOMPRESSED = (EXPLICIT, IMPLICIT)

NO_PORT = ("not tested: the device connects back to the harness, and the port it has "
           "configured for it is unknown (give --harness-port or harness.port)")


def unestablished(outcome: AssociationOutcome, purpose: str,
                  target: Target | None = None) -> StepResult:
    """The step could not run because the association was not established. A rejection
    for an AE title the device does not recognize (PS3.8 Table 9-21, source 1, reason 3 or
    7) is a set-up problem at the site (:data:`Outcome.SETUP`) when *target* is given."""
    if target is not None and outcome.establishment is Establishment.REJECTED \
            and outcome.reject_source == 1 and outcome.reject_reason in (3, 7):
        return StepResult(message=ae_title_setup(outcome, purpose, target), outcome=Outcome.SETUP)
    unreachable = outcome.establishment in (Establishment.NO_CONNECTION, Establishment.NO_ANSWER)
    return StepResult.error(f"could not {purpose}: {outcome.describe()}", unreachable=unreachable)


def not_open(outcome: AssociationOutcome, purpose: str, target: Target | None = None) -> StepResult:
    """The step's association could not be used. If the device accepted the association
    but rejected the service's presentation context, the declared service is not there:
    a failure (PS3.8 9.3.3.2); otherwise the harness could not test (error)."""
    if outcome.establishment is Establishment.ACCEPTED:
        rejected = [c for c in outcome.contexts if not c.accepted]
        c = rejected[0] if rejected else None
        what = (f"{uids.name_of(c.proposed.sop_class)} (result {c.result})" if c is not None
                else "the presentation context")
        return StepResult([Finding(
            "services.context-rejected", Severity.ERROR,
            f"Could not {purpose}: the device rejected {what}, which the statement declares "
            "(SCP).", reference="PS3.8 9.3.3.2; statement",
            details={"sop_class": c.proposed.sop_class if c else None})],
            message=f"could not {purpose}: presentation context rejected")
    return unestablished(outcome, purpose, target)


def result_of(ex: Exchange) -> StepResult:
    """A step result from an exchange: error / skipped win over findings."""
    observations: list[Mapping[str, Any]] = list(ex.observations)
    if ex.setup:
        return StepResult(ex.findings, observations, message=ex.setup, outcome=Outcome.SETUP)
    if ex.error:
        return StepResult(ex.findings, observations, message=ex.error, outcome=Outcome.ERROR)
    if ex.skipped:
        return StepResult(ex.findings, observations, message=ex.skipped, outcome=Outcome.SKIPPED)
    return StepResult(ex.findings, observations, message=ex.message)


def exchange_of(result: StepResult) -> Exchange:
    """The inverse of :func:`result_of`, for a step result inside a larger exchange."""
    observations = [dict(o) for o in result.observations]
    if result.outcome is Outcome.ERROR:
        return Exchange(result.findings, observations, error=result.message)
    if result.outcome is Outcome.SKIPPED:
        return Exchange(result.findings, observations, skipped=result.message)
    if result.outcome is Outcome.SETUP:
        return Exchange(result.findings, observations, setup=result.message)
    return Exchange(result.findings, observations, message=result.message)


class NotOpen(Exception):
    """The session could not be used; :attr:`result` is what the step ends with and
    :attr:`outcome` how the association ended."""

    def __init__(self, result: StepResult, outcome: AssociationOutcome | None = None) -> None:
        super().__init__(result.message)
        self.result = result
        self.outcome = outcome


@dataclass
class Session:
    """An open association for one service: its outcome, the association and the monitor
    that records every DIMSE response (:class:`conformance.wire.scu.WireMonitor`)."""

    outcome: AssociationOutcome
    assoc: WireSCU
    monitor: WireMonitor


@contextmanager
def session(ctx: RunContext | Target, sop_class: str, purpose: str,
            transfer_syntaxes: tuple[str, ...] = UNCOMPRESSED,
            on_event_report: Callable[[Any], Any] | None = None) -> Iterator[Session]:
    """Open an association proposing *sop_class* for the service *purpose* (``"C-FIND"``) on
    the harness's own stack (:mod:`conformance.wire`: one thread, exact endings); released
    (or aborted) on exit. *on_event_report* gets the N-EVENT-REPORTs sent on the association
    (PS3.4 J.3.3). Raises :class:`NotOpen` when it cannot be used."""
    target = ctx.target if isinstance(ctx, RunContext) else ctx
    outcome, wire = open_association(target, [ProposedContext(sop_class, transfer_syntaxes)])
    if wire is None:
        raise NotOpen(not_open(outcome, f"associate for {purpose}", target), outcome)
    scu = WireSCU(wire, on_event_report=on_event_report)
    try:
        yield Session(outcome, scu, scu.monitor)
    finally:
        scu.release()


@contextmanager
def wire_session(ctx: RunContext | Target, contexts: Sequence[ProposedContext], purpose: str,
                 needed: ProposedContext | None = None) -> Iterator[tuple[AssociationOutcome, WireAssociation]]:
    """Open an association on the one-thread requestor (C-STORE and C-GET, whose
    sub-operations are answered in the same thread); released on exit. Raises
    :class:`NotOpen` when it is not established or *needed* was not accepted."""
    target = ctx.target if isinstance(ctx, RunContext) else ctx
    outcome, wire = open_association(target, contexts)
    if wire is None:
        raise NotOpen(not_open(outcome, f"associate for {purpose}", target), outcome)
    if needed is not None and needed not in wire.context_ids:
        wire.abort()
        raise NotOpen(not_open(outcome, f"associate for {purpose}", target), outcome)
    try:
        yield outcome, wire
    finally:
        wire.release()


def step_action(fn: Callable[[RunContext], StepResult]) -> Callable[[RunContext], StepResult]:
    """A step action whose :class:`NotOpen` ends the step with the session's result."""
    @functools.wraps(fn)
    def action(ctx: RunContext) -> StepResult:
        try:
            return fn(ctx)
        except NotOpen as exc:
            return exc.result
    return action


def harness_port(ctx: RunContext) -> int | None:
    """The port the device calls the harness on (C-MOVE destination, commitment reports)."""
    return ctx.target.harness_port or ctx.statement.harness.port


def destination(statement: Statement) -> str:
    """The AE title the harness receives C-MOVE sub-operations under."""
    return statement.harness.move_destination or statement.harness.ae_title


class Ids:
    """Message IDs, unique per association (PS3.7 9.3.1.1)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n = self.n % 65535 + 1
        return self.n

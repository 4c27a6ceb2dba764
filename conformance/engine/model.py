"""Steps, their results and the context they run in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping, Protocol, Sequence

from conformance.findings import Finding, Severity
from conformance.wire.target import Target
from conformance.statement.model import Statement


class Outcome(str, Enum):
    """How a step ended.

    ``pass``: what was tested conforms (warnings may be attached). ``fail``: the device
    deviates from its statement or the standard (including a claimed service refused by
    A-ABORT or a failure status). ``error``: the harness could not test (no connection, no
    answer within a timeout). ``setup``: a set-up problem at the site (the device does not
    know the harness' AE title, port or move destination); the message says what to
    configure. ``skipped``: not applicable or not implemented, with the reason.
    See :mod:`conformance.families.verdict` and README "Verdict rules".
    """

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SETUP = "setup"
    SKIPPED = "skipped"


class SetupProblem(Exception):
    """A set-up problem at the site found while a step runs (e.g. the harness port is taken
    by another program). The engine ends the step with outcome ``setup`` and this message,
    which says what to change."""


@dataclass
class StepResult:
    """What a step found. ``outcome`` is derived from the findings when not given."""

    findings: list[Finding] = field(default_factory=list)
    observations: Sequence[Mapping[str, Any]] = field(default_factory=list)
    message: str = ""
    outcome: Outcome | None = None
    #: The harness could not reach the device at all (no TCP connection, or no answer to
    #: A-ASSOCIATE-RQ): the engine then checks whether the device is down.
    device_unreachable: bool = False

    def final_outcome(self) -> Outcome:
        if self.outcome is not None:
            return self.outcome
        if any(f.severity is Severity.ERROR for f in self.findings):
            return Outcome.FAIL
        return Outcome.PASS

    @classmethod
    def error(cls, message: str, unreachable: bool = False) -> "StepResult":
        return cls(message=message, outcome=Outcome.ERROR, device_unreachable=unreachable)

    @classmethod
    def skipped(cls, reason: str) -> "StepResult":
        return cls(message=reason, outcome=Outcome.SKIPPED)


@dataclass(frozen=True)
class RunOptions:
    """Knobs of one run. ``strict``: warnings fail the run too."""

    strict: bool = False
    #: "packed": up to 128 presentation contexts per association (PS3.8 9.3.2.2);
    #: "per-sop-class": one association per SOP class (slow; for the benchmark).
    packing: str = "packed"


@dataclass
class RunContext:
    """What a step may use: the statement, the target device, the options, and a place for
    data shared between steps of one run (e.g. instances stored by one step, moved by the next)."""

    statement: Statement
    target: Target
    options: RunOptions = field(default_factory=RunOptions)
    shared: dict[str, Any] = field(default_factory=dict)
    #: Called once when the run ends, last registered first (open associations, listeners).
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    #: Set by the engine: receives (done, total, label) of work inside a step or batch.
    on_progress: Callable[[int, int, str], None] | None = None
    #: Set by the engine during a batch: records a finished step of it at once (:meth:`step_done`).
    on_step_done: Callable[[str, StepResult], None] | None = None

    def step_done(self, step_id: str, result: StepResult) -> None:
        """Record one step of a batch as soon as it is finished (e.g. each C-STORE of the
        storage batch), so a run killed later in the batch keeps it; a no-op outside the engine."""
        if self.on_step_done is not None:
            self.on_step_done(step_id, result)

    def progress(self, done: int, total: int, label: str) -> None:
        """Report work done inside a long step or batch (e.g. each C-STORE of a storage
        batch) so the console's bar and ETA advance; a no-op outside the engine."""
        if self.on_progress is not None:
            self.on_progress(done, total, label)


class Batch(Protocol):
    """Several steps answered by one network exchange (e.g. packed negotiation probes).

    The engine calls :meth:`run` once, with the selected steps of the batch, when the first
    of them is reached; each step then gets its own result and events.
    """

    key: str

    def run(self, ctx: RunContext, steps: Sequence["Step"]) -> dict[str, StepResult]: ...

    def time_limit(self, ctx: RunContext, steps: Sequence["Step"]) -> float: ...


@dataclass(frozen=True)
class Step:
    """One check with a stable id (``negotiation/accept/CTImageStorage/JPEGLossless``).

    Either ``action`` (run alone) or ``batch`` (run together with its batch) is set.
    """

    id: str
    title: str
    reference: str
    action: Callable[[RunContext], StepResult] | None = None
    batch: Batch | None = None
    time_limit: float | None = None

    def describe(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "reference": self.reference}

"""Typed events of a run. Each is one JSON line in results.jsonl.

Order: ``run-started``, then per step ``step-started``, ``finding`` (zero or more),
``step-finished``, and last ``run-finished`` (absent when the run was killed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Protocol, Union

from conformance.findings import Finding


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    at: str
    harness_version: str
    target: Mapping[str, Any]
    statement: Mapping[str, Any]
    statement_file: str | None
    plan: list[Mapping[str, str]]
    options: Mapping[str, Any]
    kind: str = "run-started"


@dataclass(frozen=True)
class StepStarted:
    step_id: str
    at: str
    #: Title and standard reference of a step that was not in the plan at run start: the
    #: steps of an event-driven run (``conformance listen``) are made as the device acts.
    title: str = ""
    reference: str = ""
    kind: str = "step-started"


@dataclass(frozen=True)
class FindingReported:
    step_id: str
    finding: Finding
    kind: str = "finding"


@dataclass(frozen=True)
class StepFinished:
    step_id: str
    outcome: str
    duration: float
    message: str = ""
    observations: list[Mapping[str, Any]] = field(default_factory=list)
    kind: str = "step-finished"


@dataclass(frozen=True)
class RunFinished:
    at: str
    counts: Mapping[str, int]
    exit_code: int
    aborted: str | None = None
    kind: str = "run-finished"


@dataclass(frozen=True)
class Progress:
    """Work done inside a step or batch (e.g. C-STOREs sent of a storage batch), for the
    console's bar and ETA only: not recorded in results.jsonl, not part of the results."""

    done: int
    total: int
    label: str
    kind: str = "progress"


@dataclass(frozen=True)
class CreatedOnDevice:
    """What the run left on the device (patients, studies, instance counts), emitted once
    before ``run-finished`` so the site can find and delete it."""

    items: list[Mapping[str, Any]]
    kind: str = "test-data"


Event = Union[RunStarted, StepStarted, FindingReported, StepFinished, RunFinished, Progress, CreatedOnDevice]

_KINDS = {cls.kind: cls for cls in (RunStarted, StepStarted, FindingReported, StepFinished, RunFinished,
                                     Progress, CreatedOnDevice)}  # type: ignore[attr-defined]


def to_dict(event: Event) -> dict[str, Any]:
    if isinstance(event, FindingReported):
        return {"kind": event.kind, "step_id": event.step_id, "finding": event.finding.to_dict()}
    return asdict(event)


def from_dict(data: Mapping[str, Any]) -> Event:
    """Rebuild an event from its JSON form. Raises KeyError/TypeError/ValueError if malformed."""
    kind = data["kind"]
    if kind == "finding":
        return FindingReported(step_id=data["step_id"], finding=Finding.from_dict(data["finding"]))
    cls = _KINDS[kind]
    return cls(**data)


class Handler(Protocol):
    """Consumes events as they happen (console progress, recorder, results builder)."""

    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...

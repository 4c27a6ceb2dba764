"""The one finding type used by every check, the engine and the report writers.

A finding is a value: a stable code, a severity, what was observed, where, and the part of
the standard (or of the device's own conformance statement) that the observation is held
against. It is never a log line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Mapping


class Severity(str, Enum):
    """How much a finding weighs.

    ``error``: the device (or instance) deviates from its statement or from the standard;
    the step fails. ``warning``: reported, does not fail the run unless ``--strict``
    (e.g. an undeclared extra capability, a wrong rejection reason). ``info``: context,
    including rules the harness could not verify.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One observation held against the standard or the conformance statement.

    Parameters
    ----------
    code
        Stable, dotted identifier (``negotiation.declared-ts-rejected``); tests and
        downstream tools key on it.
    severity
        See :class:`Severity`.
    message
        One sentence a reader understands without the code.
    reference
        Where the rule comes from, e.g. ``PS3.8 9.3.3.2`` or ``statement``.
    tag
        Attribute path for IOD findings, e.g. ``(0040,0275)[0].(0008,0100)``.
    module, iod
        PS3.3 module and IOD names for IOD findings.
    source
        The file or network location the finding is about (file path, ``host:port``).
    details
        Extra structured data (declared vs observed values, ...), JSON-serialisable.
    """

    code: str
    severity: Severity
    message: str
    reference: str = ""
    tag: str | None = None
    module: str | None = None
    iod: str | None = None
    source: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["details"] = dict(self.details)
        return {k: v for k, v in data.items() if v not in (None, {}, "")
                or k in ("code", "severity", "message")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Finding":
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            message=data["message"],
            reference=data.get("reference", ""),
            tag=data.get("tag"),
            module=data.get("module"),
            iod=data.get("iod"),
            source=data.get("source"),
            details=dict(data.get("details") or {}),
        )


def worst(findings: "list[Finding] | tuple[Finding, ...]") -> Severity | None:
    """The heaviest severity among *findings*, or ``None`` when there are none."""
    order = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    present = {f.severity for f in findings}
    return next((s for s in order if s in present), None)

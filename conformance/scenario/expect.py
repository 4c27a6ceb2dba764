"""Expectations of a scenario step, checked into findings (``scenario.expectation-failed``)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from pydicom.dataset import Dataset

from conformance.findings import Finding, Severity
from conformance.services.status import StatusInfo

_BOUND = re.compile(r"^(>=|<=|>|<|==)?([0-9]+)$")


def count_ok(actual: int, spec: int | str) -> bool:
    if isinstance(spec, int):
        return actual == spec
    op, number = _BOUND.match(spec).groups()  # type: ignore[union-attr]
    n = int(number)
    return {"": actual == n, None: actual == n, "==": actual == n, ">=": actual >= n, "<=": actual <= n,
            ">": actual > n, "<": actual < n}[op]


def status_ok(status: StatusInfo | None, spec: str) -> bool:
    if status is None:
        return False
    if spec.startswith("0x"):
        return status.code == int(spec, 16)
    return status.category == spec


class Expectations:
    """Collects the findings of one step's ``expect`` block."""

    def __init__(self, spec: Mapping[str, Any] | None, reference: str, where: str):
        self.spec = dict(spec or {})
        self.reference, self.where = reference, where
        self.findings: list[Finding] = []

    def fail(self, what: str, expected: Any, actual: Any) -> None:
        self.findings.append(Finding(
            "scenario.expectation-failed", Severity.ERROR,
            f"{self.where}: expected {what} {expected}, got {actual}.", reference=self.reference,
            details={"expectation": what, "expected": str(expected), "actual": str(actual)}))

    def status(self, status: StatusInfo | None, default: str = "success") -> None:
        want = self.spec.get("status", default)
        if not status_ok(status, want):
            self.fail("status", want, status.describe() if status else "no status")

    def count(self, key: str, actual: int | None) -> None:
        if key in self.spec:
            if actual is None or not count_ok(actual, self.spec[key]):
                self.fail(key, self.spec[key], "not reported" if actual is None else actual)

    def values(self, datasets: list[Dataset]) -> None:
        for keyword, want in (self.spec.get("values") or {}).items():
            got = [str(ds.get(keyword, "")) for ds in datasets]
            if str(want) not in got:
                self.fail(f"a match with {keyword} =", repr(str(want)), got[:5] or "no match")

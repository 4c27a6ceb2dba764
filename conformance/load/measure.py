"""Figures and judgements of a load run: pure functions over what was measured.

Association rejection (PS3.8 9.3.4, Table 9-21): a device at its association limit answers
A-ASSOCIATE-RJ with result 2 (rejected-transient), source 3 (service-provider, presentation
related), reason 2 (local-limit-exceeded).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.findings import Finding, Severity

#: A-ASSOCIATE-RJ fields of "local limit exceeded" (PS3.8 Table 9-21).
LIMIT_RESULT, LIMIT_SOURCE, LIMIT_REASON = 2, 3, 2
REF_REJECT = "PS3.8 9.3.4, Table 9-21"


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    ordered = sorted(latencies_ms)
    return {"p50": percentile(ordered, 50), "p95": percentile(ordered, 95),
            "p99": percentile(ordered, 99), "max": ordered[-1] if ordered else None,
            "mean": sum(ordered) / len(ordered) if ordered else None}


def buckets(samples: Sequence[tuple[float, float]], count: int = 60) -> list[dict[str, float]]:
    """``(seconds since start, latency ms)`` samples in *count* equal time slices: per slice
    its start, C-STOREs answered, p50, p95 and max latency (the chart's data, kept small)."""
    if not samples:
        return []
    end = max(t for t, _ in samples) or 1e-9
    width = end / count
    slices: list[list[float]] = [[] for _ in range(count)]
    for t, ms in samples:
        slices[min(count - 1, int(t / width))].append(ms)
    out = []
    for i, s in enumerate(slices):
        if s:
            s.sort()
            out.append({"t": round(i * width, 4), "n": len(s),
                        "p50": percentile(s, 50) or 0.0, "p95": percentile(s, 95) or 0.0,
                        "max": s[-1]})
    return out


def judge_rejections(requested: int, declared_max: int | None,
                     rejections: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Rejected associations against the statement's ``network.max_associations``.

    Within the declared maximum (or when none is declared) every rejection is a failure: the
    device refused load its statement claims.  Beyond it, up to ``requested - max``
    rejections are expected, each as "local limit exceeded" (transient); another reason is a
    warning, more rejections than that an error.
    """
    out: list[Finding] = []
    if not rejections:
        return out
    n = len(rejections)
    allowed = max(0, requested - declared_max) if declared_max else 0
    reasons = ", ".join(sorted({r["meaning"] for r in rejections}))
    if n > allowed:
        claim = (f"the statement declares up to {declared_max} associations" if declared_max
                 else "the statement declares no association limit")
        out.append(Finding(
            "load.association-rejected", Severity.ERROR,
            f"{n} of {requested} concurrent associations were rejected ({reasons}); {claim}, "
            f"so at most {allowed} rejection(s) were expected.",
            reference=f"{REF_REJECT}; statement network.max_associations",
            details={"requested": requested, "declared_max": declared_max, "rejected": n}))
    wrong = [r for r in rejections if (r.get("result"), r.get("source"), r.get("reason"))
             != (LIMIT_RESULT, LIMIT_SOURCE, LIMIT_REASON)]
    if declared_max and requested > declared_max and wrong:
        out.append(Finding(
            "load.rejection-reason", Severity.WARNING,
            f"{len(wrong)} association(s) beyond the declared maximum of {declared_max} were "
            f"rejected with {reasons}, not with result 2 (transient), source 3, reason 2 "
            "(local limit exceeded): a requestor cannot tell that it should retry later.",
            reference=REF_REJECT, details={"declared_max": declared_max}))
    return out


def judge_targets(targets: Any, throughput: float, p95: float | None, error_rate: float,
                  attempted: int) -> list[Finding]:
    """The statement's ``load.targets`` against what was measured (each miss: an error)."""
    out: list[Finding] = []
    if not attempted:
        return out
    if targets.throughput is not None and throughput < targets.throughput:
        out.append(Finding(
            "load.throughput-below-target", Severity.ERROR,
            f"the device stored {throughput:.1f} instances/s; the statement's target is "
            f"{targets.throughput:g}/s.", reference="statement load.targets.throughput",
            details={"measured": round(throughput, 2), "target": targets.throughput}))
    if targets.p95_latency_ms is not None and p95 is not None and p95 > targets.p95_latency_ms:
        out.append(Finding(
            "load.latency-above-target", Severity.ERROR,
            f"95% of C-STOREs were answered within {p95:.1f} ms; the statement's target is "
            f"{targets.p95_latency_ms:g} ms.", reference="statement load.targets.p95_latency_ms",
            details={"measured": round(p95, 2), "target": targets.p95_latency_ms}))
    if targets.error_rate is not None and error_rate > targets.error_rate:
        out.append(Finding(
            "load.error-rate-above-target", Severity.ERROR,
            f"{100 * error_rate:.2f}% of C-STOREs failed; the statement's target is at most "
            f"{100 * targets.error_rate:.2f}%.", reference="statement load.targets.error_rate",
            details={"measured": round(error_rate, 5), "target": targets.error_rate}))
    return out

"""The load section of the run report, rebuilt from the step's observation alone (a report of
a killed run's results file shows the same section).  The latency-over-time chart is an inline
SVG computed here: no script, no external file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.engine.results import RunResults

W, H, PAD = 720, 240, 44


@dataclass
class Chart:
    """An SVG line chart: latency (ms) per time slice, p50 / p95 / max, target line."""

    width: int
    height: int
    lines: list[tuple[str, str, str]]   # (label, css colour, "x,y x,y ...")
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    target_y: float | None
    pad: int = PAD


@dataclass
class LoadView:
    step_id: str
    outcome: str | None
    o: Mapping[str, Any]
    chart: Chart | None


def _chart(o: Mapping[str, Any]) -> Chart | None:
    bks = o.get("buckets") or []
    if not bks:
        return None
    t_end = max(b["t"] for b in bks) or 1.0
    target = (o.get("targets") or {}).get("p95_latency_ms")
    y_max = max(max(b["max"] for b in bks), target or 0) * 1.1 or 1.0

    def x(t: float) -> float:
        return PAD + (W - 2 * PAD) * t / t_end

    def y(ms: float) -> float:
        return H - PAD + (-(H - 2 * PAD) * ms / y_max)

    lines = [(label, colour, " ".join(f"{x(b['t']):.1f},{y(b[key]):.1f}" for b in bks))
             for label, colour, key in (("max", "#b3261e", "max"), ("p95", "#8a5a00", "p95"),
                                        ("p50", "#1e7b34", "p50"))]
    digits = 1 if t_end >= 4 else 2 if t_end >= 0.4 else 3
    x_ticks = [(x(t_end * i / 4), f"{t_end * i / 4:.{digits}f} s") for i in range(5)]
    y_ticks = [(y(y_max * i / 4), f"{y_max * i / 4:.0f} ms") for i in range(5)]
    return Chart(W, H, lines, x_ticks, y_ticks, y(target) if target else None)


def build_load_view(results: RunResults) -> list[LoadView]:
    """One view per load step that recorded its measurements: the family's ``load/c-store``
    and every ``load`` step of a site scenario."""
    out = []
    for step in results.steps:
        obs = next((o for o in step.observations if o.get("kind") == "load"), None)
        if obs is not None:
            out.append(LoadView(step.id, step.outcome, obs, _chart(obs)))
    return out

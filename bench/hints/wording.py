"""How the hints section and its targets word their figures: seconds as median, p95 and max; the hint
queue's drain."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench.budget import percentile
from bench.hints.traffic import Traffic


def seconds_cells(values: Sequence[float], decimals: int = 1) -> tuple[str, str, str]:
    if not values:
        return "—", "—", "—"
    return (
        f"{statistics.median(values):.{decimals}f}",
        f"{percentile(values, 0.95):.{decimals}f}",
        f"{max(values):.{decimals}f}",
    )


def spread(values: Sequence[float], *, decimals: int = 1) -> str:
    median, p95, most = seconds_cells(values, decimals)
    return f"median {median} s, p95 {p95} s, max {most} s"


def drain(traffic: Traffic) -> str:
    if traffic.drained_after is None:
        return "not drained within the hour"
    return f"{traffic.drained_after / 60:.1f} min"

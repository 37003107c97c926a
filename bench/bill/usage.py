"""A month of one deployment's work: how many runs of each kind, and what they add up to.

Pure arithmetic over counted resources (bench/bill/templates.py) and measured runs (bench/bill/runs.py).
The month is 730 hours. Stores are spread at random over it; the ones that matter are those of the
account and Region the deployment polls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bench.bill.profile import BUSY, COLD, FAIL, FINISH, IDLE, START, Profile, RunFigures

HOURS = 730
MINUTES = HOURS * 60
DAYS = 365 / 12


@dataclass(frozen=True)
class Assumptions:
    """What no run or template can tell: stated in the report beside the bill."""

    store_minutes: float = 30.0
    """How long a store task runs ("minutes to hours"); while one runs, runs are `busy`, not `idle`."""
    failed_share: float = 0.03
    """The stores that fail (the benchmark's data: about 3 %)."""
    cold_starts: float = HOURS / 2
    """Fresh execution environments a month. Lambda recycles them after a few hours, undocumented; one
    every two hours is assumed."""
    latency_per_call_s: float = 0.010
    """Lambda time of one AWS call, added to the handler's own time (bench/report.py's sensitivity)."""
    init_seconds: float = 0.0
    """A cold start's INIT phase (the handler's import, measured), billed since August 2025."""


@dataclass(frozen=True)
class Share:
    """Runs of one kind a month, and what one such run costs."""

    kind: str
    runs: float
    figures: RunFigures


def poller_shares(profile: Profile, runs_per_month: float, stores: float, a: Assumptions) -> list[Share]:
    """Each store is one `start` run and one `finish` (or, for the failed share, `fail`) run; the other
    minutes some store runs in are `busy` runs, the rest `idle` (Poisson arrivals: a minute is free of
    stores with probability exp(-stores * duration / minutes)). A cold start takes an idle run's place,
    else a busy one's."""
    if runs_per_month == 0:
        return []
    ends = min(stores, runs_per_month / 2)
    free = math.exp(-stores * a.store_minutes / MINUTES)
    busy = min(max(0.0, runs_per_month * (1 - free) - 2 * ends), runs_per_month - 2 * ends)
    idle = runs_per_month - 2 * ends - busy
    cold = min(a.cold_starts, idle + busy)
    cold_from_idle = min(cold, idle)
    counts = {IDLE: idle - cold_from_idle, BUSY: busy - (cold - cold_from_idle), START: ends, COLD: cold}
    counts |= {FINISH: ends * (1 - a.failed_share), FAIL: ends * a.failed_share}
    return [Share(kind, counts[kind], profile.kinds[kind]) for kind in counts]


def total(shares: Iterable[Share], figure: str) -> float:
    return sum(share.runs * share.figures.mean(figure) for share in shares)


def messages(shares: Iterable[Share], variable: str) -> float:
    return sum(share.runs * share.figures.messages(variable) for share in shares)


def seconds(shares: Iterable[Share], a: Assumptions) -> float:
    """Billed Lambda time: each run's own time plus the assumed time of its calls, rounded up to 1 ms."""
    return sum(
        share.runs
        * math.ceil(
            1000 * (share.figures.mean("own_seconds") + a.latency_per_call_s * share.figures.mean("calls"))
        )
        / 1000
        for share in shares
    )


def _hours_holding(occurrences: float) -> float:
    """The share of the month's hours holding at least one of `occurrences` spread at random over it."""
    return 1 - math.exp(-occurrences / HOURS)


def _periodic(hours_share: float, runs: float, share_of_runs: float) -> float:
    """The share of all hours a metric is published in by runs that come every minute while they come:
    every hour that has such runs, once it is in at least one of the runs an hour holds."""
    if hours_share == 0:
        return 0.0
    per_hour = runs / (hours_share * HOURS)
    return hours_share * min(1.0, per_hour * share_of_runs)


def metric_months(shares: list[Share], stores: float, a: Assumptions) -> float:
    """Custom metrics are billed for every hour they are published in (1/730 of a metric-month each)."""
    by_kind = {share.kind: share for share in shares}
    names = {name for share in shares for name in share.figures.metrics}
    idle, busy = by_kind.get(IDLE), by_kind.get(BUSY)
    # Stores running during an hour: those starting in it, and those started up to a store's length before.
    busy_hours = _hours_holding(stores * (1 + a.store_minutes / 60))

    def published(name: str) -> float:
        quiet = 1.0
        if idle is not None:
            quiet *= 1 - _periodic(_hours_holding(idle.runs), idle.runs, idle.figures.share(name))
        if busy is not None:
            quiet *= 1 - _periodic(busy_hours, busy.runs, busy.figures.share(name))
        others = [share for share in shares if share.kind not in (IDLE, BUSY)]
        occurrences = sum(share.runs * share.figures.share(name) for share in others)
        return 1 - quiet * math.exp(-occurrences / HOURS)

    return sum(published(name) for name in names)


def per_store(profile: Profile, figure: Callable[[RunFigures], float], a: Assumptions) -> float:
    """What one store's own runs hold (its announcements): its start, and its end as it completes or fails."""
    ends = (1 - a.failed_share) * figure(profile.kinds[FINISH]) + a.failed_share * figure(profile.kinds[FAIL])
    return figure(profile.kinds[START]) + ends

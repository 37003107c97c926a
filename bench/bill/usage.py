"""A month of one deployment's work: how many runs of each kind, and what they add up to.

Pure arithmetic over counted resources (bench/bill/templates.py) and measured runs (bench/bill/runs.py).
The month is 730 hours. Stores are spread at random over it; the ones that matter are those of the
account and Region the deployment polls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bench.bill.profile import (
    BUSY,
    COLD,
    FAIL,
    FINISH,
    HINT_OBJECT,
    HINT_START,
    IDLE,
    START,
    Profile,
    RunFigures,
)

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
    """Lambda time of one AWS call, added to the handler's own time (bench/cost.py's sensitivity)."""
    init_seconds: float = 0.0
    """A cold start's INIT phase (the handler's import, measured), billed since August 2025."""
    queue_pollers: int = 5
    """Lambda's pollers of a queue an event source mapping reads, while it is (nearly) empty. "For standard
    queues, Lambda uses long polling to poll a queue until it becomes active. When messages are available,
    Lambda starts processing five batches at a time with five concurrent invocations of your function
    [...] When traffic is low, Lambda scales back the processing to five concurrent batches, and can
    optimize to as few as 2 concurrent batches to reduce the SQS calls and corresponding costs. However,
    this optimization is not available when you enable the maximum concurrency setting" (Lambda developer
    guide, "Configuring scaling behavior for SQS event source mappings",
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). The hint queue's mapping sets
    maximum concurrency (infra/hints.py), so 5. Users of such mappings report 15 empty receives a minute
    on an idle queue, 3 for each of 5 pollers (getlift/lift issue 132)."""
    receives_per_poller_minute: float = 3.0
    """ReceiveMessage requests a minute of each poller of an empty queue: a long poll waits at most 20 s
    ("The maximum long polling wait time is 20 seconds", SQS developer guide, "Setting-up long polling",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/best-practices-setting-up-long-polling.html),
    and each one that returns empty is billed as a request like any other: long polling cuts "the number of
    empty responses" to reduce cost, and "Short polling is billed the same as long polling" (SQS developer
    guide, "Using the appropriate polling mode",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/best-practices-using-appropriate-polling-mode.html;
    SQS pricing, https://aws.amazon.com/sqs/pricing/: every SQS action is a request). Lambda does not
    document its wait time; 20 s, the most, is the fewest receives it could make."""


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


def hint_shares(profile: Profile, stores: float, a: Assumptions) -> list[Share]:
    """Hint runs, with hints: each store's CloudTrail start is one, each completed store's S3 Object Created
    one more (a failed store writes no object). Each hint is a batch of its own: the mapping has no
    batching window, and stores come far apart (10,000 a month is one every 4 minutes)."""
    if HINT_START not in profile.kinds:
        return []
    return [
        Share(HINT_START, stores, profile.kinds[HINT_START]),
        Share(HINT_OBJECT, stores * (1 - a.failed_share), profile.kinds[HINT_OBJECT]),
    ]


def queue_polls(polled_queues: int, a: Assumptions) -> float:
    """ReceiveMessage requests a month of Lambda's pollers of the queues event source mappings read, most of
    them empty: they poll all month, messages or not."""
    return polled_queues * a.queue_pollers * a.receives_per_poller_minute * MINUTES


def per_store(profile: Profile, figure: Callable[[RunFigures], float], a: Assumptions) -> float:
    """What one store's own runs hold (its announcements): its start, and its end as it completes or fails."""
    ends = (1 - a.failed_share) * figure(profile.kinds[FINISH]) + a.failed_share * figure(profile.kinds[FAIL])
    return figure(profile.kinds[START]) + ends

"""The hints section's traffic scenarios, each in a fresh account (bench/hints/account.py).

3. Burst: `burst_stores` stores in progress (started over the three hours before, as EC2's
   CreateStoreImageTask bucket of 50 requests and 0.1 a second paces starts) complete within
   `burst_seconds`; the schedule goes on, and a waiter calls every 5 s beside, EC2's bucket on.
4. Flood: `flood_objects` `ami-….bin` objects that no store made appear in the bucket within
   `flood_seconds` (`HintEvents.forge`), nothing else happens; on until the hint queue drains.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.emulated import START
from bench.hints.account import HINTS, SCHEDULED, Announced, HintedAccount, Run, hinted_account
from bench.hints.plan import HintsPlan
from bench.hints.timing import MODEL, Log, ami, since
from bench.scenario import BUCKET, DESCRIBE
from local.ec2_store_tasks import CLOCK, COMPLETED, IN_PROGRESS
from local.lambda_context import ACCOUNT, REGION

DRAIN_LIMIT = timedelta(hours=1)
"""How long a burst or a flood may take to drain before the scenario stops waiting."""


# -- 3. burst ----------------------------------------------------------------------------------------


@dataclass
class Traffic:
    """What the hint queue's traffic cost, from its first hint until the queue drained."""

    hint_runs: int = 0
    scheduled_runs: int = 0
    most_calls_hint_run: int = 0
    most_calls_scheduled_run: int = 0
    ec2_calls: int = 0
    most_hint_calls_in_a_minute: int = 0
    own_throttled: int = 0
    handed_back: int = 0
    drained_after: float | None = None
    """Seconds from the first hint to the queue's drain (None: not drained within DRAIN_LIMIT)."""
    dead_lettered: int = 0

    @classmethod
    def of(cls, account: HintedAccount, runs_from: datetime, first_hint: datetime) -> Traffic:
        """The runs from `runs_from` on; the drain counted from `first_hint` to the end of the last hint
        run, once nothing is left in the queue or waiting to come back."""
        runs = [run for run in account.runs if run.at >= runs_from]
        hints, scheduled = _of_kind(runs, HINTS), _of_kind(runs, SCHEDULED)
        last = max((run.done_at for run in hints), default=first_hint)
        return cls(
            hint_runs=len(hints),
            scheduled_runs=len(scheduled),
            most_calls_hint_run=_most_calls(hints),
            most_calls_scheduled_run=_most_calls(scheduled),
            ec2_calls=sum(run.ec2_calls for run in runs),
            most_hint_calls_in_a_minute=_most_calls_in_a_minute(hints),
            own_throttled=sum(run.throttled for run in runs),
            handed_back=sum(run.handed_back for run in hints),
            drained_after=since(last, first_hint) if account.drained() else None,
            dead_lettered=account.queue_depth(account.dead_letter_url),
        )

    @property
    def most_calls_any_run(self) -> int:
        return max(self.most_calls_hint_run, self.most_calls_scheduled_run)


def _of_kind(runs: list[Run], kind: str) -> list[Run]:
    return [run for run in runs if run.kind == kind]


def _most_calls(runs: list[Run]) -> int:
    return max((run.ec2_calls for run in runs), default=0)


def _most_calls_in_a_minute(runs: list[Run]) -> int:
    per_minute: Counter[datetime] = Counter()
    for run in runs:
        per_minute[run.at.replace(second=0, microsecond=0)] += run.ec2_calls
    return max(per_minute.values(), default=0)


@dataclass
class Burst:
    stores: int
    seconds_apart: float
    traffic: Traffic
    announced_once: int
    announced_twice_or_more: int
    unannounced: int
    by_hint_run: int
    waiter_calls: int
    waiter_throttled: int
    lowest_tokens: float
    latencies: list[float]
    seconds: float


def _latencies(
    account: HintedAccount, amis: list[str], first: dict[tuple[str, str], Announced]
) -> list[float]:
    """Seconds from each completion to the end of the run that first announced it."""
    latencies = []
    for ami_id in amis:
        task = account.backend.task(ami_id)
        announced = first.get((ami_id, COMPLETED))
        if task is not None and task.end_time is not None and announced is not None:
            latencies.append(since(announced.run.done_at, task.end_time))
    return latencies


def _by_hint_run(amis: list[str], first: dict[tuple[str, str], Announced]) -> int:
    return sum(
        1 for ami_id in amis if (ami_id, COMPLETED) in first and first[(ami_id, COMPLETED)].run.kind == HINTS
    )


def measure_burst(plan: HintsPlan, log: Log) -> Burst:
    log(f"Hints: a burst of {plan.burst_stores:,} completions within {plan.burst_seconds:g} s")
    started = time.perf_counter()
    rng = random.Random(f"hints-burst:{plan.seed}")
    amis = [ami("0c", index) for index in range(plan.burst_stores)]
    burst_at = START + timedelta(minutes=2, seconds=20)
    with hinted_account(hints=True, model=MODEL, seed=plan.seed) as account:
        for index, ami_id in enumerate(amis):
            account.backend.add_task(ami_id, BUCKET, START - timedelta(hours=3) * (index + 1) / len(amis))
        waited = ami("0d", 0)  # a longer store another caller waits for
        account.backend.add_task(waited, BUCKET, START - timedelta(minutes=5), IN_PROGRESS, 3)
        account.scheduled_run()  # the baseline: the stores in progress
        for ami_id in amis:
            end = burst_at + timedelta(seconds=rng.uniform(0, plan.burst_seconds))
            account.at(end, lambda ami_id=ami_id: account.backend.complete(ami_id))
        account.every_minute(START + timedelta(minutes=1), burst_at + DRAIN_LIMIT)
        account.waiter_beside(waited, START + timedelta(seconds=5), burst_at + DRAIN_LIMIT)
        account.run_until_drained(after=burst_at + timedelta(minutes=2), limit=DRAIN_LIMIT)
        counts = account.announcements()
        first = account.first_announced()
        burst = Burst(
            stores=len(amis),
            seconds_apart=plan.burst_seconds,
            traffic=Traffic.of(account, START, burst_at),
            announced_once=sum(1 for ami_id in amis if counts[(ami_id, COMPLETED)] == 1),
            announced_twice_or_more=sum(1 for ami_id in amis if counts[(ami_id, COMPLETED)] > 1),
            unannounced=sum(1 for ami_id in amis if counts[(ami_id, COMPLETED)] == 0),
            by_hint_run=_by_hint_run(amis, first),
            waiter_calls=account.waiter.calls,
            waiter_throttled=account.waiter.throttled,
            lowest_tokens=account.backend.throttle.bucket(DESCRIBE, CLOCK.now()).lowest,
            latencies=_latencies(account, amis, first),
            seconds=0.0,
        )
    burst.seconds = time.perf_counter() - started
    log(f"Hints: burst done in {burst.seconds:.1f} s ({burst.traffic.hint_runs} hint runs)")
    return burst


# -- 4. flood ----------------------------------------------------------------------------------------


@dataclass
class Flood:
    objects: int
    over_seconds: int
    traffic: Traffic
    announced: int
    seconds: float


def measure_flood(plan: HintsPlan, log: Log) -> Flood:
    log(f"Hints: a flood of {plan.flood_objects:,} forged objects in {plan.flood_seconds} s")
    started = time.perf_counter()
    first = START + timedelta(seconds=30)
    with hinted_account(hints=True, model=None, seed=plan.seed) as account:
        account.scheduled_run()
        per_second, extra = divmod(plan.flood_objects, plan.flood_seconds)
        for second in range(plan.flood_seconds):
            count = per_second + (1 if second < extra else 0)
            account.at(first + timedelta(seconds=second), _forger(account, count))
        account.every_minute(START + timedelta(minutes=1), first + DRAIN_LIMIT)
        account.run_until_drained(after=first + timedelta(seconds=plan.flood_seconds), limit=DRAIN_LIMIT)
        flood = Flood(
            plan.flood_objects,
            plan.flood_seconds,
            Traffic.of(account, first, first),
            len(account.announced),
            0.0,
        )
    flood.seconds = time.perf_counter() - started
    log(f"Hints: flood done in {flood.seconds:.1f} s ({flood.traffic.hint_runs} hint runs)")
    return flood


def _forger(account: HintedAccount, count: int) -> Callable[[], None]:
    def forge() -> None:
        for _ in range(count):
            account.events.forge(ACCOUNT, REGION, BUCKET, CLOCK.now())

    return forge

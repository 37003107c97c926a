"""The hints section's timing scenarios, each in a fresh account (bench/hints/account.py).

1. Latency: stores start and end at random moments, about one start and one end a minute; one in
   `latency_failed_every` fails. With hints (a trail, and the bucket's EventBridge delivery on) each hint
   reaches the handler after the delivery model's delay (bench/hints/delays.py); the same stores again
   without hints give today's schedule-only figures. A store's latency: from its end (the object's
   appearance, for a completion) to the end of the run that published its announcement to SNS.
2. Quiet when idle: N finished tasks, nothing in progress; the baseline, then idle hours of one-minute
   ticks with QUIET_WHEN_IDLE on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.emulated import START
from bench.hints.account import HINTS, SCHEDULED, HintedAccount, hinted_account
from bench.hints.delays import DeliveryModel
from bench.hints.plan import HintsPlan
from bench.scenario import BUCKET
from bench.seeding import WINDOW_MARGIN
from local.ec2_store_tasks import COMPLETED, FAILED, LISTING_WINDOW
from local.ec2_store_tasks.hint_events import OBJECT_CREATED

Log = Callable[[str], None]
MODEL = DeliveryModel()
FAILURE_REASON = "The AMI's snapshot could not be read"


def ami(prefix: str, index: int) -> str:
    """An AMI id the hints' patterns accept (17 hexadecimal digits)."""
    return f"ami-{prefix}{index:0{17 - len(prefix)}x}"


def since(moment: datetime, start: datetime) -> float:
    return (moment - start).total_seconds()


# -- 1. latency ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    ami_id: str
    starts: float
    ends: float
    """Seconds after START."""
    fails: bool


@dataclass
class Announcing:
    """One pass over the latency stores: how long each end took to be announced, and by which run."""

    completed: list[float] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)
    by_hint_run: int = 0
    delivery: list[float] = field(default_factory=list)
    """The modelled delivery delay of each completion a hint run announced."""
    hint_walls: list[float] = field(default_factory=list)
    """The wall time of the hint run that announced each of those."""
    duplicates: int = 0
    unannounced: int = 0
    hint_runs: int = 0
    handed_back: int = 0
    scheduled_runs: int = 0
    seconds: float = 0.0


@dataclass
class Latency:
    stores: int
    minutes: float
    hints: Announcing
    schedule_only: Announcing


def latency_stores(plan: HintsPlan) -> list[Store]:
    rng = random.Random(f"hints-latency:{plan.seed}")
    stores = []
    for index in range(plan.latency_stores):
        starts = rng.uniform(30, 30 + 60 * plan.latency_stores)
        stores.append(
            Store(
                ami("0a", index),
                starts,
                starts + rng.uniform(120, 1200),
                index % plan.latency_failed_every == plan.latency_failed_every - 1,
            )
        )
    return stores


def measure_latency(plan: HintsPlan, log: Log) -> Latency:
    stores = latency_stores(plan)
    last = max(store.ends for store in stores)
    log(f"Hints: latency of {len(stores)} stores over {last / 60:.0f} minutes, with hints and without")
    return Latency(
        len(stores),
        last / 60,
        _announcing(stores, plan, hints=True),
        _announcing(stores, plan, hints=False),
    )


def _announcing(stores: list[Store], plan: HintsPlan, *, hints: bool) -> Announcing:
    started = time.perf_counter()
    found = Announcing()
    with hinted_account(hints=hints, model=MODEL if hints else None, seed=plan.seed) as account:
        account.scheduled_run()  # the baseline, before the first store starts
        for store in stores:
            account.at(START + timedelta(seconds=store.starts), _starter(account, store.ami_id))
            account.at(START + timedelta(seconds=store.ends), _ender(account, store))
        last = START + timedelta(seconds=max(store.ends for store in stores) + 150)
        account.every_minute(START + timedelta(minutes=1), last)
        account.run_until(last)
        _tally(found, account, stores)
        _count_runs(found, account)
    found.seconds = time.perf_counter() - started
    return found


def _tally(found: Announcing, account: HintedAccount, stores: list[Store]) -> None:
    """Each store's first announcement: its latency, and for a hint run's, the hint's modelled delivery."""
    first = account.first_announced()
    for store in stores:
        task = account.backend.task(store.ami_id)
        state = FAILED if store.fails else COMPLETED
        announced = first.get((store.ami_id, state))
        if task is None or task.end_time is None or announced is None:
            found.unannounced += 1
            continue
        seconds = since(announced.run.done_at, task.end_time)
        (found.failed if store.fails else found.completed).append(seconds)
        if announced.run.kind == HINTS and not store.fails:
            found.by_hint_run += 1
            found.delivery.append(account.events.delays[(OBJECT_CREATED, store.ami_id)].total)
            found.hint_walls.append(announced.run.wall)


def _count_runs(found: Announcing, account: HintedAccount) -> None:
    found.duplicates = sum(count - 1 for count in account.announcements().values() if count > 1)
    found.hint_runs = sum(1 for run in account.runs if run.kind == HINTS)
    found.handed_back = sum(run.handed_back for run in account.runs)
    found.scheduled_runs = sum(1 for run in account.runs if run.kind == SCHEDULED)


def _starter(account: HintedAccount, ami_id: str) -> Callable[[], object]:
    return lambda: account.start_store(ami_id)


def _ender(account: HintedAccount, store: Store) -> Callable[[], object]:
    if store.fails:
        return lambda: account.backend.fail(store.ami_id, FAILURE_REASON)
    return lambda: account.backend.complete(store.ami_id)


# -- 2. quiet when idle ------------------------------------------------------------------------------


@dataclass
class IdleHour:
    ec2_calls: int
    invocations: int
    safety_nets: int


@dataclass
class Quiet:
    n: int
    seed_seconds: float
    baseline_ec2_calls: int
    hours: list[IdleHour]
    seconds: float

    @property
    def most_ec2_calls(self) -> int:
        return max((hour.ec2_calls for hour in self.hours), default=0)


def measure_quiet(plan: HintsPlan, log: Log) -> list[Quiet]:
    return [_quiet(n, plan, log) for n in plan.quiet_sizes]


def _quiet(n: int, plan: HintsPlan, log: Log) -> Quiet:
    started = time.perf_counter()
    with hinted_account(hints=True, quiet=True, model=MODEL, seed=plan.seed) as account:
        seeding = time.perf_counter()
        step = (LISTING_WINDOW - WINDOW_MARGIN) / max(n, 1)
        for index in range(n):
            state, reason = (FAILED, FAILURE_REASON) if index % 33 == 16 else (COMPLETED, None)
            account.backend.add_task(
                ami("0b", index), BUCKET, START - step * (index + 1), state, failure_reason=reason
            )
        seed_seconds = time.perf_counter() - seeding
        baseline = account.scheduled_run()
        end = START + timedelta(hours=plan.quiet_hours)
        account.every_minute(START + timedelta(minutes=1), end)
        account.run_until(end)
        hours = []
        for hour in range(plan.quiet_hours):
            runs = [
                run
                for run in account.runs[1:]
                if START + timedelta(hours=hour) < run.at <= START + timedelta(hours=hour + 1)
            ]
            hours.append(
                IdleHour(
                    sum(run.ec2_calls for run in runs),
                    len(runs),
                    sum(1 for run in runs if run.kind == SCHEDULED and run.ec2_calls),
                )
            )
    quiet = Quiet(n, seed_seconds, baseline.ec2_calls, hours, time.perf_counter() - started)
    log(f"Hints: quiet when idle at N={n:,}: seeded in {seed_seconds:.1f} s, {quiet.seconds:.1f} s in all")
    return quiet

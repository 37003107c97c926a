"""The benchmark's timeline at one size N, poll by poll, in the simulated account (bench/scenario.py).

Timeline for one N (every step: advance the clock, then the handler polls, then the naive poller):

1. seed N tasks over the 31-day window; the baseline poll (set-up, reported on its own);
2. one simulated hour of polls with nothing changing (`steady_polls`, 60): the hour holds one full
   re-read of the listing, as the default FULL_SCAN_INTERVAL_MINUTES is 60. Beside it, another caller
   in the account runs `aws ec2 wait store-image-task-complete` all hour: one call every 5 seconds;
3. one new task appears, then it completes (the per-task cost the monthly estimate adds; N ≤ 10,000);
4. for each k in `transitions`: k tracked in-progress tasks finish between two polls. When fewer than
   k seeded tasks are in progress, k new tasks are started first and one poll records them; after
   such a burst, one more poll with nothing new (the high-water mark stays at the burst);
5. long-running stores: 40 stores start, then 210 newer tasks arrive over 21 minutes, so that the
   40 are out of the head page and more than the overlap behind the high-water mark; 3 polls follow.
   The handler only: the naive poller's polls do not depend on where tasks sit in the listing;
6. latency (timing pass only, the handler only): 30 stores start, each ending at a random moment of
   the next half hour, while the notifier polls every minute; the time from each store's end (the
   emulator's clock) to the poll that recorded it is the latency.

The scenario is deterministic (fixed start time, fixed data), so a second pass with tracemalloc on
sees exactly the same polls; it measures memory only, as tracing slows Python down several times.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from bench.log import Log
from bench.plan import Plan
from bench.scenario import BUCKET, POLL_SECONDS, Poll, World, world
from bench.seeding import NewAmis, finish, seed
from local.ec2_store_tasks import CLOCK, COMPLETED, IN_PROGRESS

LONG_RUNNING_ARRIVALS_PER_MINUTE = 10
LONG_RUNNING_ARRIVAL_MINUTES = 21
"""210 newer tasks: more than one listing page, started more than the overlap after the long stores."""
LONG_RUNNING_MEASURED_POLLS = 3
LATENCY_STORES = 30
LATENCY_POLLS = 30


@dataclass
class RateBudget:
    """The timing pass's use of EC2's DescribeStoreImageTasks bucket, and the latency it measured."""

    calls_per_run: list[int] = field(default_factory=list)
    """Every poll of the notifier's, set-up polls included."""
    steady_calls: list[int] = field(default_factory=list)
    lowest_tokens: float | None = None
    own_throttled: int = 0
    waiter_calls: int = 0
    waiter_throttled: int = 0
    latencies: list[float] = field(default_factory=list)
    """Seconds from a store's end to the poll that recorded it."""
    unannounced: int = 0


@dataclass
class SizeRun:
    """One pass over the timeline at one size: the polls of each poller, by scenario."""

    n: int
    traced: bool
    ours: dict[str, list[Poll]] = field(default_factory=dict)
    naive: dict[str, list[Poll]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    budget: RateBudget = field(default_factory=RateBudget)


# -- the timeline ------------------------------------------------------------------------------------


def run_size(n: int, plan: Plan, *, traced: bool, log: Log) -> SizeRun:
    """One pass of the whole timeline at size N; `traced` measures memory instead of time."""
    started = time.perf_counter()
    run = SizeRun(n, traced)
    what = "memory pass (tracemalloc)" if traced else "timing pass"
    with world(plan) as sim:
        timeline = _Timeline(sim, run, plan, log)
        log(f"N={n:,}: {what}; naive poller {'on' if timeline.naive_on else 'off'}")
        timeline.baseline_and_hour()
        if plan.single_task_polls and n <= plan.single_task_max_n:
            timeline.single_task()
        timeline.transitions()
        if plan.long_running:
            timeline.long_running(plan.long_running)
        if not traced:
            # Last: the naive reference does not poll here, and the stores it did not see would
            # otherwise show up in its next measured poll.
            timeline.latency()
        run.notes.extend(sim.mismatches)
        run.budget.lowest_tokens = sim.describe_bucket.lowest
        run.budget.own_throttled = sim.own_throttled
    run.seconds = time.perf_counter() - started
    log(f"N={n:,}: {what} took {run.seconds:.1f} s")
    return run


class _Timeline:
    def __init__(self, sim: World, run: SizeRun, plan: Plan, log: Log) -> None:
        self.sim = sim
        self.run = run
        self.plan = plan
        self.log = log
        self.n = run.n
        self.traced = run.traced
        self.naive_on = run.n <= plan.naive_max_n and (not run.traced or run.n <= plan.naive_memory_max_n)
        self.fresh = NewAmis()
        self.tracked: list[str] = []

    def poll(self, scenario: str | None, *, naive: bool | None = None, announce: bool = True) -> None:
        """Both pollers poll (the naive one when asked); `scenario` None: a set-up poll, not reported."""
        ours = self.sim.poll_ours(scenario or "set-up", trace=self.traced)
        # The listing's calls: the quota's DescribeImages draws on another of EC2's buckets.
        describe_calls = ours.calls.get(("EC2", "DescribeStoreImageTasks"), 0)
        self.run.budget.calls_per_run.append(describe_calls)
        if scenario == "steady":
            self.run.budget.steady_calls.append(describe_calls)
        if scenario is not None:
            self.run.ours.setdefault(scenario, []).append(ours)
        if self.naive_on if naive is None else naive:
            polled = self.sim.poll_naive(scenario or "set-up", trace=self.traced, announce=announce)
            if scenario is not None:
                self.run.naive.setdefault(scenario, []).append(polled)

    def baseline_and_hour(self) -> None:
        self.tracked = seed(self.sim.backend, self.n)
        self.poll("baseline", announce=False)
        naive_steady = self.plan.naive_steady_polls(self.n) if not self.traced else 1
        self.log(f"N={self.n:,}: baseline done; steady hour of {self.plan.steady_polls} polls")
        budget = self.run.budget
        for minute in range(1, self.plan.steady_polls + 1):
            if self.traced:
                CLOCK.advance(POLL_SECONDS)
            else:
                calls, refused = self.sim.wait_beside(POLL_SECONDS, self.tracked[0])
                budget.waiter_calls += calls
                budget.waiter_throttled += refused
            self.poll("steady", naive=self.naive_on and minute <= naive_steady)

    def latency(self) -> None:
        """Stores that end at random moments between one-minute polls; a set-up phase, not reported
        as a scenario: only the time from each end to the recording poll is kept."""
        rng = random.Random(f"latency:{self.n}")
        now = CLOCK.now()
        started = {}
        for ami in self.fresh.names(LATENCY_STORES):
            start = now - timedelta(seconds=rng.uniform(0, POLL_SECONDS))
            duration = rng.uniform(POLL_SECONDS, (LATENCY_POLLS - 2) * POLL_SECONDS)
            self.sim.backend.add_task(ami, BUCKET, start, IN_PROGRESS, 1, duration_seconds=duration)
            started[ami] = start
        for _ in range(LATENCY_POLLS):
            CLOCK.advance(POLL_SECONDS)
            self.poll(None, naive=False)
        for ami, start in started.items():
            task = self.sim.backend.task(ami)
            recorded = self.sim.recorded_at(ami, start)
            if task is None or task.end_time is None or recorded is None or task.state == IN_PROGRESS:
                self.run.budget.unannounced += 1
                continue
            self.run.budget.latencies.append((recorded - task.end_time).total_seconds())

    def single_task(self) -> None:
        CLOCK.advance(POLL_SECONDS)
        (single,) = self.fresh.start(self.sim.backend, 1)
        self.poll("new-1")
        CLOCK.advance(POLL_SECONDS)
        finish(self.sim.backend, [single])
        self.poll("k=1")

    def transitions(self) -> None:
        burst = False
        smallest = min(self.plan.sizes)
        for k in self.plan.transitions:
            if self.traced and k > len(self.tracked) and self.n != smallest:
                self.log(
                    f"N={self.n:,}: k={k:,} memory measured at N={smallest:,} only (it depends on k, not N)"
                )
                continue
            # Traced, the naive poller's burst polls would take minutes for a figure nobody needs.
            naive = self.naive_on and not (self.traced and k > len(self.tracked))
            if k <= len(self.tracked):
                amis, self.tracked = self.tracked[:k], self.tracked[k:]
            else:
                CLOCK.advance(POLL_SECONDS)
                amis = self.fresh.start(self.sim.backend, k)
                self.poll(f"new-{k}", naive=naive)
                burst = True
            CLOCK.advance(POLL_SECONDS)
            finish(self.sim.backend, amis)
            self.poll(f"k={k}", naive=naive)
            self.log(f"N={self.n:,}: k={k:,} done")
        if burst:
            # Nothing new starts: the high-water mark stays at the burst's newest task.
            CLOCK.advance(POLL_SECONDS)
            self.poll("after-burst", naive=False)

    def long_running(self, count: int) -> None:
        """`count` stores keep running while newer tasks push them out of the head of the listing
        and more than the overlap behind the high-water mark: each poll finds them by its cheapest read,
        one in-progress page or re-checks by ImageIds."""
        CLOCK.advance(POLL_SECONDS)
        self.fresh.start(self.sim.backend, count, spread=timedelta(minutes=1))
        self.poll(None, naive=False)
        for _ in range(LONG_RUNNING_ARRIVAL_MINUTES):
            CLOCK.advance(POLL_SECONDS)
            self.fresh.start(
                self.sim.backend,
                LONG_RUNNING_ARRIVALS_PER_MINUTE,
                state=COMPLETED,
                spread=timedelta(minutes=1),
            )
            self.poll(None, naive=False)
        for _ in range(LONG_RUNNING_MEASURED_POLLS):
            CLOCK.advance(POLL_SECONDS)
            self.poll("long-running", naive=False)
        self.log(f"N={self.n:,}: long-running stores done")

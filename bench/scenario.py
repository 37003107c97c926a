"""The simulated account, driven poll by poll through the scenarios the benchmark reports.

Each size N gets a fresh in-process moto (`mock_aws`) with the EC2 store-task emulator, the
notifier's resources (`local.deployment.deploy`), the real handler wired to them, and the naive
reference poller with its own table. The emulator clock (`CLOCK`) is the only clock: the handler's
`utc_now` is patched to it, and every poll is one simulated minute after the previous one.

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

EC2's request bucket for DescribeStoreImageTasks (50 tokens, 0.5 a second) is on for the notifier and
the waiter, as in an account: its lowest level and every refused call are reported. It is off while
the naive reference polls, which reads N/200 pages a poll and could not run inside it.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import random
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from ami_store_notifier.adapters.table_items import cursor_pk, task_pk
from ami_store_notifier.domain.model import parse_timestamp, task_key
from bench.hints.plan import HintsPlan
from bench.meter import CallCounter, CapacityMeter
from bench.moto_shims import MotoClock, time_spent_in_moto, transactions_without_table_copies
from bench.naive import NaivePoller
from local import dynamodb_tokens
from local.deployment import EVENT_SOURCE, LocalDeployment, create_table, deploy
from local.ec2_store_tasks import (
    CLOCK,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    LISTING_WINDOW,
    StoreTaskBackend,
    StoreTaskError,
    install,
    reset,
    store_tasks_backend,
)
from local.lambda_context import (
    ACCOUNT,
    OFFLINE_AWS_ENVIRONMENT,
    OFFLINE_UNSET,
    REGION,
    LambdaContextStub,
)

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
POLL_SECONDS = 60
BUCKET = "golden-ami-archive"
IN_PROGRESS_TASKS = 20
"""Seeded tasks in progress: a few tens, as the account's GB-in-flight limit allows."""
IN_PROGRESS_AMONG_NEWEST = 40
FAILED_EVERY = 33
"""About 3 % of the finished tasks failed."""
WINDOW_MARGIN = timedelta(hours=4)
"""The oldest seeded task starts this long inside the 31-day window, so that N stays N all run long."""
NEW_TASKS_SPREAD = timedelta(minutes=10)
LONG_RUNNING_ARRIVALS_PER_MINUTE = 10
LONG_RUNNING_ARRIVAL_MINUTES = 21
"""210 newer tasks: more than one listing page, started more than the overlap after the long stores."""
LONG_RUNNING_MEASURED_POLLS = 3
WAITER_SECONDS = 5
"""`aws ec2 wait store-image-task-complete` calls DescribeStoreImageTasks every 5 seconds."""
LATENCY_STORES = 30
LATENCY_POLLS = 30
DESCRIBE = "DescribeStoreImageTasks"
NAIVE_TABLE = "naive-poller-state"
CURSOR_KEY = {"pk": {"S": cursor_pk(REGION)}}
ENVIRONMENT = {**OFFLINE_AWS_ENVIRONMENT, "POWERTOOLS_LOG_LEVEL": "WARNING"}

Log = Callable[[str], None]


def log_to_stderr(message: str) -> None:
    """The benchmark's progress lines, apart from the report it prints on stdout."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...] = (100, 1_000, 10_000, 30_000, 100_000)
    steady_polls: int = 60
    transitions: tuple[int, ...] = (10, 1_000)
    single_task_polls: bool = True
    naive_steady_budget: int = 30_000
    """The naive poller's steady polls at size N: budget // N, at least 1, at most `steady_polls` and
    `naive_steady_max`. Each of its polls reads everything, so a few are as good as sixty; under moto
    its N GetItems take about 1 ms each."""
    naive_steady_max: int | None = 10
    memory: bool = True
    naive_memory_max_n: int = 1_000
    """tracemalloc makes the naive poller's N GetItems 3-4 times slower: its memory is measured up
    to this size only."""
    naive_max_n: int = 30_000
    """Above this size the naive reference is not run at all (it keeps `make bench` short)."""
    full_scan_minutes: int | None = None
    long_running: int = 40
    """Stores still running after newer tasks pushed them out of the head pages (0: skipped)."""
    catch_up_stores: int = 10_000
    """Stores that ended while the notifier was off, read by the catch-up (bench/catch_up.py; 0: skipped)."""
    hints: HintsPlan | None = field(default_factory=HintsPlan)
    """The hints section's scenarios and their sizes (bench/hints/; None: skipped)."""
    single_task_max_n: int = 10_000
    """The single-task polls (1 new task, k=1) feed the monthly cost, computed for N = 100 and 10,000;
    above this size they are skipped (each costs the naive poller a full read)."""

    def naive_steady_polls(self, n: int) -> int:
        polls = min(self.steady_polls, max(1, self.naive_steady_budget // n))
        return min(polls, self.naive_steady_max) if self.naive_steady_max else polls


@dataclass
class Poll:
    """What one poll cost."""

    scenario: str
    calls: Counter[tuple[str, str]]
    describe_kinds: Counter[str]
    read_units: float
    write_units: float
    units_by_kind: Counter[tuple[str, str]]
    moto_reported_units: float
    wall_seconds: float
    client_seconds: float
    """Wall time minus the time moto spent answering: the poller's own work."""
    peak_bytes: int | None
    cursor_bytes: int | None
    mode: str
    largest_cursor_write: int = 0
    """The largest the cursor item was in any write of the poll (it carries the pending leases)."""


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


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    for name in OFFLINE_UNSET:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class _Measured:
    mode: str
    wall: float
    client: float
    peak: int | None


def _measure(
    action: Callable[[], str], counter: CallCounter, meter: CapacityMeter, moto: MotoClock, *, trace: bool
) -> _Measured:
    counter.reset()
    meter.reset()
    moto.reset()
    # What exists now (moto, the emulator, the data) is left out of the collector's work: a full
    # collection over the bench's large heap would cost the invocation far more than in Lambda.
    gc.freeze()
    sink = io.StringIO()  # Powertools writes its metrics (EMF) to stdout
    peak = None
    with contextlib.redirect_stdout(sink):
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            mode = action()
        finally:
            wall = time.perf_counter() - started
            if trace:
                moto.note_client_peak()
                peak = moto.client_peak
                tracemalloc.stop()
    wall = max(0.0, wall - meter.overhead_seconds)
    return _Measured(mode, wall, max(0.0, wall - moto.seconds), peak)


class World:
    """One deployed notifier and one naive poller in moto, over one emulated account."""

    def __init__(self, handler: Any, session: Any, moto: MotoClock, full_scan_minutes: int | None) -> None:
        self.handler = handler
        self.moto = moto
        deployment = deploy(session, region=REGION)
        _remove_subscribers(session, deployment)
        overrides = {"FULL_SCAN_INTERVAL_MINUTES": str(full_scan_minutes)} if full_scan_minutes else {}
        os.environ.update(deployment.handler_environment(**overrides))
        self.backend: StoreTaskBackend = store_tasks_backend(ACCOUNT, REGION)
        self.table = deployment.table_name
        self.inspector = session.client("dynamodb", region_name=REGION)  # not counted: the bench's own
        self.wired = handler.wiring()
        self.ours_calls = CallCounter()
        self.ours_units = CapacityMeter(ACCOUNT, REGION)
        for client in (
            *self.wired.ec2_clients.values(),
            self.wired.dynamodb,
            self.wired.sns,
            self.wired.events,
        ):
            self.ours_calls.attach(client)
        self.ours_units.attach(self.wired.dynamodb)

        self.naive_calls = CallCounter()
        self.naive_units = CapacityMeter(ACCOUNT, REGION)
        clients = {
            name: self.naive_calls.attach(session.client(name, region_name=REGION)) for name in SERVICES
        }
        self.naive_units.attach(clients["dynamodb"])
        self.naive = NaivePoller(
            ec2=clients["ec2"],
            dynamodb=clients["dynamodb"],
            sns=clients["sns"],
            events=clients["events"],
            table_name=create_table(clients["dynamodb"], NAIVE_TABLE),
            topic_arn=deployment.topic_arn,
            event_bus_name=deployment.bus_name,
            event_source=EVENT_SOURCE,
            region=REGION,
            account=ACCOUNT,
            clock=CLOCK.now,
        )
        self.mismatches: list[str] = []
        self.own_throttled = 0

    @property
    def describe_bucket(self) -> Any:
        return self.backend.throttle.bucket(DESCRIBE, CLOCK.now())

    def poll_ours(self, scenario: str, *, trace: bool) -> Poll:
        def invoke() -> str:
            result = self.handler.lambda_handler({}, LambdaContextStub())
            return str(result["regions"][0]["mode"])

        refused = self.describe_bucket.refused
        measured = _measure(invoke, self.ours_calls, self.ours_units, self.moto, trace=trace)
        self.own_throttled += self.describe_bucket.refused - refused
        if Counter(self.wired.api_calls.calls) != self.ours_calls.calls:
            self.mismatches.append(
                f"{scenario}: handler counted {dict(self.wired.api_calls.calls)}, "
                f"bench counted {dict(self.ours_calls.calls)}"
            )
        return Poll(
            scenario,
            Counter(self.ours_calls.calls),
            Counter(self.ours_calls.describe_kinds),
            self.ours_units.read_units,
            self.ours_units.write_units,
            Counter(self.ours_units.by_kind),
            self.ours_units.moto_reported_units,
            measured.wall,
            measured.client,
            measured.peak,
            self.ours_units.item_bytes(self.table, CURSOR_KEY),
            measured.mode,
            self.ours_units.largest_written.get("CURSOR", 0),
        )

    def poll_naive(self, scenario: str, *, trace: bool, announce: bool = True) -> Poll:
        def invoke() -> str:
            self.backend.throttle.enabled = False
            try:
                self.naive.run(announce=announce)
            finally:
                self.backend.throttle.enabled = True
            return "full-read"

        measured = _measure(invoke, self.naive_calls, self.naive_units, self.moto, trace=trace)
        return Poll(
            scenario,
            Counter(self.naive_calls.calls),
            Counter(self.naive_calls.describe_kinds),
            self.naive_units.read_units,
            self.naive_units.write_units,
            Counter(self.naive_units.by_kind),
            self.naive_units.moto_reported_units,
            measured.wall,
            measured.client,
            measured.peak,
            None,
            measured.mode,
        )

    def wait_beside(self, seconds: int, ami: str) -> tuple[int, int]:
        """Another caller's `aws ec2 wait store-image-task-complete` for `seconds`: (calls, refused)."""
        calls = refused = 0
        for _ in range(seconds // WAITER_SECONDS):
            CLOCK.advance(WAITER_SECONDS)
            calls += 1
            try:
                self.backend.describe_store_image_tasks(image_ids=[ami])
            except StoreTaskError:
                refused += 1
        return calls, refused

    def recorded_at(self, ami: str, start: datetime) -> datetime | None:
        """When the notifier recorded the task's current state (None: not recorded yet)."""
        item = self.inspector.get_item(
            TableName=self.table, Key={"pk": {"S": task_pk(REGION, task_key(ami, start))}}
        ).get("Item")
        return parse_timestamp(item["recordedAt"]["S"]) if item else None


SERVICES = ("ec2", "dynamodb", "sns", "events")


def _remove_subscribers(session: Any, deployment: LocalDeployment) -> None:
    """Unsubscribes the SQS queues from the topic and takes the targets off the bus's rules.

    In AWS, fan-out to subscribers happens after the publish call returns, and costs the publisher
    nothing. moto delivers synchronously, and each delivery scans every message already in the queue,
    so a benchmark that publishes thousands of messages would measure moto's SQS (quadratic in the
    messages published) instead of the pollers. The topic and the bus stay: publishing is unchanged."""
    sns = session.client("sns", region_name=REGION)
    for subscription in sns.list_subscriptions_by_topic(TopicArn=deployment.topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    events = session.client("events", region_name=REGION)
    for rule in events.list_rules(EventBusName=deployment.bus_name)["Rules"]:
        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=deployment.bus_name)["Targets"]
        if targets:
            events.remove_targets(
                Rule=rule["Name"], EventBusName=deployment.bus_name, Ids=[target["Id"] for target in targets]
            )


@contextlib.contextmanager
def world(plan: Plan) -> Iterator[World]:
    with emulated_handler() as handler, time_spent_in_moto() as moto:
        yield World(handler, boto3.session.Session(), moto, plan.full_scan_minutes)


@contextlib.contextmanager
def emulated_handler() -> Iterator[Any]:
    """The real handler module on a fresh moto and emulator, on the emulator's clock at START, logging
    warnings only; put back as it was afterwards."""
    with _environment(ENVIRONMENT):
        from ami_store_notifier import handler  # after the environment: it reads it on import

        install()
        dynamodb_tokens.install()
        reset()
        saved_clock, saved_level = handler.utc_now, handler.logger.log_level
        handler.utc_now = CLOCK.now
        handler.logger.setLevel(logging.WARNING)
        handler.wiring.cache_clear()
        try:
            with mock_aws(), transactions_without_table_copies():
                CLOCK.restart(START)  # after mock_aws() starts: moto's reset restarts the clock too
                yield handler
        finally:
            gc.unfreeze()
            gc.collect()
            handler.wiring.cache_clear()
            handler.utc_now = saved_clock
            handler.logger.setLevel(saved_level)
            reset()


# -- data --------------------------------------------------------------------------------------------


def seed(backend: StoreTaskBackend, n: int) -> list[str]:
    """N tasks over the 31-day window, listed newest first; returns the AMIs in progress, newest first.

    Tasks are added oldest first (the emulator appends them in order; the listing is newest first
    either way). 20 tasks are in progress, every other one among the newest 40; about 3 % of the rest
    failed and the others completed."""
    newest = START - timedelta(minutes=1)
    step = (LISTING_WINDOW - WINDOW_MARGIN) / max(n - 1, 1)
    in_progress = list(range(0, min(IN_PROGRESS_AMONG_NEWEST, n), 2))[:IN_PROGRESS_TASKS]
    running = set(in_progress)
    for index in reversed(range(n)):
        ami = f"ami-0{index:016x}"
        start = newest - step * index
        if index in running:
            backend.add_task(ami, BUCKET, start, IN_PROGRESS, 10 + (index * 7) % 80)
        elif index % FAILED_EVERY == FAILED_EVERY // 2:
            backend.add_task(
                ami, BUCKET, start, FAILED, 40, failure_reason="The AMI's snapshot could not be read"
            )
        else:
            backend.add_task(ami, BUCKET, start, COMPLETED)
    return [f"ami-0{index:016x}" for index in in_progress]


class _NewAmis:
    def __init__(self) -> None:
        self._next = 0

    def names(self, count: int) -> list[str]:
        first, self._next = self._next, self._next + count
        return [f"ami-f{index:016x}" for index in range(first, self._next)]

    def start(
        self,
        backend: StoreTaskBackend,
        count: int,
        *,
        state: str = IN_PROGRESS,
        spread: timedelta = NEW_TASKS_SPREAD,
    ) -> list[str]:
        """`count` tasks started within the last `spread` (newest last)."""
        now = CLOCK.now()
        step = spread / count
        amis = self.names(count)
        for position, ami in enumerate(amis):
            start = now - spread + step * (position + 1) - timedelta(seconds=1)
            backend.add_task(ami, BUCKET, start, state, 5 if state == IN_PROGRESS else None)
        return amis


def finish(backend: StoreTaskBackend, amis: list[str]) -> None:
    """Completes the tasks of these AMIs, failing about 3 % of them (the first, then every 33rd)."""
    for position, ami in enumerate(amis):
        if len(amis) > 1 and position % FAILED_EVERY == 0:
            backend.fail(ami, "The AMI's snapshot could not be read")
        else:
            backend.complete(ami)


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
        self.fresh = _NewAmis()
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

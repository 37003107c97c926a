"""Scenarios: a task history, runs of the notifier and the faults aimed at them, played on a ChaosWorld.

A scenario is plain data (so Hypothesis can build and shrink it, and the campaign can draw it from a
seeded random generator): a few AMIs with what they stored before the notifier's first run, then steps.
`play` runs it and ends with `ChaosWorld.settle()`, so every scenario finishes with a complete run
whose invariants the ledger has checked. Besides the ordinary scenarios, the campaign draws families
(tests/chaos/families.py): a catch-up after a long absence (`Away`: hundreds of stores start and end
while no run happens) and throttling that outlasts several runs (`Throttle`: EC2 or a channel refusing
every call). Some scenarios run with hints on (`HintSetup`: the emulator's start and object events,
spoiled by hint faults, handed over by the hints queue in `Hints` steps, some overlapping a scheduled
run), a share of them in the quietWhenIdle mode. And some with archive assurance on (`AssuranceSetup`,
tests/chaos/assurance_scenarios.py): stores into buckets readable or not, approved or not, objects late,
missing, empty or archived, S3 refusing or throttling HeadObject, stores that stall.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from botocore.config import Config

from ami_store_notifier.adapters.aws import CLIENT_CONFIG, EC2_CLIENT_CONFIG
from ami_store_notifier.domain.run_limits import MAX_DESCRIBE_CALLS_PER_RUN
from ami_store_notifier.report import AWS_UNAVAILABLE
from ami_store_notifier.settings_function import DEFAULT_TIMEOUT_SECONDS
from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED, IN_PROGRESS, HintFaults
from local.ec2_store_tasks.api import DESCRIBE_STORE as DESCRIBE
from local.ec2_store_tasks.hint_events import OBJECT_CREATED, STARTED
from local.event_source_mapping import Polling
from tests.chaos.assurance_steps import (
    AssuranceSetup,
    ResumeStore,
    StallStore,
    WriteObject,
    prepare_archives,
    resume_store,
    stall_store,
    write_object_late,
)
from tests.chaos.harness import (
    BUCKET,
    DEFAULT_SETTINGS,
    HINTED_BUCKET,
    OVERLAP_ORDERS,
    OVERLAP_SCHEDULED,
    SCHEDULED,
    ChaosWorld,
    Ledger,
    ec2_timestamp,
)
from tests.chaos.lambda_time import LambdaTime, backoffs_spent, channel_throttled, lambda_time_kept
from tests.faults import CONFLICT_OPERATIONS

# -- the AWS calls a run makes, and the faults that fit each -------------------------------------------

CALL_SITES: tuple[tuple[str, str, int], ...] = (
    # (service, operation, how many calls of it a busy run makes)
    ("ec2", "DescribeStoreImageTasks", 6),
    ("ec2", "DescribeImages", 3),
    ("dynamodb", "BatchGetItem", 4),
    ("dynamodb", "TransactWriteItems", 2),
    ("dynamodb", "UpdateItem", 3),
    ("sns", "PublishBatch", 1),
    ("events", "PutEvents", 1),
)
BATCH_OPERATIONS = frozenset({("sns", "PublishBatch"), ("events", "PutEvents")})
CALL_FAULTS = ("throttle", "server-error", "timeout", "crash-before", "crash-after")
# EC2 errors raised inside the emulator go through botocore's standard retries: EC2_ATTEMPTS - 1 of them
# in a row are absorbed, EC2_ATTEMPTS outlast the retries.
EMULATOR_ERRORS = ("RequestLimitExceeded", "InternalError")


def sdk_attempts(config: Config) -> int:
    """Attempts per call, the first one included. botocore rewrites a shared Config's `max_attempts`
    (retries) into `total_max_attempts` when the first client is built, so read either form."""
    retries = config.retries
    return int(retries.get("total_max_attempts", retries.get("max_attempts", 2) + 1))


EC2_ATTEMPTS = sdk_attempts(EC2_CLIENT_CONFIG)
CHANNEL_ATTEMPTS = sdk_attempts(CLIENT_CONFIG)


def kinds_for(service: str, operation: str) -> tuple[str, ...]:
    if (service, operation) in BATCH_OPERATIONS:
        return (*CALL_FAULTS, "partial")
    if (service, operation) in CONFLICT_OPERATIONS:
        return (*CALL_FAULTS, "conflict")
    return CALL_FAULTS


@dataclass(frozen=True)
class CallFault:
    """An AwsFaults fault: the `call`-th call of the operation in the run goes wrong (`code`: which of
    the service's throttling codes, for a throttle)."""

    service: str
    operation: str
    kind: str
    call: int = 1
    entry: int = 0
    code: str | None = None


@dataclass(frozen=True)
class EmulatorError:
    """The next `times` DescribeStoreImageTasks requests answer this EC2 error (before SDK retries)."""

    code: str = "RequestLimitExceeded"
    times: int = 1


Fault = CallFault | EmulatorError


# -- malformed listing entries ------------------------------------------------------------------------

MALFORMED_KINDS = (
    "no-ami-id",
    "no-start-time",
    "no-state",
    "start-not-a-time",
    "unknown-state",
    "naive-start-copy",
    "progress-over-100",
    "progress-not-a-number",
)


def _without(entry: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != name}


# What each kind makes of a well-formed entry; the naive-timestamp copy is made from the page instead.
_MALFORMED: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "no-ami-id": lambda base: _without(base, "AmiId") | {"StoreTaskState": COMPLETED},
    "no-start-time": lambda base: _without(base, "TaskStartTime") | {"StoreTaskState": COMPLETED},
    "no-state": lambda base: _without(base, "StoreTaskState"),
    "start-not-a-time": lambda base: (
        base | {"TaskStartTime": "yesterday afternoon", "StoreTaskState": FAILED}
    ),
    "unknown-state": lambda base: base | {"StoreTaskState": "Cancelled"},
    "progress-not-a-number": lambda base: base | {"ProgressPercentage": "50%"},
}


def _progress_over_100(entry: dict[str, Any]) -> dict[str, Any]:
    return entry | {"ProgressPercentage": 150}


def malformed_entry(kind: str, serial: int, now: datetime, page: list[dict[str, Any]]) -> dict[str, Any]:
    """One bad entry for a listing page. Entries with an AMI id use ids no real task has, except the
    naive-timestamp copy, which repeats a real entry of the page with the time zone stripped."""
    if kind == "naive-start-copy" and page:
        original = dict(page[0])
        start = original.get("TaskStartTime")
        if isinstance(start, datetime):
            original["TaskStartTime"] = start.astimezone(UTC).replace(tzinfo=None)
        return original
    ami = f"ami-0bad{serial:013x}"
    base = {
        "AmiId": ami,
        "TaskStartTime": now,
        "Bucket": BUCKET,
        "S3objectKey": f"{ami}.bin",
        "ProgressPercentage": 10,
        "StoreTaskState": IN_PROGRESS,
    }
    return _MALFORMED.get(kind, _progress_over_100)(base)


# -- steps ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryTask:
    """A store that existed before the notifier's first run."""

    ami: int
    minutes_ago: float
    state: str
    progress: int = 40


@dataclass(frozen=True)
class Start:
    """A new store of the AMI (refused, as EC2 does, while one is in progress)."""

    ami: int
    duration: int | None = None
    """Seconds until it completes by itself; None: it waits for a Finish step."""


@dataclass(frozen=True)
class Finish:
    ami: int
    state: str = COMPLETED
    reason: str = "The snapshot could not be read."


@dataclass(frozen=True)
class Progress:
    ami: int
    percent: int


@dataclass(frozen=True)
class Advance:
    seconds: float


@dataclass(frozen=True)
class Run:
    faults: tuple[Fault, ...] = ()
    time_left_after: int | None = None
    """Remaining-time checks answered with plenty of time before the context runs short."""
    malformed: tuple[str, ...] = ()
    shift: int | None = None
    """Start a store of this AMI (or of a new one) between two page requests of the listing."""


@dataclass(frozen=True)
class Overlap:
    """Two runs that both read the cursor before either committed; faults hit the first."""

    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class Starve:
    """Another caller (a script, a waiter every few seconds) keeps the account's DescribeStoreImageTasks
    bucket down to `leave` tokens before each of the next `runs` runs."""

    runs: int
    leave: int = 0


# Away's stores are of AMIs of their own, far above the scenario's (0..4) and the shifting ones (1001..).
AWAY_AMIS = 1_000_000
# CreateStoreImageTask's bucket refills 0.1 token a second (EC2 API reference, "Request throttling"):
# over hours, no more than one store starts every 10 s in an account and Region.
SECONDS_BETWEEN_STORES = 10
LONG_ABSENCE_SECONDS = 3600


@dataclass(frozen=True)
class Away:
    """The notifier does not run for `seconds` while `stores` stores of new AMIs start and end, evenly
    spread; every `failed_every`-th fails, and the last `running` are still in progress when the runs
    resume and end a minute apart after it. The scenario's own stores still in progress end halfway."""

    seconds: float
    stores: int
    failed_every: int = 20
    running: int = 0


THROTTLE_TARGETS = ("ec2", "sns", "events")
THROTTLED_RUN = "run under a throttle outlasting several runs"


@dataclass(frozen=True)
class Throttle:
    """Throttling that outlasts the SDK's retries on every call, for the next `runs` Run steps, at each
    target: "ec2" (another caller keeps the account's DescribeStoreImageTasks bucket empty), "sns"
    (PublishBatch answers Throttled) or "events" (PutEvents answers ThrottlingException). Those runs keep
    Lambda's clock: each attempt and each backoff between them spends the run's time."""

    targets: tuple[str, ...]
    runs: int


@dataclass(frozen=True)
class Hints:
    """Lambda hands the function every batch waiting on the hints queue now, one invocation each; the
    faults hit the first of them."""

    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class HintOverlap:
    """Two runs that both read the cursor before either committed, at least one of them a hint run
    (OVERLAP_ORDERS: which reads first); faults hit the first."""

    order: str
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class ForgeObject:
    """Somebody uploads `<ami>.bin` into the bucket, for an AMI of the scenario: S3 tells the bus."""

    ami: int


Step = (
    Start
    | Finish
    | Progress
    | Advance
    | Run
    | Overlap
    | Starve
    | Away
    | Throttle
    | Hints
    | HintOverlap
    | ForgeObject
    | StallStore
    | ResumeStore
    | WriteObject
)


@dataclass(frozen=True)
class HintSetup:
    """Hints on for a scenario: the emulator's HintFaults (each a chance per hint, drawn from `seed`) and
    how Lambda's event source mapping reads the hints queue (`redeliver`: the chance that a batch it
    handled comes back all the same)."""

    drop: float = 0.0
    delay: float = 0.0
    delay_seconds: float = 120.0
    repeat: float = 0.0
    repeat_after_seconds: float = 0.0
    early: float = 0.0
    early_seconds: float = 30.0
    forge: float = 0.0
    kinds: tuple[str, ...] = (OBJECT_CREATED, STARTED)
    """The kinds of hint that drop, delay and repeat touch."""
    redeliver: float = 0.0
    batch_size: int = 10
    seed: int = 0

    def faults(self) -> HintFaults:
        return HintFaults(
            drop=self.drop,
            delay=self.delay,
            delay_seconds=self.delay_seconds,
            repeat=self.repeat,
            repeat_after_seconds=self.repeat_after_seconds,
            early=self.early,
            early_seconds=self.early_seconds,
            forge=self.forge,
            kinds=frozenset(self.kinds),
            seed=self.seed,
        )

    def polling(self) -> Polling:
        return Polling(batch_size=self.batch_size, redeliver=self.redeliver, seed=self.seed)


QUIET_SETTING = ("QUIET_WHEN_IDLE", "true")


@dataclass(frozen=True)
class Scenario:
    amis: int
    history: tuple[HistoryTask, ...] = ()
    steps: tuple[Step, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    """The handler's settings over the harness's defaults (a catch-up reads pages of more than two)."""
    settle_runs: int = 3
    """Fault-free runs the end may take to complete (a catch-up reads its backlog over several)."""
    hints: HintSetup | None = None
    """Hints on, and how they go wrong; None: no hint is sent."""
    assurance: AssuranceSetup | None = None
    """Each AMI's bucket and object plan, when the settings turn archive assurance on; None: every store
    into the one bucket of the scenario."""

    @property
    def quiet_interval(self) -> timedelta | None:
        """The safety net's interval when the scenario runs quietWhenIdle; None otherwise."""
        settings = dict(self.settings)
        if settings.get(QUIET_SETTING[0]) != QUIET_SETTING[1]:
            return None
        return timedelta(minutes=int(settings.get("FULL_SCAN_INTERVAL_MINUTES", "60")))

    def describe(self) -> str:
        """The scenario, one step a line (long failure reasons shortened), to replay a failure by eye."""
        lines = [
            f"{self.amis} AMIs; settings {dict(self.settings)}; before the first run: {list(self.history)}"
        ]
        if self.hints is not None:
            lines.append(f"hints: {self.hints}")
        if self.assurance is not None:
            lines.append(f"assurance: {self.assurance}")
        lines += ["  " + re.sub(r"'([^']{40})[^']{20,}'", r"'\1...'", repr(step)) for step in self.steps]
        return "\n".join(lines)


def ami_id(index: int) -> str:
    return f"ami-0{index:016x}"


def stores_tracked_then_finished(world: ChaosWorld, count: int) -> None:
    """A baseline run; `count` stores started a second apart, which the next run tracks; then every one
    completed, a minute before the caller's next run."""
    world.run("baseline")
    for ami in range(1, count + 1):
        CLOCK.advance(1)
        world.backend.add_task(ami_id(ami), BUCKET, CLOCK.now(), IN_PROGRESS, 10)
    CLOCK.advance(60)
    world.run(f"tracks {count} stores")
    for ami in range(1, count + 1):
        world.backend.complete(ami_id(ami))
    CLOCK.advance(60)


# -- playing --------------------------------------------------------------------------------------------


@dataclass
class _Play:
    world: ChaosWorld
    scenario: Scenario
    bucket: str = BUCKET
    serial: int = 0
    fresh: int = 1000
    away_stores: int = 0
    starved: Starve | None = None
    throttle: Throttle | None = None

    def bucket_of(self, ami: int) -> str:
        assurance = self.scenario.assurance
        return self.bucket if assurance is None else assurance.bucket_of(ami)

    def starve_before_a_run(self) -> None:
        """The other caller's use since the last run: the bucket is left with what it leaves."""
        if self.starved is None or self.starved.runs <= 0:
            return
        _leave_in_ec2_bucket(self.world, self.starved.leave)
        self.world.ledger.counts["starved_runs"] += 1
        self.starved = Starve(self.starved.runs - 1, self.starved.leave)

    @contextlib.contextmanager
    def throttled(self) -> Iterator[Callable[[], float] | None]:
        """A run inside a Throttle's runs: its targets throttled and the run on Lambda's clock, whose
        remaining time it yields (None outside them)."""
        throttle = self.throttle
        if throttle is None or throttle.runs <= 0:
            yield None
            return
        self.throttle = Throttle(throttle.targets, throttle.runs - 1)
        self.world.ledger.counts["runs_in_multi_run_throttles"] += 1
        if "ec2" in throttle.targets:
            _leave_in_ec2_bucket(self.world, 0)
        time = LambdaTime(timeout=DEFAULT_TIMEOUT_SECONDS)
        with contextlib.ExitStack() as stack:
            stack.enter_context(lambda_time_kept(time))
            stack.enter_context(backoffs_spent(time))
            for channel in set(throttle.targets) - {"ec2"}:
                stack.enter_context(channel_throttled(channel, time, attempts=CHANNEL_ATTEMPTS))
            yield time.seconds_left


def _leave_in_ec2_bucket(world: ChaosWorld, tokens: int) -> None:
    now = CLOCK.now()
    bucket = world.backend.throttle.bucket(DESCRIBE, now)
    bucket.drain(now, max(0.0, bucket.tokens(now) - tokens))


def play(world: ChaosWorld, scenario: Scenario) -> Ledger:
    """Runs the scenario on a reset world, then settles it; returns the checked ledger."""
    world.reset()
    if world.settings != {**DEFAULT_SETTINGS, **dict(scenario.settings)}:
        world.configure(**dict(scenario.settings))
    state = _Play(world, scenario)
    if scenario.hints is not None:
        world.enable_hints(scenario.hints.faults(), scenario.hints.polling())
        state.bucket = HINTED_BUCKET
    quiet_interval = scenario.quiet_interval
    if quiet_interval is not None:
        world.ledger.quiet_interval = quiet_interval
        world.ledger.counts["quiet_scenarios"] += 1
    if scenario.assurance is not None:
        prepare_archives(world, scenario.assurance, ami_id)
    backend = world.backend
    now = CLOCK.now()
    for task in sorted(scenario.history, key=lambda item: -item.minutes_ago):
        backend.add_task(
            ami_id(task.ami),
            state.bucket_of(task.ami),
            now - timedelta(minutes=task.minutes_ago),
            task.state,
            100 if task.state == COMPLETED else task.progress,
            failure_reason="It failed before the notifier existed." if task.state == FAILED else None,
        )
    for step in scenario.steps:
        _APPLY[type(step)](state, step)
    # Quiet, a run that reads is due once the safety net is: each settling run waits for it.
    wait = 0.0 if quiet_interval is None else quiet_interval.total_seconds() + SAFETY_NET_LATE_SECONDS
    world.settle(max_runs=scenario.settle_runs, wait_seconds=wait)
    world.count_hints()
    world.ledger.finish()
    return world.ledger


# How long after the safety net is due a settling run of a quiet scenario comes: a schedule period.
SAFETY_NET_LATE_SECONDS = 61


def _start(play_state: _Play, step: Start) -> None:
    backend = play_state.world.backend
    CLOCK.advance(1)  # two stores of one AMI never share a millisecond
    current = backend.task(ami_id(step.ami))
    if current is None or current.state != IN_PROGRESS:
        task = backend.add_task(
            ami_id(step.ami),
            play_state.bucket_of(step.ami),
            CLOCK.now(),
            IN_PROGRESS,
            0,
            duration_seconds=step.duration,
        )
        play_state.world.store_started(task)


def _finish(play_state: _Play, step: Finish) -> None:
    backend = play_state.world.backend
    current = backend.task(ami_id(step.ami))
    if current is None or current.state != IN_PROGRESS:
        return
    if step.state == FAILED:
        backend.fail(ami_id(step.ami), step.reason)
    else:
        backend.complete(ami_id(step.ami))


def _progress(play_state: _Play, step: Progress) -> None:
    backend = play_state.world.backend
    current = backend.task(ami_id(step.ami))
    if current is not None and current.state == IN_PROGRESS:
        backend.set_state(ami_id(step.ami), IN_PROGRESS, progress=step.percent)


def _advance(_: _Play, step: Advance) -> None:
    CLOCK.advance(step.seconds)


def _starve(play_state: _Play, step: Starve) -> None:
    play_state.starved = step


def _throttle(play_state: _Play, step: Throttle) -> None:
    play_state.throttle = step
    play_state.world.ledger.counts["multi_run_throttles"] += 1


def _away(play_state: _Play, step: Away) -> None:
    backend = play_state.world.backend
    left_at = CLOCK.now()
    CLOCK.advance(step.seconds / 2)
    for task in backend.tasks():
        if task.state == IN_PROGRESS and task.due is None:
            backend.complete(task.ami_id)
    CLOCK.advance(step.seconds / 2)
    pace = timedelta(seconds=step.seconds / (step.stores + 1))
    ended = step.stores - step.running
    for number in range(1, step.stores + 1):
        ami = ami_id(AWAY_AMIS + play_state.away_stores + number)
        started = left_at + number * pace
        if number > ended:
            ends_in = (CLOCK.now() - started).total_seconds() + 60 * (number - ended)
            backend.add_task(ami, play_state.bucket, started, IN_PROGRESS, 50, duration_seconds=ends_in)
        elif number % step.failed_every == 0:
            backend.add_task(
                ami, play_state.bucket, started, FAILED, 40, failure_reason="The snapshot could not be read."
            )
        else:
            backend.add_task(ami, play_state.bucket, started, COMPLETED)
    play_state.away_stores += step.stores
    if step.seconds >= LONG_ABSENCE_SECONDS:
        play_state.world.ledger.counts["long_absences"] += 1
        play_state.world.ledger.counts["stores_ended_while_away"] += ended


def _run(play_state: _Play, step: Run) -> None:
    world = play_state.world
    play_state.starve_before_a_run()
    _inject(world, step.faults)
    with (
        play_state.throttled() as lambda_clock,
        _malformed(play_state, step.malformed),
        _shifting(play_state, step.shift),
    ):
        record = world.run(
            THROTTLED_RUN if lambda_clock else "run",
            seconds_left=lambda_clock or _time_left(step.time_left_after, world.reserve_seconds),
        )
    if lambda_clock is not None and record.stopped_because == AWS_UNAVAILABLE:
        world.ledger.counts["runs_stopped_by_multi_run_throttles"] += 1


def _overlap(play_state: _Play, step: Overlap) -> None:
    play_state.starve_before_a_run()
    _inject(play_state.world, step.faults)
    play_state.world.run_overlapping(order=OVERLAP_SCHEDULED)


def _hints(play_state: _Play, step: Hints) -> None:
    world = play_state.world
    if world.run_hints(inject=partial(_inject, world, step.faults)) is not None:
        world.deliver_hints()


def _hint_overlap(play_state: _Play, step: HintOverlap) -> None:
    world = play_state.world
    play_state.starve_before_a_run()
    world.run_overlapping(order=step.order, inject=partial(_inject, world, step.faults))


def _forge_object(play_state: _Play, step: ForgeObject) -> None:
    play_state.world.forge_object(ami_id(step.ami))


def _on_the_ami(act: Callable[[ChaosWorld, str], None]) -> Callable[[_Play, Any], None]:
    """A step that does `act` to its AMI (tests/chaos/assurance_steps.py)."""
    return lambda play_state, step: act(play_state.world, ami_id(step.ami))


_APPLY: dict[type, Callable[[_Play, Any], None]] = {
    Start: _start,
    Finish: _finish,
    Progress: _progress,
    Advance: _advance,
    Starve: _starve,
    Throttle: _throttle,
    Away: _away,
    Run: _run,
    Overlap: _overlap,
    Hints: _hints,
    HintOverlap: _hint_overlap,
    ForgeObject: _forge_object,
    StallStore: _on_the_ami(stall_store),
    ResumeStore: _on_the_ami(resume_store),
    WriteObject: _on_the_ami(write_object_late),
}


def _inject(world: ChaosWorld, faults: tuple[Fault, ...]) -> None:
    for fault in faults:
        if isinstance(fault, EmulatorError):
            world.backend.faults.inject("DescribeStoreImageTasks", code=fault.code, times=fault.times)
        else:
            world.faults.inject(
                fault.service,
                fault.operation,
                fault.kind,
                call=fault.call,
                entry=fault.entry,
                code=fault.code,
            )


def _time_left(after: int | None, reserve: float) -> Any:
    if after is None:
        return None
    asked = {"count": 0}

    def seconds_left() -> float:
        asked["count"] += 1
        return 120.0 if asked["count"] <= after else reserve / 2

    return seconds_left


@contextlib.contextmanager
def _malformed(play_state: _Play, kinds: tuple[str, ...]) -> Iterator[None]:
    """Appends the bad entries to the first listing page the run reads."""
    if not kinds:
        yield
        return
    done = {"yes": False}

    def edit(results: list[dict[str, Any]], params: Any) -> None:
        if done["yes"] or params.get("ImageIds"):
            return
        done["yes"] = True
        now = CLOCK.now()
        added = []
        for kind in kinds:
            play_state.serial += 1
            added.append(malformed_entry(kind, play_state.serial, now, results))
            results.append(added[-1])
        play_state.world.ledger.counts["malformed_entries"] += len(kinds)
        play_state.world.listing_given(added)

    with play_state.world.listing_edited(edit):
        yield


@contextlib.contextmanager
def _shifting(play_state: _Play, ami: int | None) -> Iterator[None]:
    """Starts a store between the first and the second page request of the listing: of `ami` when its
    last store has finished (the old task leaves the listing), else of an AMI never stored before."""
    if ami is None:
        yield
        return
    fired = {"yes": False}

    def hook(backend: Any, call: Any) -> None:
        if fired["yes"] or call.image_ids or call.next_token is None:
            return
        fired["yes"] = True
        now = CLOCK.now()
        wanted = ami_id(ami)
        current = backend.task(wanted)
        if current is not None and (
            current.state == IN_PROGRESS or ec2_timestamp(current.start_time) == ec2_timestamp(now)
        ):
            play_state.fresh += 1
            wanted = ami_id(play_state.fresh)
        task = backend.add_task(wanted, play_state.bucket, now, IN_PROGRESS, 0, duration_seconds=90)
        play_state.world.store_started(task)
        play_state.world.ledger.counts["listing_shifts"] += 1

    backend = play_state.world.backend
    backend.on_describe = hook
    try:
        yield
    finally:
        backend.on_describe = None


# -- a hand-made setup shared by the fault matrix and the throttling tests ---------------------------------


def prepare_busy_run(world: ChaosWorld) -> None:
    """Leaves the world so that its next run is a busy one: a safety net that reads three listing
    pages and two pages of the tasks in progress, re-checks by ImageIds a tracked AMI stored again,
    reads the record of a store EC2 listed late, renews the lease of a delivery EventBridge refused,
    claims a completion and a failure, reads the refused delivery's stored announcement, publishes on
    both channels and settles."""
    backend = world.backend
    world.run("baseline")
    for ami in range(1, 6):
        CLOCK.advance(1)
        backend.add_task(ami_id(ami), BUCKET, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    world.run("tracks five stores")
    backend.complete(ami_id(5))
    world.faults.inject("events", "PutEvents", "partial")
    CLOCK.advance(60)
    refused = world.run("EventBridge refuses the completion of AMI 5")
    assert refused.report["publishFailures"] == 1
    backend.complete(ami_id(1))
    backend.fail(ami_id(2), "The snapshot could not be read.")
    backend.complete(ami_id(3))
    CLOCK.advance(1)
    backend.add_task(ami_id(3), BUCKET, CLOCK.now(), "InProgress", 0)  # stored again: the old task leaves
    CLOCK.advance(3600)  # a full scan is due
    # A store EC2 lists late, older than the window a head read covers: only a full scan finds it.
    backend.add_task(ami_id(9), BUCKET, CLOCK.now() - timedelta(minutes=100), "InProgress", 10)


# -- drawing scenarios at random (the campaign's families: tests/chaos/families.py) ---------------------


# The share of the scenarios with hints (tests/chaos/families.py) that run quietWhenIdle.
QUIET_SHARE = 0.4


def ordinary_scenario(rng: random.Random) -> Scenario:
    """A few AMIs with some history, a baseline run, then three to six rounds of store events, clock
    moves and runs, with faults, overlaps, shifting listings, malformed entries and short time."""
    amis = rng.randint(2, 5)
    history = []
    for ami in range(amis):
        if rng.random() < 0.6:
            minutes = rng.choice(
                [
                    rng.uniform(1, 120),
                    rng.uniform(20 * 1440, 30 * 1440),
                    rng.uniform(31 * 1440 + 10, 40 * 1440),
                ]
            )
            history.append(HistoryTask(ami, round(minutes, 3), rng.choice([IN_PROGRESS, COMPLETED, FAILED])))
    steps: list[Step] = [Run(faults=random_faults(rng) if rng.random() < 0.3 else ())]
    for _ in range(rng.randint(3, 6)):
        for _ in range(rng.randint(1, 3)):
            steps.append(random_event(rng, amis))
        steps.append(Advance(random_advance(rng)))
        steps.append(random_run(rng, amis))
    return Scenario(amis, tuple(history), tuple(steps))


# Pages of a catch-up: its backlog spans 1.2 to 2.5 runs' worth of them (ten calls a run), 240 to 1,000
# stores. A throttle's backlog spans one to two pages.
CATCH_UP_PAGE_SIZES = (20, 40)
THROTTLE_PAGE_SIZES = (10, 25, 50)


def after_a_long_absence(scenario: Scenario, rng: random.Random) -> Scenario:
    """The scenario, a fault-free run, then the notifier away for hours to days while hundreds of stores
    start and end (more than one run reads), then runs resume (with the ordinary faults) until the end
    settles the rest."""
    page_size = rng.choice(CATCH_UP_PAGE_SIZES)
    per_run = page_size * MAX_DESCRIBE_CALLS_PER_RUN
    stores = round(per_run * rng.uniform(1.2, 2.5))
    seconds = rng.uniform(max(2 * 3600, SECONDS_BETWEEN_STORES * stores), 3 * 86400)
    away = Away(round(seconds, 3), stores, rng.choice([7, 20, 50]), rng.randint(0, 5))
    resumed = math.ceil(stores / per_run) + 1
    steps: list[Step] = [*scenario.steps, Advance(60), Run(), away]
    for _ in range(resumed):
        steps += [Advance(60), random_run(rng, scenario.amis)]
    # Re-checks of the stores still in progress and the safety net's pages share the ten calls: the end
    # is given runs enough at two fifths of them for the listing.
    settle_runs = math.ceil(stores / (page_size * 4)) + 3
    return replace(
        scenario, steps=tuple(steps), settings=(("PAGE_SIZE", str(page_size)),), settle_runs=settle_runs
    )


def with_a_throttle_over_several_runs(scenario: Scenario, rng: random.Random) -> Scenario:
    """The scenario, a fault-free run, tens to hundreds of stores ending within the hour, then EC2 or a
    channel (or two of them) throttled past the SDK's retries on every call for three to five runs,
    then two runs after it recovered: nothing may be lost, nor anything a channel accepted sent twice."""
    page_size = rng.choice(THROTTLE_PAGE_SIZES)
    stores = rng.randint(page_size, page_size * 2)
    backlog = Away(
        round(SECONDS_BETWEEN_STORES * (stores + 1), 3), stores, rng.choice([7, 20]), rng.randint(0, 3)
    )
    targets = tuple(sorted(rng.sample(THROTTLE_TARGETS, 1 if rng.random() < 0.7 else 2)))
    throttle = Throttle(targets, rng.randint(3, 5))
    steps: list[Step] = [*scenario.steps, Advance(60), Run(), backlog, throttle]
    for _ in range(throttle.runs + 2):
        steps += [Advance(60), Run()]
    return replace(scenario, steps=tuple(steps), settings=(("PAGE_SIZE", str(page_size)),))


def random_event(rng: random.Random, amis: int) -> Step:
    ami = rng.randrange(amis)
    roll = rng.random()
    if roll < 0.45:
        return Start(ami, rng.choice([None, None, 30, 120, 600]))
    if roll < 0.8:
        return Finish(ami, rng.choice([COMPLETED, FAILED]), rng.choice(FAILURE_REASONS))
    if roll < 0.9:
        return Progress(ami, rng.randint(0, 99))
    return Starve(runs=rng.randint(1, 4), leave=rng.choice([0, 0, 1, 3]))


FAILURE_REASONS = (
    "The snapshot could not be read.",
    "Access denied to bucket ami-archive",
    "Échec : l'instantané est introuvable ✗",
    "x" * 3000,
)


def random_advance(rng: random.Random) -> float:
    roll = rng.random()
    if roll < 0.6:
        return round(rng.uniform(10, 200), 3)
    if roll < 0.8:
        return round(rng.uniform(301, 900), 3)
    if roll < 0.95:
        return round(rng.uniform(3600, 4000), 3)
    return round(rng.uniform(31 * 86400, 33 * 86400), 3)


def random_fault(rng: random.Random) -> Fault:
    if rng.random() < 0.1:
        return EmulatorError(rng.choice(EMULATOR_ERRORS), rng.choice([1, 2, EC2_ATTEMPTS - 1, EC2_ATTEMPTS]))
    service, operation, calls = rng.choice(CALL_SITES)
    return CallFault(
        service,
        operation,
        rng.choice(kinds_for(service, operation)),
        rng.randint(1, calls),
        rng.randint(0, 2),
    )


def random_faults(rng: random.Random) -> tuple[Fault, ...]:
    return tuple(random_fault(rng) for _ in range(1 if rng.random() < 0.8 else 2))


def random_run(rng: random.Random, amis: int) -> Step:
    faults = random_faults(rng) if rng.random() < 0.5 else ()
    if rng.random() < 0.1:
        return Overlap(faults)
    return Run(
        faults=faults,
        time_left_after=rng.randint(0, 3) if rng.random() < 0.1 else None,
        malformed=tuple(rng.sample(MALFORMED_KINDS, rng.randint(1, 2))) if rng.random() < 0.15 else (),
        shift=rng.randrange(amis) if rng.random() < 0.15 else None,
    )


# -- hints ------------------------------------------------------------------------------------------------

# The calls of a hint run: the cursor's read (and its lease batches), the allowance's UpdateItem, EC2 by
# ImageIds, the suspects' records, the claims, both channels, the settling UpdateItems.
HINT_CALL_SITES: tuple[tuple[str, str, int], ...] = (
    ("dynamodb", "BatchGetItem", 2),
    ("dynamodb", "UpdateItem", 3),
    ("ec2", "DescribeStoreImageTasks", 2),
    ("dynamodb", "TransactWriteItems", 1),
    ("sns", "PublishBatch", 1),
    ("events", "PutEvents", 1),
)
# How late a delayed hint comes: from before the next scheduled run to well past it ("past the listing").
HINT_DELAYS = (30.0, 120.0, 600.0, 1800.0)
HINT_RATES = (0.0, 0.0, 0.25, 0.5, 1.0)
QUIET_INTERVALS = (15, 30, 60)


def with_hints(scenario: Scenario, rng: random.Random) -> Scenario:
    """The scenario with hints on and a mix of hint faults: after the first run, hint batches handed over
    right after stores start and end and between scheduled runs (some with the AWS faults, some
    overlapping a scheduled run or another hint run), objects forged for the scenario's AMIs; and for a
    share, quietWhenIdle with a safety net every 15 to 60 minutes. Once a throttle over several runs
    begins, its runs are the only ones until the end (a hint run between them would not be throttled)."""
    quiet = rng.random() < QUIET_SHARE
    steps: list[Step] = []
    baselined = throttled = False
    for step in scenario.steps:
        throttled = throttled or isinstance(step, Throttle)
        if baselined and not throttled and isinstance(step, Run) and rng.random() < 0.3:
            # The round's hints wait on the queue, so that a hint run has a batch to overlap with.
            steps = _round_without_hints(steps)
            order = rng.choice([order for order in OVERLAP_ORDERS if order != OVERLAP_SCHEDULED])
            faults = step.faults if order.startswith(SCHEDULED) else _fit_for_a_hint_run(step.faults)
            steps.append(HintOverlap(order, faults))
            continue
        if baselined and not throttled and isinstance(step, Advance) and rng.random() < 0.3:
            before = round(step.seconds * rng.random(), 3)
            steps += [Advance(before), random_hints(rng), Advance(round(step.seconds - before, 3))]
            continue
        steps.append(step)
        if quiet and baselined and not throttled and isinstance(step, Run) and rng.random() < 0.4:
            # Every store ends: the account goes idle, and the runs after it may stay quiet.
            steps += [Finish(ami, rng.choice([COMPLETED, FAILED])) for ami in range(scenario.amis)]
            steps.append(random_hints(rng))
        baselined = baselined or isinstance(step, (Run, Overlap))
        if baselined and isinstance(step, (Start, Finish)):
            if rng.random() < 0.35:
                steps.append(random_hints(rng))
            if rng.random() < 0.08:
                steps.append(ForgeObject(step.ami))
    settings = scenario.settings
    settle_runs = scenario.settle_runs
    if quiet:
        interval = rng.choice(QUIET_INTERVALS)
        settings = (*settings, QUIET_SETTING, ("FULL_SCAN_INTERVAL_MINUTES", str(interval)))
        settle_runs = max(settle_runs, 4)
        steps += quiet_while_idle(rng, scenario.amis, interval)
    return replace(
        scenario, steps=tuple(steps), settings=settings, settle_runs=settle_runs, hints=random_hint_setup(rng)
    )


def _round_without_hints(steps: list[Step]) -> list[Step]:
    """The steps with the Hints taken out of the last round (since the last run), and the advance they
    split joined again."""
    runs = (Run, Overlap, HintOverlap)
    cut = max((index for index, step in enumerate(steps) if isinstance(step, runs)), default=-1) + 1
    kept = steps[:cut]
    for step in steps[cut:]:
        if isinstance(step, Hints):
            continue
        if isinstance(step, Advance) and len(kept) > cut and isinstance(kept[-1], Advance):
            kept.append(Advance(round(kept.pop().seconds + step.seconds, 3)))
        else:
            kept.append(step)
    return kept


def quiet_while_idle(rng: random.Random, amis: int, interval_minutes: int) -> list[Step]:
    """The end of a quiet scenario: every store ends and the runs find the account idle; then one more
    store starts and ends (its hints may be lost: the safety net must find it within the interval),
    with runs before, during and after it, the last one past the interval."""
    ami = rng.randrange(amis)
    interval = 60.0 * interval_minutes
    return [
        *(Finish(other, rng.choice([COMPLETED, FAILED])) for other in range(amis)),
        random_hints(rng),
        Advance(60),
        Run(),
        Advance(round(rng.uniform(30, 300), 3)),
        Run(),
        Start(ami),
        random_hints(rng),
        Advance(round(rng.uniform(30, 600), 3)),
        Run(),
        Finish(ami, rng.choice([COMPLETED, FAILED])),
        random_hints(rng),
        Advance(60),
        Run(),
        Advance(round(rng.uniform(0.5, 1.5) * interval, 3)),
        random_run(rng, amis),
        Advance(60),
        Run(),
    ]


def random_hint_setup(rng: random.Random) -> HintSetup:
    return HintSetup(
        drop=rng.choice(HINT_RATES),
        delay=rng.choice(HINT_RATES),
        delay_seconds=rng.choice(HINT_DELAYS),
        repeat=rng.choice(HINT_RATES),
        repeat_after_seconds=rng.choice((0.0, 10.0, 300.0)),
        early=rng.choice(HINT_RATES),
        early_seconds=rng.choice((10.0, 30.0, 90.0)),
        forge=rng.choice((0.0, 0.0, 0.5, 1.0)),
        kinds=rng.choice(((OBJECT_CREATED, STARTED), (STARTED,), (OBJECT_CREATED,))),
        redeliver=rng.choice((0.0, 0.0, 0.25, 0.5)),
        batch_size=rng.choice((2, 10, 10)),
        seed=rng.randrange(2**32),
    )


def random_hints(rng: random.Random) -> Hints:
    if rng.random() < 0.3:
        return Hints(tuple(random_hint_run_fault(rng) for _ in range(1 if rng.random() < 0.8 else 2)))
    return Hints()


# A hint run's first UpdateItem takes from the allowance's count, whose item no transaction ever holds:
# DynamoDB never refuses it for a transaction conflict.
ALLOWANCE_CALL = ("dynamodb", "UpdateItem", 1)


def random_hint_run_fault(rng: random.Random) -> Fault:
    if rng.random() < 0.1:
        return EmulatorError(rng.choice(EMULATOR_ERRORS), rng.choice([1, EC2_ATTEMPTS - 1, EC2_ATTEMPTS]))
    service, operation, calls = rng.choice(HINT_CALL_SITES)
    call = rng.randint(1, calls)
    kinds = CALL_FAULTS if (service, operation, call) == ALLOWANCE_CALL else kinds_for(service, operation)
    return CallFault(service, operation, rng.choice(kinds), call, rng.randint(0, 2))


def _fit_for_a_hint_run(faults: tuple[Fault, ...]) -> tuple[Fault, ...]:
    """A scheduled run's faults aimed at a hint run instead: without a conflict on the allowance's count."""
    return tuple(
        fault
        for fault in faults
        if not (
            isinstance(fault, CallFault)
            and fault.kind == "conflict"
            and (fault.service, fault.operation, fault.call) == ALLOWANCE_CALL
        )
    )

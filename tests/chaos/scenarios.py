"""Scenarios: a task history, runs of the notifier and the faults aimed at them, played on a ChaosWorld.

A scenario is plain data (so Hypothesis can build and shrink it, and the campaign can draw it from a
seeded random generator): a few AMIs with what they stored before the notifier's first run, then steps.
`play` runs it and ends with `ChaosWorld.settle()`, so every scenario finishes with a complete run
whose invariants the ledger has checked.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ami_store_notifier.adapters.aws import EC2_CLIENT_CONFIG
from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED, IN_PROGRESS
from local.ec2_store_tasks.backend import DESCRIBE_STORE as DESCRIBE
from tests.chaos.harness import BUCKET, ChaosWorld, Ledger, ec2_timestamp
from tests.faults import CONFLICT_OPERATIONS

# -- the AWS calls a run makes, and the faults that fit each -------------------------------------------

CALL_SITES: tuple[tuple[str, str, int], ...] = (
    # (service, operation, how many calls of it a busy run makes)
    ("ec2", "DescribeStoreImageTasks", 6),
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


def ec2_attempts() -> int:
    """Attempts per call, the first one included. botocore rewrites the shared Config's `max_attempts`
    (retries) into `total_max_attempts` when the first client is built, so read either form."""
    retries = EC2_CLIENT_CONFIG.retries
    return int(retries.get("total_max_attempts", retries.get("max_attempts", 2) + 1))


EC2_ATTEMPTS = ec2_attempts()


def kinds_for(service: str, operation: str) -> tuple[str, ...]:
    if (service, operation) in BATCH_OPERATIONS:
        return (*CALL_FAULTS, "partial")
    if (service, operation) in CONFLICT_OPERATIONS:
        return (*CALL_FAULTS, "conflict")
    return CALL_FAULTS


@dataclass(frozen=True)
class CallFault:
    """An AwsFaults fault: the `call`-th call of the operation in the run goes wrong."""

    service: str
    operation: str
    kind: str
    call: int = 1
    entry: int = 0


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


def malformed_entry(kind: str, serial: int, now: datetime, page: list[dict[str, Any]]) -> dict[str, Any]:
    """One bad entry for a listing page. Entries with an AMI id use ids no real task has, except the
    naive-timestamp copy, which repeats a real entry of the page with the time zone stripped."""
    ami = f"ami-0bad{serial:013x}"
    base = {
        "AmiId": ami,
        "TaskStartTime": now,
        "Bucket": BUCKET,
        "S3objectKey": f"{ami}.bin",
        "ProgressPercentage": 10,
        "StoreTaskState": IN_PROGRESS,
    }
    if kind == "no-ami-id":
        return {name: value for name, value in base.items() if name != "AmiId"} | {
            "StoreTaskState": COMPLETED
        }
    if kind == "no-start-time":
        return {name: value for name, value in base.items() if name != "TaskStartTime"} | {
            "StoreTaskState": COMPLETED
        }
    if kind == "no-state":
        return {name: value for name, value in base.items() if name != "StoreTaskState"}
    if kind == "start-not-a-time":
        return base | {"TaskStartTime": "yesterday afternoon", "StoreTaskState": FAILED}
    if kind == "unknown-state":
        return base | {"StoreTaskState": "Cancelled"}
    if kind == "naive-start-copy" and page:
        original = dict(page[0])
        start = original.get("TaskStartTime")
        if isinstance(start, datetime):
            original["TaskStartTime"] = start.astimezone(UTC).replace(tzinfo=None)
        return original
    if kind == "progress-not-a-number":
        return base | {"ProgressPercentage": "50%"}
    return base | {"ProgressPercentage": 150}


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


Step = Start | Finish | Progress | Advance | Run | Overlap | Starve


@dataclass(frozen=True)
class Scenario:
    amis: int
    history: tuple[HistoryTask, ...] = ()
    steps: tuple[Step, ...] = ()

    def describe(self) -> str:
        """The scenario, one step a line (long failure reasons shortened), to replay a failure by eye."""
        lines = [f"{self.amis} AMIs; before the first run: {list(self.history)}"]
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
    serial: int = 0
    fresh: int = 1000
    shifted: list[str] = field(default_factory=list)
    starved: Starve | None = None

    def starve_before_a_run(self) -> None:
        """The other caller's use since the last run: the bucket is left with what it leaves."""
        if self.starved is None or self.starved.runs <= 0:
            return
        now = CLOCK.now()
        bucket = self.world.backend.throttle.bucket(DESCRIBE, now)
        bucket.drain(now, max(0.0, bucket.tokens(now) - self.starved.leave))
        self.world.ledger.counts["starved_runs"] += 1
        self.starved = Starve(self.starved.runs - 1, self.starved.leave)


def play(world: ChaosWorld, scenario: Scenario) -> Ledger:
    """Runs the scenario on a reset world, then settles it; returns the checked ledger."""
    world.reset()
    state = _Play(world, scenario)
    backend = world.backend
    now = CLOCK.now()
    for task in sorted(scenario.history, key=lambda item: -item.minutes_ago):
        backend.add_task(
            ami_id(task.ami),
            BUCKET,
            now - timedelta(minutes=task.minutes_ago),
            task.state,
            100 if task.state == COMPLETED else task.progress,
            failure_reason="It failed before the notifier existed." if task.state == FAILED else None,
        )
    for step in scenario.steps:
        _apply(state, step)
    world.settle()
    world.ledger.finish()
    return world.ledger


def _apply(play_state: _Play, step: Step) -> None:
    world = play_state.world
    backend = world.backend
    match step:
        case Start(ami, duration):
            CLOCK.advance(1)  # two stores of one AMI never share a millisecond
            current = backend.task(ami_id(ami))
            if current is None or current.state != IN_PROGRESS:
                backend.add_task(ami_id(ami), BUCKET, CLOCK.now(), IN_PROGRESS, 0, duration_seconds=duration)
        case Finish(ami, state, reason):
            current = backend.task(ami_id(ami))
            if current is not None and current.state == IN_PROGRESS:
                if state == FAILED:
                    backend.fail(ami_id(ami), reason)
                else:
                    backend.complete(ami_id(ami))
        case Progress(ami, percent):
            current = backend.task(ami_id(ami))
            if current is not None and current.state == IN_PROGRESS:
                backend.set_state(ami_id(ami), IN_PROGRESS, progress=percent)
        case Advance(seconds):
            CLOCK.advance(seconds)
        case Starve():
            play_state.starved = step
        case Run(faults, time_left_after, malformed, shift):
            play_state.starve_before_a_run()
            _inject(world, faults)
            with _malformed(play_state, malformed), _shifting(play_state, shift):
                world.run("run", seconds_left=_time_left(time_left_after, world.reserve_seconds))
        case Overlap(faults):
            play_state.starve_before_a_run()
            _inject(world, faults)
            world.run_overlapping()


def _inject(world: ChaosWorld, faults: tuple[Fault, ...]) -> None:
    for fault in faults:
        if isinstance(fault, EmulatorError):
            world.backend.faults.inject("DescribeStoreImageTasks", code=fault.code, times=fault.times)
        else:
            world.faults.inject(
                fault.service, fault.operation, fault.kind, call=fault.call, entry=fault.entry
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
        for kind in kinds:
            play_state.serial += 1
            results.append(malformed_entry(kind, play_state.serial, now, results))
        play_state.world.ledger.counts["malformed_entries"] += len(kinds)

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
        backend.add_task(wanted, BUCKET, now, IN_PROGRESS, 0, duration_seconds=90)
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


# -- drawing scenarios at random (the campaign) -----------------------------------------------------------


def random_scenario(rng: random.Random) -> Scenario:
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

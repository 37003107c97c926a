"""`make bench-watch`'s second table: how soon `ami-store-notifier watch` reports a completion after the
store's object appears in S3, looking there every few seconds (as it does where the caller may read the
bucket) and by EC2's pace alone (as before, and still where it may not), and the EC2 calls of each.

The real watcher, EC2 task source and S3 probe against the emulator (in-process moto, EC2's request
bucket on), on the emulator clock. The emulator writes a store's object when the store completes, stamped
with that moment. Stores complete at a spread of moments: some with even progress, which EC2's pace
already follows closely, and some whose progress stays at 40 % until they complete (EC2 documents no
pace for it), which EC2's pace, reckoned from that progress, cannot foresee.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from ami_store_notifier.adapters.aws import EC2_CLIENT_CONFIG, ApiCallCounter
from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.adapters.s3_objects import S3_PROBE_CONFIG, S3ObjectProbe
from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.sightings import PROBE_INTERVAL
from ami_store_notifier.cli.watching import Watcher
from bench.budget import percentile
from local.ec2_store_tasks import CLOCK, reset, store_tasks_backend
from local.ec2_store_tasks.api import DESCRIBE_STORE
from local.ec2_store_tasks.backend import StoreTaskBackend
from local.lambda_context import ACCOUNT, REGION

BUCKET = "bench-watch-latency"
TARGET = timedelta(seconds=15)
# When the one store of a watch completes, from the watch's start: the 10 s to half an hour, the
# others off the 5-s beat of the looks.
MOMENTS = tuple(
    timedelta(seconds=seconds) for seconds in (10, 33, 67, 128, 191, 307, 433, 611, 853, 1147, 1459, 1801)
)
OFF_THE_BEAT = timedelta(seconds=7)
STUCK_PERCENT = 40
# A stuck store started this long before the watch: its 40 % then promise as long again.
STUCK_SINCE = timedelta(minutes=20)


@dataclass(frozen=True)
class Store:
    ends_after: timedelta
    """From the watch's start to the store's completion (its object's appearance)."""
    stuck: bool


@dataclass(frozen=True)
class Scenario:
    name: str
    watches: tuple[tuple[Store, ...], ...]
    # False: stores complete more often than EC2's pace checks. Each completion then waits for the next
    # paced check, as without S3 (confirming each at once would cost a call apiece): shown, not a target.
    targeted: bool = True


def _spread(stores: int, minutes: int) -> list[timedelta]:
    """Completions spread evenly over the watch's `minutes`, the first after 1/stores of them."""
    return [timedelta(minutes=minutes * (number + 1) / stores) + OFF_THE_BEAT for number in range(stores)]


SCENARIOS = (
    Scenario("1 store a watch, even progress", tuple((Store(moment, False),) for moment in MOMENTS)),
    Scenario("1 store a watch, progress stuck", tuple((Store(moment, True),) for moment in MOMENTS)),
    Scenario(
        "20 stores, even progress, ending 3 min apart", (tuple(Store(end, False) for end in _spread(20, 60)),)
    ),
    Scenario(
        "5 stores, progress stuck, ending 12 min apart", (tuple(Store(end, True) for end in _spread(5, 60)),)
    ),
    Scenario(
        "20 stores, progress stuck, ending 3 min apart",
        (tuple(Store(end, True) for end in _spread(20, 60)),),
        targeted=False,
    ),
)


@dataclass
class Watched:
    """What one watch did: when it reported each store ended, its EC2 and S3 calls."""

    reported: dict[str, datetime] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)
    ec2_calls: int = 0
    head_calls: int = 0

    def show(self, tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> None:
        for task in tasks:
            if not task.is_running:
                self.reported.setdefault(task.task.ami_id, now)

    def note(self, text: str, now: datetime) -> None:
        raise AssertionError(f"the watch said: {text}")


@dataclass(frozen=True)
class Figures:
    name: str
    completions: int
    ec2_alone: Watched
    with_s3: Watched

    targeted: bool

    @property
    def met(self) -> bool:
        return (
            percentile(self.with_s3.delays, 0.95) <= TARGET.total_seconds()
            and self.with_s3.ec2_calls <= self.ec2_alone.ec2_calls
        )

    @property
    def verdict(self) -> str:
        if not self.targeted:
            return "limit"
        return "PASS" if self.met else "FAIL"


def passed(figures: Sequence[Figures]) -> bool:
    return all(f.met for f in figures if f.targeted)


def run(scenario: Scenario) -> Figures:
    ec2_alone, with_s3 = Watched(), Watched()
    for stores in scenario.watches:
        for into, looks in ((ec2_alone, False), (with_s3, True)):
            _add(into, watch(stores, with_s3=looks))
    return Figures(scenario.name, len(ec2_alone.delays), ec2_alone, with_s3, scenario.targeted)


def _add(total: Watched, one: Watched) -> None:
    total.delays += one.delays
    total.ec2_calls += one.ec2_calls
    total.head_calls += one.head_calls


# One session for every watch: it reads each service's model once (some 0.3 s apiece).
_SESSION = boto3.session.Session()


def watch(stores: Sequence[Store], *, with_s3: bool) -> Watched:
    reset()
    with mock_aws():
        ec2 = _SESSION.client("ec2", region_name=REGION, config=EC2_CLIENT_CONFIG)
        s3 = _SESSION.client("s3", region_name=REGION, config=S3_PROBE_CONFIG)
        s3.create_bucket(Bucket=BUCKET)
        heads = ApiCallCounter()
        heads.attach(s3)
        backend = store_tasks_backend(ACCOUNT, REGION)
        started = CLOCK.now()
        ends = {
            _seed(backend, ec2, number, store, started): started + store.ends_after
            for number, store in enumerate(stores)
        }
        stuck = {ami: ends[ami] for ami, store in zip(ends, stores, strict=True) if store.stuck}
        watched = Watched()
        probes = {REGION: S3ObjectProbe(s3)} if with_s3 else None
        sleep = _Timeline(backend, stuck).sleep
        Watcher({REGION: Ec2TaskSource(ec2)}, clock=CLOCK.now, sleep=sleep, view=watched, probes=probes).run(
            list(ends)
        )
        watched.delays = [(watched.reported[ami] - end).total_seconds() for ami, end in ends.items()]
        watched.ec2_calls = backend.calls[DESCRIBE_STORE]
        watched.head_calls = sum(heads.calls.values())
        return watched


def _seed(backend: StoreTaskBackend, ec2: Any, number: int, store: Store, started: datetime) -> str:
    """A store in progress when the watch starts. Seeded rather than created: CreateStoreImageTask's own
    bucket refills at one call every 10 s."""
    ami = str(ec2.register_image(Name=f"latency-{number:04d}")["ImageId"])
    if store.stuck:
        backend.add_task(ami, BUCKET, started - STUCK_SINCE, progress=STUCK_PERCENT)
    else:
        # Half done when the watch starts, at an even pace.
        takes = 2 * store.ends_after
        backend.add_task(ami, BUCKET, started - store.ends_after, duration_seconds=takes.total_seconds())
    return ami


@dataclass
class _Timeline:
    """The watcher's sleep: moves the emulator clock, completing each stuck store at its moment (the
    emulator then writes its object). Stores of even progress complete by themselves."""

    backend: StoreTaskBackend
    stuck: dict[str, datetime]

    def sleep(self, seconds: float) -> None:
        until = CLOCK.now() + timedelta(seconds=seconds)
        for ami, moment in sorted(self.stuck.items(), key=lambda item: item[1]):
            if CLOCK.now() < moment <= until:
                CLOCK.advance((moment - CLOCK.now()).total_seconds())
                self.backend.complete(ami)
        CLOCK.advance((until - CLOCK.now()).total_seconds())


def report(figures: Sequence[Figures]) -> str:
    moments = ", ".join(_moment(moment) for moment in MOMENTS)
    lines = [
        "## How soon a completion is reported",
        "",
        "From the moment a store's object appears to the moment `watch` shows the store completed. With "
        f"S3: `watch` looks for the objects every {PROBE_INTERVAL.seconds} s (HeadObject) and, when one "
        "appears, brings the next paced EC2 check forward, at once unless the check before it was due later "
        "or the pace's quiet after it (10 s a call) has not passed. EC2 alone: as before, and still where "
        f"the caller may not read the bucket. A watch of one store: {len(MOMENTS)} watches, the store "
        f"completing {moments} (min:s) into the watch; of several: completions spread over an hour. Even "
        "progress: half done when the watch starts, at an even pace. Progress stuck: at "
        f"{STUCK_PERCENT} % since {STUCK_SINCE.seconds // 60} minutes before the watch, until it completes, "
        "so EC2's pace, reckoned from the progress, expects it much later. "
        f"Target: p95 within {TARGET.seconds} s with S3, and no more EC2 calls than EC2 alone.",
        "",
        "| Watched | Completions | EC2 alone: median / p95 / max | With S3: median / p95 / max | "
        "EC2 calls, EC2 alone | EC2 calls, with S3 | HeadObject calls | Target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.name} | {f.completions} | {_delays(f.ec2_alone.delays)} | {_delays(f.with_s3.delays)} | "
            f"{f.ec2_alone.ec2_calls} | {f.with_s3.ec2_calls} | {f.with_s3.head_calls:,} | {f.verdict} |"
        )
    lines += [
        "",
        f"Target, completion reported within {TARGET.seconds} s p95 of its object at no more EC2 calls: "
        f"**{'PASS' if passed(figures) else 'FAIL'}**.",
        "",
        "The limit: where stores complete more often than EC2's pace checks, confirming each at once would "
        "cost an EC2 call apiece, so a completion waits for the check after the one an earlier completion "
        "brought forward, about as long as without S3. And a completion confirmed early can leave one "
        "paced check more before the watch ends: the one the rest of the stores then need.",
    ]
    return "\n".join(lines) + "\n"


def _moment(moment: timedelta) -> str:
    seconds = int(moment.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def _delays(seconds: Sequence[float]) -> str:
    median, p95 = statistics.median(seconds), percentile(seconds, 0.95)
    return f"{median:.0f} s / {p95:.0f} s / {max(seconds):.0f} s"

"""`python -m bench.watch` (with PYTHONPATH=functions): what `ami-store-notifier watch` costs the
account's shared DescribeStoreImageTasks budget, how well it estimates the time to finish, and how soon
it reports a completion (bench/watch_latency.py).

The real watcher and EC2 task source against the emulator (in-process moto, EC2's request bucket on),
on the emulator clock, for a few store sizes and counts. Each store's duration is spread between 60 % and
100 % of the scenario's. The calls are those of EC2's pace alone: looking at S3 brings checks forward
rather than adding any (the second table). Prints both tables and writes them to bench/WATCH.md.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import boto3
from moto import mock_aws

from ami_store_notifier.adapters.aws import EC2_CLIENT_CONFIG
from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.watching import Watcher
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
from bench import watch_latency
from local.ec2_store_tasks import CLOCK, install, reset, store_tasks_backend
from local.ec2_store_tasks.api import DESCRIBE_STORE
from local.lambda_context import ACCOUNT, OFFLINE_AWS_ENVIRONMENT, REGION

RESULTS = Path(__file__).resolve().parent / "WATCH.md"
BUCKET = "bench-watch-archive"
# (stores, minutes the longest takes)
SCENARIOS = ((1, 30), (1, 240), (20, 240), (100, 240), (400, 720))
# The pace the CLI keeps to (cli/pacing.py): a check of c calls is followed by at least c x 10 s of quiet,
# so any ten minutes hold at most 60 calls and the one check that starts them (a burst of up to 20 calls
# for 400 AMIs, which the bucket of 50 absorbs).
CALLS_PER_MINUTE_TARGET = 6
SHARE_OF_REMAINING = 0.5


@dataclass
class Observations:
    """What the watch did: when it called EC2, and its estimates against the real ends."""

    estimate_errors: list[float] = field(default_factory=list)
    ends: dict[str, datetime] = field(default_factory=dict)

    def show(self, tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> None:
        for task in tasks:
            remaining = task.remaining(now)
            end = self.ends[task.task.ami_id]
            actual = (end - now).total_seconds()
            # The estimate once half the store is done: what an operator reads mid-way.
            elapsed = (now - task.task.task_start_time).total_seconds()
            total = (end - task.task.task_start_time).total_seconds()
            if remaining is not None and actual > 0 and abs(elapsed / total - SHARE_OF_REMAINING) < 0.05:
                self.estimate_errors.append(abs(remaining.total_seconds() - actual) / actual)

    def note(self, text: str, now: datetime) -> None:
        raise AssertionError(f"the watch was refused: {text}")


@dataclass(frozen=True)
class Figures:
    stores: int
    minutes: int
    checks: int
    calls: int
    mean_per_minute: float
    peak_per_minute: int
    peak_per_ten_minutes: int
    lowest_tokens: float
    refused: int
    estimate_error: float

    @property
    def largest_check(self) -> int:
        return math.ceil(self.stores / MAX_IMAGE_IDS_PER_CALL)

    @property
    def met(self) -> bool:
        allowed = 10 * CALLS_PER_MINUTE_TARGET + self.largest_check
        return (
            self.peak_per_ten_minutes <= allowed
            and self.mean_per_minute <= CALLS_PER_MINUTE_TARGET
            and not self.refused
        )


def run(stores: int, minutes: int) -> Figures:
    reset()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION, config=EC2_CLIENT_CONFIG)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        backend = store_tasks_backend(ACCOUNT, REGION)
        started = CLOCK.now()
        observed = Observations()
        amis = []
        for number in range(stores):
            ami = ec2.register_image(Name=f"bench-{number:04d}")["ImageId"]
            seconds = minutes * 60 * (0.6 + 0.4 * (number + 1) / stores)
            # Seeded rather than created: CreateStoreImageTask's own bucket refills at one call every 10 s.
            backend.add_task(ami, BUCKET, started, duration_seconds=seconds)
            observed.ends[ami] = started + timedelta(seconds=seconds)
            amis.append(ami)
        calls_at: list[datetime] = []
        backend.on_describe = lambda _backend, _call: calls_at.append(CLOCK.now())
        checks = [0]

        def sleep(seconds: float) -> None:
            checks[0] += 1
            CLOCK.advance(seconds)

        Watcher({REGION: Ec2TaskSource(ec2)}, clock=CLOCK.now, sleep=sleep, view=observed).run(amis)
        bucket = backend.throttle.bucket(DESCRIBE_STORE, CLOCK.now())
        span = max((CLOCK.now() - started) / timedelta(minutes=1), 1.0)
        errors = observed.estimate_errors
        return Figures(
            stores,
            minutes,
            checks[0] + 1,
            len(calls_at),
            len(calls_at) / span,
            _most_within(calls_at, timedelta(minutes=1)),
            _most_within(calls_at, timedelta(minutes=10)),
            bucket.lowest,
            bucket.refused,
            sum(errors) / len(errors) if errors else 0.0,
        )


def _most_within(moments: list[datetime], window: timedelta) -> int:
    """The most calls within any `window`."""
    peak, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= window:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def report(figures: list[Figures]) -> str:
    lines = [
        "# `ami-store-notifier watch`: calls, estimates, and how soon a completion shows",
        "",
        "Generated by `make bench-watch`. The real watcher against the emulator, EC2's request bucket on "
        "(50 tokens, 0.5 a second, shared by every caller), with EC2's pace alone (S3 not looked at; looking "
        "brings checks forward rather than adding any: the second table). Target: at most "
        f"{CALLS_PER_MINUTE_TARGET} calls a minute over the watch, at most {10 * CALLS_PER_MINUTE_TARGET} "
        "calls in any ten minutes plus the one check that starts them (one call per 20 AMIs), never "
        "throttled.",
        "",
        "| Stores | Longest store | Checks | Calls | Calls/min (mean) | Calls in any 10 min (max, allowed) | "
        "Calls in any minute (max) | Lowest tokens | Throttled | Estimate error at half-way | Target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        allowed = 10 * CALLS_PER_MINUTE_TARGET + f.largest_check
        lines.append(
            f"| {f.stores} | {f.minutes} min | {f.checks} | {f.calls} | {f.mean_per_minute:.2f} | "
            f"{f.peak_per_ten_minutes} ({allowed}) | {f.peak_per_minute} | {f.lowest_tokens:.0f} | "
            f"{f.refused} | {f.estimate_error:.1%} | {'PASS' if f.met else 'FAIL'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    os.environ.update(OFFLINE_AWS_ENVIRONMENT)
    install()
    figures = [run(stores, minutes) for stores, minutes in SCENARIOS]
    completions = [watch_latency.run(scenario) for scenario in watch_latency.SCENARIOS]
    text = report(figures) + "\n" + watch_latency.report(completions)
    print(text)
    RESULTS.write_text(text)
    return 0 if all(f.met for f in figures) and watch_latency.passed(completions) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The same stores complete in two emulated accounts, archive checks off and on, through the real handler.

Each pass is a fresh `bench.scenario.World` (moto, the EC2 store-task emulator, the notifier deployed,
the real handler on the emulator's clock) with the stores' bucket in moto S3, where the emulator writes
each completed store's object. With checks on, READABLE_BUCKETS names that bucket before the handler is
wired. The listing holds a history of stores that ended in the last 31 days; one baseline run records it
(not counted). Then, each simulated minute, `stores_per_minute` stores of AMIs registered in moto EC2
start and the scheduled run polls; each store runs `store_seconds`, so as many complete each minute once
the first have run their time. A few runs after the last end let every delivery settle. Every run after
the baseline is counted.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
from moto.core.botocore_stubber import BotocoreStubber

from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, NoticeKind
from bench.bill.capture import Publishes
from bench.catch_up import seed_ended_stores
from bench.emulated import START, emulated_handler
from bench.log import Log
from bench.moto_shims import time_spent_in_moto
from bench.scenario import BUCKET, POLL_SECONDS, Poll, World
from bench.seeding import WINDOW_MARGIN
from local.ec2_store_tasks import CLOCK, COMPLETED, IN_PROGRESS, LISTING_WINDOW
from local.lambda_context import REGION

VERIFICATION_DETAIL_TYPE = NOTICE_DETAIL_TYPES[NoticeKind.VERIFICATION]
SETTLING_RUNS = 2
"""Runs after the last store's end: a delivery refused in one run goes out in the next."""


@dataclass(frozen=True)
class VerificationPlan:
    completions: int = 1_000
    stores_per_minute: int = 20
    """Stores that start each minute; as many complete in each run once the first have run their time.
    The bucket's versioning and lifecycle are read once per run with a completion: the fewer runs share
    the completions, the fewer such reads per completion."""
    store_seconds: float = 150.0
    history: int = 1_000
    """Stores that ended before the first run, in the listing's 31 days (the hourly full read reads them)."""
    warm_up: int = 20
    """Completions of a first pass with checks on, not reported: it pays the process's one-off loading
    (botocore's and moto's models of S3), which would otherwise land on the first measured pass."""

    @classmethod
    def small(cls) -> VerificationPlan:
        return cls(completions=30, stores_per_minute=10, history=50, warm_up=0)

    def runs(self, completions: int) -> int:
        starting = math.ceil(completions / self.stores_per_minute)
        return starting + math.ceil(self.store_seconds / POLL_SECONDS) + SETTLING_RUNS


class Recorder:
    """What the handler asked S3 and announced, entry by entry: HeadObject by object key, and the
    verification notices by AMI on EventBridge and on the SNS topic, with their verdicts."""

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        self.heads: Counter[str] = Counter()
        self.on_bus: Counter[str] = Counter()
        self.on_topic: Counter[str] = Counter()
        self.verdicts: Counter[str] = Counter()

    def attach(self, sim: World) -> None:
        for s3 in sim.wired.s3_clients.values():
            s3.meta.events.register("provide-client-params.s3.HeadObject", self._head)
        sim.wired.events.meta.events.register("provide-client-params.events.PutEvents", self._put)
        sim.wired.sns.meta.events.register("provide-client-params.sns.PublishBatch", self._published)

    def _head(self, params: Mapping[str, Any], **_: Any) -> None:
        self.heads[params["Key"]] += 1

    def _put(self, params: Mapping[str, Any], **_: Any) -> None:
        for entry in params["Entries"]:
            if entry.get("DetailType") == VERIFICATION_DETAIL_TYPE:
                detail = json.loads(entry["Detail"])
                self.on_bus[detail["amiId"]] += 1
                self.verdicts[detail["verdict"]] += 1

    def _published(self, params: Mapping[str, Any], **_: Any) -> None:
        if params["TopicArn"] != self.topic_arn:
            return
        for entry in params["PublishBatchRequestEntries"]:
            attributes = entry.get("MessageAttributes", {})
            if attributes.get("notice", {}).get("StringValue") == NoticeKind.VERIFICATION.value:
                self.on_topic[attributes["amiId"]["StringValue"]] += 1


@dataclass
class Pass:
    """Every counted run of one pass, summed."""

    checks_on: bool
    recorded: Recorder
    runs: int = 0
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    wall_seconds: float = 0.0
    client_seconds: float = 0.0
    """Wall time minus the time moto spent answering: the handler's own work."""
    cpu_seconds: float = 0.0
    """The process's CPU time over the runs: unlike wall time, it leaves out what other processes on a
    shared machine take meanwhile, which would skew one pass against the other."""
    moto_cpu_seconds: float = 0.0
    sns_requests: int = 0
    """SNS requests as billed: each 64 KB chunk of a PublishBatch's messages is one."""
    events: int = 0
    """EventBridge events as billed: each 64 KB chunk of an entry is one."""
    completed: dict[str, str] = field(default_factory=dict)
    """The stores that completed: object key by AMI."""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, poll: Poll) -> None:
        self.runs += 1
        self.calls.update(poll.calls)
        self.read_units += poll.read_units
        self.write_units += poll.write_units
        self.wall_seconds += poll.wall_seconds
        self.client_seconds += poll.client_seconds

    def count(self, service: str, operation: str) -> int:
        return self.calls[(service, operation)]

    @property
    def own_cpu_seconds(self) -> float:
        return self.cpu_seconds - self.moto_cpu_seconds


@dataclass
class VerificationResults:
    plan: VerificationPlan
    checks_off: Pass
    checks_on: Pass
    seconds: float


def measure_verification(plan: VerificationPlan, *, log: Log) -> VerificationResults:
    started = time.perf_counter()
    if plan.warm_up:
        measure_pass(plan, checks_on=True, completions=plan.warm_up)
    passes = {}
    for checks_on in (False, True):
        log(f"Archive verification: {plan.completions:,} completions, checks {'on' if checks_on else 'off'}")
        passes[checks_on] = measure_pass(plan, checks_on=checks_on, completions=plan.completions)
        log(f"Archive verification: pass took {passes[checks_on].seconds:.0f} s")
    return VerificationResults(plan, passes[False], passes[True], time.perf_counter() - started)


def measure_pass(plan: VerificationPlan, *, checks_on: bool, completions: int) -> Pass:
    started = time.perf_counter()
    with _account(plan, checks_on=checks_on) as (sim, moto_cpu):
        result = Pass(checks_on, Recorder(sim.wired.settings.topic_arn))
        result.recorded.attach(sim)
        publishes = Publishes({sim.wired.settings.topic_arn: "TOPIC_ARN"})
        publishes.attach(sim.wired.sns)
        publishes.attach(sim.wired.events)
        registrar = boto3.session.Session().client("ec2", region_name=REGION)  # the bench's own: not counted
        amis: list[str] = []
        for _ in range(plan.runs(completions)):
            CLOCK.advance(POLL_SECONDS)
            amis += _start(sim, registrar, min(plan.stores_per_minute, completions - len(amis)), plan)
            cpu, in_moto = time.process_time(), moto_cpu.seconds
            result.add(sim.poll_ours("verification", trace=False))
            result.cpu_seconds += time.process_time() - cpu
            result.moto_cpu_seconds += moto_cpu.seconds - in_moto
        result.sns_requests, result.events = publishes.sns_requests, publishes.events
        tasks = {ami: sim.backend.task(ami) for ami in amis}
        result.completed = {
            ami: task.object_key
            for ami, task in tasks.items()
            if task is not None and task.state == COMPLETED
        }
        result.notes += sim.mismatches
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class MotoCpu:
    seconds: float = 0.0


@contextlib.contextmanager
def cpu_spent_in_moto() -> Iterator[MotoCpu]:
    """The process's CPU time inside moto while it answers calls (bench.moto_shims measures its wall time)."""
    clock = MotoCpu()
    patched = BotocoreStubber.__call__

    def answer(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return patched(self, event_name, request, **kwargs)
        finally:
            clock.seconds += time.process_time() - started

    BotocoreStubber.__call__ = answer  # type: ignore[method-assign]
    try:
        yield clock
    finally:
        BotocoreStubber.__call__ = patched  # type: ignore[method-assign]


@contextlib.contextmanager
def _account(plan: VerificationPlan, *, checks_on: bool) -> Iterator[tuple[World, MotoCpu]]:
    """A fresh emulated account with the stores' bucket and the listing's history, its baseline run done."""
    with emulated_handler() as handler, time_spent_in_moto() as moto, cpu_spent_in_moto() as moto_cpu:
        if checks_on:
            os.environ["READABLE_BUCKETS"] = BUCKET  # before World wires the handler, which reads it
        session = boto3.session.Session()
        session.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        sim = World(handler, session, moto, full_scan_minutes=None)
        for s3 in sim.wired.s3_clients.values():
            sim.ours_calls.attach(s3)
        span = LISTING_WINDOW - WINDOW_MARGIN
        history = [f"ami-0{index:016x}" for index in range(plan.history)]
        seed_ended_stores(sim.backend, history, START - span, span - timedelta(minutes=1), BUCKET)
        sim.poll_ours("baseline", trace=False)
        yield sim, moto_cpu


def _start(sim: World, registrar: Any, count: int, plan: VerificationPlan) -> list[str]:
    """`count` stores of newly registered AMIs, started evenly over the last minute."""
    now = CLOCK.now()
    amis = []
    for position in range(count):
        ami = str(registrar.register_image(Name=f"golden-{now:%H%M}-{position}")["ImageId"])
        started = now - timedelta(seconds=POLL_SECONDS * (count - position) / count)
        sim.backend.add_task(ami, BUCKET, started, IN_PROGRESS, 0, duration_seconds=plan.store_seconds)
        amis.append(ami)
    return amis

"""The simulated account the benchmark polls: one deployed notifier and one naive poller, measured per poll.

Each size N gets a fresh in-process moto (`mock_aws`) with the EC2 store-task emulator, the
notifier's resources (`local.deployment.deploy`), the real handler wired to them, and the naive
reference poller with its own table. The emulator clock (`CLOCK`) is the only clock: the handler's
`utc_now` is patched to it, and every poll is one simulated minute after the previous one.

EC2's request bucket for DescribeStoreImageTasks (50 tokens, 0.5 a second) is on for the notifier and
the waiter, as in an account: its lowest level and every refused call are reported. It is off while
the naive reference polls, which reads N/200 pages a poll and could not run inside it.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from ami_store_notifier.adapters.table_items import cursor_pk, task_pk
from ami_store_notifier.domain.model import parse_timestamp, task_key
from bench.emulated import emulated_handler
from bench.meter import CallCounter, CapacityMeter
from bench.moto_shims import MotoClock, time_spent_in_moto
from bench.naive import NaivePoller
from bench.plan import Plan
from local.deployment import EVENT_SOURCE, LocalDeployment, create_table, deploy
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, StoreTaskError, store_tasks_backend
from local.lambda_context import ACCOUNT, REGION, LambdaContextStub

POLL_SECONDS = 60
BUCKET = "golden-ami-archive"
WAITER_SECONDS = 5
"""`aws ec2 wait store-image-task-complete` calls DescribeStoreImageTasks every 5 seconds."""
DESCRIBE = "DescribeStoreImageTasks"
NAIVE_TABLE = "naive-poller-state"
CURSOR_KEY = {"pk": {"S": cursor_pk(REGION)}}


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

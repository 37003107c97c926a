"""The unit suite's fixtures: the poller over in-memory fakes, on a clock the tests move; real SDK
clients whose requests are answered offline with the bytes a service sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from ami_store_notifier.assurance import NO_ASSURANCE, AssurancePolicy
from ami_store_notifier.cli.sightings import ObjectUnreadableError
from ami_store_notifier.domain.hints import Hint, HintKind
from ami_store_notifier.domain.model import Cursor, StoreTask, TaskState, format_timestamp
from ami_store_notifier.domain.read_plan import Policy
from ami_store_notifier.poller import Poller
from ami_store_notifier.ports import TransientAwsError
from tests.fakes import (
    FakeArchiveReader,
    FakeImageSizes,
    FakePublisher,
    FakeStateStore,
    FakeTaskSource,
    ManualClock,
)
from tests.world import ACCOUNT, REGION


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def source() -> FakeTaskSource:
    return FakeTaskSource()


@pytest.fixture
def store() -> FakeStateStore:
    return FakeStateStore()


@pytest.fixture
def sns() -> FakePublisher:
    return FakePublisher("sns")


@pytest.fixture
def events() -> FakePublisher:
    return FakePublisher("events")


@pytest.fixture
def policy() -> Policy:
    return Policy(
        announce_states=frozenset({TaskState.COMPLETED, TaskState.FAILED}),
        announce_existing_on_first_run=False,
        overlap=timedelta(minutes=15),
        full_scan_interval=timedelta(hours=1),
        claim_lease=timedelta(minutes=5),
    )


@pytest.fixture
def make_poller(
    clock: ManualClock,
    source: FakeTaskSource,
    store: FakeStateStore,
    sns: FakePublisher,
    events: FakePublisher,
    policy: Policy,
) -> Callable[..., Poller]:
    def build(
        *,
        seconds_left: Callable[[], float] = lambda: 60.0,
        page_size: int = 200,
        policy_override: Policy | None = None,
        quiet_when_idle: bool = False,
        assurance: AssurancePolicy = NO_ASSURANCE,
        archives: FakeArchiveReader | None = None,
        sizes: FakeImageSizes | None = None,
    ) -> Poller:
        return Poller(
            region=REGION,
            account=ACCOUNT,
            policy=policy_override or policy,
            page_size=page_size,
            source=source,
            store=store,
            publishers=[sns, events],
            clock=clock,
            seconds_left=seconds_left,
            delivery_reserve_seconds=5,
            quiet_when_idle=quiet_when_idle,
            assurance=assurance,
            archives=archives,
            sizes=sizes,
        )

    return build


@pytest.fixture
def make_task(clock: ManualClock) -> Callable[..., StoreTask]:
    counter = iter(range(1, 1_000_000))

    def build(
        state: TaskState | str = TaskState.IN_PROGRESS,
        *,
        ami_id: str | None = None,
        started_minutes_ago: float = 1,
        progress: int | None = 10,
        failure_reason: str | None = None,
        bucket: str = "archive-bucket",
    ) -> StoreTask:
        ami = ami_id or f"ami-{next(counter):017x}"
        return StoreTask(
            ami_id=ami,
            bucket=bucket,
            s3_object_key=f"{ami}.bin",
            task_start_time=clock.now - timedelta(minutes=started_minutes_ago),
            state_name=state.value if isinstance(state, TaskState) else state,
            progress_percentage=progress,
            failure_reason=failure_reason,
        )

    return build


@pytest.fixture
def baselined(clock: ManualClock) -> Cursor:
    """A cursor after a baseline and a full scan a minute ago, its newest task 30 minutes old."""
    return Cursor(
        version=7,
        baselined=True,
        high_water_mark=clock.now - timedelta(minutes=30),
        last_full_scan_at=clock.now - timedelta(minutes=1),
        full_scan_horizon=clock.now - timedelta(minutes=45),
    )


@dataclass
class TimedStores:
    """Store tasks whose progress follows the clock, kept in the fake source as EC2 would list them;
    `sleep` moves the clock, as the watcher's sleep would let time pass."""

    clock: ManualClock
    source: FakeTaskSource
    plans: dict[str, tuple[StoreTask, timedelta, str | None]] = field(default_factory=dict)
    slept: list[float] = field(default_factory=list)

    def start(self, ami_id: str, *, minutes: float, fail_reason: str | None = None) -> None:
        task = StoreTask(ami_id, "archive-bucket", f"{ami_id}.bin", self.clock.now, "InProgress", 0)
        self.plans[ami_id] = (task, timedelta(minutes=minutes), fail_reason)
        self.source.put(task)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.now += timedelta(seconds=seconds)
        for started, takes, fail_reason in self.plans.values():
            self.source.put(_at(started, takes, fail_reason, self.clock.now))


def _at(started: StoreTask, takes: timedelta, fail_reason: str | None, now: datetime) -> StoreTask:
    elapsed = now - started.task_start_time
    if elapsed < takes:
        return replace(started, progress_percentage=int(100 * elapsed / takes))
    if fail_reason is None:
        return replace(started, state_name="Completed", progress_percentage=100)
    return replace(started, state_name="Failed", progress_percentage=99, failure_reason=fail_reason)


@pytest.fixture
def timed_stores(clock: ManualClock, source: FakeTaskSource) -> TimedStores:
    return TimedStores(clock, source)


@dataclass
class StoresInS3:
    """The timed stores with S3 beside them, as `watch`'s ObjectProbe sees it: a store's object appears
    when EC2 lists the store completed. A store may end before its progress says (`end_at`: EC2's
    progress need not be even), its object appear before EC2 lists it ended (`object_at`), a bucket be
    refused (`forbidden`) and S3 throttle (`slow_downs`). `sleep` is the watcher's."""

    stores: TimedStores
    forbidden: set[str] = field(default_factory=set)
    slow_downs: int = 0
    objects: dict[str, datetime] = field(default_factory=dict)
    looks: list[tuple[datetime, str]] = field(default_factory=list)
    ends: dict[str, datetime] = field(default_factory=dict)

    def end_at(self, ami_id: str, moment: datetime) -> None:
        self.ends[ami_id] = moment

    def object_at(self, ami_id: str, moment: datetime) -> None:
        self.objects[f"{ami_id}.bin"] = moment

    def sleep(self, seconds: float) -> None:
        until = self.stores.clock.now + timedelta(seconds=seconds)
        for ami_id, moment in self.ends.items():
            if moment <= until:
                started, _, fail_reason = self.stores.plans[ami_id]
                self.stores.plans[ami_id] = (started, moment - started.task_start_time, fail_reason)
        self.stores.sleep(seconds)

    def written_at(self, bucket: str, key: str) -> datetime | None:
        now = self.stores.clock.now
        self.looks.append((now, key))
        if self.slow_downs:
            self.slow_downs -= 1
            raise TransientAwsError("s3:HeadObject: An error occurred (503) when calling HeadObject")
        if bucket in self.forbidden:
            raise ObjectUnreadableError(bucket, "403 Forbidden")
        written = self.objects.get(key) or self._completed_at(key)
        return written if written is not None and written <= now else None

    def _completed_at(self, key: str) -> datetime | None:
        for started, takes, fail_reason in self.stores.plans.values():
            if started.s3_object_key == key and fail_reason is None:
                return started.task_start_time + takes
        return None


@pytest.fixture
def stores_in_s3(timed_stores: TimedStores) -> StoresInS3:
    return StoresInS3(timed_stores)


@dataclass
class _Body:
    """A response body, as botocore reads it from urllib3."""

    data: bytes

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@dataclass
class Wire:
    """A real botocore client of `service` whose requests never leave the process: each is answered with
    the next queued (status, body, headers), as the service sends them, and kept in `requests`."""

    service: str
    answers: list[tuple[int, bytes, dict[str, str]]] = field(default_factory=list)
    requests: list[AWSPreparedRequest] = field(default_factory=list)

    def client(self, config: Config) -> Any:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        client = session.client(self.service, config=config)
        client.meta.events.register(f"before-send.{self.service}", self._send)
        return client

    def error(self, code: str, status: int) -> None:
        """An error answer in the service's protocol: SNS's query XML, DynamoDB's JSON `__type`."""
        if self.service == "sns":
            body = (
                '<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>Rate exceeded</Message></Error>"
                "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            )
        else:
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": code})
        self.answers.append((status, body.encode(), {}))

    def success(self, body: str = "{}") -> None:
        self.answers.append((200, body.encode(), {}))

    def head(self, status: int, **headers: str) -> None:
        """An answer to a HEAD request (S3's HeadObject): a status and headers, never a body."""
        self.answers.append((status, b"", {name.replace("_", "-"): value for name, value in headers.items()}))

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        status, body, headers = self.answers.pop(0)
        return AWSResponse(request.url, status, headers, _Body(body))


@pytest.fixture
def wire() -> Callable[[str], Wire]:
    return Wire


@pytest.fixture
def no_sdk_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries without their waits: the attempts are the same, the test does not sleep."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def make_hint(clock: ManualClock) -> Callable[..., Hint]:
    """A hint of the kind given about a task: a start (the caller's ARN) or its object (size and ETag)."""
    counter = iter(range(1, 1_000_000))

    def build(task: StoreTask, kind: HintKind = HintKind.OBJECT_CREATED, *, receives: int = 1) -> Hint:
        started = kind is HintKind.STARTED
        return Hint(
            message_id=f"m-{next(counter)}",
            kind=kind,
            region=REGION,
            ami_id=task.ami_id,
            bucket=task.bucket,
            object_key=task.s3_object_key,
            started_by="arn:aws:iam::111122223333:user/ana" if started else None,
            object_size=None if started else 1024,
            object_etag=None if started else "etag-1",
            receive_count=receives,
            event_time=format_timestamp(task.task_start_time if started else clock.now),
        )

    return build


@pytest.fixture
def archives() -> FakeArchiveReader:
    return FakeArchiveReader()


@pytest.fixture
def image_sizes() -> FakeImageSizes:
    return FakeImageSizes()


@pytest.fixture
def make_assured_poller(
    make_poller: Callable[..., Poller], archives: FakeArchiveReader, image_sizes: FakeImageSizes
) -> Callable[..., Poller]:
    """A poller with every assurance on: archive-bucket readable, approved-* approved, stalls after 2 h."""

    def build(**overrides: Any) -> Poller:
        settings: dict[str, Any] = {
            "assurance": AssurancePolicy(
                readable_buckets=frozenset({"archive-bucket"}),
                approved_buckets=("archive-*",),
                stall_after=timedelta(hours=2),
            ),
            "archives": archives,
            "sizes": image_sizes,
        }
        return make_poller(**(settings | overrides))

    return build

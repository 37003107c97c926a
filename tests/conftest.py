"""Shared fixtures. Unit tests use the in-memory fakes; integration tests use moto and the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from ami_store_notifier import handler
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.session import Policy
from ami_store_notifier.poller import Poller
from local.deployment import LocalDeployment, deploy
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, install, reset, store_tasks_backend
from local.lambda_context import LambdaContextStub
from tests.fakes import FakePublisher, FakeStateStore, FakeTaskSource, ManualClock
from tests.faults import AwsFaults

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "ami-archive"
# The event contract's detail keys, in order: users' rules and filter policies depend on them.
EVENT_DETAIL_KEYS = [
    "eventId",
    "amiId",
    "bucket",
    "s3ObjectKey",
    "s3Uri",
    "taskStartTime",
    "state",
    "previousState",
    "progressPercentage",
    "failureReason",
    "region",
    "account",
    "observedAt",
]


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


# -- integration: the real handler against moto and the EC2 store-task emulator ----------------------


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for the tests' own clients: its loader caches the large EC2 model."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # faster backends; tests register their own AMIs
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def emulator(aws_credentials: None) -> Iterator[None]:
    """The store-task emulator installed into moto, with its state and clock fresh."""
    install()
    reset()
    yield
    reset()


@pytest.fixture
def mocked_aws(emulator: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def store_tasks(mocked_aws: None) -> StoreTaskBackend:
    return store_tasks_backend(ACCOUNT, REGION)


@pytest.fixture
def no_retry() -> Config:
    """One attempt, no retry: botocore reads retries={"max_attempts": 1} as one retry (two attempts),
    "total_max_attempts" counts the first attempt."""
    return Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def ec2(mocked_aws: None, boto_session: boto3.session.Session, no_retry: Config) -> Any:
    return boto_session.client("ec2", config=no_retry)


@pytest.fixture
def s3(mocked_aws: None, boto_session: boto3.session.Session) -> Any:
    return boto_session.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def ami_id(ec2: Any) -> str:
    return str(ec2.register_image(Name="golden-image")["ImageId"])


@pytest.fixture
def new_ami(ec2: Any) -> Callable[[], str]:
    """A factory of fresh AMIs in moto EC2."""
    names = iter(range(1, 1_000_000))
    return lambda: str(ec2.register_image(Name=f"golden-{next(names)}")["ImageId"])


@pytest.fixture
def deployment(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> LocalDeployment:
    """The notifier's resources in moto, and the handler configured for them as Lambda would be."""
    deployed = deploy(boto3.session.Session(), region=REGION)
    for name, value in deployed.handler_environment().items():
        monkeypatch.setenv(name, value)
    return deployed


@pytest.fixture
def run_handler(
    deployment: LocalDeployment, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., dict[str, Any]]]:
    """Invokes the real handler the way Lambda does, on a cold start, at the emulator's time."""
    monkeypatch.setattr(handler, "utc_now", CLOCK.now)
    handler.wiring.cache_clear()

    def invoke(*, seconds_left: Callable[[], float] = lambda: 120.0) -> dict[str, Any]:
        result: dict[str, Any] = handler.lambda_handler({}, LambdaContextStub(seconds_left))
        return result

    yield invoke
    handler.wiring.cache_clear()


@pytest.fixture
def faults(run_handler: Callable[..., dict[str, Any]]) -> AwsFaults:
    """Faults aimed at the clients of the handler's warm container."""
    injected = AwsFaults()
    wired = handler.wiring()
    for client in (*wired.ec2_clients.values(), wired.dynamodb, wired.sns, wired.events):
        injected.attach(client)
    return injected


# -- chaos: the fault-injection harness (tests/chaos/harness.py) ---------------------------------------


@pytest.fixture(scope="module")
def chaos_world() -> Iterator[Any]:
    """One moto session with the notifier deployed and the handler wired, shared by a test module."""
    from tests.chaos.harness import ChaosWorld

    with ChaosWorld() as world:
        yield world


@pytest.fixture
def chaos(chaos_world: Any) -> Iterator[Any]:
    """The module's ChaosWorld, emptied for this test (and re-wired to the defaults afterwards if the
    test changed a setting)."""
    from tests.chaos.harness import DEFAULT_SETTINGS

    chaos_world.reset()
    yield chaos_world
    if chaos_world.settings != DEFAULT_SETTINGS:
        chaos_world.configure()

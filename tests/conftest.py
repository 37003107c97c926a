"""Shared fixtures. Unit tests use the in-memory fakes; integration tests use moto and the emulator."""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import sys
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from moto.server import ThreadedMotoServer

from ami_store_notifier import handler
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.reading import Policy
from ami_store_notifier.poller import Poller
from local.deployment import LocalDeployment, deploy
from local.ec2_store_tasks import (
    CLOCK,
    StoreTaskBackend,
    endpoint_url,
    install,
    reset,
    start_server,
    store_tasks_backend,
)
from local.lambda_context import OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, LambdaContextStub
from tests.fakes import FakePublisher, FakeStateStore, FakeTaskSource, ManualClock
from tests.faults import AwsFaults

if TYPE_CHECKING:
    # Annotations only: importing tests.infra.support imports aws_cdk, which starts jsii (seconds). The infra
    # fixtures import it inside their bodies, so only the runs that use them pay for it.
    from tests.infra.support import Deployed, Resources, Role, Synthesized

# Before anything imports aws_cdk: jsii prints a large end-of-life banner on Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

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
    for name, value in OFFLINE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in OFFLINE_UNSET:
        monkeypatch.delenv(name, raising=False)


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


@pytest.fixture
def two_stores(
    ec2: Any,
    store_tasks: StoreTaskBackend,
    new_ami: Callable[[], str],
    bucket: str,
    run_handler: Callable[..., dict[str, Any]],
) -> tuple[str, str]:
    """After a baseline run: one store that will complete in 10 minutes, one that will fail in 5."""
    run_handler()
    completing, failing = new_ami(), new_ami()
    store_tasks.plan(completing, duration_seconds=600)
    store_tasks.plan(failing, duration_seconds=300, fail_reason="AMI snapshot is not in a usable state")
    for ami in (completing, failing):
        ec2.create_store_image_task(ImageId=ami, Bucket=bucket)
    return completing, failing


# -- emulator: the store-task emulator over HTTP, in moto's ThreadedMotoServer ----------------------------


def reset_moto(moto_server: ThreadedMotoServer) -> None:
    request = urllib.request.Request(f"{endpoint_url(moto_server)}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def moto_server() -> Iterator[ThreadedMotoServer]:
    started = start_server("127.0.0.1", 0)  # port 0: any free port
    yield started
    started.stop()


@pytest.fixture
def server(emulator: None, moto_server: ThreadedMotoServer) -> Iterator[ThreadedMotoServer]:
    """The server, with moto's state (the store tasks included) reset after each test."""
    yield moto_server
    reset_moto(moto_server)


# -- infra: the synthesized stack (tests/infra/support.py, imported in the fixtures: it starts jsii) -------


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import synthesize

    return synthesize(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import CUSTOM, synthesize

    return synthesize(tmp_path_factory.mktemp("custom"), CUSTOM)


@pytest.fixture(scope="module")
def second_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The same app deployed a second time in the same account, under another stack name."""
    from tests.infra.support import synthesize

    return synthesize(tmp_path_factory.mktemp("second"), {"stackName": "AmiStoreNotifierStaging"})


@pytest.fixture(scope="module")
def imported_bus(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import synthesize

    return synthesize(
        tmp_path_factory.mktemp("imported-bus"),
        {"eventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/central"},
    )


# -- infra: the synthesized stack deployed into moto's CloudFormation (tests/infra/test_infra_deploy.py) ----


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import synthesize

    # The app exactly as `cdk synth` builds it, cdk-nag included.
    return synthesize(tmp_path_factory.mktemp("deploy"))


@pytest.fixture
def deployed(assembly: Synthesized, mocked_aws: None) -> Deployed:
    from tests.infra.support import (
        BOOTSTRAP_QUALIFIER,
        REGION,
        SKIPPED_BY_MOTO,
        STACK_NAME,
        Deployed,
        publish_assets,
        publish_powertools_layer_parameter,
    )

    account = str(boto3.client("sts", region_name=REGION).get_caller_identity()["Account"])
    bucket = publish_assets(assembly, account)
    # The template's CheckBootstrapVersion rule reads this parameter, as on a bootstrapped account.
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value="30", Type="String"
    )
    publish_powertools_layer_parameter(account)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(assembly.template_json),
            Capabilities=["CAPABILITY_IAM"],
        )
    skipped = {
        match.group(1)
        for warning in caught
        if (match := re.search(r"Tried to parse (\S+) but it's not supported", str(warning.message)))
    }
    assert skipped <= SKIPPED_BY_MOTO, f"moto skipped {sorted(skipped - SKIPPED_BY_MOTO)}"
    waiter = cloudformation.get_waiter("stack_create_complete")
    waiter.wait(StackName=STACK_NAME, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    (stack,) = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    code_key = assembly.only("AWS::Lambda::Function")[1]["Properties"]["Code"]["S3Key"]
    return Deployed(account=account, outputs=outputs, code_key=code_key, bucket=bucket)


@pytest.fixture
def deployed_handler(
    deployed: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, LambdaContextStub]]:
    """The handler module from the deployed zip, imported fresh, with the deployed function's environment."""
    from tests.infra.support import REGION

    configuration = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployed.outputs["FunctionName"]
    )
    for name, value in configuration["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)

    code = tmp_path / "deployed-code"
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=deployed.bucket, Key=deployed.code_key)
    with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as archive:
        archive.extractall(code)

    package = "ami_store_notifier"
    ours = {name: module for name, module in sys.modules.items() if name.split(".")[0] == package}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(code))
    try:
        # Not the `handler` imported at the top of this file: the deployed copy, under its own name.
        deployed_module = importlib.import_module(f"{package}.handler")
        assert Path(str(deployed_module.__file__)).is_relative_to(code), "imported the deployed copy"
        # The handler reads the time through utc_now; the emulator's tasks run on the emulator's clock.
        monkeypatch.setattr(deployed_module, "utc_now", CLOCK.now)
        context = LambdaContextStub(
            invoked_function_arn=configuration["FunctionArn"],
            function_name=configuration["FunctionName"],
            memory_limit_in_mb=configuration["MemorySize"],
        )
        yield deployed_module, context
    finally:
        sys.path.remove(str(code))
        for name in [name for name in sys.modules if name.split(".")[0] == package]:
            del sys.modules[name]
        sys.modules.update(ours)


@pytest.fixture
def role(deployed: Deployed, boto_session: Any) -> Role:
    """A session of the deployed function's role (tests/infra/test_infra_deploy.py enforces it with moto)."""
    from tests.infra.support import REGION, Role

    arn = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployed.outputs["FunctionName"]
    )["Role"]
    # Assumed with the admin credentials, before moto enforces anything (moto checks no trust policy then).
    assumed = boto_session.client("sts").assume_role(RoleArn=arn, RoleSessionName="ami-store-notifier")
    return Role(assumed["AssumedRoleUser"]["Arn"], assumed["Credentials"])


@pytest.fixture
def resources(deployed: Deployed) -> Resources:
    """The deployed table, topic and bus, and another table, topic and bus created beside them."""
    from tests.infra.support import REGION, Resources

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=deployed.outputs["TableName"])["Table"]
    other_table = dynamodb.create_table(
        TableName="another-table",
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    other_topic = boto3.client("sns", region_name=REGION).create_topic(Name="another-topic")["TopicArn"]
    other_bus = boto3.client("events", region_name=REGION).create_event_bus(Name="another-bus")["EventBusArn"]
    return Resources(
        table=table["TableArn"],
        topic=deployed.outputs["TopicArn"],
        bus=deployed.outputs["EventBusArn"],
        other_table_name=other_table["TableName"],
        other_table=other_table["TableArn"],
        other_topic=other_topic,
        other_bus_name="another-bus",
        other_bus=other_bus,
    )


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

"""The emulator suite's fixtures: the emulator over HTTP, in moto's ThreadedMotoServer, a DynamoDB
table for the client-token rules, and the hints: the emulator sending them, a bucket with EventBridge
delivery on, and the hints queue they reach."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from local.deployment import LocalDeployment, create_table, deploy
from local.ec2_store_tasks import HintEvents, StoreTaskBackend, start_server
from local.ec2_store_tasks.server import reset_server
from tests.world import REGION


@pytest.fixture(scope="module")
def moto_server() -> Iterator[ThreadedMotoServer]:
    started = start_server("127.0.0.1", 0)  # port 0: any free port
    yield started
    started.stop()


@pytest.fixture
def server(emulator: None, moto_server: ThreadedMotoServer) -> Iterator[ThreadedMotoServer]:
    """The server, with moto's state (the store tasks included) reset after each test."""
    yield moto_server
    reset_server(moto_server)


TOKEN_TABLE = "client-tokens"


@pytest.fixture
def dynamodb(mocked_aws: None, boto_session: boto3.session.Session, no_retry: Config) -> Any:
    """A DynamoDB client on a table with one string key, `pk`."""
    client = boto_session.client("dynamodb", config=no_retry)
    create_table(client, TOKEN_TABLE)
    return client


@pytest.fixture
def hints(store_tasks: StoreTaskBackend) -> HintEvents:
    """The emulator sending both hints: a trail logs the account's calls, and S3 sends to EventBridge
    for the buckets that ask it to."""
    store_tasks.hint_events = HintEvents(cloudtrail=True, s3=True)
    return store_tasks.hint_events


@pytest.fixture
def eventbridge_bucket(s3: Any, bucket: str) -> str:
    """The bucket, with S3's delivery of its events to EventBridge turned on as a user does it."""
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    return bucket


@pytest.fixture
def hint_deployment(mocked_aws: None, boto_session: boto3.session.Session) -> LocalDeployment:
    """The local deployment with the hints' rules on the default bus and their queue."""
    return deploy(boto_session, region=REGION, hints=True)


@pytest.fixture
def queued_hints(hint_deployment: LocalDeployment) -> Callable[[], list[dict[str, Any]]]:
    """Takes everything the hints queue holds now, as the SQS records Lambda would hand the function."""

    def take() -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while (batch := hint_deployment.deliver_hints(lambda _event: None)) is not None:
            records.extend(batch.event["Records"])
        return records

    return take


@pytest.fixture
def store(
    ec2: Any, store_tasks: StoreTaskBackend, ami_id: str, eventbridge_bucket: str
) -> Callable[..., str]:
    """Starts a store of `ami_id` into the EventBridge bucket, planned to take `seconds` (and fail with
    `fail_reason`); returns the AMI id."""

    def start(seconds: float = 60, fail_reason: str | None = None) -> str:
        store_tasks.plan(ami_id, duration_seconds=seconds, fail_reason=fail_reason)
        ec2.create_store_image_task(ImageId=ami_id, Bucket=eventbridge_bucket)
        return ami_id

    return start


@pytest.fixture
def start_store(ec2: Any, store_tasks: StoreTaskBackend, bucket: str) -> Callable[..., str]:
    """Registers an AMI with a description and starts its store into the bucket, planned to take
    `seconds` (and fail with `fail_reason`); returns the AMI id."""
    names = iter(range(1, 1_000_000))

    def start(seconds: float = 100, fail_reason: str | None = None) -> str:
        ami_id = str(
            ec2.register_image(Name=f"golden-{next(names)}", Description="CIS-hardened base")["ImageId"]
        )
        store_tasks.plan(ami_id, duration_seconds=seconds, fail_reason=fail_reason)
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
        return ami_id

    return start

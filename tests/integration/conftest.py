"""The integration suite's fixtures (the shared moto and emulator ones are in tests/conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami

from ami_store_notifier import handler, hub_relay
from ami_store_notifier.adapters.aws import CLIENT_CONFIG, EC2_CLIENT_CONFIG
from ami_store_notifier.adapters.dynamodb_state_store import DynamoDbStateStore
from ami_store_notifier.adapters.table_items import cursor_pk, known_pk
from local.deployment import LocalDeployment, deploy_hints, queue_arn_of
from local.ec2_store_tasks import CLOCK, HintEvents, StoreTaskBackend
from local.event_source_mapping import Polling
from local.lambda_context import LambdaContextStub
from tests.world import ACCOUNT, REGION


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


@pytest.fixture
def overlapping_runs(
    two_stores: tuple[str, str],
    run_handler: Callable[..., dict[str, Any]],
    deployment: LocalDeployment,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[dict[str, Any], dict[str, Any]]]:
    """Two invocations that both read the cursor before either commits, as two overlapping Lambda
    invocations do: the second one is served the cursor the first one read, and runs `apart_seconds`
    after it. Returns both results."""

    def run_both(*, apart_seconds: float) -> tuple[dict[str, Any], dict[str, Any]]:
        dynamodb = handler.wiring().dynamodb
        cursor_read = {
            deployment.table_name: {
                "Keys": [{"pk": {"S": pk}} for pk in (cursor_pk(REGION), known_pk(REGION))],
                "ConsistentRead": True,
            }
        }
        stale = dynamodb.batch_get_item(RequestItems=cursor_read)
        original = dynamodb.batch_get_item
        first = run_handler()
        CLOCK.advance(apart_seconds)
        with monkeypatch.context() as patched:
            patched.setattr(
                dynamodb,
                "batch_get_item",
                lambda **kwargs: stale if kwargs["RequestItems"] == cursor_read else original(**kwargs),
            )
            second = run_handler()
        return first, second

    return run_both


@pytest.fixture
def state_client(deployment: LocalDeployment, boto_session: boto3.session.Session) -> Any:
    """A DynamoDB client with the handler's settings (its retries included)."""
    return boto_session.client("dynamodb", config=CLIENT_CONFIG)


@pytest.fixture
def state_store(deployment: LocalDeployment, state_client: Any) -> DynamoDbStateStore:
    """The handler's DynamoDB adapter on the deployed table."""
    return DynamoDbStateStore(
        state_client,
        table_name=deployment.table_name,
        region=REGION,
        ttl_days=30,
        clock=CLOCK.now,
    )


@pytest.fixture
def hub_topic(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The hub's topic with one SQS subscriber, and the relay configured for it."""
    hub_relay.publisher.cache_clear()
    yield subscribed_topic("hub-notifications", "TOPIC_ARN", monkeypatch)
    hub_relay.publisher.cache_clear()


@pytest.fixture
def hub_chat_topic(hub_topic: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The hub's chat topic with one SQS subscriber, and the relay configured for it."""
    return subscribed_topic("hub-chat", "CHAT_TOPIC_ARN", monkeypatch)


def subscribed_topic(name: str, variable: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-subscriber")["QueueUrl"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn_of(sqs, queue_url))
    monkeypatch.setenv(variable, topic_arn)
    return {"sqs": sqs, "queue_url": queue_url, "topic_arn": topic_arn}


@pytest.fixture
def hint_path(deployment: LocalDeployment) -> Callable[..., LocalDeployment]:
    """Adds the hints' path to the deployment (the rules on the default bus, the queue and its dead-letter
    queue, the emulated event source mapping), polled as `Polling(**settings)` says; returns it."""

    def add(**settings: Any) -> LocalDeployment:
        deploy_hints(
            boto3.session.Session(), deployment, name="ami-store-notifier", polling=Polling(**settings)
        )
        return deployment

    return add


@pytest.fixture
def invoke_with_hints(run_handler: Callable[..., dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    """The real handler as the event source mapping invokes it with a batch (cold start, emulator's time)."""
    return lambda event: handler.lambda_handler(event, LambdaContextStub())


@pytest.fixture
def hinted_bucket(s3: Any, bucket: str, store_tasks: StoreTaskBackend) -> str:
    """The emulator sending both hints, and the bucket with S3's delivery to EventBridge on."""
    store_tasks.hint_events = HintEvents(cloudtrail=True, s3=True)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    return bucket


@pytest.fixture
def archive_s3(mocked_aws: None, boto_session: boto3.session.Session) -> Any:
    """An S3 client with the handler's settings, on moto S3."""
    return boto_session.client("s3", config=CLIENT_CONFIG)


@pytest.fixture
def stubbed_s3(boto_session: boto3.session.Session) -> Iterator[Stubber]:
    """An S3 client that answers only what the test queues on its Stubber (`stubbed_s3.client`): S3's
    refusals and throttles, which moto never sends."""
    with Stubber(boto_session.client("s3", config=CLIENT_CONFIG)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@dataclass
class ImagesEc2:
    """An EC2 client with the poller's settings on moto EC2, and the ImageIds of each DescribeImages it
    sent. moto leaves an unknown id out of the answer while it finds another; with `refuse_unknown`,
    DescribeImages answers as EC2 does once a deregistered AMI's id cannot be found: InvalidAMIID.NotFound
    for the whole request."""

    client: Any
    requests: list[list[str]] = field(default_factory=list)
    refuse_unknown: bool = False

    def before_call(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params["body"]
        count = sum(name.startswith("ImageId.") for name in body)
        ids = [body[f"ImageId.{number}"] for number in range(1, count + 1)]
        self.requests.append(ids)
        unknown = [ami_id for ami_id in ids if ami_id not in ec2_backends[ACCOUNT][REGION].amis]
        if not (self.refuse_unknown and unknown):
            return None
        error = {
            "Error": {
                "Code": "InvalidAMIID.NotFound",
                "Message": f"The image ids '[{', '.join(unknown)}]' do not exist",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://ec2.amazonaws.com/", 400, {}, None), error


@pytest.fixture
def images_ec2(mocked_aws: None, boto_session: boto3.session.Session) -> ImagesEc2:
    wire = ImagesEc2(boto_session.client("ec2", config=EC2_CLIENT_CONFIG))
    wire.client.meta.events.register_first("before-call.ec2.DescribeImages", wire.before_call)
    return wire


@pytest.fixture
def ami_with_volumes(ec2: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """A factory of AMIs whose block device mappings have a volume of each given GiB (None: an instance
    store volume, without Ebs). moto gives every AMI one 15 GiB volume, whatever it was registered with."""
    volumes: dict[str, tuple[int | None, ...]] = {}
    moto_mappings = Ami.block_device_mappings.fget

    def mappings(ami: Ami) -> list[dict[str, Any]]:
        if ami.id not in volumes:
            return list(moto_mappings(ami))
        return [_mapping(number, size) for number, size in enumerate(volumes[ami.id])]

    monkeypatch.setattr(Ami, "block_device_mappings", property(mappings))
    names = itertools.count(1)

    def register(*sizes: int | None) -> str:
        ami_id = str(ec2.register_image(Name=f"sized-{next(names)}")["ImageId"])
        volumes[ami_id] = sizes
        return ami_id

    return register


def _mapping(number: int, size: int | None) -> dict[str, Any]:
    device = f"/dev/sd{chr(ord('a') + number)}"
    if size is None:
        return {"DeviceName": device, "VirtualName": f"ephemeral{number}"}
    return {
        "DeviceName": device,
        "Ebs": {"VolumeSize": size, "VolumeType": "gp3", "DeleteOnTermination": True},
    }

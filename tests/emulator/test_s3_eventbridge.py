"""moto's S3 sending to EventBridge as S3 does (local/ec2_store_tasks/s3_events.py): anybody's upload into a
bucket with EventBridge delivery on reaches the default bus in S3's shape, at the emulator's time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ami_store_notifier.domain.hints import HintKind, read_hints
from local.deployment import LocalDeployment
from local.ec2_store_tasks import CLOCK

Records = Callable[[], list[dict[str, Any]]]
AMI_KEY = "uploads/ami-0123456789abcdef0.bin"


def test_an_upload_named_like_an_ami_reaches_the_hints_queue_in_s3s_shape(
    s3: Any, eventbridge_bucket: str, queued_hints: Records
) -> None:
    CLOCK.advance(3600)  # the emulator's time, which the wall clock does not follow
    s3.put_object(Bucket=eventbridge_bucket, Key=AMI_KEY, Body=b"not an AMI")

    [record] = queued_hints()
    event = json.loads(record["body"])
    assert event["time"] == CLOCK.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["detail"]["reason"] == "PutObject"
    assert event["detail"]["object"]["etag"] == s3.head_object(Bucket=eventbridge_bucket, Key=AMI_KEY)[
        "ETag"
    ].strip('"')
    assert "eTag" not in event["detail"]["object"]
    assert event["detail"]["object"]["size"] == 10
    [hint], _ = read_hints([record])
    # Somebody's PutObject, not a store's upload: a reason to ask EC2, but its size is not the store's.
    assert (hint.kind, hint.ami_id, hint.object_size) == (
        HintKind.OBJECT_CREATED,
        "ami-0123456789abcdef0",
        None,
    )


def test_a_copy_is_reported_as_one(s3: Any, eventbridge_bucket: str, queued_hints: Records) -> None:
    s3.put_object(Bucket=eventbridge_bucket, Key="staging.bin", Body=b"x")
    s3.copy_object(
        Bucket=eventbridge_bucket,
        Key=AMI_KEY,
        CopySource={"Bucket": eventbridge_bucket, "Key": "staging.bin"},
    )

    [record] = queued_hints()  # staging.bin is not named like an AMI: the rule leaves it
    assert json.loads(record["body"])["detail"]["reason"] == "CopyObject"


def test_uploads_into_a_bucket_without_eventbridge_delivery_send_nothing(
    s3: Any, bucket: str, queued_hints: Records
) -> None:
    s3.put_object(Bucket=bucket, Key=AMI_KEY, Body=b"x")

    assert queued_hints() == []


def test_s3_events_go_to_the_default_bus_only(
    s3: Any, eventbridge_bucket: str, hint_deployment: LocalDeployment, boto_session: Any
) -> None:
    events, sqs = boto_session.client("events"), boto_session.client("sqs")
    queue_url = sqs.create_queue(QueueName="custom-bus-listener")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.create_event_bus(Name="custom")
    events.put_rule(Name="all-s3", EventBusName="custom", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="all-s3", EventBusName="custom", Targets=[{"Id": "q", "Arn": queue_arn}])

    s3.put_object(Bucket=eventbridge_bucket, Key=AMI_KEY, Body=b"x")

    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []


def test_the_bucket_notification_configuration_shows_eventbridge_delivery(
    s3: Any, bucket: str, eventbridge_bucket: str
) -> None:
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["EventBridgeConfiguration"] == {}

    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=bucket)

"""The hints the emulator puts on the default bus: CloudTrail's record of a store's start, S3's Object
Created at its end, in the shapes AWS documents, read back by the handler's own parser."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ami_store_notifier.domain.hints import HintKind, read_hints
from local.ec2_store_tasks import CLOCK, CallerIdentity, HintEvents, StoreTaskBackend
from tests.world import ACCOUNT, REGION

Records = Callable[[], list[dict[str, Any]]]


def bodies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(record["body"]) for record in records]


def bus_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_store_start_puts_cloudtrails_record_of_the_call_on_the_default_bus(
    store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    started_at = CLOCK.now()
    ami = store()

    [record] = queued_hints()
    event = json.loads(record["body"])
    assert {k: event[k] for k in ("source", "detail-type", "account", "region", "resources")} == {
        "source": "aws.ec2",
        "detail-type": "AWS API Call via CloudTrail",
        "account": ACCOUNT,
        "region": REGION,
        "resources": [],
    }
    assert event["time"] == bus_time(started_at)
    detail = event["detail"]
    assert detail["eventName"] == "CreateStoreImageTask"
    assert detail["eventSource"] == "ec2.amazonaws.com"
    assert detail["requestParameters"] == {
        "CreateStoreImageTaskRequest": {"ImageId": ami, "Bucket": "ami-archive"}
    }
    assert detail["responseElements"]["CreateStoreImageTaskResponse"]["objectKey"] == f"{ami}.bin"
    assert detail["userIdentity"]["arn"] == CallerIdentity().arn(ACCOUNT)
    assert (detail["eventType"], detail["readOnly"], detail["managementEvent"]) == ("AwsApiCall", False, True)
    assert detail["recipientAccountId"] == ACCOUNT
    assert "errorCode" not in detail
    [hint], unreadable = read_hints([record])
    assert unreadable == []
    assert (hint.kind, hint.ami_id, hint.bucket, hint.object_key) == (
        HintKind.STARTED,
        ami,
        "ami-archive",
        f"{ami}.bin",
    )
    assert hint.started_by == CallerIdentity().arn(ACCOUNT)


def test_a_completed_store_puts_s3s_object_created_with_the_stored_objects_size_and_etag(
    store: Callable[..., str], hints: HintEvents, queued_hints: Records, s3: Any
) -> None:
    ami = store(seconds=90)
    queued_hints()  # the start's
    ended_at = CLOCK.now() + timedelta(seconds=90)
    CLOCK.advance(600)

    [record] = queued_hints()
    event = json.loads(record["body"])
    stored = s3.head_object(Bucket="ami-archive", Key=f"{ami}.bin")
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    assert event["resources"] == ["arn:aws:s3:::ami-archive"]
    assert event["time"] == bus_time(ended_at)  # the emulated completion, not the clock's later move
    detail = event["detail"]
    assert detail["bucket"] == {"name": "ami-archive"}
    assert detail["object"]["key"] == f"{ami}.bin"
    assert detail["object"]["size"] == stored["ContentLength"]
    assert detail["object"]["etag"] == stored["ETag"].strip('"')
    assert "version-id" not in detail["object"]  # the bucket keeps no versions
    assert detail["reason"] == "CompleteMultipartUpload"
    assert set(detail) == {
        "version",
        "bucket",
        "object",
        "request-id",
        "requester",
        "source-ip-address",
        "reason",
    }
    [hint], _ = read_hints([record])
    assert (hint.kind, hint.ami_id, hint.object_size, hint.object_etag) == (
        HintKind.OBJECT_CREATED,
        ami,
        stored["ContentLength"],
        stored["ETag"].strip('"'),
    )


def test_the_end_is_sent_at_the_clocks_move_past_it_though_nobody_asks_ec2(
    store: Callable[..., str], hints: HintEvents, store_tasks: StoreTaskBackend, queued_hints: Records
) -> None:
    store(seconds=30)
    CLOCK.advance(31)

    assert store_tasks.calls["DescribeStoreImageTasks"] == 0
    assert [d.kind for d in hints.delivered()] == ["started", "object-created"]
    assert hints.delivered("object-created")[0].matched == 1  # the deployment's rule took it
    assert [json.loads(r["body"])["source"] for r in queued_hints()] == ["aws.ec2", "aws.s3"]


def test_a_bucket_without_eventbridge_delivery_sends_no_object_created(
    ec2: Any,
    store_tasks: StoreTaskBackend,
    ami_id: str,
    bucket: str,
    hints: HintEvents,
    queued_hints: Records,
) -> None:
    store_tasks.plan(ami_id, duration_seconds=10)
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
    CLOCK.advance(60)

    assert [json.loads(r["body"])["source"] for r in queued_hints()] == ["aws.ec2"]


def test_a_failed_store_sends_its_start_and_nothing_at_its_end(
    store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    store(seconds=10, fail_reason="The snapshot could not be read")
    CLOCK.advance(60)

    assert [json.loads(r["body"])["source"] for r in queued_hints()] == ["aws.ec2"]


def test_a_refused_store_call_sends_no_start(
    ec2: Any, store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    ami = store(seconds=600)
    queued_hints()

    with pytest.raises(ClientError) as refused:
        ec2.create_store_image_task(ImageId=ami, Bucket="ami-archive")  # one in progress already

    assert refused.value.response["Error"]["Code"] == "InvalidRequest"
    assert queued_hints() == []


def test_no_hint_is_sent_when_the_emulator_is_not_told_to(
    store: Callable[..., str], store_tasks: StoreTaskBackend, queued_hints: Records
) -> None:
    assert store_tasks.hint_events.cloudtrail is False
    assert store_tasks.hint_events.s3 is False
    store(seconds=10)
    CLOCK.advance(60)

    assert queued_hints() == []
    assert store_tasks.hint_events.log == []


def test_only_the_trail_on_sends_starts_only(
    store: Callable[..., str], store_tasks: StoreTaskBackend, queued_hints: Records
) -> None:
    store_tasks.hint_events.cloudtrail = True
    store(seconds=10)
    CLOCK.advance(60)

    assert [json.loads(r["body"])["source"] for r in queued_hints()] == ["aws.ec2"]


def test_the_caller_identity_is_the_one_configured_with_the_requests_access_key(
    store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    hints.identity = CallerIdentity(role="image-builder", session="nightly")
    store()

    [event] = bodies(queued_hints())
    identity = event["detail"]["userIdentity"]
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/image-builder/nightly"
    assert identity["type"] == "AssumedRole"
    assert identity["accountId"] == ACCOUNT
    assert identity["accessKeyId"]

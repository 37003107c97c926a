from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ami_store_notifier.adapters.publishers import EventBridgePublisher, sns_entry
from ami_store_notifier.domain.announcements import (
    MAX_FAILURE_REASON_CHARS,
    Announcement,
    announce,
    email_text,
    event_id,
    subject,
)
from ami_store_notifier.domain.model import TaskState
from tests.world import EVENT_DETAIL_KEYS

AMI = "ami-0123456789abcdef0"


def announced(
    make_task,
    clock,
    *,
    state=TaskState.FAILED,
    reason="snapshot unreadable",
    bucket="archive",
    region="eu-west-1",
):
    task = make_task(state, ami_id=AMI, started_minutes_ago=83, failure_reason=reason, bucket=bucket)
    return announce(
        task, state, TaskState.IN_PROGRESS, region=region, account="123456789012", observed_at=clock.now
    )


def test_the_detail_has_exactly_the_contracts_keys(make_task, clock):
    detail = announced(make_task, clock).detail()

    assert list(detail) == EVENT_DETAIL_KEYS
    assert detail["s3Uri"] == f"s3://archive/{AMI}.bin"
    assert detail["taskStartTime"].endswith("Z")
    assert detail["observedAt"] == "2026-11-01T12:00:00.000Z"


def test_the_event_id_is_the_same_on_every_delivery_and_differs_by_state(make_task, clock):
    task = make_task(TaskState.COMPLETED, ami_id=AMI)
    first = announce(task, TaskState.COMPLETED, None, region="eu-west-1", account="1", observed_at=clock.now)
    later = clock.now + timedelta(minutes=5)
    again = announce(task, TaskState.COMPLETED, None, region="eu-west-1", account="1", observed_at=later)

    assert (
        first.event_id
        == again.event_id
        == event_id("eu-west-1", AMI, task.task_start_time, TaskState.COMPLETED)
    )
    assert first.event_id != event_id("eu-west-1", AMI, task.task_start_time, TaskState.FAILED)
    assert first.event_id != event_id("us-east-1", AMI, task.task_start_time, TaskState.COMPLETED)


def test_a_completed_task_carries_no_failure_reason(make_task, clock):
    assert announced(make_task, clock, state=TaskState.COMPLETED).failure_reason is None


def test_a_huge_failure_reason_is_cut_to_a_size_both_channels_accept(make_task, clock):
    item = announced(make_task, clock, reason="ü" * 300_000)

    assert len(item.failure_reason) == MAX_FAILURE_REASON_CHARS
    assert item.failure_reason.endswith("[truncated]")
    assert len(sns_entry(item)["Message"].encode()) < 64 * 1024


def test_the_subject_is_ascii_and_at_most_100_characters_even_for_a_63_character_bucket(make_task, clock):
    text = subject(announced(make_task, clock, bucket="b" * 63))

    assert len(text) <= 100
    assert text.isascii()
    assert text.startswith(f"AMI store Failed: {AMI} to bbb")


def test_the_email_says_what_happened_how_long_it_took_why_and_where_to_look(make_task, clock):
    text = email_text(announced(make_task, clock))

    assert text.startswith(f"AMI {AMI} FAILED to store to s3://archive/{AMI}.bin.")
    assert "about 1 h 23 min after the start" in text
    assert "snapshot unreadable" in text
    assert (
        f"https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#ImageDetails:imageId={AMI}"
        in text
    )


def test_the_sns_message_gives_json_to_machines_and_text_to_people(make_task, clock):
    item = announced(make_task, clock)
    entry = sns_entry(item)
    message = json.loads(entry["Message"])

    assert entry["MessageStructure"] == "json"
    assert json.loads(message["default"]) == item.detail()
    assert message["email"] == email_text(item)
    assert {name: value["StringValue"] for name, value in entry["MessageAttributes"].items()} == {
        "state": "Failed",
        "amiId": AMI,
        "bucket": "archive",
        "region": "eu-west-1",
        "account": "123456789012",
    }


def test_a_stored_announcement_reads_back_identical(make_task, clock):
    item = announced(make_task, clock)

    assert Announcement.from_detail_json(item.detail_json()) == item


def test_eventbridge_entries_follow_the_contract(make_task, clock):
    item = announced(make_task, clock)
    publisher = EventBridgePublisher(events_client=None, event_bus_name="bus", source="ami-store-notifier")

    entry = publisher._event(item)

    assert entry["DetailType"] == "EC2 AMI Store Task State Change"
    assert entry["Resources"] == [f"arn:aws:ec2:eu-west-1::image/{AMI}"]
    assert json.loads(entry["Detail"]) == item.detail()


@pytest.mark.parametrize(
    ("region", "partition", "console"),
    [
        ("cn-north-1", "aws-cn", "https://console.amazonaws.cn"),
        ("us-gov-west-1", "aws-us-gov", "https://console.amazonaws-us-gov.com"),
    ],
)
def test_outside_the_commercial_partition_the_arn_and_console_links_are_the_regions_own(
    make_task, clock, region, partition, console
):
    item = announced(make_task, clock, region=region)
    publisher = EventBridgePublisher(events_client=None, event_bus_name="bus", source="ami-store-notifier")

    entry = publisher._event(item)
    text = email_text(item)

    assert entry["Resources"] == [f"arn:{partition}:ec2:{region}::image/{AMI}"]
    assert f"AMI in the console: {console}/ec2/home?region={region}#ImageDetails:imageId={AMI}" in text
    assert f"Bucket in the console: {console}/s3/buckets/archive?region={region}" in text
    assert "aws.amazon.com" not in text

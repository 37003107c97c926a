"""The real handler against moto and the EC2 store-task emulator, read from real subscribers."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import pytest

from ami_store_notifier import handler
from ami_store_notifier.adapters.table_items import cursor_pk, known_pk
from ami_store_notifier.domain.announcements import DETAIL_TYPE
from ami_store_notifier.domain.model import task_key
from local.deployment import RULE_QUEUE, TOPIC_FAILED_QUEUE, TOPIC_QUEUE
from local.ec2_store_tasks import CLOCK, store_tasks_backend
from tests.faults import SimulatedCrash
from tests.world import ACCOUNT, EVENT_DETAIL_KEYS


def test_completed_and_failed_stores_reach_topic_and_rule_subscribers_once(
    two_stores, run_handler, deployment
):
    completing, failing = two_stores
    for _ in range(12):
        CLOCK.advance(60)
        run_handler()

    topic = deployment.receive(TOPIC_QUEUE)
    failed_only = deployment.receive(TOPIC_FAILED_QUEUE)
    rule = deployment.receive(RULE_QUEUE)

    assert sorted((item.detail["amiId"], item.detail["state"]) for item in topic) == sorted(
        [(completing, "Completed"), (failing, "Failed")]
    )
    assert [(item.detail["amiId"], item.detail["state"]) for item in failed_only] == [(failing, "Failed")]
    assert sorted(item.detail["eventId"] for item in rule) == sorted(item.detail["eventId"] for item in topic)
    for item in topic + rule:
        assert list(item.detail) == EVENT_DETAIL_KEYS
        assert item.detail["previousState"] == "InProgress"
        assert item.detail["s3Uri"] == f"s3://ami-archive/{item.detail['amiId']}.bin"
    failure = next(item for item in topic if item.detail["state"] == "Failed")
    assert failure.detail["failureReason"] == "AMI snapshot is not in a usable state"
    assert failure.subject == f"AMI store Failed: {failing} to ami-archive"
    assert failure.attributes == {
        "state": "Failed",
        "amiId": failing,
        "bucket": "ami-archive",
        "region": "us-east-1",
        "account": "123456789012",
    }


def test_eventbridge_entries_carry_the_contracts_source_detail_type_and_resources(
    two_stores, run_handler, deployment
):
    completing, _ = two_stores
    sent = []
    client = handler.wiring().events
    client.meta.events.register(
        "provide-client-params.events.PutEvents", lambda params, **_: sent.extend(params["Entries"])
    )
    CLOCK.advance(11 * 60)
    run_handler()

    completed = next(entry for entry in sent if completing in entry["Detail"])
    assert completed["Source"] == "ami-store-notifier"
    assert completed["DetailType"] == DETAIL_TYPE == "EC2 AMI Store Task State Change"
    assert completed["Resources"] == [f"arn:aws:ec2:us-east-1::image/{completing}"]
    assert completed["EventBusName"] == deployment.bus_name


def test_first_run_records_finished_history_silently_and_tracks_what_is_running(
    store_tasks, bucket, run_handler, deployment
):
    store_tasks.add_task("ami-0aaaaaaaaaaaaaaa1", bucket, CLOCK.now(), "Completed")
    store_tasks.add_task("ami-0aaaaaaaaaaaaaaa2", bucket, CLOCK.now(), "Failed", failure_reason="gone")
    store_tasks.add_task("ami-0aaaaaaaaaaaaaaa3", bucket, CLOCK.now(), "InProgress", 40)

    run_handler()
    store_tasks.complete("ami-0aaaaaaaaaaaaaaa3")
    CLOCK.advance(60)
    run_handler()

    assert [item.detail["amiId"] for item in deployment.receive(TOPIC_QUEUE)] == ["ami-0aaaaaaaaaaaaaaa3"]


def test_first_run_announces_finished_history_when_configured(
    store_tasks, bucket, run_handler, deployment, monkeypatch
):
    monkeypatch.setenv("ANNOUNCE_EXISTING_ON_FIRST_RUN", "true")
    store_tasks.add_task("ami-0aaaaaaaaaaaaaaa1", bucket, CLOCK.now(), "Completed")

    run_handler()

    (announced,) = deployment.receive(TOPIC_QUEUE)
    assert announced.detail["previousState"] is None


def test_a_crash_after_claiming_is_delivered_by_a_later_run_once_the_lease_ends(
    two_stores, run_handler, deployment, faults
):
    faults.inject("sns", "PublishBatch", "crash-before")
    CLOCK.advance(11 * 60)
    with pytest.raises(SimulatedCrash):
        run_handler()
    assert deployment.receive(TOPIC_QUEUE) == []

    run_handler()
    assert deployment.receive(TOPIC_QUEUE) == [], "the lease of the crashed run still holds"
    CLOCK.advance(301)
    run_handler()

    assert len(deployment.receive(TOPIC_QUEUE)) == 2
    assert len(deployment.receive(RULE_QUEUE)) == 2


def test_a_refused_batch_entry_is_retried_by_the_next_run_and_the_rest_is_not_repeated(
    two_stores, run_handler, deployment, faults
):
    faults.inject("events", "PutEvents", "partial", entry=1)
    CLOCK.advance(11 * 60)
    first = run_handler()
    assert len(deployment.receive(TOPIC_QUEUE)) == 2
    assert len(deployment.receive(RULE_QUEUE)) == 1
    assert first["regions"][0]["publishFailures"] == 1

    CLOCK.advance(60)
    run_handler()

    assert deployment.receive(TOPIC_QUEUE) == []
    assert len(deployment.receive(RULE_QUEUE)) == 1


def test_a_listing_throttled_once_is_retried_by_the_sdk_and_the_poll_succeeds(
    two_stores, store_tasks, run_handler, deployment
):
    store_tasks.faults.inject("DescribeStoreImageTasks", code="RequestLimitExceeded", times=1)
    CLOCK.advance(11 * 60)

    result = run_handler()

    assert result["regions"][0]["stoppedBecause"] is None
    assert len(deployment.receive(TOPIC_QUEUE)) == 2


def test_a_listing_throttled_twice_is_left_to_the_next_run_which_catches_up(
    two_stores, store_tasks, run_handler, deployment
):
    store_tasks.faults.inject("DescribeStoreImageTasks", code="RequestLimitExceeded", times=2)
    CLOCK.advance(11 * 60)
    calls_before = store_tasks.calls["DescribeStoreImageTasks"]

    throttled = run_handler()

    assert store_tasks.calls["DescribeStoreImageTasks"] - calls_before == 2, "one retry, not three"
    assert throttled["regions"][0]["stoppedBecause"] == "aws-unavailable"
    CLOCK.advance(60)
    assert run_handler()["regions"][0]["stoppedBecause"] is None
    assert len(deployment.receive(TOPIC_QUEUE)) == 2


def test_a_bad_setting_fails_the_invocation_with_a_message_naming_the_variable(run_handler, monkeypatch):
    monkeypatch.setenv("PAGE_SIZE", "500")

    with pytest.raises(ValueError, match="PAGE_SIZE must be between 1 and 200"):
        run_handler()


def test_each_listed_region_is_polled_and_its_events_name_their_region(
    boto_session, store_tasks, bucket, run_handler, deployment, monkeypatch
):
    monkeypatch.setenv("REGIONS", "us-east-1,eu-west-1")
    handler.wiring.cache_clear()
    european = store_tasks_backend(ACCOUNT, "eu-west-1")
    boto_session.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    european.add_task("ami-0eeeeeeeeeeeeeee1", "eu-archive", CLOCK.now(), "InProgress", 10)
    store_tasks.add_task("ami-0aaaaaaaaaaaaaaa1", bucket, CLOCK.now(), "InProgress", 10)
    run_handler()

    european.complete("ami-0eeeeeeeeeeeeeee1")
    store_tasks.fail("ami-0aaaaaaaaaaaaaaa1", "quota")
    CLOCK.advance(60)
    result = run_handler()

    assert [report["region"] for report in result["regions"]] == ["us-east-1", "eu-west-1"]
    received = {
        (item.detail["region"], item.detail["amiId"], item.detail["state"])
        for item in deployment.receive(RULE_QUEUE)
    }
    assert received == {
        ("eu-west-1", "ami-0eeeeeeeeeeeeeee1", "Completed"),
        ("us-east-1", "ami-0aaaaaaaaaaaaaaa1", "Failed"),
    }


def test_a_later_store_of_the_same_ami_is_a_new_task_with_its_own_record_and_event(
    ec2, store_tasks, ami_id, bucket, run_handler, deployment, boto_session
):
    run_handler()
    for _ in range(2):
        store_tasks.plan(ami_id, duration_seconds=120)
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
        run_handler()
        CLOCK.advance(180)
        run_handler()
        CLOCK.advance(60)

    announced = deployment.receive(TOPIC_QUEUE)
    assert [item.detail["amiId"] for item in announced] == [ami_id, ami_id]
    assert announced[0].detail["taskStartTime"] != announced[1].detail["taskStartTime"]
    assert announced[0].detail["eventId"] != announced[1].detail["eventId"]
    items = boto_session.client("dynamodb").scan(TableName=deployment.table_name)["Items"]
    tasks = [item for item in items if item["pk"]["S"].startswith("TASK#")]
    assert len(tasks) == 2


def test_task_records_expire_some_days_after_the_31_day_listing_window(
    ec2, store_tasks, ami_id, bucket, run_handler, deployment, boto_session
):
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
    run_handler()

    items = boto_session.client("dynamodb").scan(TableName=deployment.table_name)["Items"]
    (task,) = [item for item in items if item["pk"]["S"].startswith("TASK#")]
    started = store_tasks.task(ami_id).start_time
    assert int(task["expiresAt"]["N"]) == int((started + timedelta(days=45)).timestamp())
    ttl = boto_session.client("dynamodb").describe_time_to_live(TableName=deployment.table_name)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiresAt"


def test_every_log_line_of_a_run_carries_the_same_correlation_id(
    two_stores, run_handler, capsys, monkeypatch
):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    # The logger took hold of stdout when its module was imported, before this test's capture began.
    previous = handler.logger.registered_handler.setStream(sys.stdout)
    try:
        run_handler()
    finally:
        handler.logger.registered_handler.setStream(previous)

    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"level"' in line]
    assert logs
    assert len({line["correlation_id"] for line in logs}) == 1


def test_a_cursor_written_by_an_earlier_version_is_moved_and_its_pending_deliveries_are_delivered_once(
    two_stores, run_handler, deployment
):
    """An earlier version kept the known tasks and the pending deliveries in the cursor item itself.
    As if it had claimed the completed store and died before sending: this version delivers it once,
    and the cursor ends in the new layout."""
    completing, _ = two_stores
    CLOCK.advance(11 * 60)
    run_handler()
    sent = {queue: deployment.receive(queue) for queue in (TOPIC_QUEUE, RULE_QUEUE)}
    dynamodb = handler.wiring().dynamodb
    table = deployment.table_name
    head_key, known_key = ({"pk": {"S": pk("us-east-1")}} for pk in (cursor_pk, known_pk))
    head = dynamodb.get_item(TableName=table, Key=head_key)["Item"]
    known = dynamodb.get_item(TableName=table, Key=known_key)["Item"]
    started = store_tasks_backend(ACCOUNT, "us-east-1").task(completing).start_time
    key = task_key(completing, started)
    head.pop("leaseBatches", None)
    head["known"] = known["known"]
    head["pending"] = {"M": {f"{channel}|Completed|{key}": {"N": "0"} for channel in ("sns", "events")}}
    dynamodb.put_item(TableName=table, Item=head)
    dynamodb.delete_item(TableName=table, Key=known_key)

    CLOCK.advance(60)
    (moved,) = run_handler()["regions"]
    CLOCK.advance(60)
    run_handler()

    assert moved["redelivered"] == 2
    for queue in (TOPIC_QUEUE, RULE_QUEUE):
        (again,) = deployment.receive(queue)
        (original,) = [item for item in sent[queue] if item.detail["amiId"] == completing]
        assert again.detail == original.detail
    head = dynamodb.get_item(TableName=table, Key=head_key)["Item"]
    assert "pending" not in head
    assert "known" not in head
    assert "Item" in dynamodb.get_item(TableName=table, Key=known_key)

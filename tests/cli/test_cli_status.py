"""`ami-store-notifier status`: store tasks per Region from the API, and what the notifier made of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3

from local.ec2_store_tasks import CLOCK, DescribeCall, StoreTaskBackend, store_tasks_backend
from local.ec2_store_tasks.backend import DESCRIBE_STORE
from tests.cli.conftest import CliRun, DeployedNotifier
from tests.world import ACCOUNT


def test_status_shows_the_stores_in_progress_and_those_ended_within_the_day(
    run_cli: Callable[..., CliRun], history: dict[str, str]
) -> None:
    run = run_cli(["status"])

    assert run.exit_code == 0
    assert "us-east-1: 1 in progress, 2 ended in the last day" in run.stdout
    rows = {line.split("│")[1].strip(): line for line in run.stdout.splitlines() if "│ ami-" in line}
    assert set(rows) == {history["failed"], history["completed"], history["running"]}
    assert "snapshot unreadable" in rows[history["failed"]]
    assert "InProgress" in rows[history["running"]]
    assert "5%" in rows[history["running"]]
    assert "Store quota" not in run.stdout


def test_status_as_json_lists_each_region_and_its_tasks(
    run_cli: Callable[..., CliRun], history: dict[str, str], boto_session: boto3.session.Session, served: str
) -> None:
    west = boto_session.client("ec2", region_name="eu-west-1", endpoint_url=served)
    boto_session.client("s3", region_name="eu-west-1", endpoint_url=served).create_bucket(
        Bucket="west-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    west_ami = west.register_image(Name="west-golden")["ImageId"]
    west.create_store_image_task(ImageId=west_ami, Bucket="west-archive")

    run = run_cli(["status", "--json", "--region", "us-east-1", "--region", "eu-west-1"])

    assert run.exit_code == 0
    shown = json.loads(run.stdout)
    regions = {region["region"]: region for region in shown["regions"]}
    assert [task["amiId"] for task in regions["eu-west-1"]["tasks"]] == [west_ami]
    east = {task["amiId"]: task for task in regions["us-east-1"]["tasks"]}
    assert east[history["failed"]]["failureReason"] == "snapshot unreadable"
    assert east[history["completed"]]["state"] == "Completed"
    assert history["old"] not in east
    assert all(region["complete"] for region in shown["regions"])
    assert all("storeQuota" not in region for region in shown["regions"])
    assert store_tasks_backend(ACCOUNT, "eu-west-1").task(west_ami) is not None


def test_status_with_the_table_shows_what_the_notifier_recorded_and_announced(
    run_cli: Callable[..., CliRun], start_store: Callable[..., str], notifier: DeployedNotifier
) -> None:
    notifier.run()
    completes = start_store(minutes=3)
    running = start_store(minutes=60)
    CLOCK.advance(60)
    notifier.run()
    CLOCK.advance(180)
    notifier.run()

    run = run_cli(["status", "--json", "--table", "ami-store-notifier-state"])
    text = run_cli(["status", "--table", "ami-store-notifier-state"])

    assert run.exit_code == text.exit_code == 0
    tasks: dict[str, Any] = {task["amiId"]: task for task in json.loads(run.stdout)["regions"][0]["tasks"]}
    assert tasks[completes]["notifier"] == {
        "recordedState": "Completed",
        "announced": ["Completed"],
        "deliveryPending": False,
    }
    assert tasks[running]["notifier"]["recordedState"] == "InProgress"
    assert tasks[running]["notifier"]["announced"] == []
    assert "Notifier recorded" in text.stdout
    completed_row = next(line for line in text.stdout.splitlines() if completes in line)
    assert completed_row.count("Completed") == 3


def test_status_with_the_table_shows_once_a_store_that_ended_between_its_two_listings(
    run_cli: Callable[..., CliRun],
    start_store: Callable[..., str],
    notifier: DeployedNotifier,
    store_tasks: StoreTaskBackend,
) -> None:
    notifier.run()
    ends = start_store(minutes=60)
    CLOCK.advance(60)
    notifier.run()
    first_call = store_tasks.calls[DESCRIBE_STORE] + 1

    def end_before_the_second_listing(backend: StoreTaskBackend, call: DescribeCall) -> None:
        if call.number == first_call + 1:
            backend.complete(ends)

    store_tasks.on_describe = end_before_the_second_listing

    run = run_cli(["status", "--json", "--table", notifier.deployment.table_name])

    assert run.exit_code == 0, run.stderr
    [task] = json.loads(run.stdout)["regions"][0]["tasks"]
    assert task["amiId"] == ends
    assert task["state"] == "Completed"
    assert task["notifier"] == {"recordedState": "InProgress", "announced": [], "deliveryPending": False}


def test_status_when_ec2_stays_throttled_is_one_line_naming_the_shared_bucket(
    run_cli: Callable[..., CliRun], store_tasks: StoreTaskBackend
) -> None:
    store_tasks.faults.inject(DESCRIBE_STORE, "RequestLimitExceeded", times=2)

    run = run_cli(["status"])

    assert run.exit_code == 2
    assert run.stderr.strip() == (
        "error: throttled by EC2 in us-east-1 (RequestLimitExceeded): DescribeStoreImageTasks allows 50 "
        "requests, refilled at one every 2 s, shared by every caller in the account and Region; try again "
        "in a minute"
    )


def test_status_with_the_table_shows_an_announcement_still_owed_to_a_channel(
    run_cli: Callable[..., CliRun],
    start_store: Callable[..., str],
    notifier: DeployedNotifier,
    boto_session: boto3.session.Session,
    served: str,
) -> None:
    notifier.run()
    fails = start_store(minutes=2, fail_reason="snapshot unreadable")
    boto_session.client("sns", endpoint_url=served).delete_topic(TopicArn=notifier.deployment.topic_arn)
    CLOCK.advance(180)
    notifier.run()

    run = run_cli(["status", "--json", "--table", notifier.deployment.table_name])

    [task] = json.loads(run.stdout)["regions"][0]["tasks"]
    assert task["amiId"] == fails
    assert task["notifier"] == {"recordedState": "Failed", "announced": ["Failed"], "deliveryPending": True}


def test_status_with_the_table_shows_the_snapshot_data_the_notifier_counts_against_the_store_quota(
    run_cli: Callable[..., CliRun],
    start_sized_store: Callable[..., str],
    notifier: DeployedNotifier,
    ec2: Any,
) -> None:
    notifier.run()
    start_sized_store(700, minutes=60)
    start_sized_store(300, minutes=60)
    deregistered = start_sized_store(100, minutes=60)
    ec2.deregister_image(ImageId=deregistered)
    CLOCK.advance(60)
    notifier.run()
    table = notifier.deployment.table_name

    run = run_cli(["status", "--json", "--table", table])
    text = run_cli(["status", "--table", table])

    assert run.exit_code == text.exit_code == 0
    [region] = json.loads(run.stdout)["regions"]
    assert region["storeQuota"] == {
        "gigabytesInProgress": 1000,
        "limitGigabytes": 1200,
        "storesInProgress": 3,
        "storesOfUnknownSize": 1,
    }
    lines = text.stdout.splitlines()
    assert lines[0].startswith("us-east-1: 3 in progress")
    assert lines[1].strip() == "Store quota: 1,000 of 1,200 GB in progress (3 stores, 1 of unknown size)"


def test_status_with_the_table_shows_no_store_quota_for_a_region_the_notifier_does_not_poll(
    run_cli: Callable[..., CliRun], notifier: DeployedNotifier
) -> None:
    notifier.run()
    table = notifier.deployment.table_name

    run = run_cli(["status", "--json", "--table", table, "--region", "us-east-1", "--region", "eu-west-1"])
    text = run_cli(["status", "--table", table, "--region", "eu-west-1"])

    assert run.exit_code == text.exit_code == 0
    east, west = json.loads(run.stdout)["regions"]
    assert east["storeQuota"]["storesInProgress"] == 0
    assert "storeQuota" not in west
    assert "Store quota" not in text.stdout

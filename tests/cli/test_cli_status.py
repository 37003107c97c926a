"""`ami-store-notifier status`: store tasks per Region from the API, and what the notifier made of them."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from rich.console import Console

from ami_store_notifier.cli.app import Environment, cli
from local.ec2_store_tasks import CLOCK, DescribeCall, StoreTaskBackend, store_tasks_backend
from local.ec2_store_tasks.api import DESCRIBE_STORE
from tests.cli.conftest import CliRun, DeployedNotifier
from tests.world import ACCOUNT

# The narrowest screen the CLI is laid out for, and what rich assumes of a pipe without COLUMNS.
NARROW = 80
# The longest ids EC2 and S3 give: `ami-` and 17 hex digits, a bucket name of 63 characters; the key of a
# seeded task is longer than a store's `<amiId>.bin`, as a key may be.
LONGEST_AMI_IDS = ("ami-0a1b2c3d4e5f60718", "ami-0f1e2d3c4b5a69788", "ami-09f8e7d6c5b4a3921")
LONGEST_BUCKET = "golden-ami-archive-123456789012-us-east-1-platform-engineering1"
LONG_REASON = "The AMI's EBS snapshot snap-0f3c9a1b2c3d4e5f6 could not be read (UnsupportedOperation)"


def task_blocks(stdout: str) -> dict[str, list[str]]:
    """`status`'s blocks by AMI id: the header line (id, state, progress), then its `key: value` lines."""
    blocks: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        if line.startswith("ami-"):
            blocks[line.split()[0]] = [line]
        elif line.startswith(" ") and blocks:
            blocks[list(blocks)[-1]].append(line.strip())
    return blocks


@pytest.fixture
def longest_ids(store_tasks: StoreTaskBackend) -> dict[str, str]:
    """Three tasks with the longest ids: in progress, failed, completed; each AMI id -> its object's URI."""
    started = CLOCK.now() - timedelta(minutes=30)
    uris = {}
    for ami_id, state in zip(LONGEST_AMI_IDS, ("InProgress", "Failed", "Completed"), strict=True):
        key = f"exports/2026/11/platform-engineering/golden-images/{ami_id}.bin"
        reason = LONG_REASON if state == "Failed" else None
        store_tasks.add_task(ami_id, LONGEST_BUCKET, started, state, failure_reason=reason, object_key=key)
        uris[ami_id] = f"s3://{LONGEST_BUCKET}/{key}"
    return uris


def assert_whole(stdout: str, uris: dict[str, str]) -> None:
    lines = stdout.splitlines()
    blocks = task_blocks(stdout)
    assert set(blocks) == set(uris)
    for ami_id, uri in uris.items():
        assert f"object:   {uri}" in blocks[ami_id], blocks[ami_id]
        assert any(line.endswith(uri) for line in lines)
    assert f"reason:   {LONG_REASON}" in blocks[LONGEST_AMI_IDS[1]]
    assert "…" not in stdout


def test_status_shows_the_stores_in_progress_and_those_ended_within_the_day(
    run_cli: Callable[..., CliRun], history: dict[str, str]
) -> None:
    run = run_cli(["status"])

    assert run.exit_code == 0
    assert "us-east-1: 1 in progress, 2 ended in the last day" in run.stdout
    blocks = task_blocks(run.stdout)
    assert set(blocks) == {history["failed"], history["completed"], history["running"]}
    assert "reason:   snapshot unreadable" in blocks[history["failed"]]
    assert blocks[history["running"]][0] == f"{history['running']}  InProgress  5%"
    assert blocks[history["running"]][2].startswith("started:  0:30:00 ago (")
    assert "Store quota" not in run.stdout
    assert "notifier:" not in run.stdout


def test_status_keeps_each_ami_id_and_object_uri_whole_on_an_80_column_terminal(
    served: str, longest_ids: dict[str, str]
) -> None:
    out = io.StringIO()
    console = Console(file=out, width=NARROW, force_terminal=True, record=True)
    env = Environment(clock=CLOCK.now, sleep=CLOCK.advance, console=console)

    cli.main(["status"], obj=env, prog_name="ami-store-notifier", standalone_mode=False)

    assert_whole(console.export_text(), longest_ids)


def test_status_keeps_each_ami_id_and_object_uri_whole_in_a_pipe(
    served: str, longest_ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # CliRunner's output is no terminal: rich lays it out for 80 columns unless COLUMNS says otherwise.
    monkeypatch.delenv("COLUMNS", raising=False)
    env = Environment(clock=CLOCK.now, sleep=CLOCK.advance)

    result = CliRunner().invoke(cli, ["status"], obj=env, env={"COLUMNS": str(NARROW)})

    assert result.exit_code == 0, result.output
    assert not env.console.is_terminal
    assert env.console.width == NARROW
    assert_whole(result.output, longest_ids)


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
    blocks = task_blocks(text.stdout)
    assert blocks[completes][0] == f"{completes}  Completed  100%"
    assert blocks[completes][-1] == "notifier: recorded Completed, announced Completed"
    assert blocks[running][-1] == "notifier: recorded InProgress, announced nothing"


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

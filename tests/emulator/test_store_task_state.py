"""Backends per account and region, the shared clock, resets, and listing at scale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from local.ec2_store_tasks import CLOCK, StoreTaskBackend, reset, store_tasks_backend
from tests.world import ACCOUNT, REGION


def test_leaving_mock_aws_clears_the_store_tasks(emulator: None, boto_session: boto3.session.Session) -> None:
    with mock_aws():
        store_tasks_backend(ACCOUNT, REGION).add_task("ami-0000000000000000a", "bucket-a")
        ec2 = boto_session.client("ec2")
        assert len(ec2.describe_store_image_tasks()["StoreImageTaskResults"]) == 1
        CLOCK.advance(40 * 86400)

    assert abs(CLOCK.now() - datetime.now(UTC)) < timedelta(minutes=1)
    with mock_aws():
        ec2 = boto_session.client("ec2")
        assert ec2.describe_store_image_tasks()["StoreImageTaskResults"] == []


def test_reset_clears_tasks_plans_faults_hooks_and_restarts_the_clock(mocked_aws: None) -> None:
    store_tasks = store_tasks_backend(ACCOUNT, REGION)
    store_tasks.add_task("ami-0000000000000000a", "bucket-a")
    store_tasks.faults.inject("DescribeStoreImageTasks")
    store_tasks.clock.advance(10 * 86400)

    reset()

    fresh = store_tasks_backend(ACCOUNT, REGION)
    assert fresh.tasks() == []
    assert fresh.faults.pending() == 0
    assert fresh.on_describe is None
    assert abs(fresh.clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_clock_starts_at_real_time_and_moves_only_when_told(mocked_aws: None) -> None:
    clock = store_tasks_backend(ACCOUNT, REGION).clock
    start = clock.now()

    assert abs(start - datetime.now(UTC)) < timedelta(minutes=1)
    assert clock.now() == start
    assert clock.advance(90) == start + timedelta(seconds=90)
    clock.set(datetime(2030, 1, 1))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)


def test_the_clock_can_be_moved_before_any_backend_is_used(mocked_aws: None) -> None:
    CLOCK.set(datetime(2031, 5, 1, tzinfo=UTC))

    store_tasks = store_tasks_backend(ACCOUNT, REGION)
    store_tasks.add_task("ami-0000000000000000a", "bucket-a")

    assert store_tasks.tasks()[0].start_time == datetime(2031, 5, 1, tzinfo=UTC)


def test_accounts_and_regions_have_separate_tasks_but_share_the_clock(mocked_aws: None) -> None:
    east = store_tasks_backend(ACCOUNT, REGION)
    west = store_tasks_backend(ACCOUNT, "us-west-2")
    other = store_tasks_backend("210987654321", REGION)
    east.add_task("ami-0000000000000000a", "bucket-a", duration_seconds=60)
    west.add_task("ami-0000000000000000b", "bucket-b", duration_seconds=60)

    east.clock.advance(60)

    assert [t.ami_id for t in east.tasks()] == ["ami-0000000000000000a"]
    assert west.task("ami-0000000000000000b") is not None
    assert west.tasks()[0].state == "Completed"
    assert other.tasks() == []
    assert east.clock is west.clock is other.clock


def test_thirty_thousand_seeded_tasks_page_in_order_and_filtered(mocked_aws: None) -> None:
    store_tasks: StoreTaskBackend = store_tasks_backend(ACCOUNT, REGION)
    store_tasks.throttle.enabled = False  # paging is under test here: 300 pages in one instant of the clock
    now = store_tasks.clock.now()
    total = 30_000
    for i in range(total):  # seeded in an order that is not chronological
        j = (i * 7919) % total
        state = "Failed" if j % 10 == 0 else "Completed"
        reason = "boom" if state == "Failed" else None
        store_tasks.add_task(
            f"ami-{j:017x}", "bucket-a", now - timedelta(seconds=60 * j), state, failure_reason=reason
        )

    def walk(filters: list[dict[str, Any]] | None) -> list[str]:
        listed: list[str] = []
        token = None
        while True:
            page = store_tasks.describe_store_image_tasks(filters=filters, next_token=token, max_results=200)
            listed.extend(r.ami_id for r in page.results)
            if page.next_token is None:
                return listed
            token = page.next_token

    everything = walk(None)
    failed = walk([{"Name": "task-state", "Values": ["Failed"]}])

    assert everything == [f"ami-{j:017x}" for j in range(total)]
    assert failed == [f"ami-{j:017x}" for j in range(0, total, 10)]

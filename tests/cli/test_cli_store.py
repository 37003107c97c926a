"""`ami-store-notifier store`: starts a store, optionally follows it, and says in one line why EC2 refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.ec2_store_tasks import CLOCK, StoreTaskBackend
from local.ec2_store_tasks.api import CREATE_STORE
from tests.cli.conftest import CliRun, DeployedNotifier


def test_store_starts_the_task_and_says_where_the_object_lands(
    run_cli: Callable[..., CliRun], new_ami: Callable[[], str], bucket: str, ec2: Any
) -> None:
    ami_id = new_ami()

    run = run_cli(["store", ami_id, "--bucket", bucket, "--tag", "team=platform"])

    assert run.exit_code == 0
    assert run.stdout.strip() == f"Storing {ami_id} into s3://{bucket}/{ami_id}.bin (us-east-1)."
    [task] = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    assert task["StoreTaskState"] == "InProgress"


def test_store_with_watch_follows_the_store_to_its_end(
    run_cli: Callable[..., CliRun], new_ami: Callable[[], str], bucket: str, store_tasks: StoreTaskBackend
) -> None:
    ami_id = new_ami()
    store_tasks.plan(ami_id, duration_seconds=240, fail_reason="snapshot unreadable")

    run = run_cli(["store", ami_id, "--bucket", bucket, "--watch"])

    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"Storing {ami_id}")
    assert lines[-2].endswith(": snapshot unreadable")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing AMI", "error: AMI ami-0123456789abcdef0 not found in us-east-1 (InvalidAMIID.NotFound)"),
        ("missing bucket", "error: bucket no-such-bucket does not exist, is not in us-east-1"),
        ("access denied", "error: access denied: storing"),
        ("quota exceeded", "error: store quota exceeded in us-east-1 (ResourceLimitExceeded"),
        (
            "throttled",
            "error: throttled by EC2 in us-east-1 (RequestLimitExceeded): CreateStoreImageTask allows",
        ),
    ],
)
def test_a_refused_store_is_one_line_on_stderr_with_exit_code_2(
    case: str,
    expected: str,
    run_cli: Callable[..., CliRun],
    new_ami: Callable[[], str],
    bucket: str,
    store_tasks: StoreTaskBackend,
    ec2: Any,
) -> None:
    ami_id, target = new_ami(), bucket
    if case == "missing AMI":
        ami_id = "ami-0123456789abcdef0"
    elif case == "missing bucket":
        target = "no-such-bucket"
    elif case == "access denied":
        store_tasks.faults.inject(
            CREATE_STORE, "UnauthorizedOperation", message="You are not authorized", status=403
        )
    elif case == "quota exceeded":
        running = new_ami()
        store_tasks.set_image_size(running, 1000)
        store_tasks.set_image_size(ami_id, 500)
        ec2.create_store_image_task(ImageId=running, Bucket=bucket)
    else:
        store_tasks.faults.inject(CREATE_STORE, "RequestLimitExceeded", times=2)

    run = run_cli(["store", ami_id, "--bucket", target])

    assert run.exit_code == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.stderr.startswith(expected)


def test_a_tag_without_a_value_separator_is_a_usage_error(
    run_cli: Callable[..., CliRun], new_ami: Callable[[], str], bucket: str
) -> None:
    run = run_cli(["store", new_ami(), "--bucket", bucket, "--tag", "team"])

    assert run.exit_code == 2


def test_store_warns_when_the_notifier_counts_too_much_in_progress_and_still_asks_ec2(
    run_cli: Callable[..., CliRun],
    start_sized_store: Callable[..., str],
    sized_ami: Callable[[int], str],
    notifier: DeployedNotifier,
    bucket: str,
    ec2: Any,
) -> None:
    notifier.run()
    start_sized_store(1000, minutes=10)
    CLOCK.advance(60)
    notifier.run()
    # The store ends in EC2 before the notifier's next run: its table still counts it, EC2 has room.
    CLOCK.advance(600)
    ami_id = sized_ami(500)

    run = run_cli(["store", ami_id, "--bucket", bucket, "--table", notifier.deployment.table_name])

    assert run.exit_code == 0
    assert run.stderr.strip() == (
        f"Warning: {ami_id} holds 500 GB of snapshot data; with 1,000 GB already in progress that is over "
        "the 1,200 GB EC2 allows in progress per account and Region: EC2 refuses it until other stores "
        "finish."
    )
    assert run.stdout.startswith(f"Storing {ami_id}")
    [task] = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    assert task["StoreTaskState"] == "InProgress"


def test_store_says_nothing_more_when_the_ami_fits_beside_the_stores_in_progress(
    run_cli: Callable[..., CliRun],
    start_sized_store: Callable[..., str],
    sized_ami: Callable[[int], str],
    notifier: DeployedNotifier,
    bucket: str,
    ec2: Any,
) -> None:
    notifier.run()
    start_sized_store(1000, minutes=60)
    CLOCK.advance(60)
    notifier.run()
    ami_id = sized_ami(200)

    run = run_cli(["store", ami_id, "--bucket", bucket, "--table", notifier.deployment.table_name])

    assert run.exit_code == 0
    assert run.stderr == ""
    [task] = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    assert task["StoreTaskState"] == "InProgress"


@pytest.mark.parametrize("table", [[], ["--table", "no-such-table"]], ids=["no table", "unreadable table"])
def test_store_without_the_notifiers_table_warns_of_an_ami_over_the_quota_on_its_own_then_ec2_decides(
    table: list[str], run_cli: Callable[..., CliRun], sized_ami: Callable[[int], str], bucket: str
) -> None:
    ami_id = sized_ami(1300)

    run = run_cli(["store", ami_id, "--bucket", bucket, *table])

    assert run.exit_code == 2
    warning, refusal = run.stderr.strip().splitlines()
    assert warning == (
        f"Warning: {ami_id} holds 1,300 GB of snapshot data, more on its own than the 1,200 GB EC2 allows "
        "in progress per account and Region: EC2 may refuse it."
    )
    assert refusal.startswith("error: store quota exceeded in us-east-1 (ResourceLimitExceeded")


def test_store_of_an_ami_ec2_does_not_describe_gives_no_warning_only_ec2s_answer(
    run_cli: Callable[..., CliRun],
    start_sized_store: Callable[..., str],
    notifier: DeployedNotifier,
    bucket: str,
) -> None:
    notifier.run()
    start_sized_store(1100, minutes=60)
    CLOCK.advance(60)
    notifier.run()

    run = run_cli(
        ["store", "ami-0123456789abcdef0", "--bucket", bucket, "--table", notifier.deployment.table_name]
    )

    assert run.exit_code == 2
    [refusal] = run.stderr.strip().splitlines()
    assert refusal.startswith("error: AMI ami-0123456789abcdef0 not found in us-east-1")

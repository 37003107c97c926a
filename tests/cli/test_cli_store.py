"""`ami-store-notifier store`: starts a store, optionally follows it, and says in one line why EC2 refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.ec2_store_tasks import StoreTaskBackend
from local.ec2_store_tasks.backend import CREATE_STORE
from tests.cli.conftest import CliRun


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

"""The object a completed store leaves in its bucket, with the metadata EC2 documents, and the knobs that
spoil it (`backend.objects.plan`, `backend.write_object`) or stall the store (`backend.stall`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.ec2_store_tasks import HintEvents, StoreTaskBackend
from tests.world import ACCOUNT


def head(s3: Any, bucket: str, ami_id: str) -> dict[str, Any] | None:
    """HeadObject of the AMI's object; None when S3 answers 404."""
    try:
        return dict(s3.head_object(Bucket=bucket, Key=f"{ami_id}.bin"))
    except ClientError as error:
        if error.response["Error"]["Code"] == "404":
            return None
        raise


def state_and_progress(ec2: Any, ami_id: str) -> tuple[str, int]:
    [task] = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    return task["StoreTaskState"], task["ProgressPercentage"]


def test_a_completed_store_leaves_a_non_empty_object_with_the_metadata_ec2_documents(
    ec2: Any, s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    task = store_tasks.task(ami_id)
    assert task is not None
    started = task.start_time
    image = ec2.describe_images(ImageIds=[ami_id])["Images"][0]

    store_tasks.clock.advance(100)

    found = head(s3, bucket, ami_id)
    assert found is not None
    assert found["ContentLength"] > 0
    assert "StorageClass" not in found  # STANDARD
    assert found["LastModified"] == (started + timedelta(seconds=100)).replace(microsecond=0)
    assert found["Metadata"] == {
        "ami-name": image["Name"],
        "ami-description": "CIS-hardened base",
        "ami-registration-date": image["CreationDate"],
        "ami-owner-account": ACCOUNT,
        "ami-store-timestamp": started.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def test_an_object_left_out_is_missing_when_the_store_completes(
    ec2: Any, s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.objects.plan(ami_id, left_out=True)

    store_tasks.clock.advance(3600)

    assert state_and_progress(ec2, ami_id) == ("Completed", 100)
    assert head(s3, bucket, ami_id) is None


def test_an_object_left_out_appears_when_write_object_is_called(
    s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.objects.plan(ami_id, left_out=True)
    store_tasks.clock.advance(100)
    store_tasks.clock.advance(900)

    store_tasks.write_object(ami_id)

    found = head(s3, bucket, ami_id)
    assert found is not None
    assert found["ContentLength"] > 0
    assert found["LastModified"] == store_tasks.clock.now().replace(microsecond=0)


def test_a_late_object_appears_its_delay_after_the_completion_by_the_emulator_clock(
    s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.objects.plan(ami_id, delay_seconds=600)

    store_tasks.clock.advance(699)
    assert head(s3, bucket, ami_id) is None
    store_tasks.clock.advance(1)

    assert head(s3, bucket, ami_id) is not None


def test_the_s3_hint_of_a_late_object_is_stamped_when_the_object_was_written(
    store_tasks: StoreTaskBackend, hints: HintEvents, eventbridge_bucket: str, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.objects.plan(ami_id, delay_seconds=600)
    completed_at = store_tasks.clock.now() + timedelta(seconds=100)

    store_tasks.clock.advance(700)

    [created] = hints.delivered("object-created")
    assert created.event_time == completed_at + timedelta(seconds=600)


def test_an_empty_object_holds_zero_bytes(
    s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.objects.plan(ami_id, empty=True)

    store_tasks.clock.advance(100)

    found = head(s3, bucket, ami_id)
    assert found is not None
    assert found["ContentLength"] == 0
    assert found["Metadata"]["ami-owner-account"] == ACCOUNT


def test_an_object_planned_in_glacier_is_in_that_storage_class(
    s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.objects.plan(ami_id, storage_class="GLACIER")

    store_tasks.clock.advance(100)

    found = head(s3, bucket, ami_id)
    assert found is not None
    assert found["StorageClass"] == "GLACIER"


def test_a_storage_class_s3_does_not_have_is_refused_when_planned(store_tasks: StoreTaskBackend) -> None:
    with pytest.raises(ValueError, match="no storage class"):
        store_tasks.objects.plan("ami-0123456789abcdef0", storage_class="COLD")


def test_a_stalled_store_keeps_its_progress_and_completes_only_after_it_resumes(
    ec2: Any, s3: Any, bucket: str, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    store_tasks.clock.advance(30)

    store_tasks.stall(ami_id)
    store_tasks.clock.advance(500)

    assert state_and_progress(ec2, ami_id) == ("InProgress", 30)
    assert head(s3, bucket, ami_id) is None

    store_tasks.resume(ami_id)
    store_tasks.clock.advance(40)
    assert state_and_progress(ec2, ami_id) == ("InProgress", 70)
    store_tasks.clock.advance(30)
    assert state_and_progress(ec2, ami_id) == ("Completed", 100)
    assert head(s3, bucket, ami_id) is not None


def test_a_stalled_store_does_not_fail_as_planned_until_it_resumes(
    ec2: Any, store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100, fail_reason="AMI snapshot is not in a usable state")
    store_tasks.clock.advance(50)
    store_tasks.stall(ami_id)
    store_tasks.clock.advance(100)
    assert state_and_progress(ec2, ami_id) == ("InProgress", 50)

    store_tasks.resume(ami_id)
    store_tasks.clock.advance(50)

    assert state_and_progress(ec2, ami_id)[0] == "Failed"


def test_only_a_store_in_progress_stalls_and_only_a_completed_one_has_its_object_written(
    store_tasks: StoreTaskBackend, start_store: Callable[..., str]
) -> None:
    ami_id = start_store(seconds=100)
    with pytest.raises(ValueError, match="no completed store"):
        store_tasks.write_object(ami_id)

    store_tasks.clock.advance(100)

    with pytest.raises(ValueError, match="in progress"):
        store_tasks.stall(ami_id)

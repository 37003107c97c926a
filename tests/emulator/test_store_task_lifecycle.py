"""CreateStoreImageTask and the life of a store task, through boto3 under mock_aws()."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.ec2_store_tasks import StoreTaskBackend, install, installed
from tests.world import BUCKET


def only_task(ec2: Any, ami_id: str) -> dict[str, Any]:
    results = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    assert len(results) == 1
    return dict(results[0])


def error_code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_create_store_image_task_returns_the_object_key_and_starts_in_progress(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    answer = ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    assert answer["ObjectKey"] == f"{ami_id}.bin"
    task = only_task(ec2, ami_id)
    assert task["StoreTaskState"] == "InProgress"
    assert task["ProgressPercentage"] == 0
    assert task["Bucket"] == bucket
    assert task["S3objectKey"] == f"{ami_id}.bin"
    assert task["TaskStartTime"].tzinfo is not None
    assert abs(task["TaskStartTime"] - store_tasks.clock.now()) < timedelta(milliseconds=1)
    assert "StoreTaskFailureReason" not in task


def test_progress_grows_with_the_clock_and_completion_writes_the_object_into_the_bucket(
    ec2: Any, s3: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.plan(ami_id, duration_seconds=1000)
    ec2.create_store_image_task(
        ImageId=ami_id, Bucket=bucket, S3ObjectTags=[{"Key": "team", "Value": "platform"}]
    )

    store_tasks.clock.advance(250)
    assert only_task(ec2, ami_id)["ProgressPercentage"] == 25
    store_tasks.clock.advance(749)
    assert only_task(ec2, ami_id)["ProgressPercentage"] == 99
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    store_tasks.clock.advance(1)
    # Settled by the clock itself: the object is there before any EC2 call observes Completed.
    body = s3.get_object(Bucket=bucket, Key=f"{ami_id}.bin")["Body"].read()
    assert json.loads(body)["amiId"] == ami_id
    tags = s3.get_object_tagging(Bucket=bucket, Key=f"{ami_id}.bin")["TagSet"]
    assert tags == [{"Key": "team", "Value": "platform"}]
    task = only_task(ec2, ami_id)
    assert task["StoreTaskState"] == "Completed"
    assert task["ProgressPercentage"] == 100


def test_a_store_without_a_plan_completes_after_five_minutes(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    store_tasks.clock.advance(299)
    assert only_task(ec2, ami_id)["StoreTaskState"] == "InProgress"
    store_tasks.clock.advance(1)
    assert only_task(ec2, ami_id)["StoreTaskState"] == "Completed"


def test_a_planned_failure_ends_failed_with_its_reason_and_writes_no_object(
    ec2: Any, s3: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.plan(ami_id, duration_seconds=60, fail_reason="Snapshot snap-0123 is in an error state")
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    store_tasks.clock.advance(60)

    task = only_task(ec2, ami_id)
    assert task["StoreTaskState"] == "Failed"
    assert task["StoreTaskFailureReason"] == "Snapshot snap-0123 is in an error state"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_second_store_of_the_same_ami_is_refused_while_the_first_is_in_progress(
    ec2: Any, bucket: str, ami_id: str
) -> None:
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    assert error_code(err) == "InvalidRequest"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_store_beyond_the_quota_of_snapshot_data_in_progress_is_refused_until_others_end(
    ec2: Any, bucket: str, store_tasks: StoreTaskBackend
) -> None:
    first, second = (ec2.register_image(Name=f"big-{n}")["ImageId"] for n in range(2))
    store_tasks.set_image_size(first, 1000)
    store_tasks.set_image_size(second, 300)
    store_tasks.plan(first, duration_seconds=600)
    ec2.create_store_image_task(ImageId=first, Bucket=bucket)

    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId=second, Bucket=bucket)
    assert error_code(err) == "ResourceLimitExceeded"
    assert "1200 GB" in err.value.response["Error"]["Message"]

    store_tasks.clock.advance(600)
    ec2.create_store_image_task(ImageId=second, Bucket=bucket)
    assert only_task(ec2, second)["StoreTaskState"] == "InProgress"


def test_a_new_store_after_completion_supersedes_the_old_task_in_the_listing(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
    first_start = only_task(ec2, ami_id)["TaskStartTime"]
    store_tasks.clock.advance(3600)

    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    listing = ec2.describe_store_image_tasks()["StoreImageTaskResults"]
    assert len(listing) == 1
    assert listing[0]["StoreTaskState"] == "InProgress"
    assert listing[0]["TaskStartTime"] > first_start


def test_a_store_of_an_unknown_ami_is_refused_with_invalid_ami_id_not_found(ec2: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId="ami-0123456789abcdef0", Bucket=bucket)

    assert error_code(err) == "InvalidAMIID.NotFound"


def test_a_store_into_a_missing_bucket_is_refused_with_invalid_parameter_value(ec2: Any, ami_id: str) -> None:
    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId=ami_id, Bucket="no-such-bucket")

    assert error_code(err) == "InvalidParameterValue"


def test_a_store_into_a_bucket_of_another_region_is_refused(ec2: Any, s3: Any, ami_id: str) -> None:
    s3.create_bucket(Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId=ami_id, Bucket="far-away")

    assert error_code(err) == "InvalidParameterValue"


def test_dry_run_of_create_store_image_task_answers_dry_run_operation_with_http_412(
    ec2: Any, bucket: str, ami_id: str
) -> None:
    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket, DryRun=True)

    assert error_code(err) == "DryRunOperation"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert ec2.describe_store_image_tasks()["StoreImageTaskResults"] == []


def test_helpers_force_completion_and_failure(
    ec2: Any, s3: Any, bucket: str, new_ami: Any, store_tasks: StoreTaskBackend
) -> None:
    done, broken = new_ami(), new_ami()
    ec2.create_store_image_task(ImageId=done, Bucket=bucket)
    ec2.create_store_image_task(ImageId=broken, Bucket=bucket)
    store_tasks.clock.advance(150)

    store_tasks.complete(done)
    store_tasks.fail(broken, "Access denied to the bucket")

    assert only_task(ec2, done)["StoreTaskState"] == "Completed"
    assert s3.head_object(Bucket=bucket, Key=f"{done}.bin")["ContentLength"] > 0
    failed = only_task(ec2, broken)
    assert failed["StoreTaskState"] == "Failed"
    assert failed["StoreTaskFailureReason"] == "Access denied to the bucket"
    assert failed["ProgressPercentage"] == 50
    store_tasks.clock.advance(3600)  # the original plan no longer applies
    assert only_task(ec2, broken)["StoreTaskState"] == "Failed"


def test_set_state_can_freeze_a_task_in_progress(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    store_tasks.set_state(ami_id, "InProgress", progress=42)
    store_tasks.clock.advance(86400)

    task = only_task(ec2, ami_id)
    assert (task["StoreTaskState"], task["ProgressPercentage"]) == ("InProgress", 42)


def test_seeded_tasks_skip_the_checks_and_keep_their_state(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    start = store_tasks.clock.now() - timedelta(hours=2)
    store_tasks.add_task("ami-00000000000000001", "any-bucket", start, "Failed", 12, failure_reason="boom")
    store_tasks.add_task("ami-00000000000000002", "any-bucket", start, "InProgress", 7)

    store_tasks.clock.advance(86400)

    listing = {t["AmiId"]: t for t in ec2.describe_store_image_tasks()["StoreImageTaskResults"]}
    assert listing["ami-00000000000000001"]["StoreTaskFailureReason"] == "boom"
    assert listing["ami-00000000000000002"]["ProgressPercentage"] == 7


def test_rejecting_an_existing_object_is_available_as_an_option(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.reject_existing_object = True
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
    store_tasks.clock.advance(300)

    with pytest.raises(ClientError) as err:
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)

    assert error_code(err) == "InvalidRequest"


def test_install_is_idempotent_and_works_inside_a_running_mock(ec2: Any, bucket: str, ami_id: str) -> None:
    install()
    install()

    assert installed()
    assert ec2.create_store_image_task(ImageId=ami_id, Bucket=BUCKET)["ObjectKey"] == f"{ami_id}.bin"

"""Injected faults and call counting."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff

from local.ec2_store_tasks import StoreTaskBackend
from local.ec2_store_tasks.faults import DEFAULT_STATUS
from tests.aws_errors import EC2_CLIENT_ERRORS, EC2_SERVER_ERRORS


def test_injected_request_limit_exceeded_surfaces_as_a_client_error_when_retries_are_off(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.faults.inject("DescribeStoreImageTasks", code="RequestLimitExceeded", times=1)

    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks()

    assert err.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert ec2.describe_store_image_tasks()["StoreImageTaskResults"] == []
    assert store_tasks.calls["DescribeStoreImageTasks"] == 2


def test_botocore_retries_injected_throttling_and_internal_errors_as_it_would_in_aws(
    boto_session: boto3.session.Session, store_tasks: StoreTaskBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    client = boto_session.client("ec2", config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    store_tasks.faults.inject("DescribeStoreImageTasks", code="RequestLimitExceeded")
    store_tasks.faults.inject("DescribeStoreImageTasks", code="InternalError")

    answer = client.describe_store_image_tasks()

    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert store_tasks.faults.pending() == 0


def test_retries_max_attempts_1_means_one_retry_in_botocore(
    boto_session: boto3.session.Session, store_tasks: StoreTaskBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    client = boto_session.client("ec2", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    store_tasks.faults.inject("DescribeStoreImageTasks", code="RequestLimitExceeded")

    answer = client.describe_store_image_tasks()

    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert store_tasks.calls["DescribeStoreImageTasks"] == 2


def test_faults_are_consumed_in_order_one_per_call_of_their_operation(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.faults.inject("CreateStoreImageTask", code="InternalError")
    store_tasks.faults.inject("CreateStoreImageTask", code="Unavailable")

    codes = []
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
        codes.append(
            (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"])
        )

    assert codes == [("InternalError", 500), ("Unavailable", 503)]
    assert ec2.describe_store_image_tasks()["StoreImageTaskResults"] == []
    assert ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)["ObjectKey"] == f"{ami_id}.bin"


def test_a_fault_with_a_chosen_code_status_and_message(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    store_tasks.faults.inject(
        "CreateRestoreImageTask", code="UnauthorizedOperation", message="nope", status=403
    )

    with pytest.raises(ClientError) as err:
        ec2.create_restore_image_task(Bucket="b-bucket", ObjectKey="k.bin", Name="denied")

    assert err.value.response["Error"] == {"Code": "UnauthorizedOperation", "Message": "nope"}
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_injecting_into_an_unknown_operation_is_a_mistake(store_tasks: StoreTaskBackend) -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        store_tasks.faults.inject("DescribeStoreImageTask")


def test_every_error_the_emulator_answers_by_default_is_an_ec2_error_code_with_its_class_of_status() -> None:
    for code, status in DEFAULT_STATUS.items():
        assert code in EC2_CLIENT_ERRORS | EC2_SERVER_ERRORS, code
        assert (status >= 500) == (code in EC2_SERVER_ERRORS), code

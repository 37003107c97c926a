"""EC2's request token buckets, as the emulator keeps them: size, refill, scope and the error's shape."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from local.ec2_store_tasks import StoreTaskBackend, store_tasks_backend
from local.ec2_store_tasks.throttling import STORE_TASK_BUCKETS
from tests.world import ACCOUNT, REGION

DESCRIBE = "DescribeStoreImageTasks"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def describe_until_refused(ec2: Any) -> int:
    """How many calls go through before the first RequestLimitExceeded."""
    for calls in range(1000):
        try:
            ec2.describe_store_image_tasks()
        except ClientError as error:
            if error.response["Error"]["Code"] != "RequestLimitExceeded":
                raise
            return calls
    raise AssertionError("never throttled")


def test_the_documented_bucket_sizes_and_refill_rates_are_the_ones_kept() -> None:
    sizes = {name: (size.capacity, size.refill_per_second) for name, size in STORE_TASK_BUCKETS.items()}
    assert sizes == {
        "DescribeStoreImageTasks": (50, 0.5),
        "CreateStoreImageTask": (50, 0.1),
        "CreateRestoreImageTask": (50, 0.1),
    }


def test_a_full_bucket_answers_fifty_describe_calls_then_refuses(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    assert describe_until_refused(ec2) == 50
    assert store_tasks.throttle.bucket(DESCRIBE, store_tasks.clock.now()).refused == 1


def test_the_refusal_is_ec2s_request_limit_exceeded_which_botocore_retries_as_throttling(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    describe_until_refused(ec2)
    with pytest.raises(ClientError) as refused:
        ec2.describe_store_image_tasks()

    response = refused.value.response
    assert response["Error"] == {"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
    context = RetryContext(
        attempt_number=1, parsed_response=response, http_response=None, caught_exception=None
    )
    assert ThrottledRetryableChecker().is_retryable(context)


def test_the_bucket_refills_half_a_token_a_second_on_the_emulators_clock(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    describe_until_refused(ec2)
    store_tasks.clock.advance(1.9)
    assert describe_until_refused(ec2) == 0
    store_tasks.clock.advance(0.1)
    assert describe_until_refused(ec2) == 1
    store_tasks.clock.advance(3600)
    assert describe_until_refused(ec2) == 50, "never more than the bucket's size"


def test_store_calls_refill_a_token_every_ten_seconds(
    ec2: Any, store_tasks: StoreTaskBackend, new_ami: Any, bucket: str
) -> None:
    throttle = store_tasks.throttle
    now = store_tasks.clock.now()
    throttle.bucket("CreateStoreImageTask", now).drain(now, 50)
    with pytest.raises(ClientError, match="RequestLimitExceeded"):
        ec2.create_store_image_task(ImageId=new_ami(), Bucket=bucket)
    store_tasks.clock.advance(10)
    ec2.create_store_image_task(ImageId=new_ami(), Bucket=bucket)


def test_each_action_has_its_own_bucket(
    ec2: Any, store_tasks: StoreTaskBackend, new_ami: Any, bucket: str
) -> None:
    describe_until_refused(ec2)
    assert ec2.create_store_image_task(ImageId=new_ami(), Bucket=bucket)["ObjectKey"]


def test_each_region_and_account_has_its_own_buckets(ec2: Any, boto_session: Any, mocked_aws: None) -> None:
    describe_until_refused(ec2)
    other_region = boto_session.client("ec2", region_name="eu-west-1", config=ONE_ATTEMPT)
    assert describe_until_refused(other_region) == 50

    other_account = store_tasks_backend("210987654321", REGION)
    now = other_account.clock.now()
    assert other_account.throttle.bucket(DESCRIBE, now).tokens(now) == 50
    assert store_tasks_backend(ACCOUNT, REGION).throttle.bucket(DESCRIBE, now).tokens(now) < 1


def test_switched_off_the_emulator_answers_every_call(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    store_tasks.throttle.enabled = False
    for _ in range(200):
        ec2.describe_store_image_tasks()


def test_a_per_call_latency_spreads_a_burst_so_the_bucket_refills_as_it_goes(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.throttle.latency_seconds = 0.1
    started = store_tasks.clock.now()

    calls = describe_until_refused(ec2)

    # 0.05 tokens come back per call: 50 / (1 - 0.05) calls before the bucket is empty.
    assert calls == 52
    assert (store_tasks.clock.now() - started).total_seconds() == pytest.approx(0.1 * (calls + 1))


def test_throttling_is_served_over_http_too(server: Any) -> None:
    from local.ec2_store_tasks import endpoint_url

    client = boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=endpoint_url(server),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=ONE_ATTEMPT,
    )
    assert describe_until_refused(client) == 50

"""The error codes the adapters act on are the ones AWS sends (tests/aws_errors.py gives the sources),
and what the SDK retries, or a service names a throttle, ends a run cleanly when it outlasts the retries."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.retries.standard import (
    RetryContext,
    RetryEventAdapter,
    StandardRetryConditions,
    ThrottlingErrorDetector,
)

from ami_store_notifier.adapters import dynamodb_errors as store
from ami_store_notifier.adapters.aws import (
    CLIENT_CONFIG,
    THROTTLING_CODES,
    UNAVAILABLE_CODES,
    is_throttling,
    is_transient,
)
from ami_store_notifier.adapters.ec2_task_source import AMI_UNKNOWN_CODES, TOKEN_REFUSED_CODES
from ami_store_notifier.adapters.publishers import SnsPublisher
from ami_store_notifier.domain.announcements import Announcement
from tests.aws_errors import (
    MODELED_SERVICES,
    cancellation_reason_codes,
    modeled_errors,
    sent_codes,
    service_model,
    wire_code,
)

# The operations the notifier calls on the services whose errors are modeled (EC2's are not).
CALLED_OPERATIONS = (
    ("dynamodb", "BatchGetItem"),
    ("dynamodb", "TransactWriteItems"),
    ("dynamodb", "UpdateItem"),
    ("sns", "PublishBatch"),
    ("events", "PutEvents"),
    ("organizations", "DescribeAccount"),
)
# Modeled errors of those operations that this deployment never receives, and why.
NEVER_SENT_HERE = {
    # Sent only by multi-Region strongly consistent global tables (the UpdateItem API reference); the
    # state table is a single-Region table (infra/state_table.py).
    "ReplicatedWriteConflictException",
}
ADAPTER_CODES = {
    "aws.THROTTLING_CODES": THROTTLING_CODES,
    "aws.UNAVAILABLE_CODES": UNAVAILABLE_CODES,
    "ec2_task_source.TOKEN_REFUSED_CODES": TOKEN_REFUSED_CODES,
    "ec2_task_source.AMI_UNKNOWN_CODES": AMI_UNKNOWN_CODES,
    "dynamodb_state_store": frozenset(
        {store.CONDITION_FAILED, store.TRANSACTION_CANCELED, store.WRITE_CONFLICT}
    ),
}
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ami-store-notifier"


def client_error(code: str, status: int, operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@pytest.mark.parametrize("name", ADAPTER_CODES)
def test_every_error_code_the_adapters_act_on_is_one_aws_sends(name):
    assert sorted(ADAPTER_CODES[name] - sent_codes()) == []


def test_every_cancellation_reason_the_state_store_acts_on_is_one_dynamodb_documents():
    acted_on = {store.CANCELLED_BY_CONDITION, store.CANCELLED_BY_CONFLICT, *store.THROTTLED_REASONS}

    assert sorted(acted_on - cancellation_reason_codes()) == []


@pytest.mark.parametrize("service", MODELED_SERVICES)
def test_every_error_a_service_names_a_throttle_counts_as_throttling(service):
    """SNS's ThrottledException and KMSThrottlingException arrive as Throttled and KMSThrottling."""
    status_of = modeled_errors(service)
    throttles = {
        wire_code(service, shape.name)
        for shape in service_model(service).error_shapes
        if "Throttl" in shape.name
    }

    assert {code for code in throttles if not is_throttling(client_error(code, status_of[code]))} == set()


@pytest.mark.parametrize(("service", "operation"), CALLED_OPERATIONS)
def test_every_error_of_a_called_operation_that_the_sdk_retries_ends_the_run_cleanly_after_the_retries(
    service, operation
):
    """What botocore's standard mode retries is transient; what it backs off from as a throttle counts
    as throttling."""
    operation_model = service_model(service).operation_model(operation)
    retried, throttles = set(), set()
    for shape in operation_model.error_shapes:
        code = wire_code(service, shape.name)
        status = modeled_errors(service)[code]
        response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        context = RetryContext(
            attempt_number=1,
            operation_model=operation_model,
            parsed_response=response,
            http_response=AWSResponse("https://aws.example/", status, {}, None),
        )
        if code in NEVER_SENT_HERE:
            continue
        if StandardRetryConditions(max_attempts=4).is_retryable(context):
            retried.add(code)
        if ThrottlingErrorDetector(RetryEventAdapter()).is_throttling_error_from_context(context):
            throttles.add(code)

    status_of = modeled_errors(service)
    assert {code for code in retried if not is_transient(client_error(code, status_of[code]))} == set()
    assert {code for code in throttles if not is_throttling(client_error(code, status_of[code]))} == set()


@pytest.mark.parametrize(
    ("code", "status", "sdk_attempts"), [("Throttled", 429, 4), ("KMSThrottling", 400, 1)]
)
def test_sns_throttling_as_sns_sends_it_is_reported_as_throttling_once_the_sdk_gives_up(
    wire, no_sdk_backoff, code, status, sdk_attempts
):
    """botocore retries Throttled by its 429 (PublishBatch does not model it) and never KMSThrottling."""
    sns = wire("sns")
    for _ in range(sdk_attempts):
        sns.error(code, status)
    announcement = Announcement(
        event_id="e1",
        ami_id="ami-0123456789abcdef0",
        bucket="b",
        s3_object_key="ami-0123456789abcdef0.bin",
        s3_uri="s3://b/ami-0123456789abcdef0.bin",
        task_start_time="2026-11-01T12:00:00.000Z",
        state="Completed",
        previous_state="InProgress",
        progress_percentage=100,
        failure_reason=None,
        region="us-east-1",
        account="123456789012",
        observed_at="2026-11-01T12:05:00.000Z",
    )

    result = SnsPublisher(sns.client(CLIENT_CONFIG), TOPIC_ARN).publish([announcement])

    assert len(sns.requests) == sdk_attempts
    assert result.throttled_or_unavailable
    assert result.delivered == frozenset()
    assert result.failures == {announcement.event_id: code}

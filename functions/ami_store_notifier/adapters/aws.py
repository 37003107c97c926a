"""What every adapter shares: client settings, the API call counter, and which errors are transient."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ami_store_notifier.ports import TransientAwsError
from ami_store_notifier.report import API_CALL_SERVICES

if TYPE_CHECKING:
    from botocore.model import OperationModel

Client = TypeVar("Client", bound=BaseClient)

# Standard mode retries throttling (RequestLimitExceeded, ThrottlingException, ...) and 5xx with
# exponential backoff and jitter; set explicitly so the behaviour does not depend on the SDK default.
# Four attempts back off for at most about 7 s in all, well inside the time kept for delivering; a
# throttle that outlasts them ends the run and the next run, a minute later, catches up.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 4},
    connect_timeout=5,
    read_timeout=10,
    user_agent_extra="ami-store-notifier",
)
# EC2's store-task calls share a small request bucket with every caller in the account and Region (50
# tokens, 0.5 a second): when it is empty someone else has spent it, and three more attempts only add
# to the queue. One retry absorbs a passing refusal; what outlasts it ends the run, and the next run,
# a minute later, goes on.
EC2_CLIENT_CONFIG = CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 2}))
# The archive checks run before the run's claims are written: a slow S3 must not hold the announcements
# back. Two attempts with short timeouts, and a check S3 did not answer waits for the next run.
S3_CLIENT_CONFIG = CLIENT_CONFIG.merge(
    Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=3)
)

# The error codes as AWS sends them, which botocore puts in ClientError's Error.Code: for the JSON
# services (DynamoDB, EventBridge, Organizations) the error shape's name in botocore's service model,
# for SNS (query protocol) the `code` of the shape's `error` trait, for EC2 its API reference's "Error
# codes" page. tests/unit/test_aws_error_codes.py checks each against those sources.
THROTTLING_CODES = frozenset(
    {
        # EC2 (server error codes) and DynamoDB (RequestLimitExceeded shape).
        "RequestLimitExceeded",
        # DynamoDB and EventBridge shapes; the common error of every AWS API reference, and SNS's answer
        # past its request quota (https://repost.aws/knowledge-center/sns-throttling-exception-errors).
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        # A transaction whose token is still being applied: botocore's standard mode retries it as a
        # throttle (botocore/retries/standard.py), and so it ends a run when it outlasts the retries.
        "TransactionInProgressException",
        # SNS's ThrottledException (HTTP 429) and KMSThrottlingException (HTTP 400: KMS throttled the
        # topic's key) arrive as these codes. botocore retries Throttled for its 429 (PublishBatch's model
        # does not list the shape) and never KMSThrottling: one KMS throttle ends the run, and the next
        # run publishes what it kept.
        "Throttled",
        "KMSThrottling",
        # Organizations (DescribeAccount, for the hub's account names).
        "TooManyRequestsException",
    }
)
# Server-side failures named by code; any other 5xx answer counts too (is_transient).
UNAVAILABLE_CODES = frozenset(
    {
        # EC2 server error codes; SNS's InternalErrorException is sent as InternalError.
        "InternalError",
        "Unavailable",
        # The common errors of every AWS API reference.
        "InternalFailure",
        "ServiceUnavailable",
        # DynamoDB.
        "InternalServerError",
    }
)


def error_code(error: BaseException) -> str:
    """AWS's error code where AWS answered (UnauthorizedOperation, OptInRequired...), else the type."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


def error_message(error: ClientError) -> str:
    """What AWS said about the error, beside its code (empty when it said nothing)."""
    return str(error.response.get("Error", {}).get("Message", "")).strip()


def is_throttling(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code", "") in THROTTLING_CODES


def is_transient(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return is_throttling(error) or code in UNAVAILABLE_CODES or status >= 500


@contextmanager
def transient_errors(operation: str) -> Iterator[None]:
    """Turns errors that outlasted the SDK's retries into TransientAwsError; others propagate."""
    try:
        yield
    except ClientError as error:
        if is_transient(error):
            raise TransientAwsError(f"{operation}: {error}", throttled=is_throttling(error)) from error
        raise
    except (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError) as error:
        raise TransientAwsError(f"{operation}: {error}") from error


class ApiCallCounter:
    """Counts API calls by service and operation on the clients it is attached to."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def attach(self, client: Client) -> Client:
        client.meta.events.register("before-call.*.*", self._count)
        return client

    def _count(self, model: OperationModel, **_: object) -> None:
        service = model.service_model.service_name
        self.calls[(API_CALL_SERVICES.get(service, service), model.name)] += 1

    def by_service(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (service, _), count in self.calls.items():
            totals[service] += count
        return totals

    def reset(self) -> None:
        self.calls.clear()

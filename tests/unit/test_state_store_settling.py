"""Settling against DynamoDB's answers on the wire: a write refused because an overlapping run's
transaction holds the item (TransactionConflictException, which botocore does not retry)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import CLIENT_CONFIG
from ami_store_notifier.adapters.dynamodb_errors import WRITE_CONFLICT
from ami_store_notifier.adapters.dynamodb_state_store import DynamoDbStateStore
from ami_store_notifier.adapters.table_items import LEASE_BATCHES, LEASE_ENTRIES
from ami_store_notifier.domain.model import PendingDelivery, TaskState
from ami_store_notifier.ports import TransientAwsError
from tests.world import REGION

BATCH = 5
DELIVERED = [
    PendingDelivery(channel, TaskState.COMPLETED, "ami-0123456789abcdef0|2026-11-01T12:00:00.000Z", 0, BATCH)
    for channel in ("sns", "events")
]


def state_store(dynamodb):
    return DynamoDbStateStore(
        dynamodb.client(CLIENT_CONFIG),
        table_name="state",
        region=REGION,
        ttl_days=45,
        clock=lambda: datetime(2026, 11, 1, tzinfo=UTC),
    )


def sent(dynamodb):
    return [json.loads(request.body) for request in dynamodb.requests]


def test_a_settling_write_refused_for_an_overlapping_transaction_is_sent_again_and_the_settling_completes(
    wire,
):
    dynamodb = wire("dynamodb")
    dynamodb.error(WRITE_CONFLICT, 400)
    dynamodb.success()
    dynamodb.success()

    state_store(dynamodb).settle(DELIVERED, [])

    emptying, again, dropping = sent(dynamodb)
    assert again == emptying, "the same write, once the transaction let the item go"
    assert emptying["UpdateExpression"] == f"REMOVE {LEASE_ENTRIES}"
    assert dropping["UpdateExpression"] == f"DELETE {LEASE_BATCHES} :done"


def test_a_conflict_that_outlasts_the_attempts_ends_the_run_as_a_transient_failure(wire):
    dynamodb = wire("dynamodb")
    for _ in range(4):
        dynamodb.error(WRITE_CONFLICT, 400)

    with pytest.raises(TransientAwsError) as stopped:
        state_store(dynamodb).settle(DELIVERED, [])

    assert len(dynamodb.requests) == 4
    assert not stopped.value.throttled
    assert WRITE_CONFLICT in str(stopped.value)


def test_a_settling_write_refused_for_another_reason_is_not_sent_again(wire):
    dynamodb = wire("dynamodb")
    dynamodb.error("ValidationException", 400)

    with pytest.raises(ClientError):
        state_store(dynamodb).settle(DELIVERED, [])

    assert len(dynamodb.requests) == 1

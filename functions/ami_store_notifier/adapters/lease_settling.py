"""Settling the batches of pending deliveries once a run delivered them, with UpdateItem writes that
are tried again while an overlapping run's transaction holds the item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.adapters.claim_writes import ClaimWrites
from ami_store_notifier.adapters.dynamodb_errors import CONDITION_FAILED, WRITE_CONFLICT, back_off
from ami_store_notifier.adapters.table_items import (
    LEASE_BATCHES,
    LEASE_ENTRIES,
    PARTITION_KEY,
    cursor_pk,
    key,
    lease_batch_pk,
)
from ami_store_notifier.domain.model import PendingDelivery
from ami_store_notifier.ports import TransientAwsError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import AttributeValueTypeDef, UpdateTypeDef

# A write to an item that an overlapping run's transaction holds is refused with WRITE_CONFLICT
# ("Transaction conflict handling in DynamoDB", DynamoDB developer guide:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
# #transaction-conflict-handling), and botocore's standard mode does not retry it. A transaction is one
# synchronous request, so the item is soon free: a few attempts, 50 ms apart and doubling, get through.
_CONFLICT_ATTEMPTS = 4


class LeaseSettling:
    def __init__(self, dynamodb_client: DynamoDBClient, writes: ClaimWrites) -> None:
        self._dynamodb = dynamodb_client
        self._writes = writes
        self._table = writes.table
        self._region = writes.region

    def settle(self, delivered: Sequence[PendingDelivery], failed: Sequence[PendingDelivery]) -> None:
        """A batch all delivered is emptied and dropped from the cursor's list; a batch with refusals
        keeps only those, under an ended lease, so the next run takes it over at once."""
        refused = {lease.batch for lease in failed}
        done = sorted({lease.batch for lease in delivered} - refused)
        # The batches are emptied first: a cursor may still list an empty batch (should the run die
        # before dropping it, or an overlapping run write the list it read), and a reader skips it.
        for batch in done:
            self._update(self._writes.emptying(batch))
        if done:
            self._update(
                {
                    "TableName": self._table,
                    "Key": key(cursor_pk(self._region)),
                    "UpdateExpression": f"DELETE {LEASE_BATCHES} :done",
                    "ConditionExpression": f"attribute_exists({PARTITION_KEY})",
                    "ExpressionAttributeValues": {":done": {"NS": [str(batch) for batch in done]}},
                }
            )
        for batch in sorted(refused):
            self._release(batch, [lease.entry_id for lease in delivered if lease.batch == batch])

    def _release(self, batch: int, delivered: Sequence[str]) -> None:
        """Ends the batch's lease and forgets what was delivered from it; not if another run has taken
        the batch over meanwhile (its entries are gone then)."""
        values: dict[str, AttributeValueTypeDef] = {":ended": {"N": "0"}}
        expression = "SET leaseExpiresAt = :ended"
        if delivered:
            expression += f" DELETE {LEASE_ENTRIES} :delivered"
            values[":delivered"] = {"SS": list(delivered)}
        try:
            self._update(
                {
                    "TableName": self._table,
                    "Key": key(lease_batch_pk(self._region, batch)),
                    "UpdateExpression": expression,
                    "ConditionExpression": f"attribute_exists({LEASE_ENTRIES})",
                    "ExpressionAttributeValues": values,
                }
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise

    def _update(self, request: UpdateTypeDef) -> None:
        """One UpdateItem of the settling, tried again while an overlapping run's transaction holds the
        item. Each settling write is idempotent, so trying it again is safe; none is left to the next run,
        since a batch left full is delivered again once its lease ends. A conflict that outlasts the
        attempts ends the run as AWS being unavailable does."""
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                with transient_errors("dynamodb:UpdateItem"):
                    self._dynamodb.update_item(**request)
                return
            except ClientError as error:
                if error_code(error) != WRITE_CONFLICT:
                    raise
                if attempt == _CONFLICT_ATTEMPTS - 1:
                    raise TransientAwsError(f"dynamodb:UpdateItem: {error}") from error
            back_off(attempt)

"""The DescribeStoreImageTasks calls that hint runs may make, shared by every run of a region.

Hint runs can come at any pace (one per batch of the queue), so their calls are counted per minute in the
table, one conditional UpdateItem per run, and stop at HINT_CALLS_PER_MINUTE (domain/run_limits.py says why
that number leaves EC2's bucket enough for the schedule and a waiter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.adapters.dynamodb_errors import CONDITION_FAILED
from ami_store_notifier.adapters.table_items import TTL_ATTRIBUTE, hint_calls_pk, key

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# The count of a minute is needed for that minute only; DynamoDB deletes it within days of this.
_COUNT_KEPT_FOR = timedelta(hours=1)


class HintCallAllowance:
    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        *,
        table_name: str,
        region: str,
        per_minute: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._dynamodb = dynamodb_client
        self._table = table_name
        self._region = region
        self._per_minute = per_minute
        self._clock = clock

    def take(self, wanted: int) -> int:
        """Up to `wanted` calls of this minute's allowance; 0 when another run took them all."""
        wanted = min(wanted, self._per_minute)
        if wanted <= 0:
            return 0
        spent = self._try_take(wanted)
        if spent is None:
            return wanted
        # Another run took some: what is left, once (a run that loses twice asks in a later batch).
        left = self._per_minute - spent
        if left <= 0 or self._try_take(left) is not None:
            return 0
        return left

    def _try_take(self, calls: int) -> int | None:
        """None when `calls` were taken; otherwise what the minute had spent already."""
        now = self._clock()
        try:
            with transient_errors("dynamodb:UpdateItem"):
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key=key(hint_calls_pk(self._region, now)),
                    UpdateExpression="ADD spent :calls SET #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(spent) OR spent <= :room",
                    ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                    ExpressionAttributeValues={
                        ":calls": {"N": str(calls)},
                        ":room": {"N": str(self._per_minute - calls)},
                        ":ttl": {"N": str(int((now + _COUNT_KEPT_FOR).timestamp()))},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
            return self._spent(error)
        return None

    def _spent(self, refused: ClientError) -> int:
        """The minute's count in a refusal (ReturnValuesOnConditionCheckFailure: the item as it was)."""
        item: Mapping[str, Mapping[str, str]] = refused.response.get("Item", {})  # type: ignore[assignment]
        return int(item.get("spent", {}).get("N", self._per_minute))

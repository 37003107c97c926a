"""The state table's reads: items by partition key, consistent, in BatchGetItem requests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from ami_store_notifier.adapters.aws import transient_errors
from ami_store_notifier.adapters.dynamodb_errors import back_off
from ami_store_notifier.adapters.item_values import ItemValue, from_item
from ami_store_notifier.adapters.table_items import key
from ami_store_notifier.ports import TransientAwsError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import KeysAndAttributesOutputTypeDef, KeysAndAttributesTypeDef

MAX_BATCH_GET_KEYS = 100
_UNPROCESSED_RETRIES = 6


def batch_get(
    dynamodb: DynamoDBClient,
    table: str,
    pks: Sequence[str],
    *,
    projection: str | None,
    names: Mapping[str, str] | None = None,
) -> Iterator[dict[str, ItemValue]]:
    """The items of those keys that exist, decoded, in no particular order."""
    for start in range(0, len(pks), MAX_BATCH_GET_KEYS):
        request: KeysAndAttributesTypeDef | KeysAndAttributesOutputTypeDef = {
            "Keys": [key(pk) for pk in pks[start : start + MAX_BATCH_GET_KEYS]],
            "ConsistentRead": True,
        }
        if projection is not None:
            request["ProjectionExpression"] = projection
        if names:
            request["ExpressionAttributeNames"] = dict(names)
        for attempt in range(_UNPROCESSED_RETRIES):
            with transient_errors("dynamodb:BatchGetItem"):
                response = dynamodb.batch_get_item(RequestItems={table: request})
            for item in response.get("Responses", {}).get(table, []):
                yield from_item(item)
            unprocessed = response.get("UnprocessedKeys", {}).get(table)
            if not unprocessed:
                break
            request = unprocessed
            back_off(attempt)
        else:
            raise TransientAwsError("dynamodb:BatchGetItem kept returning unprocessed keys")

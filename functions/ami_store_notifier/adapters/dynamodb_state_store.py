"""The DynamoDB side: one cursor item per region, and one item per task with its announcements.

Every write that matters is conditional. A claim and the cursor move together in one transaction,
guarded by the cursor's version, so two overlapping runs cannot both claim a transition, and a crash
between two transactions leaves a cursor that matches what was written.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import transient_errors
from ami_store_notifier.adapters.table_items import (
    PARTITION_KEY,
    cursor_attributes,
    cursor_from_item,
    cursor_pk,
    from_item,
    key,
    new_task_item,
    task_key_of,
    task_pk,
    to_item,
)
from ami_store_notifier.domain.announcements import Announcement
from ami_store_notifier.domain.model import Cursor, PendingDelivery, RecordedTask, TaskState, format_timestamp
from ami_store_notifier.domain.planning import CommitStep, CursorUpdate
from ami_store_notifier.domain.reading import Claim
from ami_store_notifier.ports import CommitOutcome, CommitResult, TransientAwsError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import (
        KeysAndAttributesOutputTypeDef,
        KeysAndAttributesTypeDef,
        TransactWriteItemTypeDef,
        UpdateItemInputTypeDef,
        UpdateTypeDef,
    )

MAX_BATCH_GET_KEYS = 100
# Expressions are limited to 4 KB; each map path costs about 20 characters of it.
MAX_PATHS_PER_EXPRESSION = 140
_UNPROCESSED_RETRIES = 6
_THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


class DynamoDbStateStore:
    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        *,
        table_name: str,
        region: str,
        ttl_days: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._dynamodb = dynamodb_client
        self._table = table_name
        self._region = region
        self._ttl = timedelta(days=ttl_days)
        self._clock = clock

    @property
    def _cursor_key(self) -> dict[str, Any]:
        return key(cursor_pk(self._region))

    def _task_key(self, task_key: str) -> dict[str, Any]:
        return key(task_pk(self._region, task_key))

    # -- reading ---------------------------------------------------------------------------------

    def load_cursor(self) -> Cursor:
        with transient_errors("dynamodb:GetItem"):
            response = self._dynamodb.get_item(
                TableName=self._table, Key=self._cursor_key, ConsistentRead=True
            )
        if "Item" not in response:
            return Cursor()
        return cursor_from_item(response["Item"])

    def load_records(self, keys: Sequence[str]) -> dict[str, RecordedTask]:
        records = {}
        for item in self._batch_get(keys, projection=f"{PARTITION_KEY}, #state", names={"#state": "state"}):
            task_key = task_key_of(item[PARTITION_KEY])
            records[task_key] = RecordedTask(task_key, TaskState(item["state"]))
        return records

    def load_announcements(self, deliveries: Sequence[PendingDelivery]) -> dict[str, Announcement]:
        keys = sorted({delivery.key for delivery in deliveries})
        stored = {
            task_key_of(item[PARTITION_KEY]): item.get("announcements", {})
            for item in self._batch_get(keys, projection=f"{PARTITION_KEY}, announcements", names={})
        }
        found = {}
        for delivery in deliveries:
            detail = stored.get(delivery.key, {}).get(delivery.state.value)
            if detail is not None:
                found[delivery.entry_id] = Announcement.from_detail_json(detail)
        return found

    def _batch_get(
        self, keys: Sequence[str], *, projection: str, names: Mapping[str, str]
    ) -> Iterator[dict[str, Any]]:
        for start in range(0, len(keys), MAX_BATCH_GET_KEYS):
            request: KeysAndAttributesTypeDef | KeysAndAttributesOutputTypeDef = {
                "Keys": [self._task_key(task_key) for task_key in keys[start : start + MAX_BATCH_GET_KEYS]],
                "ProjectionExpression": projection,
                "ConsistentRead": True,
            }
            if names:
                request["ExpressionAttributeNames"] = dict(names)
            for attempt in range(_UNPROCESSED_RETRIES):
                with transient_errors("dynamodb:BatchGetItem"):
                    response = self._dynamodb.batch_get_item(RequestItems={self._table: request})
                for item in response.get("Responses", {}).get(self._table, []):
                    yield from_item(item)
                unprocessed = response.get("UnprocessedKeys", {}).get(self._table)
                if not unprocessed:
                    break
                request = unprocessed
                time.sleep(0.05 * 2**attempt)
            else:
                raise TransientAwsError("dynamodb:BatchGetItem kept returning unprocessed keys")

    # -- claiming --------------------------------------------------------------------------------

    def commit(self, expected_version: int, step: CommitStep) -> CommitResult:
        operations = [self._claim_operation(claim) for claim in step.claims]
        operations.append(self._cursor_operation(expected_version, step.cursor))
        token_source = f"{self._region}|{expected_version}|" + "|".join(
            claim.task.key for claim in step.claims
        )
        try:
            with transient_errors("dynamodb:TransactWriteItems"):
                self._dynamodb.transact_write_items(
                    TransactItems=operations,
                    ClientRequestToken=hashlib.sha256(token_source.encode()).hexdigest()[:36],
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return self._cancelled(error, step)
        return CommitResult(CommitOutcome.COMMITTED)

    @staticmethod
    def _cancelled(error: ClientError, step: CommitStep) -> CommitResult:
        codes = [reason.get("Code") or "None" for reason in error.response.get("CancellationReasons", [])]
        if len(codes) != len(step.claims) + 1:
            raise error
        if codes[-1] == "ConditionalCheckFailed" or "TransactionConflict" in codes:
            return CommitResult(CommitOutcome.CONFLICT)
        if _THROTTLED_REASONS.intersection(codes):
            raise TransientAwsError(f"dynamodb:TransactWriteItems throttled: {codes}") from error
        rejected = tuple(
            claim.task.key
            for claim, code in zip(step.claims, codes, strict=False)
            if code == "ConditionalCheckFailed"
        )
        if not rejected:
            raise error
        return CommitResult(CommitOutcome.REJECTED, rejected)

    def _claim_operation(self, claim: Claim) -> TransactWriteItemTypeDef:
        if claim.previous_state is None:
            item = new_task_item(self._region, claim, now=self._clock(), ttl=self._ttl)
            return self._put_new(item)
        expression = "SET #state = :state, recordedAt = :now"
        values: dict[str, Any] = {
            ":state": claim.state.value,
            ":now": format_timestamp(self._clock()),
            ":previous": claim.previous_state.value,
        }
        names = {"#state": "state"}
        if claim.announcement is not None:
            expression += ", announcements.#announced = :detail"
            names["#announced"] = claim.state.value
            values[":detail"] = claim.announcement.detail_json()
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._task_key(claim.task.key),
                "UpdateExpression": expression,
                "ConditionExpression": "#state = :previous",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
        }

    def _put_new(self, item: Mapping[str, Any]) -> TransactWriteItemTypeDef:
        """A Put of an item that must not exist yet: only one run can create it."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(item),
                "ConditionExpression": f"attribute_not_exists({PARTITION_KEY})",
            }
        }

    def _cursor_operation(self, expected_version: int, cursor: CursorUpdate) -> TransactWriteItemTypeDef:
        if len(cursor.leases) > MAX_PATHS_PER_EXPRESSION:
            raise ValueError(f"at most {MAX_PATHS_PER_EXPRESSION} leases per step, got {len(cursor.leases)}")
        attributes = cursor_attributes(expected_version + 1, cursor)
        if expected_version == 0:
            pending = {lease.entry_id: lease.lease_expires_at for lease in cursor.leases}
            return self._put_new({PARTITION_KEY: cursor_pk(self._region), **attributes, "pending": pending})
        assignments = [f"{name} = :{name}" for name in attributes]
        names: dict[str, str] = {}
        values: dict[str, Any] = {f":{name}": value for name, value in attributes.items()}
        for index, lease in enumerate(cursor.leases):
            assignments.append(f"pending.#p{index} = :p{index}")
            names[f"#p{index}"] = lease.entry_id
            values[f":p{index}"] = lease.lease_expires_at
        values[":expected"] = expected_version
        update: UpdateTypeDef = {
            "TableName": self._table,
            "Key": self._cursor_key,
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    # -- settling --------------------------------------------------------------------------------

    def settle(self, delivered: Sequence[PendingDelivery], failed: Sequence[PendingDelivery]) -> None:
        changes = [(lease, True) for lease in delivered] + [(lease, False) for lease in failed]
        for start in range(0, len(changes), MAX_PATHS_PER_EXPRESSION):
            with transient_errors("dynamodb:UpdateItem"):
                self._dynamodb.update_item(
                    **self._settle_request(changes[start : start + MAX_PATHS_PER_EXPRESSION])
                )

    def _settle_request(self, changes: Sequence[tuple[PendingDelivery, bool]]) -> UpdateItemInputTypeDef:
        """One update of the cursor: delivered entries removed, failed ones released (lease 0)."""
        names = {f"#p{index}": lease.entry_id for index, (lease, _) in enumerate(changes)}
        removals = [f"pending.#p{index}" for index, (_, done) in enumerate(changes) if done]
        releases = [f"pending.#p{index} = :released" for index, (_, done) in enumerate(changes) if not done]
        clauses = [f"SET {', '.join(releases)}"] if releases else []
        clauses += [f"REMOVE {', '.join(removals)}"] if removals else []
        request: UpdateItemInputTypeDef = {
            "TableName": self._table,
            "Key": self._cursor_key,
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
        }
        if releases:
            request["ExpressionAttributeValues"] = {":released": {"N": "0"}}
        return request

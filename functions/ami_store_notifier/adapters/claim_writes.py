"""The writes of a commit step, as one TransactWriteItems: its claims, its batch of pending deliveries,
the batches it took over, the known tasks and store watches, and the cursor, guarded by its version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ami_store_notifier.adapters.item_values import ItemValue, to_item
from ami_store_notifier.adapters.table_items import (
    LEASE_BATCHES,
    LEASE_ENTRIES,
    PARTITION_KEY,
    announcements_of,
    cursor_pk,
    head_attributes,
    key,
    known_item,
    lease_batch_item,
    lease_batch_pk,
    new_task_item,
    task_pk,
    watch_item,
)
from ami_store_notifier.domain.claims import Claim
from ami_store_notifier.domain.model import LEGACY_BATCH, format_timestamp
from ami_store_notifier.domain.planning import CommitStep, CursorUpdate

if TYPE_CHECKING:
    from types_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, UpdateTypeDef


@dataclass(frozen=True)
class ClaimWrites:
    table: str
    region: str
    ttl: timedelta
    clock: Callable[[], datetime]

    def operations(self, expected_version: int, step: CommitStep) -> list[TransactWriteItemTypeDef]:
        """The claims first and the cursor last: a cancelled transaction's reasons come in this order."""
        operations = [self._claim_operation(claim) for claim in step.claims]
        operations += self._side_operations(expected_version + 1, step.cursor)
        operations.append(self._cursor_operation(expected_version, step.cursor))
        return operations

    def emptying(self, batch: int) -> UpdateTypeDef:
        """Empties a batch: its item stays until the TTL removes it, and deleting would need a
        permission the role otherwise does without."""
        return {
            "TableName": self.table,
            "Key": key(lease_batch_pk(self.region, batch)),
            "UpdateExpression": f"REMOVE {LEASE_ENTRIES}",
        }

    def _side_operations(self, version: int, cursor: CursorUpdate) -> list[TransactWriteItemTypeDef]:
        """The step's new batch of deliveries, the batches it took over, and the known tasks."""
        operations: list[TransactWriteItemTypeDef] = []
        if cursor.leases:
            batch = lease_batch_item(self.region, version, cursor.leases, now=self.clock(), ttl=self.ttl)
            operations.append(self._put_new(batch))
        operations += [
            {"Update": self.emptying(batch)} for batch in cursor.retired_batches if batch != LEGACY_BATCH
        ]
        if cursor.known is not None:
            known = known_item(self.region, version, cursor.known)
            operations.append({"Put": {"TableName": self.table, "Item": to_item(known)}})
        if cursor.watches is not None:
            watches = watch_item(self.region, version, cursor.watches)
            operations.append({"Put": {"TableName": self.table, "Item": to_item(watches)}})
        return operations

    def _claim_operation(self, claim: Claim) -> TransactWriteItemTypeDef:
        if claim.previous_state is None:
            item = new_task_item(self.region, claim, now=self.clock(), ttl=self.ttl)
            return self._put_new(item)
        names = {"#state": "state"}
        values: dict[str, ItemValue] = {":previous": claim.previous_state.value}
        assignments = []
        conditions = ["#state = :previous"]
        if claim.moves:
            assignments += ["#state = :state", "recordedAt = :now"]
            values |= {":state": claim.state.value, ":now": format_timestamp(self.clock())}
        for index, (milestone, detail) in enumerate(announcements_of(claim).items()):
            names[f"#m{index}"] = milestone
            values[f":m{index}"] = detail
            assignments.append(f"announcements.#m{index} = :m{index}")
            if not claim.moves:
                # A notice is announced once per task: the run that writes it first wins.
                conditions.append(f"attribute_not_exists(announcements.#m{index})")
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(task_pk(self.region, claim.task.key)),
                "UpdateExpression": "SET " + ", ".join(assignments),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
            }
        }

    def _put_new(self, item: Mapping[str, object]) -> TransactWriteItemTypeDef:
        """A Put of an item that must not exist yet: only one run can create it."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(item),
                "ConditionExpression": f"attribute_not_exists({PARTITION_KEY})",
            }
        }

    def _cursor_operation(self, expected_version: int, cursor: CursorUpdate) -> TransactWriteItemTypeDef:
        attributes = head_attributes(expected_version + 1, cursor)
        batches = sorted(cursor.lease_batches)
        if expected_version == 0:
            head = {PARTITION_KEY: cursor_pk(self.region), **attributes}
            return self._put_new({**head, LEASE_BATCHES: set(batches)} if batches else head)
        values: dict[str, object] = {f":{name}": value for name, value in attributes.items()}
        assignments = [f"{name} = :{name}" for name in attributes]
        removals = [] if batches else [LEASE_BATCHES]
        if batches:
            assignments.append(f"{LEASE_BATCHES} = :batches")
            values[":batches"] = set(batches)
        if LEGACY_BATCH in cursor.retired_batches:
            removals.append("pending")
        if cursor.known is not None:
            removals.append("known")
        values[":expected"] = expected_version
        expression = "SET " + ", ".join(assignments)
        if removals:
            expression += " REMOVE " + ", ".join(removals)
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(cursor_pk(self.region)),
                "UpdateExpression": expression,
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": to_item(values),
            }
        }

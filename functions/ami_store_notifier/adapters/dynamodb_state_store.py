"""The DynamoDB side: the cursor's items per region, and one item per task with its announcements.

Every write that matters is conditional. A claim, its batch of pending deliveries and the cursor move
together in one transaction, guarded by the cursor's version, so two overlapping runs cannot both claim
a transition, and a crash between two transactions leaves nothing claimed without its deliveries.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.adapters.table_items import (
    LEASE_BATCHES,
    LEASE_ENTRIES,
    PARTITION_KEY,
    announcements_of,
    cursor_from_items,
    cursor_pk,
    from_item,
    head_attributes,
    key,
    known_item,
    known_pk,
    lease_batch_item,
    lease_batch_pk,
    lease_batches_of,
    new_task_item,
    task_key_of,
    task_pk,
    to_item,
    watch_item,
    watch_pk,
)
from ami_store_notifier.domain.model import (
    LEGACY_BATCH,
    Cursor,
    PendingDelivery,
    RecordedTask,
    TaskState,
    format_timestamp,
)
from ami_store_notifier.domain.notices import Deliverable, stored_deliverable
from ami_store_notifier.domain.planning import CommitStep, CursorUpdate
from ami_store_notifier.domain.reading import Claim
from ami_store_notifier.ports import CommitOutcome, CommitResult, TransientAwsError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import (
        KeysAndAttributesOutputTypeDef,
        KeysAndAttributesTypeDef,
        TransactWriteItemTypeDef,
        UpdateTypeDef,
    )

MAX_BATCH_GET_KEYS = 100
_UNPROCESSED_RETRIES = 6
# The error codes this store acts on: DynamoDB is a JSON service, so the code is the shape's name in
# botocore's service model (dynamodb/2012-08-10/service-2.json).
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
WRITE_CONFLICT = "TransactionConflictException"
# The codes of a cancelled transaction's CancellationReasons, as the TransactionCanceledException
# documentation lists them (TransactWriteItems API reference, and the same shape in the service model).
CANCELLED_BY_CONDITION = "ConditionalCheckFailed"
CANCELLED_BY_CONFLICT = "TransactionConflict"
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
# A write to an item that an overlapping run's transaction holds is refused with WRITE_CONFLICT
# ("Transaction conflict handling in DynamoDB", DynamoDB developer guide:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
# #transaction-conflict-handling), and botocore's standard mode does not retry it. A transaction is one
# synchronous request, so the item is soon free: a few attempts, 50 ms apart and doubling, get through.
_CONFLICT_ATTEMPTS = 4


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
        """The cursor and the tasks it knows in one request; its lease batches and the store watches in
        a second one.

        BatchGetItem reads each item on its own, not the batch as one snapshot. The watches are read after
        the cursor on purpose: an overlapping run's commit between the two reads then leaves this run a
        cursor older than the watches, and its own commit, conditioned on the cursor's version, fails. Read
        together, the watches could be the older, and this run's commit would write them back, forgetting
        an archive check that run had left waiting."""
        region = self._region
        items = {
            item[PARTITION_KEY]: item
            for item in self._batch_get([cursor_pk(region), known_pk(region)], projection=None)
        }
        head = items.get(cursor_pk(region))
        if head is None:
            return Cursor()
        pks = {lease_batch_pk(region, batch): batch for batch in lease_batches_of(head)}
        later = {
            item[PARTITION_KEY]: item for item in self._batch_get([*pks, watch_pk(region)], projection=None)
        }
        batches = {batch: later[pk] for pk, batch in pks.items() if pk in later}
        return cursor_from_items(head, items.get(known_pk(region)), batches, later.get(watch_pk(region)))

    def load_records(self, keys: Sequence[str]) -> dict[str, RecordedTask]:
        """The tasks' recorded states, and what was announced of each (a notice is claimed only once)."""
        records = {}
        pks = [task_pk(self._region, task_key) for task_key in keys]
        projection = f"{PARTITION_KEY}, #state, announcements"
        for item in self._batch_get(pks, projection=projection, names={"#state": "state"}):
            task_key = task_key_of(item[PARTITION_KEY])
            announced = tuple(sorted(item.get("announcements", {})))
            records[task_key] = RecordedTask(task_key, TaskState(item["state"]), announced)
        return records

    def load_announcements(self, deliveries: Sequence[PendingDelivery]) -> dict[str, Deliverable]:
        keys = sorted({delivery.key for delivery in deliveries})
        pks = [task_pk(self._region, task_key) for task_key in keys]
        stored = {
            task_key_of(item[PARTITION_KEY]): item.get("announcements", {})
            for item in self._batch_get(pks, projection=f"{PARTITION_KEY}, announcements")
        }
        found = {}
        for delivery in deliveries:
            detail = stored.get(delivery.key, {}).get(delivery.milestone)
            if detail is not None:
                found[delivery.entry_id] = stored_deliverable(delivery.milestone, detail)
        return found

    def _batch_get(
        self, pks: Sequence[str], *, projection: str | None, names: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
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
                    response = self._dynamodb.batch_get_item(RequestItems={self._table: request})
                for item in response.get("Responses", {}).get(self._table, []):
                    yield from_item(item)
                unprocessed = response.get("UnprocessedKeys", {}).get(self._table)
                if not unprocessed:
                    break
                request = unprocessed
                _back_off(attempt)
            else:
                raise TransientAwsError("dynamodb:BatchGetItem kept returning unprocessed keys")

    # -- claiming --------------------------------------------------------------------------------

    def commit(self, expected_version: int, step: CommitStep) -> CommitResult:
        operations = [self._claim_operation(claim) for claim in step.claims]
        operations += self._side_operations(expected_version + 1, step.cursor)
        operations.append(self._cursor_operation(expected_version, step.cursor))
        try:
            with transient_errors("dynamodb:TransactWriteItems"):
                self._dynamodb.transact_write_items(
                    TransactItems=operations,
                    # One token per attempt; botocore's retries resend it unchanged. A token derived from
                    # the cursor version and the claims comes again from an overlapping run, or from this
                    # run planning again after a rejection: DynamoDB refuses it with other parameters
                    # (IdempotentParameterMismatchException), and with the same ones answers success
                    # without writing, so the losing run would deliver what it never claimed.
                    ClientRequestToken=str(uuid.uuid4()),
                )
        except ClientError as error:
            if error_code(error) != TRANSACTION_CANCELED:
                raise
            return self._cancelled(error, step, len(operations))
        return CommitResult(CommitOutcome.COMMITTED)

    @staticmethod
    def _cancelled(error: ClientError, step: CommitStep, operations: int) -> CommitResult:
        """Reasons come in the order of the operations: the claims first, the cursor last."""
        codes = [reason.get("Code") or "None" for reason in error.response.get("CancellationReasons", [])]
        if len(codes) != operations:
            raise error
        if codes[-1] == CANCELLED_BY_CONDITION or CANCELLED_BY_CONFLICT in codes:
            return CommitResult(CommitOutcome.CONFLICT)
        if THROTTLED_REASONS.intersection(codes):
            raise TransientAwsError(f"dynamodb:TransactWriteItems throttled: {codes}") from error
        rejected = tuple(
            claim.task.key
            for claim, code in zip(step.claims, codes, strict=False)
            if code == CANCELLED_BY_CONDITION
        )
        if not rejected:
            raise error
        return CommitResult(CommitOutcome.REJECTED, rejected)

    def _side_operations(self, version: int, cursor: CursorUpdate) -> list[TransactWriteItemTypeDef]:
        """The step's new batch of deliveries, the batches it took over, and the known tasks."""
        operations: list[TransactWriteItemTypeDef] = []
        if cursor.leases:
            batch = lease_batch_item(self._region, version, cursor.leases, now=self._clock(), ttl=self._ttl)
            operations.append(self._put_new(batch))
        operations += [
            {"Update": self._emptying(batch)} for batch in cursor.retired_batches if batch != LEGACY_BATCH
        ]
        if cursor.known is not None:
            item = known_item(self._region, version, cursor.known)
            operations.append({"Put": {"TableName": self._table, "Item": to_item(item)}})
        if cursor.watches is not None:
            item = watch_item(self._region, version, cursor.watches)
            operations.append({"Put": {"TableName": self._table, "Item": to_item(item)}})
        return operations

    def _claim_operation(self, claim: Claim) -> TransactWriteItemTypeDef:
        if claim.previous_state is None:
            item = new_task_item(self._region, claim, now=self._clock(), ttl=self._ttl)
            return self._put_new(item)
        names = {"#state": "state"}
        values: dict[str, Any] = {":previous": claim.previous_state.value}
        assignments = []
        conditions = ["#state = :previous"]
        if claim.moves:
            assignments += ["#state = :state", "recordedAt = :now"]
            values |= {":state": claim.state.value, ":now": format_timestamp(self._clock())}
        for index, (milestone, detail) in enumerate(announcements_of(claim).items()):
            names[f"#m{index}"] = milestone
            values[f":m{index}"] = detail
            assignments.append(f"announcements.#m{index} = :m{index}")
            if not claim.moves:
                # A notice is announced once per task: the run that writes it first wins.
                conditions.append(f"attribute_not_exists(announcements.#m{index})")
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._task_key(claim.task.key),
                "UpdateExpression": "SET " + ", ".join(assignments),
                "ConditionExpression": " AND ".join(conditions),
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
        attributes = head_attributes(expected_version + 1, cursor)
        batches = sorted(cursor.lease_batches)
        if expected_version == 0:
            head = {PARTITION_KEY: cursor_pk(self._region), **attributes}
            return self._put_new({**head, LEASE_BATCHES: set(batches)} if batches else head)
        values: dict[str, Any] = {f":{name}": value for name, value in attributes.items()}
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
                "TableName": self._table,
                "Key": self._cursor_key,
                "UpdateExpression": expression,
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": to_item(values),
            }
        }

    # -- settling --------------------------------------------------------------------------------

    def settle(self, delivered: Sequence[PendingDelivery], failed: Sequence[PendingDelivery]) -> None:
        """A batch all delivered is emptied and dropped from the cursor's list; a batch with refusals
        keeps only those, under an ended lease, so the next run takes it over at once."""
        refused = {lease.batch for lease in failed}
        done = sorted({lease.batch for lease in delivered} - refused)
        # The batches are emptied first: a cursor may still list an empty batch (should the run die
        # before dropping it, or an overlapping run write the list it read), and a reader skips it.
        for batch in done:
            self._update(self._emptying(batch))
        if done:
            self._update(
                {
                    "TableName": self._table,
                    "Key": self._cursor_key,
                    "UpdateExpression": f"DELETE {LEASE_BATCHES} :done",
                    "ConditionExpression": f"attribute_exists({PARTITION_KEY})",
                    "ExpressionAttributeValues": {":done": {"NS": [str(batch) for batch in done]}},
                }
            )
        for batch in sorted(refused):
            self._release(batch, [lease.entry_id for lease in delivered if lease.batch == batch])

    def _emptying(self, batch: int) -> UpdateTypeDef:
        """Empties a batch: its item stays until the TTL removes it, and deleting would need a
        permission the role otherwise does without."""
        return {
            "TableName": self._table,
            "Key": key(lease_batch_pk(self._region, batch)),
            "UpdateExpression": f"REMOVE {LEASE_ENTRIES}",
        }

    def _release(self, batch: int, delivered: Sequence[str]) -> None:
        """Ends the batch's lease and forgets what was delivered from it; not if another run has taken
        the batch over meanwhile (its entries are gone then)."""
        values: dict[str, Any] = {":ended": {"N": "0"}}
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
            _back_off(attempt)


def _back_off(attempt: int) -> None:
    """Exponential, from 50 ms: a retry loop of a few attempts stays well under a second."""
    time.sleep(0.05 * 2**attempt)

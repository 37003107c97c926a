"""The DynamoDB side: the cursor's items per region, and one item per task with its announcements.

Every write that matters is conditional. A claim, its batch of pending deliveries and the cursor move
together in one transaction (claim_writes.py), guarded by the cursor's version, so two overlapping runs
cannot both claim a transition, and a crash between two transactions leaves nothing claimed without its
deliveries. The items are laid out in table_items.py; the deliveries' batches settle in
lease_settling.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.adapters.claim_writes import ClaimWrites
from ami_store_notifier.adapters.cursor_items import cursor_from_items, lease_batches_of
from ami_store_notifier.adapters.dynamodb_errors import (
    CANCELLED_BY_CONDITION,
    CANCELLED_BY_CONFLICT,
    THROTTLED_REASONS,
    TRANSACTION_CANCELED,
)
from ami_store_notifier.adapters.item_values import ItemValue, mapping, text
from ami_store_notifier.adapters.lease_settling import LeaseSettling
from ami_store_notifier.adapters.table_items import (
    PARTITION_KEY,
    cursor_pk,
    known_pk,
    lease_batch_pk,
    task_key_of,
    task_pk,
    watch_pk,
)
from ami_store_notifier.adapters.table_reads import batch_get
from ami_store_notifier.domain.model import Cursor, PendingDelivery, RecordedTask, TaskState
from ami_store_notifier.domain.notices import Deliverable, stored_deliverable
from ami_store_notifier.domain.planning import CommitStep
from ami_store_notifier.ports import CommitOutcome, CommitResult, TransientAwsError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from types_boto3_dynamodb import DynamoDBClient


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
        self._writes = ClaimWrites(table_name, region, timedelta(days=ttl_days), clock)
        self._settling = LeaseSettling(dynamodb_client, self._writes)

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
            text(item[PARTITION_KEY]): item
            for item in self._batch_get([cursor_pk(region), known_pk(region)], projection=None)
        }
        head = items.get(cursor_pk(region))
        if head is None:
            return Cursor()
        pks = {lease_batch_pk(region, batch): batch for batch in lease_batches_of(head)}
        later = {
            text(item[PARTITION_KEY]): item
            for item in self._batch_get([*pks, watch_pk(region)], projection=None)
        }
        batches = {batch: later[pk] for pk, batch in pks.items() if pk in later}
        return cursor_from_items(head, items.get(known_pk(region)), batches, later.get(watch_pk(region)))

    def load_records(self, keys: Sequence[str]) -> dict[str, RecordedTask]:
        """The tasks' recorded states, and what was announced of each (a notice is claimed only once)."""
        records = {}
        pks = [task_pk(self._region, task_key) for task_key in keys]
        projection = f"{PARTITION_KEY}, #state, announcements"
        for item in self._batch_get(pks, projection=projection, names={"#state": "state"}):
            task_key = task_key_of(text(item[PARTITION_KEY]))
            announced = tuple(sorted(mapping(item.get("announcements"))))
            records[task_key] = RecordedTask(task_key, TaskState(text(item["state"])), announced)
        return records

    def load_announcements(self, deliveries: Sequence[PendingDelivery]) -> dict[str, Deliverable]:
        keys = sorted({delivery.key for delivery in deliveries})
        pks = [task_pk(self._region, task_key) for task_key in keys]
        stored = {
            task_key_of(text(item[PARTITION_KEY])): mapping(item.get("announcements"))
            for item in self._batch_get(pks, projection=f"{PARTITION_KEY}, announcements")
        }
        found = {}
        for delivery in deliveries:
            detail = stored.get(delivery.key, {}).get(delivery.milestone)
            if detail is not None:
                found[delivery.entry_id] = stored_deliverable(delivery.milestone, text(detail))
        return found

    def _batch_get(
        self, pks: Sequence[str], *, projection: str | None, names: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, ItemValue]]:
        return batch_get(self._dynamodb, self._table, pks, projection=projection, names=names)

    # -- claiming --------------------------------------------------------------------------------

    def commit(self, expected_version: int, step: CommitStep) -> CommitResult:
        operations = self._writes.operations(expected_version, step)
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

    # -- settling --------------------------------------------------------------------------------

    def settle(self, delivered: Sequence[PendingDelivery], failed: Sequence[PendingDelivery]) -> None:
        """A batch all delivered is emptied and dropped from the cursor's list; a batch with refusals
        keeps only those, under an ended lease, so the next run takes it over at once."""
        self._settling.settle(delivered, failed)

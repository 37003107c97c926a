"""In-memory stand-ins for the poller's ports, with the same conditional semantics as the adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ami_store_notifier.domain.claims import Claim
from ami_store_notifier.domain.model import Cursor, PendingDelivery, RecordedTask, StoreTask, TaskState
from ami_store_notifier.domain.notices import Deliverable
from ami_store_notifier.domain.planning import CommitStep
from ami_store_notifier.domain.verification import BucketFacts, Inspection, ObjectFacts
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
from ami_store_notifier.ports import (
    CallBudget,
    CommitOutcome,
    CommitResult,
    ListingPage,
    ListingTokenRefusedError,
    PublishResult,
    TransientAwsError,
)


@dataclass
class FakeTaskSource:
    """A listing held in memory, newest first, paged like EC2 pages it."""

    tasks: list[StoreTask] = field(default_factory=list)
    calls: int = 0
    fail_on_call: set[int] = field(default_factory=set)
    refuse_saved_tokens: bool = False
    tokens_issued: set[str] = field(default_factory=set)

    def put(self, *tasks: StoreTask) -> None:
        """Lists the tasks, each in place of its AMI's earlier one (EC2 lists an AMI's newest store)."""
        amis = {task.ami_id for task in tasks}
        self.tasks = [existing for existing in self.tasks if existing.ami_id not in amis]
        self.tasks.extend(tasks)
        self.tasks.sort(key=lambda item: item.task_start_time, reverse=True)

    def _call(self, budget: CallBudget) -> None:
        budget.spend()
        self.calls += 1
        if self.calls in self.fail_on_call:
            raise TransientAwsError("ec2:DescribeStoreImageTasks: RequestLimitExceeded")

    def pages(
        self,
        page_size: int,
        budget: CallBudget,
        *,
        in_progress_only: bool = False,
        start_token: str | None = None,
    ) -> Iterator[ListingPage]:
        """Pages after the last task a token names, as a key-based NextToken would go on."""
        listed = [task for task in self.tasks if not in_progress_only or task.state_name == "InProgress"]
        offset = 0
        if start_token is not None:
            if self.refuse_saved_tokens and start_token not in self.tokens_issued:
                self._call(budget)
                raise ListingTokenRefusedError("InvalidPaginationToken")
            offset = next((index + 1 for index, task in enumerate(listed) if task.key == start_token), 0)
        while True:
            self._call(budget)
            page = listed[offset : offset + page_size]
            offset += page_size
            has_more = offset < len(listed)
            token = page[-1].key if has_more else None
            if token is not None:
                self.tokens_issued.add(token)
            yield ListingPage(tuple(page), (), token)
            if not has_more:
                return

    def forget_tokens(self) -> None:
        """As if the tokens handed out so far had expired."""
        self.tokens_issued.clear()

    def by_ami(self, ami_ids: Sequence[str], budget: CallBudget) -> ListingPage:
        assert len(ami_ids) <= MAX_IMAGE_IDS_PER_CALL
        self._call(budget)
        return ListingPage(tuple(task for task in self.tasks if task.ami_id in ami_ids))


@dataclass
class FakeStateStore:
    cursor: Cursor = field(default_factory=Cursor)
    records: dict[str, RecordedTask] = field(default_factory=dict)
    announcements: dict[tuple[str, str], Deliverable] = field(default_factory=dict)
    pending: dict[str, PendingDelivery] = field(default_factory=dict)
    commits: int = 0

    def load_cursor(self) -> Cursor:
        return replace(self.cursor, pending=tuple(self.pending.values()))

    def load_records(self, keys: Sequence[str]) -> dict[str, RecordedTask]:
        return {key: self._with_announced(self.records[key]) for key in keys if key in self.records}

    def _with_announced(self, record: RecordedTask) -> RecordedTask:
        told = sorted(milestone for key, milestone in self.announcements if key == record.key)
        return replace(record, announced=tuple(told))

    def _refuses(self, claim: Claim) -> bool:
        key = claim.task.key
        if (self.records[key].state if key in self.records else None) is not claim.previous_state:
            return True
        return not claim.moves and any(
            (key, notice.kind.value) in self.announcements for notice in claim.notices
        )

    def commit(self, expected_version: int, step: CommitStep) -> CommitResult:
        if expected_version != self.cursor.version:
            return CommitResult(CommitOutcome.CONFLICT)
        rejected = tuple(claim.task.key for claim in step.claims if self._refuses(claim))
        if rejected:
            return CommitResult(CommitOutcome.REJECTED, rejected)
        self.commits += 1
        for claim in step.claims:
            self.records[claim.task.key] = RecordedTask(claim.task.key, claim.state)
            for milestone, announced in claim.announced().items():
                self.announcements[(claim.task.key, milestone)] = announced
        update = step.cursor
        self.cursor = Cursor(
            version=expected_version + 1,
            baselined=update.baselined,
            high_water_mark=update.high_water_mark,
            known=dict(update.known) if update.known is not None else self.cursor.known,
            last_full_scan_at=update.last_full_scan_at,
            full_scan_horizon=update.full_scan_horizon,
            progress=update.progress,
            awake_until=update.awake_until,
            watches=dict(update.watches) if update.watches is not None else self.cursor.watches,
        )
        self.pending = {
            entry: lease for entry, lease in self.pending.items() if lease.batch not in update.retired_batches
        }
        self.pending.update((lease.entry_id, lease) for lease in update.leases)
        return CommitResult(CommitOutcome.COMMITTED)

    def load_announcements(self, deliveries: Sequence[PendingDelivery]) -> dict[str, Deliverable]:
        return {
            delivery.entry_id: self.announcements[(delivery.key, delivery.milestone)]
            for delivery in deliveries
            if (delivery.key, delivery.milestone) in self.announcements
        }

    def settle(self, delivered: Sequence[PendingDelivery], failed: Sequence[PendingDelivery]) -> None:
        for lease in delivered:
            self.pending.pop(lease.entry_id, None)
        for lease in failed:
            if lease.entry_id in self.pending and self.pending[lease.entry_id].batch == lease.batch:
                self.pending[lease.entry_id] = replace(lease, lease_expires_at=0)

    def recorded_state(self, key: str) -> TaskState | None:
        record = self.records.get(key)
        return record.state if record else None


@dataclass
class FakePublisher:
    channel: str
    sent: list[Deliverable] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    calls: int = 0

    def publish(self, announcements: Sequence[Deliverable], go_on: Callable[[], bool]) -> PublishResult:
        if not go_on():
            return PublishResult()
        self.calls += 1
        delivered = [item for item in announcements if item.event_id not in self.refuse]
        self.sent += delivered
        return PublishResult(
            frozenset(item.event_id for item in delivered),
            {item.event_id: "refused" for item in announcements if item.event_id in self.refuse},
        )


@dataclass
class ManualClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeHintCallAllowance:
    """Grants calls from a fixed number left, as the table's count of a minute would."""

    left: int = 4

    def take(self, wanted: int) -> int:
        taken = min(wanted, self.left)
        self.left -= taken
        return taken


@dataclass
class FakeArchiveReader:
    """S3 as the archive checks see it: objects by (bucket, key); refusals, throttling and bucket facts
    as a test sets them."""

    objects: dict[tuple[str, str], ObjectFacts] = field(default_factory=dict)
    facts: dict[str, BucketFacts] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    # Buckets whose HEAD S3 answers with another error code.
    refused: dict[str, str] = field(default_factory=dict)
    throttled_looks: int = 0
    looks: list[tuple[str, str]] = field(default_factory=list)
    bucket_reads: list[str] = field(default_factory=list)

    def look(self, bucket: str, key: str) -> Inspection:
        self.looks.append((bucket, key))
        if self.throttled_looks:
            self.throttled_looks -= 1
            raise TransientAwsError("s3:HeadObject: SlowDown", throttled=True)
        if bucket in self.denied:
            return Inspection(denied="s3:GetObject")
        if bucket in self.refused:
            return Inspection(refused=self.refused[bucket])
        return Inspection(object=self.objects.get((bucket, key)))

    def bucket_facts(self, bucket: str) -> BucketFacts:
        self.bucket_reads.append(bucket)
        return self.facts.get(bucket, BucketFacts(versioning="Enabled"))


@dataclass
class FakeImageSizes:
    sizes: dict[str, int] = field(default_factory=dict)
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def snapshot_gigabytes(self, ami_ids: Sequence[str]) -> dict[str, int | None]:
        self.asked.append(tuple(ami_ids))
        return {ami: self.sizes.get(ami) for ami in ami_ids}

"""What the poller needs from the outside world. Adapters implement these over AWS; tests use fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from ami_store_notifier.domain.model import Cursor, ListingAnomaly, PendingDelivery, RecordedTask, StoreTask
from ami_store_notifier.domain.notices import Deliverable
from ami_store_notifier.domain.planning import CommitStep
from ami_store_notifier.domain.verification import BucketFacts, Inspection


class TransientAwsError(Exception):
    """AWS stayed throttled or unavailable after the SDK's retries: the next run will catch up."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


class ListingTokenRefusedError(TransientAwsError):
    """EC2 refused a NextToken (invalid or expired: how long one lasts is not documented)."""


class CallBudgetSpentError(Exception):
    """The run made as many DescribeStoreImageTasks calls as it may."""


class UnknownAmisError(Exception):
    """EC2 refused a whole re-check by ImageIds for an AMI it does not know (deregistered meanwhile).
    `named`: the AMI ids its refusal names (empty when it names none)."""

    def __init__(self, message: str, named: Sequence[str]) -> None:
        super().__init__(message)
        self.named = tuple(named)


class CallBudget:
    """The DescribeStoreImageTasks calls one run may still make. The sources spend it before each
    call, so no path (a listing, a re-check split in halves) can go past it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    @property
    def left(self) -> int:
        return self.limit - self.spent

    def ensure_left(self) -> None:
        """Raises CallBudgetSpentError once every call is spent."""
        if self.left <= 0:
            raise CallBudgetSpentError(f"{self.limit} DescribeStoreImageTasks calls made")

    def spend(self) -> None:
        self.ensure_left()
        self.spent += 1


@dataclass(frozen=True)
class ListingPage:
    tasks: tuple[StoreTask, ...]
    anomalies: tuple[ListingAnomaly, ...] = ()
    # The NextToken that fetches the page after this one (None on the last page).
    next_token: str | None = None

    @property
    def has_more(self) -> bool:
        return self.next_token is not None


class TaskSource(Protocol):
    def pages(
        self,
        page_size: int,
        budget: CallBudget,
        *,
        in_progress_only: bool = False,
        start_token: str | None = None,
    ) -> Iterator[ListingPage]:
        """The listing, newest first (only the tasks in progress, with the `task-state` filter), from
        `start_token` on; each page is fetched only when the iterator is advanced. A refused
        `start_token` raises ListingTokenRefusedError."""
        ...

    def by_ami(self, ami_ids: Sequence[str], budget: CallBudget) -> ListingPage:
        """The newest store task of each AMI (at most MAX_IMAGE_IDS_PER_CALL ids), in one request; an AMI
        EC2 does not know may be missing from the answer, or refuse the whole request (UnknownAmisError)."""
        ...


class HintCallAllowance(Protocol):
    def take(self, wanted: int) -> int:
        """How many of `wanted` DescribeStoreImageTasks calls a hint run may make now (0 to `wanted`)."""
        ...


class ArchiveReader(Protocol):
    """S3 as the archive checks read it. Throttling or S3 failing after the SDK's retries raises
    TransientAwsError; every other answer (the object, its absence, a refusal) comes back."""

    def look(self, bucket: str, key: str) -> Inspection:
        """One HeadObject of the store's object (its bucket facts left empty)."""
        ...

    def bucket_facts(self, bucket: str) -> BucketFacts:
        """The bucket's versioning and the lifecycle transitions of its enabled rules; a part S3 refuses
        to tell is named in `not_read` by the permission it needs."""
        ...


class ImageSizes(Protocol):
    def snapshot_gigabytes(self, ami_ids: Sequence[str]) -> dict[str, int | None]:
        """Per AMI, the GiB of its EBS snapshots (the sum of its block device mappings' volume sizes);
        None for an AMI EC2 no longer describes; absent for one a bounded lookup did not get to. Throttling
        raises TransientAwsError."""
        ...


class CommitOutcome(Enum):
    COMMITTED = "committed"
    REJECTED = "rejected"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class CommitResult:
    outcome: CommitOutcome
    rejected_keys: tuple[str, ...] = ()


class StateStore(Protocol):
    def load_cursor(self) -> Cursor: ...

    def load_records(self, keys: Sequence[str]) -> dict[str, RecordedTask]: ...

    def commit(self, expected_version: int, step: CommitStep) -> CommitResult:
        """Writes the step's claims and cursor atomically, or nothing.

        CONFLICT: another run moved the cursor first. REJECTED: the cursor was current but some
        claims' conditions failed (their keys are returned) and nothing was written."""
        ...

    def load_announcements(self, deliveries: Sequence[PendingDelivery]) -> dict[str, Deliverable]:
        """The stored announcements of these deliveries, by PendingDelivery.entry_id."""
        ...

    def settle(self, delivered: Sequence[PendingDelivery], failed: Sequence[PendingDelivery]) -> None:
        """Forgets delivered entries; ends the lease of failed ones so the next run retries them."""
        ...


@dataclass(frozen=True)
class PublishResult:
    """What the channel accepted and refused; an announcement in neither was not sent."""

    delivered: frozenset[str] = frozenset()
    failures: Mapping[str, str] = field(default_factory=dict)
    # A call failed because the service stayed throttled or unavailable after the SDK's retries: the
    # channel sent nothing more in this run.
    throttled_or_unavailable: bool = False


class Publisher(Protocol):
    channel: str

    def publish(self, announcements: Sequence[Deliverable], go_on: Callable[[], bool]) -> PublishResult:
        """Publishes in as few calls as the channel allows, each only if `go_on` says there is time for
        it; per-entry failures come back, not raised."""
        ...

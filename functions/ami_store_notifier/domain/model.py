"""The typed values the notifier reasons about. Nothing here knows about AWS SDKs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ami_store_notifier.domain.store_watch import StoreWatch


class TaskState(StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"

    @classmethod
    def known(cls) -> tuple[TaskState, ...]:
        return tuple(cls)

    @classmethod
    def parse(cls, name: str) -> TaskState | None:
        """The state for an EC2 state name, or None for a name EC2 may add in the future."""
        try:
            return cls(name)
        except ValueError:
            return None

    @property
    def is_terminal(self) -> bool:
        return self is not TaskState.IN_PROGRESS


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, the form EC2 itself uses."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def task_key(ami_id: str, task_start_time: datetime) -> str:
    """A task's identity within a region: a later store of the same AMI is another task."""
    return f"{ami_id}#{format_timestamp(task_start_time)}"


def split_task_key(key: str) -> tuple[str, datetime]:
    ami_id, _, start = key.partition("#")
    return ami_id, parse_timestamp(start)


@dataclass(frozen=True)
class StoreTask:
    """One entry of the DescribeStoreImageTasks listing."""

    ami_id: str
    bucket: str
    s3_object_key: str
    task_start_time: datetime
    state_name: str
    progress_percentage: int | None = None
    failure_reason: str | None = None

    @property
    def state(self) -> TaskState | None:
        return TaskState.parse(self.state_name)

    @property
    def key(self) -> str:
        return task_key(self.ami_id, self.task_start_time)


@dataclass(frozen=True)
class ListingAnomaly:
    """A listing entry that was malformed: repaired and kept, or skipped when it cannot be understood."""

    reason: str
    entry: str
    skipped: bool


# The batch of the deliveries an earlier version kept in the cursor item itself; a run takes them over
# into a batch of their own once their leases end.
LEGACY_BATCH = 0


@dataclass(frozen=True)
class PendingDelivery:
    """One announcement (a state change, or a notice: domain/notices.py) still owed to one channel, held
    under a lease by the run that claimed it.

    Deliveries are kept in batches, one per commit step that claimed or took them over; a batch's
    deliveries share one lease, so a later run takes over a whole batch at once."""

    channel: str
    # A TaskState, or the name of a notice's kind (domain/notices.py: Milestone).
    milestone: str
    key: str
    lease_expires_at: int
    batch: int = LEGACY_BATCH

    @property
    def entry_id(self) -> str:
        return f"{self.channel}|{self.milestone}|{self.key}"

    @classmethod
    def from_entry(cls, entry_id: str, lease_expires_at: int, batch: int) -> PendingDelivery:
        channel, milestone, key = entry_id.split("|", 2)
        return cls(channel, milestone, key, lease_expires_at, batch)

    def moved_to(self, batch: int, lease_expires_at: int) -> PendingDelivery:
        return PendingDelivery(self.channel, self.milestone, self.key, lease_expires_at, batch)


class ReadMode(Enum):
    BASELINE = "baseline"
    FULL_SCAN = "full-scan"
    HEAD = "head"
    # A run for the AMIs that hints name (domain/hints.py): it reads no listing, so it leaves the cursor's
    # reading (high-water mark, safety net, a read in progress) as it found it.
    HINTS = "hints"


class ReadPhase(StrEnum):
    """The two listings a read goes through: the whole listing down to its floor, then (except for a
    head read) the tasks in progress."""

    LISTING = "listing"
    SWEEP = "sweep"


@dataclass(frozen=True)
class ReadProgress:
    """A read that an earlier run left unfinished (call budget, time, claims or AWS ran out). The next
    run goes on from `token` in `phase` (None: that phase's first page) rather than starting over,
    so a listing longer than one run's budget is still read to its floor over a few runs."""

    mode: ReadMode
    phase: ReadPhase
    token: str | None
    newest_start: datetime | None


@dataclass(frozen=True)
class Cursor:
    """What the notifier has recorded about one region's listing, read at the start of each run.

    `known` maps task keys to recorded states for every task that started inside the overlap window
    below the high-water mark, and for every task still in progress whatever its age. A task older
    than the window and absent from `known` was recorded by an earlier run (or by the first-run
    baseline) and is left alone.
    """

    version: int = 0
    baselined: bool = False
    high_water_mark: datetime | None = None
    known: Mapping[str, TaskState] = field(default_factory=dict)
    pending: tuple[PendingDelivery, ...] = ()
    last_full_scan_at: datetime | None = None
    full_scan_horizon: datetime | None = None
    progress: ReadProgress | None = None
    # Until when a quietWhenIdle deployment reads at every run although it knows of no store in progress:
    # a start hint came before EC2 listed its task (domain/hints.py).
    awake_until: datetime | None = None
    # By task key: stores' sizes, progress and archives still to check (domain/store_watch.py).
    watches: Mapping[str, StoreWatch] = field(default_factory=dict)
    # Written by an earlier version, which kept the known tasks in the cursor item itself: the next
    # commit moves them into their own item.
    legacy_layout: bool = False


@dataclass(frozen=True)
class RecordedTask:
    """A task's own item in the state table."""

    key: str
    state: TaskState
    # The state changes and notices announced so far (their values, sorted).
    announced: tuple[str, ...] = ()

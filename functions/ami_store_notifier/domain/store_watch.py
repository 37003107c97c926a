"""What the notifier keeps of a store beyond its state, as pure logic: its size for the store quota, the
progress it last saw move for stalls, and, once it completed, that its archive is still to check.

Stall default: AWS publishes no typical durations; a store takes as long as its AMI's size and the stores
queued before it make it ("How AMI store and restore works", EC2 user guide:
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/store-restore-how-it-works.html). The largest AMI a
store takes is 5,000 GB, so one percentage point is at most 50 GB: two hours without a point means less
than 7 MB/s, far below what a store moves unless it is stuck, and long enough that a store queued behind
one or two others is not called stalled.

Only the notifier's own observations count: a watch notes when a run last saw the store (at most every
WATCH_REFRESH), and a longer gap than `pause_after(stall_after)` between two notes (the notifier paused, or
failed) restarts the clock, so a notifier that was not looking never calls a store stalled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ami_store_notifier.domain.model import StoreTask

DEFAULT_STALL_AFTER_MINUTES = 120
# A watch is rewritten when the progress moved or the store was last noted this long ago, not at every
# run: the item holds every store in progress, and DynamoDB bills a write by the whole item.
WATCH_REFRESH = timedelta(minutes=10)
# At most 1,200 stores are in progress at once (1,200 GB, and an AMI's smallest snapshot is 1 GiB);
# beyond these, stores are neither sized nor watched for stalls (the item must stay under 400 KB).
MAX_WATCHED_IN_PROGRESS = 1500
# Archives whose check waits for S3 (throttled, failing): past these the oldest are concluded unanswered,
# so that the item stays under 400 KB with MAX_WATCHED_IN_PROGRESS stores beside them.
MAX_ARCHIVES_WAITING = 1000


@dataclass(frozen=True)
class StoreWatch:
    # GiB of snapshot data (None: EC2 did not describe the AMI); `sized` False: not asked yet.
    snapshot_gb: int | None = None
    sized: bool = False
    progress: int | None = None
    progress_since: datetime | None = None
    seen_at: datetime | None = None
    stalled: bool = False
    # Set once the store completed and its archive is still to check.
    bucket: str | None = None
    object_key: str | None = None
    completed_seen_at: datetime | None = None

    @property
    def awaits_check(self) -> bool:
        return self.completed_seen_at is not None

    def awaiting_check(self, task: StoreTask, now: datetime) -> StoreWatch:
        return StoreWatch(
            bucket=task.bucket,
            object_key=task.s3_object_key,
            completed_seen_at=self.completed_seen_at or now,
        )

    def sized_as(self, gigabytes: int | None) -> StoreWatch:
        return replace(self, snapshot_gb=gigabytes, sized=True)


def pause_after(stall_after: timedelta) -> timedelta:
    """The gap between two notes of a watch that means the notifier was not looking: half the stall time,
    and never under three notes' worth, which a notifier running on schedule always writes."""
    return max(stall_after / 2, 3 * WATCH_REFRESH)


def refresh_due(watches: Iterable[StoreWatch], now: datetime) -> bool:
    """Whether a run notes what it saw: once the oldest note is WATCH_REFRESH old, every store is noted
    at once, so the item is rewritten at most that often however many stores are in progress."""
    return any(watch.seen_at is not None and now - watch.seen_at >= WATCH_REFRESH for watch in watches)


def observed(
    watch: StoreWatch, task: StoreTask, now: datetime, stall_after: timedelta, *, refresh: bool
) -> StoreWatch:
    """The watch after a run saw the store in progress at `task.progress_percentage`; noted only when
    `refresh` (refresh_due), or when it starts the watch's clock."""
    progress = task.progress_percentage
    if watch.seen_at is None or now - watch.seen_at > pause_after(stall_after):
        return replace(watch, progress=progress, progress_since=now, seen_at=now, stalled=False)
    if not refresh:
        return watch
    if progress != watch.progress:
        return replace(watch, progress=progress, progress_since=now, seen_at=now, stalled=False)
    return replace(watch, seen_at=now)


def stall_due(watch: StoreWatch, task: StoreTask, now: datetime, stall_after: timedelta) -> bool:
    """Whether the store's progress has stayed where the watch saw it for `stall_after`, not yet told."""
    return (
        not watch.stalled
        and watch.progress_since is not None
        and task.progress_percentage == watch.progress
        and now - watch.progress_since >= stall_after
    )


@dataclass(frozen=True)
class QuotaUse:
    gigabytes: int
    unsized: int


def quota_use(watches: Mapping[str, StoreWatch], in_progress: frozenset[str]) -> QuotaUse:
    """The GiB in the stores in progress, and how many of them have no known size."""
    sizes = [watches[key].snapshot_gb if key in watches else None for key in in_progress]
    return QuotaUse(sum(size or 0 for size in sizes), sum(1 for size in sizes if size is None))

"""The state table's items: their keys, and how the domain's values are written into them (cursor_items.py
reads the cursor's back).

Per region: the cursor (`CURSOR#<region>`, small: it is written by every commit step), the tasks the
cursor knows (`KNOWN#<region>`, written once a run), one item per batch of pending deliveries
(`LEASES#<region>#<batch>`), the stores' sizes, progress and archives still to check
(`WATCH#<region>`, written only when one of them changes), and one item per task with its recorded
state and announcements (`TASK#<region>#<task key>`). DynamoDB bills a write by the size of the whole
item, not of the change (DynamoDB developer guide, "Write request units"), so what changes at every step
is kept apart from what is large. Everything else that touches the table takes its keys from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, TypedDict

from ami_store_notifier.domain.claims import Claim
from ami_store_notifier.domain.model import PendingDelivery, ReadProgress, TaskState, format_timestamp
from ami_store_notifier.domain.planning import CursorUpdate
from ami_store_notifier.domain.store_watch import StoreWatch

if TYPE_CHECKING:
    from types_boto3_dynamodb.type_defs import AttributeValueTypeDef

PARTITION_KEY: Final = "pk"
# The table's time-to-live attribute: DynamoDB deletes an item some time after this epoch second.
TTL_ATTRIBUTE: Final = "expiresAt"
LEASE_BATCHES: Final = "leaseBatches"
LEASE_ENTRIES: Final = "entries"
_CURSOR_PREFIX = "CURSOR#"
_KNOWN_PREFIX = "KNOWN#"
_LEASES_PREFIX = "LEASES#"
_TASK_PREFIX = "TASK#"
_WATCH_PREFIX = "WATCH#"
# A store's size not asked for yet (None: EC2 did not describe its AMI).
NOT_SIZED = -1
_HINT_CALLS_PREFIX = "HINTCALLS#"


class HeadAttributes(TypedDict):
    """The cursor item's attributes that every commit step writes."""

    version: int
    baselined: bool
    highWaterMark: str | None
    lastFullScanAt: str | None
    fullScanHorizon: str | None
    progress: ProgressAttribute | None
    awakeUntil: str | None


class ProgressAttribute(TypedDict):
    mode: str
    phase: str
    token: str | None
    newestStart: str | None


class KnownItem(TypedDict):
    pk: str
    version: int
    known: dict[str, str]


class WatchItem(TypedDict):
    pk: str
    version: int
    # [GiB or NOT_SIZED, progress, progress since, seen at (epoch seconds), stalled (0 or 1)]
    stores: dict[str, list[int | None]]
    # [bucket, object key, completion seen at (epoch seconds)]
    archives: dict[str, list[str | int | None]]


class LeaseBatchItem(TypedDict):
    pk: str
    entries: set[str]
    leaseExpiresAt: int
    expiresAt: int


class TaskItem(TypedDict):
    pk: str
    region: str
    amiId: str
    bucket: str
    s3ObjectKey: str
    taskStartTime: str
    state: str
    recordedAt: str
    expiresAt: int
    # A notice's or a state change's detail (JSON), by milestone.
    announcements: dict[str, str]


def cursor_pk(region: str) -> str:
    return f"{_CURSOR_PREFIX}{region}"


def known_pk(region: str) -> str:
    return f"{_KNOWN_PREFIX}{region}"


def watch_pk(region: str) -> str:
    return f"{_WATCH_PREFIX}{region}"


def lease_batch_pk(region: str, batch: int) -> str:
    return f"{_LEASES_PREFIX}{region}#{batch}"


def task_pk(region: str, task_key: str) -> str:
    return f"{_TASK_PREFIX}{region}#{task_key}"


def hint_calls_pk(region: str, minute: datetime) -> str:
    """The count of the DescribeStoreImageTasks calls hint runs made in one minute of one region."""
    return f"{_HINT_CALLS_PREFIX}{region}#{format_timestamp(minute.replace(second=0, microsecond=0))}"


def task_key_of(pk: str) -> str:
    """The task key inside a task item's partition key."""
    return pk.split("#", 2)[2]


def key(pk: str) -> dict[str, AttributeValueTypeDef]:
    return {PARTITION_KEY: {"S": pk}}


def _timestamp_or_none(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def head_attributes(version: int, cursor: CursorUpdate) -> HeadAttributes:
    """The cursor item's attributes but its set of lease batches, which DynamoDB cannot store empty."""
    return {
        "version": version,
        "baselined": cursor.baselined,
        "highWaterMark": _timestamp_or_none(cursor.high_water_mark),
        "lastFullScanAt": _timestamp_or_none(cursor.last_full_scan_at),
        "fullScanHorizon": _timestamp_or_none(cursor.full_scan_horizon),
        "progress": _progress_attribute(cursor.progress),
        "awakeUntil": _timestamp_or_none(cursor.awake_until),
    }


def known_item(region: str, version: int, known: Mapping[str, TaskState]) -> KnownItem:
    return {
        PARTITION_KEY: known_pk(region),
        "version": version,
        "known": {task: state.value for task, state in known.items()},
    }


def watch_item(region: str, version: int, watches: Mapping[str, StoreWatch]) -> WatchItem:
    """A store in progress is its key and numbers (GiB, progress, two epoch seconds), an archive still to
    check its key, bucket and object key: at the bounds of store_watch.py (MAX_WATCHED_IN_PROGRESS,
    MAX_ARCHIVES_WAITING) and the longest names, 253 KB of DynamoDB's 400 KB an item
    (tests/unit/test_store_watch_item.py); small to rewrite in the usual case, as DynamoDB bills a write by
    the whole item."""
    stores = {key: _store_attribute(watch) for key, watch in watches.items() if not watch.awaits_check}
    archives = {key: _archive_attribute(watch) for key, watch in watches.items() if watch.awaits_check}
    return {PARTITION_KEY: watch_pk(region), "version": version, "stores": stores, "archives": archives}


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _store_attribute(watch: StoreWatch) -> list[int | None]:
    size = watch.snapshot_gb if watch.sized else NOT_SIZED
    stalled = 1 if watch.stalled else 0
    return [size, watch.progress, _epoch(watch.progress_since), _epoch(watch.seen_at), stalled]


def _archive_attribute(watch: StoreWatch) -> list[str | int | None]:
    return [watch.bucket, watch.object_key, _epoch(watch.completed_seen_at)]


def lease_batch_item(
    region: str, batch: int, leases: Sequence[PendingDelivery], *, now: datetime, ttl: timedelta
) -> LeaseBatchItem:
    """A batch of deliveries under one lease. Once delivered it is emptied, and the TTL removes it."""
    return {
        PARTITION_KEY: lease_batch_pk(region, batch),
        LEASE_ENTRIES: {lease.entry_id for lease in leases},
        "leaseExpiresAt": max(lease.lease_expires_at for lease in leases),
        TTL_ATTRIBUTE: int((now + ttl).timestamp()),
    }


def _progress_attribute(progress: ReadProgress | None) -> ProgressAttribute | None:
    if progress is None:
        return None
    return {
        "mode": progress.mode.value,
        "phase": progress.phase.value,
        "token": progress.token,
        "newestStart": _timestamp_or_none(progress.newest_start),
    }


def new_task_item(region: str, claim: Claim, *, now: datetime, ttl: timedelta) -> TaskItem:
    """The item of a task recorded for the first time; it expires `ttl` after the task started."""
    task = claim.task
    return {
        PARTITION_KEY: task_pk(region, task.key),
        "region": region,
        "amiId": task.ami_id,
        "bucket": task.bucket,
        "s3ObjectKey": task.s3_object_key,
        "taskStartTime": format_timestamp(task.task_start_time),
        "state": claim.state.value,
        "recordedAt": format_timestamp(now),
        TTL_ATTRIBUTE: int((task.task_start_time + ttl).timestamp()),
        "announcements": announcements_of(claim),
    }


def announcements_of(claim: Claim) -> dict[str, str]:
    """The details a claim records, by milestone."""
    return {milestone: announced.detail_json() for milestone, announced in claim.announced().items()}

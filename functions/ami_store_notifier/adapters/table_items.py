"""The state table's items: their keys, and how the domain's values are written into them and read back.

Per region: the cursor (`CURSOR#<region>`, small: it is written by every commit step), the tasks the
cursor knows (`KNOWN#<region>`, written once a run), one item per batch of pending deliveries
(`LEASES#<region>#<batch>`), the stores' sizes, progress and archives still to check
(`WATCH#<region>`, written only when one of them changes), and one item per task with its recorded
state and announcements (`TASK#<region>#<task key>`). DynamoDB bills a write by the size of the whole
item, not of the change (DynamoDB developer guide, "Write request units"), so what changes at every step
is kept apart from what is large. Everything else that touches the table goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ami_store_notifier.domain.model import (
    LEGACY_BATCH,
    Cursor,
    PendingDelivery,
    ReadMode,
    ReadPhase,
    ReadProgress,
    TaskState,
    format_timestamp,
    parse_timestamp,
)
from ami_store_notifier.domain.planning import CursorUpdate
from ami_store_notifier.domain.reading import Claim
from ami_store_notifier.domain.store_watch import StoreWatch

PARTITION_KEY = "pk"
# The table's time-to-live attribute: DynamoDB deletes an item some time after this epoch second.
TTL_ATTRIBUTE = "expiresAt"
LEASE_BATCHES = "leaseBatches"
LEASE_ENTRIES = "entries"
_CURSOR_PREFIX = "CURSOR#"
_KNOWN_PREFIX = "KNOWN#"
_LEASES_PREFIX = "LEASES#"
_TASK_PREFIX = "TASK#"
_WATCH_PREFIX = "WATCH#"
# A store's size not asked for yet (None: EC2 did not describe its AMI).
_NOT_SIZED = -1
_HINT_CALLS_PREFIX = "HINTCALLS#"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


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


def key(pk: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": pk}}


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _timestamp_or_none(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def _parse_or_none(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def cursor_from_items(
    head: Mapping[str, Any],
    known: Mapping[str, Any] | None,
    batches: Mapping[int, Mapping[str, Any]],
    watches: Mapping[str, Any] | None = None,
) -> Cursor:
    """The cursor from its items, as `from_item` decoded them. A cursor written by an earlier version
    holds its known tasks and its pending deliveries (the legacy batch) in the head item itself."""
    legacy = [
        PendingDelivery.from_entry(entry, int(lease), LEGACY_BATCH)
        for entry, lease in head.get("pending", {}).items()
    ]
    batched = [
        PendingDelivery.from_entry(entry, int(item["leaseExpiresAt"]), batch)
        for batch, item in sorted(batches.items())
        for entry in sorted(item.get(LEASE_ENTRIES, ()))
    ]
    legacy_layout = known is None and "known" in head
    known_tasks = (known or head).get("known", {})
    return Cursor(
        version=int(head["version"]),
        baselined=bool(head.get("baselined", False)),
        high_water_mark=_parse_or_none(head.get("highWaterMark")),
        known={task: TaskState(state) for task, state in known_tasks.items()},
        pending=tuple(legacy + batched),
        last_full_scan_at=_parse_or_none(head.get("lastFullScanAt")),
        full_scan_horizon=_parse_or_none(head.get("fullScanHorizon")),
        progress=_progress_or_none(head.get("progress")),
        awake_until=_parse_or_none(head.get("awakeUntil")),
        watches=watches_from_item(watches or {}),
        legacy_layout=legacy_layout,
    )


def lease_batches_of(head: Mapping[str, Any]) -> list[int]:
    return sorted(int(batch) for batch in head.get(LEASE_BATCHES, ()))


def head_attributes(version: int, cursor: CursorUpdate) -> dict[str, Any]:
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


def known_item(region: str, version: int, known: Mapping[str, TaskState]) -> dict[str, Any]:
    return {
        PARTITION_KEY: known_pk(region),
        "version": version,
        "known": {task: state.value for task, state in known.items()},
    }


def watch_item(region: str, version: int, watches: Mapping[str, StoreWatch]) -> dict[str, Any]:
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


def _moment(epoch: Any) -> datetime | None:
    return datetime.fromtimestamp(int(epoch), UTC) if epoch is not None else None


def _store_attribute(watch: StoreWatch) -> list[Any]:
    size = watch.snapshot_gb if watch.sized else _NOT_SIZED
    stalled = 1 if watch.stalled else 0
    return [size, watch.progress, _epoch(watch.progress_since), _epoch(watch.seen_at), stalled]


def _archive_attribute(watch: StoreWatch) -> list[Any]:
    return [watch.bucket, watch.object_key, _epoch(watch.completed_seen_at)]


def watches_from_item(item: Mapping[str, Any]) -> dict[str, StoreWatch]:
    watches = {}
    for key, (size, progress, since, seen, stalled) in item.get("stores", {}).items():
        watches[key] = StoreWatch(
            snapshot_gb=None if size is None or size == _NOT_SIZED else int(size),
            sized=size != _NOT_SIZED,
            progress=None if progress is None else int(progress),
            progress_since=_moment(since),
            seen_at=_moment(seen),
            stalled=bool(stalled),
        )
    for key, (bucket, object_key, completed) in item.get("archives", {}).items():
        watches[key] = StoreWatch(bucket=bucket, object_key=object_key, completed_seen_at=_moment(completed))
    return watches


def lease_batch_item(
    region: str, batch: int, leases: Sequence[PendingDelivery], *, now: datetime, ttl: timedelta
) -> dict[str, Any]:
    """A batch of deliveries under one lease. Once delivered it is emptied, and the TTL removes it."""
    return {
        PARTITION_KEY: lease_batch_pk(region, batch),
        LEASE_ENTRIES: {lease.entry_id for lease in leases},
        "leaseExpiresAt": max(lease.lease_expires_at for lease in leases),
        TTL_ATTRIBUTE: int((now + ttl).timestamp()),
    }


def _progress_attribute(progress: ReadProgress | None) -> dict[str, Any] | None:
    if progress is None:
        return None
    return {
        "mode": progress.mode.value,
        "phase": progress.phase.value,
        "token": progress.token,
        "newestStart": _timestamp_or_none(progress.newest_start),
    }


def _progress_or_none(value: Any) -> ReadProgress | None:
    if not isinstance(value, Mapping):
        return None
    return ReadProgress(
        mode=ReadMode(value["mode"]),
        phase=ReadPhase(value["phase"]),
        token=value.get("token"),
        newest_start=_parse_or_none(value.get("newestStart")),
    )


def new_task_item(region: str, claim: Claim, *, now: datetime, ttl: timedelta) -> dict[str, Any]:
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

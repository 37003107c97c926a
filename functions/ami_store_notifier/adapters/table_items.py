"""The state table's items: their keys, and how the domain's values are written into them and read back.

One item per region holds the cursor (`CURSOR#<region>`), and one item per task its recorded state and
announcements (`TASK#<region>#<task key>`). Everything else that touches the table goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ami_store_notifier.domain.model import (
    Cursor,
    PendingDelivery,
    TaskState,
    format_timestamp,
    parse_timestamp,
)
from ami_store_notifier.domain.planning import CursorUpdate
from ami_store_notifier.domain.reading import Claim

PARTITION_KEY = "pk"
_CURSOR_PREFIX = "CURSOR#"
_TASK_PREFIX = "TASK#"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def cursor_pk(region: str) -> str:
    return f"{_CURSOR_PREFIX}{region}"


def task_pk(region: str, task_key: str) -> str:
    return f"{_TASK_PREFIX}{region}#{task_key}"


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


def cursor_from_item(item: Mapping[str, Any]) -> Cursor:
    data = from_item(item)
    return Cursor(
        version=int(data["version"]),
        baselined=bool(data.get("baselined", False)),
        high_water_mark=_parse_or_none(data.get("highWaterMark")),
        known={task: TaskState(state) for task, state in data.get("known", {}).items()},
        pending=tuple(
            PendingDelivery.from_entry(entry, int(lease)) for entry, lease in data.get("pending", {}).items()
        ),
        last_full_scan_at=_parse_or_none(data.get("lastFullScanAt")),
        full_scan_horizon=_parse_or_none(data.get("fullScanHorizon")),
    )


def cursor_attributes(version: int, cursor: CursorUpdate) -> dict[str, Any]:
    """The cursor item's attributes but its pending deliveries, which are written path by path."""
    return {
        "version": version,
        "baselined": cursor.baselined,
        "highWaterMark": _timestamp_or_none(cursor.high_water_mark),
        "known": {task: state.value for task, state in cursor.known.items()},
        "lastFullScanAt": _timestamp_or_none(cursor.last_full_scan_at),
        "fullScanHorizon": _timestamp_or_none(cursor.full_scan_horizon),
    }


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
        "expiresAt": int((task.task_start_time + ttl).timestamp()),
        "announcements": {claim.state.value: claim.announcement.detail_json()} if claim.announcement else {},
    }

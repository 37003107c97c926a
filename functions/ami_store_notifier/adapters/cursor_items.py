"""The cursor read back from its items (table_items.py writes them): the head, the known tasks, the
batches of pending deliveries and the store watches, as `from_item` decoded them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ami_store_notifier.adapters.item_values import (
    Item,
    ItemValue,
    mapping,
    members,
    number,
    text,
    text_or_none,
)
from ami_store_notifier.adapters.table_items import LEASE_BATCHES, LEASE_ENTRIES, NOT_SIZED
from ami_store_notifier.domain.model import (
    LEGACY_BATCH,
    Cursor,
    PendingDelivery,
    ReadMode,
    ReadPhase,
    ReadProgress,
    TaskState,
    parse_timestamp,
)
from ami_store_notifier.domain.store_watch import StoreWatch


def _parse_or_none(value: ItemValue) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def cursor_from_items(
    head: Item, known: Item | None, batches: Mapping[int, Item], watches: Item | None = None
) -> Cursor:
    """The cursor from its items, as `from_item` decoded them. A cursor written by an earlier version
    holds its known tasks and its pending deliveries (the legacy batch) in the head item itself."""
    legacy = [
        PendingDelivery.from_entry(entry, number(lease), LEGACY_BATCH)
        for entry, lease in mapping(head.get("pending")).items()
    ]
    batched = [
        PendingDelivery.from_entry(entry, number(item["leaseExpiresAt"]), batch)
        for batch, item in sorted(batches.items())
        for entry in sorted(map(text, members(item.get(LEASE_ENTRIES))))
    ]
    legacy_layout = known is None and "known" in head
    known_tasks = mapping((known or head).get("known"))
    return Cursor(
        version=number(head["version"]),
        baselined=bool(head.get("baselined", False)),
        high_water_mark=_parse_or_none(head.get("highWaterMark")),
        known={task: TaskState(text(state)) for task, state in known_tasks.items()},
        pending=tuple(legacy + batched),
        last_full_scan_at=_parse_or_none(head.get("lastFullScanAt")),
        full_scan_horizon=_parse_or_none(head.get("fullScanHorizon")),
        progress=_progress_or_none(head.get("progress")),
        awake_until=_parse_or_none(head.get("awakeUntil")),
        watches=watches_from_item(watches or {}),
        legacy_layout=legacy_layout,
    )


def lease_batches_of(head: Item) -> list[int]:
    return sorted(number(batch) for batch in members(head.get(LEASE_BATCHES)))


def _moment(epoch: ItemValue) -> datetime | None:
    return datetime.fromtimestamp(number(epoch), UTC) if epoch is not None else None


def watches_from_item(item: Item) -> dict[str, StoreWatch]:
    watches = {}
    for key, store in mapping(item.get("stores")).items():
        size, progress, since, seen, stalled = members(store)
        watches[key] = StoreWatch(
            snapshot_gb=None if size is None or size == NOT_SIZED else number(size),
            sized=size != NOT_SIZED,
            progress=None if progress is None else number(progress),
            progress_since=_moment(since),
            seen_at=_moment(seen),
            stalled=bool(stalled),
        )
    for key, archive in mapping(item.get("archives")).items():
        bucket, object_key, completed = members(archive)
        watches[key] = StoreWatch(
            bucket=text_or_none(bucket),
            object_key=text_or_none(object_key),
            completed_seen_at=_moment(completed),
        )
    return watches


def _progress_or_none(value: ItemValue) -> ReadProgress | None:
    if not isinstance(value, Mapping):
        return None
    return ReadProgress(
        mode=ReadMode(text(value["mode"])),
        phase=ReadPhase(text(value["phase"])),
        token=text_or_none(value.get("token")),
        newest_start=_parse_or_none(value.get("newestStart")),
    )

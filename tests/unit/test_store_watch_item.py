"""The store watches are one DynamoDB item: at their bounds they stay under its 400 KB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ami_store_notifier.adapters.item_values import to_item
from ami_store_notifier.adapters.table_items import watch_item
from ami_store_notifier.domain.known_tasks import ITEM_SIZE_LIMIT_BYTES
from ami_store_notifier.domain.model import task_key
from ami_store_notifier.domain.store_watch import MAX_ARCHIVES_WAITING, MAX_WATCHED_IN_PROGRESS, StoreWatch
from bench.meter import item_size

LONGEST_REGION = "ap-southeast-7"
LONGEST_BUCKET = "b" * 63
START = datetime(2026, 11, 1, tzinfo=UTC)


def key(index: int) -> str:
    return task_key(f"ami-{index:017x}", START + timedelta(seconds=index))


def test_the_most_stores_in_progress_and_archives_waiting_fit_in_one_item():
    in_progress = {
        key(index): StoreWatch(5_000, True, 100, START, START, True)
        for index in range(MAX_WATCHED_IN_PROGRESS)
    }
    waiting = {
        key(MAX_WATCHED_IN_PROGRESS + index): StoreWatch(
            bucket=LONGEST_BUCKET, object_key=f"ami-{index:017x}.bin", completed_seen_at=START
        )
        for index in range(MAX_ARCHIVES_WAITING)
    }

    size = item_size(to_item(watch_item(LONGEST_REGION, 10**12, in_progress | waiting)))

    assert size <= ITEM_SIZE_LIMIT_BYTES

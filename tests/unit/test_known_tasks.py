"""What the cursor keeps of the tasks it knows stays far below DynamoDB's item limit, whatever the backlog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ami_store_notifier.adapters.item_values import to_item
from ami_store_notifier.adapters.table_items import known_item
from ami_store_notifier.domain.known_tasks import (
    ITEM_SIZE_LIMIT_BYTES,
    LARGEST_ENTRY_BYTES,
    MAX_FINISHED_KEPT,
    MAX_OVERLAP_MINUTES,
    kept_tasks,
    stores_started_within,
)
from ami_store_notifier.domain.model import TaskState, split_task_key, task_key
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN
from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from bench.meter import item_size

COMPLETED, IN_PROGRESS = TaskState.COMPLETED, TaskState.IN_PROGRESS
LONGEST_REGION = "ap-southeast-7"
START = datetime(2026, 11, 1, tzinfo=UTC)
SMALLEST_AMI_GB = 1


def keys(count: int, *, every_seconds: float = 10, offset: int = 0) -> list[str]:
    return [
        task_key(f"ami-{offset + index:017x}", START + timedelta(seconds=every_seconds * index))
        for index in range(count)
    ]


def test_a_window_at_the_longest_overlap_the_setting_accepts_fits_among_the_finished_tasks_kept():
    assert stores_started_within(MAX_OVERLAP_MINUTES * 60) <= MAX_FINISHED_KEPT


def test_the_item_holds_the_finished_tasks_kept_and_twelve_hours_of_stores_in_progress_within_400_kb():
    in_progress_room = STORE_QUOTA_GB // SMALLEST_AMI_GB + stores_started_within(12 * 3600)
    known = dict.fromkeys(keys(in_progress_room), IN_PROGRESS)
    known |= dict.fromkeys(keys(MAX_FINISHED_KEPT, offset=in_progress_room), COMPLETED)

    size = item_size(to_item(known_item(LONGEST_REGION, 10**12, known)))

    assert max(len(key) + len(state.value) + 1 for key, state in known.items()) == LARGEST_ENTRY_BYTES
    assert size <= ITEM_SIZE_LIMIT_BYTES
    assert size > 0.9 * (in_progress_room + MAX_FINISHED_KEPT) * LARGEST_ENTRY_BYTES, "no entry is missing"


def test_finished_tasks_are_kept_only_in_the_windows_a_later_read_meets_again():
    overlap = timedelta(minutes=15)
    previous_mark = START + timedelta(hours=1)
    read_newest = START + timedelta(hours=30)
    every_minute = keys(31 * 60, every_seconds=60)
    last_page = set(every_minute[600:610])
    known = dict.fromkeys(every_minute, COMPLETED) | {every_minute[900]: IN_PROGRESS}

    kept = kept_tasks(
        known, read_newest=read_newest, previous_mark=previous_mark, overlap=overlap, last_page=last_page
    )

    def started_within(low: datetime, high: datetime) -> set[str]:
        return {key for key in every_minute if low <= split_task_key(key)[1] <= high}

    from_newest_on = started_within(read_newest - overlap, datetime.max.replace(tzinfo=UTC))
    below_previous_mark = started_within(previous_mark - overlap, previous_mark)
    assert set(kept) == from_newest_on | below_previous_mark | last_page | {every_minute[900]}


def test_past_the_cap_the_last_page_and_the_newest_finished_tasks_are_kept_and_every_task_in_progress():
    finished = keys(MAX_FINISHED_KEPT + 500)
    running = keys(2000, offset=10**6)
    last_page = set(finished[:200])
    known = dict.fromkeys(finished, COMPLETED) | dict.fromkeys(running, IN_PROGRESS)

    kept = kept_tasks(
        known, read_newest=None, previous_mark=None, overlap=timedelta(minutes=15), last_page=last_page
    )

    assert set(running) <= set(kept)
    assert last_page <= set(kept)
    newest_kept = finished[-(MAX_FINISHED_KEPT - len(last_page)) :]
    assert set(kept) == set(running) | last_page | set(newest_kept)


def test_a_catch_up_of_ten_thousand_stores_announces_each_once_and_keeps_the_item_bounded(
    make_poller, make_task, source, store, sns, clock
):
    make_poller().run()
    clock.now += timedelta(days=2)
    source.put(
        *(make_task(COMPLETED, started_minutes_ago=2 * 24 * 60 - index * 0.25) for index in range(10_000))
    )

    largest_known = 0
    for _ in range(10_000 // MAX_CLAIMS_PER_RUN + 2):
        clock.now += timedelta(minutes=1)
        report = make_poller().run()
        assert report.stopped_because in (None, "claim-limit"), report.stopped_because
        largest_known = max(largest_known, len(store.cursor.known))

    assert len(sns.sent) == len({item.event_id for item in sns.sent}) == 10_000
    assert largest_known <= MAX_FINISHED_KEPT
    assert store.cursor.progress is None

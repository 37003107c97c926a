"""The listing reader on its own: which tasks moved, what it claims, and where it stops reading."""

from __future__ import annotations

from dataclasses import replace

from ami_store_notifier.domain.model import Cursor, ReadMode, RecordedTask, TaskState
from ami_store_notifier.domain.reading import ListingReader
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
from tests.world import ACCOUNT, REGION

COMPLETED, FAILED, IN_PROGRESS = TaskState.COMPLETED, TaskState.FAILED, TaskState.IN_PROGRESS


def reader_for(cursor, policy, clock):
    return ListingReader(cursor, policy, region=REGION, account=ACCOUNT, now=clock.now)


def test_a_fresh_cursor_is_read_as_a_baseline_and_a_stale_scan_as_a_full_scan(baselined, policy, clock):
    assert reader_for(Cursor(), policy, clock).mode is ReadMode.BASELINE
    assert reader_for(baselined, policy, clock).mode is ReadMode.HEAD
    stale = replace(baselined, last_full_scan_at=clock.now - policy.full_scan_interval)
    assert reader_for(stale, policy, clock).mode is ReadMode.FULL_SCAN


def test_a_new_finished_task_above_the_horizon_is_claimed_and_announced(baselined, policy, clock, make_task):
    reader = reader_for(baselined, policy, clock)
    task = make_task(COMPLETED, started_minutes_ago=5)

    reader.observe_page([task], has_more=False)

    claim = reader.claims[task.key]
    assert (claim.state, claim.previous_state) == (COMPLETED, None)
    assert claim.announcement is not None
    assert claim.announcement.detail()["state"] == "Completed"


def test_a_tracked_task_that_failed_is_claimed_from_in_progress(baselined, policy, clock, make_task):
    task = make_task(FAILED, started_minutes_ago=120, failure_reason="snapshot gone")
    reader = reader_for(replace(baselined, known={task.key: IN_PROGRESS}), policy, clock)

    reader.observe_page([task], has_more=False)

    assert reader.claims[task.key].previous_state is IN_PROGRESS
    assert reader.unseen_tracked() == []


def test_reading_stops_at_the_horizon_when_rechecks_are_cheaper(baselined, policy, clock, make_task):
    reader = reader_for(baselined, policy, clock)
    page = [make_task(COMPLETED, started_minutes_ago=minutes) for minutes in (10, 40, 50)]

    assert reader.observe_page(page, has_more=True) is False
    assert reader.findings.listing_complete


def test_reading_goes_on_past_the_horizon_when_the_next_page_likely_shows_the_rest_of_the_tracked_tasks(
    baselined, policy, clock, make_task
):
    tracked = [make_task(IN_PROGRESS, started_minutes_ago=40 + index / 10) for index in range(250)]
    reader = reader_for(replace(baselined, known={task.key: IN_PROGRESS for task in tracked}), policy, clock)

    assert reader.observe_page(tracked[:200], has_more=True) is True, (
        "one more page shows the last 50, where 2 pages of the tasks in progress or 3 re-checks would"
    )


def test_reading_stops_at_the_horizon_when_one_page_of_the_tasks_in_progress_shows_every_tracked_one(
    baselined, policy, clock, make_task
):
    tracked = [make_task(IN_PROGRESS, started_minutes_ago=60 + index) for index in range(30)]
    reader = reader_for(replace(baselined, known={task.key: IN_PROGRESS for task in tracked}), policy, clock)
    page = [make_task(COMPLETED, started_minutes_ago=minutes) for minutes in (20, 40, 50)]

    assert len(tracked) > MAX_IMAGE_IDS_PER_CALL
    assert reader.observe_page(page, has_more=True) is False
    assert reader.needs_in_progress_sweep


def test_a_task_in_an_unknown_state_is_noted_and_not_claimed(baselined, policy, clock, make_task):
    reader = reader_for(baselined, policy, clock)
    task = make_task("Paused", started_minutes_ago=5)

    reader.observe_page([task], has_more=False)

    assert reader.claims == {}
    assert reader.report().unknown_states == (task,)


def test_a_task_dated_in_the_future_is_claimed_but_never_becomes_the_newest(
    baselined, policy, clock, make_task
):
    reader = reader_for(baselined, policy, clock)
    future, recent = (
        make_task(COMPLETED, started_minutes_ago=-60),
        make_task(COMPLETED, started_minutes_ago=2),
    )

    reader.observe_page([future, recent], has_more=False)

    assert set(reader.claims) == {future.key, recent.key}
    assert reader.findings.newest_start == recent.task_start_time
    assert reader.report().future_dated == (future,)


def test_the_baseline_tracks_tasks_in_progress_and_announces_no_history(policy, clock, make_task):
    reader = reader_for(Cursor(), policy, clock)
    running, old = (
        make_task(IN_PROGRESS, started_minutes_ago=5),
        make_task(COMPLETED, started_minutes_ago=600),
    )

    reader.observe_page([running, old], has_more=False)

    assert set(reader.claims) == {running.key}
    assert reader.claims[running.key].announcement is None


def test_a_full_scan_suspects_an_untracked_task_in_progress_below_the_horizon(
    baselined, policy, clock, make_task
):
    scan_due = replace(baselined, last_full_scan_at=None)
    reader = reader_for(scan_due, policy, clock)
    unknown = make_task(IN_PROGRESS, started_minutes_ago=300)

    reader.observe_page([unknown], has_more=False)
    assert reader.suspects == {unknown.key: unknown}

    reader.resolve([unknown], records={})
    assert reader.suspects == {}
    assert reader.claims[unknown.key].previous_state is None


def test_a_suspect_the_table_already_records_is_not_claimed_again(baselined, policy, clock, make_task):
    reader = reader_for(replace(baselined, last_full_scan_at=None), policy, clock)
    known = make_task(IN_PROGRESS, started_minutes_ago=300)
    reader.observe_page([known], has_more=False)

    reader.resolve([known], records={known.key: RecordedTask(known.key, IN_PROGRESS)})

    assert reader.claims == {}
    assert reader.known[known.key] is IN_PROGRESS


def test_a_recheck_tells_a_vanished_task_from_a_superseded_one(baselined, policy, clock, make_task):
    vanished = make_task(IN_PROGRESS, started_minutes_ago=200)
    superseded = make_task(IN_PROGRESS, started_minutes_ago=300)
    known = {vanished.key: IN_PROGRESS, superseded.key: IN_PROGRESS}
    reader = reader_for(replace(baselined, known=known), policy, clock)
    newer_store = make_task(IN_PROGRESS, ami_id=superseded.ami_id, started_minutes_ago=10)

    assert reader.tracked_amis_to_recheck() == sorted([vanished.ami_id, superseded.ami_id])
    reader.observe_recheck([newer_store])
    reader.recheck_finished()

    assert reader.departed() == ([vanished.key], [superseded.key])


def test_reading_stops_once_a_run_holds_as_many_claims_as_it_may(baselined, policy, clock, make_task):
    reader = reader_for(baselined, policy, clock)
    page = [
        make_task(COMPLETED, started_minutes_ago=1 + index / 1000) for index in range(MAX_CLAIMS_PER_RUN + 5)
    ]

    assert reader.observe_page(page, has_more=True) is False
    assert len(reader.claims) == MAX_CLAIMS_PER_RUN
    assert reader.findings.claim_limit_reached
    assert not reader.report().listing_complete

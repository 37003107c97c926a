from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ami_store_notifier.domain.announcements import event_id
from ami_store_notifier.domain.model import RecordedTask, TaskState

COMPLETED = TaskState.COMPLETED
FAILED = TaskState.FAILED
IN_PROGRESS = TaskState.IN_PROGRESS


def finish(task, state=COMPLETED, reason=None):
    return replace(task, state_name=state.value, progress_percentage=100, failure_reason=reason)


def test_first_run_records_history_without_announcing_and_tracks_tasks_in_progress(
    make_poller, make_task, source, store, sns, events
):
    old_done = make_task(COMPLETED, started_minutes_ago=600)
    old_failed = make_task(FAILED, started_minutes_ago=500, failure_reason="boom")
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    for task in (old_done, old_failed, running):
        source.put(task)

    report = make_poller().run()

    assert report.mode == "baseline"
    assert sns.sent == []
    assert events.sent == []
    assert store.cursor.baselined
    assert store.cursor.known == {running.key: IN_PROGRESS}
    assert store.recorded_state(running.key) is IN_PROGRESS


def test_a_tracked_task_that_completes_is_announced_once_on_both_channels(
    make_poller, make_task, source, store, sns, events, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    source.put(running)
    make_poller().run()

    source.put(finish(running))
    clock.now += timedelta(minutes=1)
    make_poller().run()
    clock.now += timedelta(minutes=1)
    make_poller().run()

    assert [(item.ami_id, item.state, item.previous_state) for item in sns.sent] == [
        (running.ami_id, "Completed", "InProgress")
    ]
    assert [item.event_id for item in events.sent] == [item.event_id for item in sns.sent]
    assert store.pending == {}


def test_a_task_that_starts_and_fails_between_two_polls_is_announced_with_no_previous_state(
    make_poller, make_task, source, sns, clock
):
    make_poller().run()
    failed = make_task(FAILED, started_minutes_ago=0.5, failure_reason="InvalidBucket")
    source.put(failed)
    clock.now += timedelta(minutes=1)

    make_poller().run()

    (announcement,) = sns.sent
    assert announcement.state == "Failed"
    assert announcement.previous_state is None
    assert announcement.failure_reason == "InvalidBucket"


def test_a_refused_publish_stays_pending_and_the_next_run_delivers_it(
    make_poller, make_task, source, store, sns, events, clock
):
    make_poller().run()
    done = make_task(COMPLETED, started_minutes_ago=0.5)
    source.put(done)
    clock.now += timedelta(minutes=1)
    events.refuse = {event_id("us-east-1", done.ami_id, done.task_start_time, COMPLETED)}

    first = make_poller().run()
    events.refuse = set()
    clock.now += timedelta(minutes=1)
    second = make_poller().run()

    assert first.publish_failures == 1
    assert len(sns.sent) == 1
    assert len(events.sent) == 1
    assert second.redelivered == 1
    assert store.pending == {}


def test_two_overlapping_runs_announce_a_transition_once(make_poller, make_task, source, store, sns, clock):
    make_poller().run()
    source.put(make_task(COMPLETED, started_minutes_ago=0.5))
    clock.now += timedelta(minutes=1)
    first, second = make_poller(), make_poller()
    stale_cursor = store.load_cursor()
    original_load = store.load_cursor
    store.load_cursor = lambda: stale_cursor

    first.run()
    report = second.run()
    store.load_cursor = original_load

    assert report.stopped_because == "overlapping-run"
    assert len(sns.sent) == 1


def test_with_little_time_left_the_run_stops_reading_and_the_next_run_finishes(
    make_poller, make_task, source, store, sns, clock
):
    make_poller().run()
    for minute in range(5):
        source.put(make_task(COMPLETED, started_minutes_ago=0.1 * (minute + 1)))
    clock.now += timedelta(minutes=1)
    budget = iter([60.0, 1.0])

    short = make_poller(page_size=2, seconds_left=lambda: next(budget, 1.0)).run()
    full = make_poller(page_size=2).run()

    assert short.stopped_because == "time"
    assert short.claims_committed == 2
    assert full.stopped_because is None
    assert len(sns.sent) == len({item.event_id for item in sns.sent}) == 5


def test_a_tracked_task_that_leaves_the_listing_is_not_announced(
    make_poller, make_task, source, store, sns, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    source.put(running)
    make_poller().run()
    source.tasks = []
    clock.now += timedelta(minutes=1)

    report = make_poller().run()

    assert report.vanished == 1
    assert sns.sent == []
    assert running.key not in store.cursor.known


def test_a_tracked_task_superseded_by_a_new_store_of_its_ami_is_not_announced(
    make_poller, make_task, source, store, sns, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    source.put(running)
    make_poller().run()
    clock.now += timedelta(minutes=1)
    source.put(make_task(IN_PROGRESS, ami_id=running.ami_id, started_minutes_ago=0.2))

    report = make_poller().run()

    assert report.superseded == 1
    assert sns.sent == []


def test_a_state_this_version_does_not_know_is_kept_and_reported_not_announced(
    make_poller, make_task, source, store, sns, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    source.put(running)
    make_poller().run()
    source.put(replace(running, state_name="Paused"))
    clock.now += timedelta(minutes=1)

    report = make_poller().run()

    assert report.unknown_states == 1
    assert sns.sent == []
    assert store.cursor.known[running.key] is IN_PROGRESS


def test_a_run_that_finds_the_known_tasks_behind_the_table_checks_all_its_claims_at_once(
    make_poller, make_task, source, store, sns, clock
):
    """A run cut short after some of its steps leaves the known tasks behind the table (only the last
    step rewrites them): the next run's claims are refused, and it must still finish in one run."""
    running = [make_task(IN_PROGRESS, started_minutes_ago=30 + index / 100) for index in range(260)]
    for task in running:
        source.put(task)
    make_poller().run()
    for task in running:
        source.put(finish(task))
        store.records[task.key] = RecordedTask(task.key, COMPLETED)

    clock.now += timedelta(minutes=1)
    report = make_poller().run()

    assert report.stopped_because is None
    assert sns.sent == []
    assert all(state is COMPLETED for state in store.cursor.known.values())

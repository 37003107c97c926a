"""How much of the listing a run reads, and what it does when it cannot read it all."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN, MAX_DESCRIBE_CALLS_PER_RUN

COMPLETED = TaskState.COMPLETED
IN_PROGRESS = TaskState.IN_PROGRESS


def seed_history(source, make_task, count, *, every_minutes=10.0, state=COMPLETED):
    tasks = [make_task(state, started_minutes_ago=60 + index * every_minutes) for index in range(count)]
    for task in tasks:
        source.put(task)
    return tasks


def calls_of_a_quiet_run(make_poller, source, clock):
    """EC2 calls of a run after the baseline and a first quiet run, with nothing new since."""
    make_poller().run()
    clock.now += timedelta(minutes=1)
    make_poller().run()
    before = source.calls
    clock.now += timedelta(minutes=1)
    make_poller().run()
    return source.calls - before


def test_with_nothing_new_a_run_reads_one_page_and_writes_nothing(
    make_poller, make_task, source, store, clock
):
    seed_history(source, make_task, 1000)
    make_poller().run()
    calls_before, commits_before = source.calls, store.commits
    clock.now += timedelta(minutes=1)

    make_poller().run()

    assert source.calls - calls_before == 1
    assert store.commits == commits_before


def test_the_safety_net_runs_once_an_hour(make_poller, make_task, source, clock):
    seed_history(source, make_task, 1000)
    make_poller().run()
    modes = []
    for _ in range(61):
        clock.now += timedelta(minutes=1)
        modes.append(make_poller().run().mode)

    assert modes.index("full-scan") == 59, (
        "the baseline was the first full read; the next is due an hour later"
    )
    assert modes.count("full-scan") == 1
    assert modes.count("head") == 60


def test_more_tracked_tasks_deep_in_the_listing_than_one_recheck_holds_are_found_by_one_sweep(
    make_poller, make_task, source, clock
):
    seed_history(source, make_task, 600)
    for task in seed_history(source, make_task, 30, every_minutes=7, state=IN_PROGRESS):
        source.put(replace(task, task_start_time=task.task_start_time - timedelta(days=3)))
    calls = calls_of_a_quiet_run(make_poller, source, clock)

    assert calls == 1 + 1, "the head page, then one page of the tasks in progress (not 2 re-checks by AMI)"


def test_a_few_tracked_tasks_deep_in_the_listing_are_rechecked_by_ami(make_poller, make_task, source, clock):
    seed_history(source, make_task, 600)
    for task in seed_history(source, make_task, 15, every_minutes=7, state=IN_PROGRESS):
        source.put(replace(task, task_start_time=task.task_start_time - timedelta(days=3)))

    assert calls_of_a_quiet_run(make_poller, source, clock) == 1 + 1


@pytest.mark.parametrize("history", [300, 3_000])
def test_the_first_run_and_the_safety_net_cost_the_same_few_calls_whatever_the_history(
    make_poller, make_task, source, clock, history
):
    seed_history(source, make_task, history, every_minutes=31 * 1440 / history)
    for minutes in (2, 5, 9):  # recent stores in progress, on the head page as in a steady account
        source.put(make_task(IN_PROGRESS, started_minutes_ago=minutes))
    first = source.calls
    make_poller().run()
    baseline = source.calls - first
    calls = []
    for _ in range(60):
        clock.now += timedelta(minutes=1)
        before = source.calls
        report = make_poller().run()
        calls.append((report.mode, source.calls - before))

    assert baseline == 1 + 1, "one head page, one page of the tasks in progress"
    (safety_net,) = [count for mode, count in calls if mode == "full-scan"]
    assert safety_net <= 3
    assert sum(count for _, count in calls) / len(calls) <= 1.1


def test_many_tracked_tasks_just_past_the_first_page_are_read_by_paging_not_by_ami(
    make_poller, make_task, source, clock
):
    seed_history(source, make_task, 400, every_minutes=1, state=IN_PROGRESS)
    calls = calls_of_a_quiet_run(make_poller, source, clock)

    assert calls == 2


def start_stores_beyond_the_head(source, make_task, count):
    """600 finished tasks 10 minutes apart, and `count` stores in progress among them past the first
    page (200 tasks), each halfway between two finished ones: the notifier tracks them all."""
    seed_history(source, make_task, 600)
    stores = [make_task(IN_PROGRESS, started_minutes_ago=2065 + index * 10) for index in range(count)]
    for task in stores:
        source.put(task)
    return stores


@pytest.mark.parametrize(
    ("in_progress", "calls"),
    [
        (20, 1 + 1),  # one re-check by AMI
        (130, 1 + 1),  # one page of the tasks in progress, not 7 re-checks or more listing pages
        (250, 1 + 2),
        (400, 1 + 2),
    ],
)
def test_a_quiet_run_reads_stores_in_progress_past_the_head_in_the_fewest_calls(
    make_poller, make_task, source, clock, in_progress, calls
):
    start_stores_beyond_the_head(source, make_task, in_progress)

    assert calls_of_a_quiet_run(make_poller, source, clock) == calls


def test_stores_that_end_among_many_in_progress_past_the_head_are_announced_once_by_the_next_run(
    make_poller, make_task, source, store, sns, events, clock
):
    stores = start_stores_beyond_the_head(source, make_task, 130)
    calls_of_a_quiet_run(make_poller, source, clock)
    done = replace(stores[64], state_name="Completed", progress_percentage=100)
    failed = replace(stores[129], state_name="Failed", failure_reason="The AMI's snapshot could not be read")
    source.put(done)
    source.put(failed)
    calls, announced_by_each_run = [], []
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        before = source.calls
        make_poller().run()
        calls.append(source.calls - before)
        announced_by_each_run.append(len(sns.sent))

    assert announced_by_each_run == [2, 2, 2]
    for channel in (sns, events):
        announced = sorted((item.detail()["amiId"], item.detail()["state"]) for item in channel.sent)
        assert announced == sorted([(done.ami_id, "Completed"), (failed.ami_id, "Failed")])
    assert store.recorded_state(done.key) is COMPLETED
    assert calls == [1 + 1 + 1, 2, 2], (
        "the head, the tasks in progress, one re-check of the two that dropped out of them; then quiet"
    )


def test_a_store_superseded_among_many_in_progress_past_the_head_is_not_announced(
    make_poller, make_task, source, store, sns, clock
):
    stores = start_stores_beyond_the_head(source, make_task, 130)
    calls_of_a_quiet_run(make_poller, source, clock)
    clock.now += timedelta(minutes=1)
    source.put(make_task(IN_PROGRESS, ami_id=stores[64].ami_id, started_minutes_ago=0.2))

    report = make_poller().run()

    assert report.superseded == 1
    assert sns.sent == []
    assert stores[64].key not in store.cursor.known


def test_a_task_listed_twice_because_the_listing_shifted_is_announced_once(
    make_poller, make_task, source, sns, clock
):
    make_poller().run()
    done = make_task(COMPLETED, started_minutes_ago=0.5)
    source.put(done)
    source.tasks.insert(1, done)
    clock.now += timedelta(minutes=1)

    make_poller(page_size=1).run()

    assert len(sns.sent) == 1


def test_more_transitions_than_one_run_may_claim_are_finished_by_the_next_run(
    make_poller, make_task, source, sns, store, clock
):
    make_poller().run()
    for index in range(MAX_CLAIMS_PER_RUN + 5):
        source.put(make_task(COMPLETED, started_minutes_ago=0.0001 * (index + 1)))
    clock.now += timedelta(minutes=1)

    first = make_poller().run()
    clock.now += timedelta(minutes=1)
    make_poller().run()

    assert first.stopped_because is None
    assert first.claims_committed == MAX_CLAIMS_PER_RUN
    assert len({item.event_id for item in sns.sent}) == len(sns.sent) == MAX_CLAIMS_PER_RUN + 5
    assert store.pending == {}


def test_a_throttled_page_ends_the_run_cleanly_and_the_next_run_catches_up(
    make_poller, make_task, source, sns, clock
):
    make_poller().run()
    source.put(make_task(COMPLETED, started_minutes_ago=0.5))
    clock.now += timedelta(minutes=1)
    source.fail_on_call = {source.calls + 1}

    throttled = make_poller().run()
    clock.now += timedelta(minutes=1)
    make_poller().run()

    assert throttled.stopped_because == "aws-unavailable"
    assert len(sns.sent) == 1


def test_a_full_scan_finds_a_running_task_that_never_appeared_at_the_head(
    make_poller, make_task, source, store, clock
):
    seed_history(source, make_task, 10)
    make_poller().run()
    clock.now += timedelta(minutes=1)
    make_poller().run()
    hidden = make_task(IN_PROGRESS, started_minutes_ago=600)
    source.put(hidden)
    clock.now += timedelta(minutes=1)
    make_poller().run()
    assert hidden.key not in store.cursor.known

    clock.now += timedelta(hours=1)
    make_poller().run()

    assert store.cursor.known[hidden.key] is IN_PROGRESS


def test_a_full_scan_whose_listing_takes_every_call_of_a_run_finishes_with_the_sweep_in_the_next_run(
    make_poller, make_task, source, sns, store, clock
):
    make_poller(page_size=2).run()
    clock.now += timedelta(hours=2)
    ended = [
        make_task(COMPLETED, started_minutes_ago=30 + index)
        for index in range(2 * MAX_DESCRIBE_CALLS_PER_RUN)
    ]
    source.put(*ended)

    reads = [make_poller(page_size=2).run() for _ in range(3)]

    assert reads[0].stopped_because == "call-budget"
    assert store.cursor.progress is None, "the second run swept the tasks in progress and finished the scan"
    assert store.cursor.last_full_scan_at == clock.now
    assert len({item.event_id for item in sns.sent}) == len(sns.sent) == len(ended)

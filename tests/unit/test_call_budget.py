"""A run makes at most MAX_DESCRIBE_CALLS_PER_RUN listing calls; a longer read goes on in the next run."""

from __future__ import annotations

from datetime import timedelta

from ami_store_notifier.domain import comparing
from ami_store_notifier.domain.model import ReadPhase, TaskState
from ami_store_notifier.domain.run_limits import MAX_DESCRIBE_CALLS_PER_RUN

COMPLETED = TaskState.COMPLETED


def backlog(make_task, source, count):
    """`count` tasks that started and finished since the last run, newest first."""
    tasks = [make_task(COMPLETED, started_minutes_ago=0.01 * (index + 1)) for index in range(count)]
    for task in tasks:
        source.put(task)
    return tasks


def run_counting_calls(make_poller, source, clock, **options):
    clock.now += timedelta(minutes=1)
    before = source.calls
    report = make_poller(page_size=2, **options).run()
    return report, source.calls - before


def test_a_backlog_longer_than_one_runs_budget_is_announced_over_several_runs_each_within_it(
    make_poller, make_task, source, store, sns, clock
):
    make_poller().run()
    tasks = backlog(make_task, source, 45)

    first, first_calls = run_counting_calls(make_poller, source, clock)
    second, second_calls = run_counting_calls(make_poller, source, clock)
    third, third_calls = run_counting_calls(make_poller, source, clock)

    assert first.stopped_because == "call-budget"
    assert first_calls == second_calls == MAX_DESCRIBE_CALLS_PER_RUN
    assert second.read_goes_on
    assert third.read_goes_on
    assert third.stopped_because is None
    assert third_calls < MAX_DESCRIBE_CALLS_PER_RUN
    assert sorted(item.ami_id for item in sns.sent) == sorted(task.ami_id for task in tasks)
    assert store.cursor.progress is None
    assert store.cursor.high_water_mark == tasks[0].task_start_time


def test_when_ec2_refuses_the_saved_token_the_read_starts_over_and_still_announces_each_task_once(
    make_poller, make_task, source, store, sns, clock
):
    make_poller().run()
    tasks = backlog(make_task, source, 25)
    source.refuse_saved_tokens = True

    run_counting_calls(make_poller, source, clock)
    source.forget_tokens()
    restarted, restarted_calls = run_counting_calls(make_poller, source, clock)
    finished, _ = run_counting_calls(make_poller, source, clock)

    assert restarted.listing_restarts == 1
    assert restarted_calls == MAX_DESCRIBE_CALLS_PER_RUN
    assert finished.stopped_because is None
    assert sorted(item.ami_id for item in sns.sent) == sorted(task.ami_id for task in tasks)


def test_a_run_that_reaches_its_claim_limit_mid_page_goes_on_from_that_page(
    make_poller, make_task, source, store, sns, clock, monkeypatch
):
    make_poller().run()
    tasks = backlog(make_task, source, 7)
    monkeypatch.setattr(comparing, "MAX_CLAIMS_PER_RUN", 3)

    limited, _ = run_counting_calls(make_poller, source, clock)
    saved = store.cursor.progress
    for _ in range(3):
        run_counting_calls(make_poller, source, clock)

    assert limited.claims_committed == 3
    assert saved is not None
    assert saved.phase is ReadPhase.LISTING
    assert sorted(item.ami_id for item in sns.sent) == sorted(task.ami_id for task in tasks)
    assert store.cursor.progress is None


def test_a_first_run_with_many_tasks_in_progress_sweeps_them_over_several_runs(
    make_poller, make_task, source, store, clock
):
    running = [make_task(started_minutes_ago=60 + index) for index in range(30)]
    for task in running:
        source.put(task)

    runs = [run_counting_calls(make_poller, source, clock) for _ in range(3)]

    assert [calls for _, calls in runs[:2]] == [MAX_DESCRIBE_CALLS_PER_RUN] * 2
    assert runs[2][0].stopped_because is None
    assert runs[2][1] <= MAX_DESCRIBE_CALLS_PER_RUN
    assert {report.mode for report, _ in runs} == {"baseline"}
    assert store.cursor.baselined
    assert {key for key, state in store.cursor.known.items() if state is TaskState.IN_PROGRESS} == {
        task.key for task in running
    }

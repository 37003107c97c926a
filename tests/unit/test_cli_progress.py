"""What `watch` reckons from the checks it made: elapsed time, pace and expected time to finish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.domain.model import StoreTask, TaskState
from tests.fakes import ManualClock
from tests.world import REGION


def test_before_a_second_sample_the_pace_is_reckoned_from_the_task_start(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    followed = FollowedTask.start(REGION, make_task(started_minutes_ago=10, progress=25), clock.now)

    assert followed.percent_per_second() == 25 / 600
    assert followed.remaining(clock.now) == timedelta(minutes=30)
    assert followed.elapsed(clock.now) == timedelta(minutes=10)


def test_the_pace_observed_between_checks_replaces_the_one_since_the_start(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    task = make_task(started_minutes_ago=10, progress=25)
    followed = FollowedTask.start(REGION, task, clock.now)

    later = clock.now + timedelta(minutes=5)
    followed = followed.observe(replace(task, progress_percentage=50), later)

    assert followed.percent_per_second() == 25 / 300
    assert followed.remaining(later) == timedelta(minutes=10)
    assert followed.remaining(later + timedelta(minutes=4)) == timedelta(minutes=6)


def test_a_task_without_progress_has_no_estimate(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    followed = FollowedTask.start(REGION, make_task(progress=0), clock.now)

    assert followed.remaining(clock.now) is None


def test_a_completed_store_has_no_failure_and_its_elapsed_time_ends_when_a_check_saw_it_end(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    task = make_task(started_minutes_ago=10, progress=90)
    ended_at = clock.now + timedelta(minutes=2)
    followed = FollowedTask.start(REGION, task, clock.now).observe(
        replace(task, state_name=TaskState.COMPLETED.value, progress_percentage=100), ended_at
    )

    assert (followed.succeeded, followed.failure, followed.percent) == (True, None, 100)
    assert followed.elapsed(ended_at + timedelta(hours=1)) == timedelta(minutes=12)
    assert followed.remaining(ended_at) is None


def test_a_failed_store_carries_its_reason(clock: ManualClock, make_task: Callable[..., StoreTask]) -> None:
    task = make_task(progress=40)
    followed = FollowedTask.start(REGION, task, clock.now).observe(
        replace(task, state_name="Failed", failure_reason="snapshot unreadable"), clock.now
    )

    assert followed.failure == "snapshot unreadable"
    assert not followed.is_running


def test_a_store_no_longer_listed_has_ended_in_an_unknown_way(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    followed = FollowedTask.start(REGION, make_task(), clock.now).lose(clock.now)

    assert followed.state == "NotListed"
    assert followed.failure is not None
    assert "no longer listed" in followed.failure


def test_a_newer_store_of_the_same_ami_is_followed_from_its_own_start(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    old = make_task(ami_id="ami-0000000000000000a", started_minutes_ago=60, progress=80)
    new = make_task(ami_id="ami-0000000000000000a", started_minutes_ago=1, progress=5)

    followed = FollowedTask.start(REGION, old, clock.now).observe(new, clock.now)

    assert followed.task == new
    assert followed.first.percent == 5

"""How often `watch` checks: after a tenth of the soonest expected finish, within EC2's request budget."""

from __future__ import annotations

from datetime import timedelta

from ami_store_notifier.cli.pacing import (
    INTERVAL_WITHOUT_ESTIMATE,
    LONGEST_INTERVAL,
    SHORTEST_INTERVAL,
    next_check_in,
)


def test_a_check_is_due_after_a_tenth_of_the_expected_remaining_time() -> None:
    assert next_check_in(timedelta(minutes=20), calls_per_check=1) == timedelta(minutes=2)


def test_a_store_about_to_end_is_checked_no_more_often_than_the_shortest_interval() -> None:
    assert next_check_in(timedelta(seconds=30), calls_per_check=1) == SHORTEST_INTERVAL


def test_a_store_of_hours_is_checked_at_least_every_five_minutes() -> None:
    assert next_check_in(timedelta(hours=6), calls_per_check=1) == LONGEST_INTERVAL


def test_before_any_progress_shows_the_interval_is_the_one_without_estimate() -> None:
    assert next_check_in(None, calls_per_check=1) == INTERVAL_WITHOUT_ESTIMATE


def test_each_refusal_in_a_row_doubles_the_wait_from_twenty_seconds_up_to_the_longest() -> None:
    waits = [next_check_in(None, calls_per_check=1, throttled_in_a_row=n) for n in range(1, 6)]

    assert waits == [timedelta(seconds=s) for s in (30, 40, 80, 160, 300)]


def test_checks_of_many_amis_keep_to_six_calls_a_minute_even_beyond_the_longest_interval() -> None:
    for calls in (1, 3, 20, 50):
        interval = next_check_in(timedelta(seconds=1), calls_per_check=calls)
        assert calls / interval.total_seconds() * 60 <= 6
    assert next_check_in(timedelta(hours=6), calls_per_check=50) == timedelta(seconds=500)

"""Hint runs over the fakes: a hint is a reason to ask EC2, and EC2's answer decides, as a listing would."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ami_store_notifier.domain.announcements import email_text
from ami_store_notifier.domain.hints import HintKind, to_retry
from ami_store_notifier.domain.model import TaskState
from tests.fakes import FakeHintCallAllowance

COMPLETED = TaskState.COMPLETED
IN_PROGRESS = TaskState.IN_PROGRESS


def finish(task, state=COMPLETED):
    return replace(task, state_name=state.value, progress_percentage=100)


def baseline_with(make_poller, source, clock, *tasks):
    for task in tasks:
        source.put(task)
    make_poller().run()
    clock.now += timedelta(seconds=20)


def test_a_completion_hinted_by_its_object_is_announced_at_once_with_the_objects_size_and_etag(
    make_poller, make_task, make_hint, source, store, sns, events, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    baseline_with(make_poller, source, clock, running)
    source.put(finish(running))
    calls_before = source.calls

    run = make_poller().run_hints([make_hint(running)], FakeHintCallAllowance())

    [announced] = sns.sent
    assert (announced.state, announced.previous_state) == ("Completed", "InProgress")
    assert (announced.object_size, announced.object_etag) == (1024, "etag-1")
    assert [event.event_id for event in events.sent] == [announced.event_id]
    assert to_retry([make_hint(running)], run.answers) == []
    assert source.calls - calls_before == 1


def test_the_scheduled_run_after_a_hinted_completion_announces_nothing_more(
    make_poller, make_task, make_hint, source, sns, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    baseline_with(make_poller, source, clock, running)
    source.put(finish(running))
    make_poller().run_hints([make_hint(running)], FakeHintCallAllowance())

    clock.now += timedelta(minutes=1)
    make_poller().run()
    make_poller().run_hints([make_hint(running)], FakeHintCallAllowance())

    assert len(sns.sent) == 1


def test_a_hint_run_leaves_the_cursors_reading_as_it_found_it(
    make_poller, make_task, make_hint, source, store, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    baseline_with(make_poller, source, clock, running)
    before = store.cursor
    newer = make_task(IN_PROGRESS, started_minutes_ago=0)
    source.put(newer)

    make_poller().run_hints([make_hint(newer, HintKind.STARTED)], FakeHintCallAllowance())

    after = store.cursor
    assert after.known[newer.key] is IN_PROGRESS
    assert (after.high_water_mark, after.last_full_scan_at, after.full_scan_horizon, after.progress) == (
        before.high_water_mark,
        before.last_full_scan_at,
        before.full_scan_horizon,
        before.progress,
    )


def test_a_forged_object_of_an_ami_without_a_store_announces_nothing_and_is_not_retried(
    make_poller, make_task, make_hint, source, sns, clock
):
    baseline_with(make_poller, source, clock, make_task(IN_PROGRESS))
    forged = make_hint(make_task(COMPLETED))

    run = make_poller().run_hints([forged], FakeHintCallAllowance())

    assert sns.sent == []
    assert to_retry([forged], run.answers) == []


def test_an_object_of_a_store_that_ended_before_the_notifier_was_deployed_announces_nothing(
    make_poller, make_task, make_hint, source, sns, clock
):
    history = make_task(COMPLETED, started_minutes_ago=3 * 24 * 60)
    baseline_with(make_poller, source, clock, history)

    make_poller().run_hints([make_hint(history)], FakeHintCallAllowance())

    assert sns.sent == []


def test_a_start_hint_ahead_of_the_listing_claims_nothing_and_is_asked_about_again(
    make_poller, make_task, make_hint, source, store, sns, clock
):
    baseline_with(make_poller, source, clock)
    not_listed_yet = make_task(IN_PROGRESS, started_minutes_ago=0)
    hint = make_hint(not_listed_yet, HintKind.STARTED)

    run = make_poller().run_hints([hint], FakeHintCallAllowance())

    assert store.recorded_state(not_listed_yet.key) is None
    assert to_retry([hint], run.answers) == [hint]
    source.put(not_listed_yet)
    run = make_poller().run_hints([replace(hint, receive_count=2)], FakeHintCallAllowance())
    assert store.recorded_state(not_listed_yet.key) is IN_PROGRESS
    assert to_retry([hint], run.answers) == []


def test_a_start_hint_records_the_caller_and_an_announced_start_names_them(
    make_poller, make_task, make_hint, source, sns, clock, policy
):
    baseline_with(make_poller, source, clock)
    started = make_task(IN_PROGRESS, started_minutes_ago=0)
    source.put(started)
    announcing_starts = replace(policy, announce_states=frozenset(TaskState))

    make_poller(policy_override=announcing_starts).run_hints(
        [make_hint(started, HintKind.STARTED)], FakeHintCallAllowance()
    )

    [announced] = sns.sent
    assert announced.started_by == "arn:aws:iam::111122223333:user/ana"
    assert announced.object_size is None
    assert "Started by:  arn:aws:iam::111122223333:user/ana" in email_text(announced)


def test_without_calls_left_in_the_minute_nothing_is_asked_and_every_hint_is_handed_over_again(
    make_poller, make_task, make_hint, source, sns, clock
):
    running = make_task(IN_PROGRESS, started_minutes_ago=30)
    baseline_with(make_poller, source, clock, running)
    source.put(finish(running))
    calls_before = source.calls
    hint = make_hint(running)

    run = make_poller().run_hints([hint], FakeHintCallAllowance(left=0))

    assert source.calls == calls_before
    assert sns.sent == []
    assert to_retry([hint], run.answers) == [hint]


def test_a_hint_run_asks_twenty_amis_a_call_and_no_more_calls_than_the_allowance_grants(
    make_poller, make_task, make_hint, source, sns, clock
):
    running = [make_task(IN_PROGRESS, started_minutes_ago=30) for _ in range(100)]
    baseline_with(make_poller, source, clock, *running)
    source.put(*(finish(task) for task in running))
    calls_before = source.calls
    hints = [make_hint(task) for task in running]

    run = make_poller().run_hints(hints, FakeHintCallAllowance(left=4))

    assert source.calls - calls_before == 4
    assert len(sns.sent) == 80
    assert len(to_retry(hints, run.answers)) == 20


def test_before_the_first_read_a_hint_asks_nothing_and_is_settled(
    make_poller, make_task, make_hint, source, sns
):
    running = make_task(COMPLETED)
    source.put(running)
    hint = make_hint(running)

    run = make_poller().run_hints([hint], FakeHintCallAllowance())

    assert source.calls == 0
    assert sns.sent == []
    assert to_retry([hint], run.answers) == []

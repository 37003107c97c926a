"""quietWhenIdle: no EC2 call while nothing is in progress, the safety net on time, starts from hints."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ami_store_notifier.domain.hints import HintKind
from ami_store_notifier.domain.model import PendingDelivery, ReadMode, ReadPhase, ReadProgress, TaskState
from ami_store_notifier.domain.read_plan import stays_quiet
from tests.fakes import FakeHintCallAllowance

IN_PROGRESS = TaskState.IN_PROGRESS
FAILED = TaskState.FAILED


def idle_deployment(make_poller, make_task, source, clock):
    source.put(make_task(TaskState.COMPLETED, started_minutes_ago=120))
    make_poller(quiet_when_idle=True).run()
    clock.now += timedelta(minutes=1)


def test_an_idle_quiet_run_asks_ec2_nothing_until_the_safety_net_is_due(
    make_poller, make_task, source, clock, policy
):
    idle_deployment(make_poller, make_task, source, clock)
    calls = source.calls
    reports = []
    for _ in range(58):
        reports.append(make_poller(quiet_when_idle=True).run())
        clock.now += timedelta(minutes=1)

    assert source.calls == calls
    assert {report.mode for report in reports} == {"quiet"}
    assert {report.successful_polls for report in reports} == {1}
    clock.now += policy.full_scan_interval
    assert make_poller(quiet_when_idle=True).run().mode == "full-scan"
    assert source.calls > calls


def test_the_safety_net_counts_the_stores_it_finds_without_a_hint(
    make_poller, make_task, source, clock, policy
):
    idle_deployment(make_poller, make_task, source, clock)
    unhinted = [make_task(IN_PROGRESS, started_minutes_ago=10), make_task(FAILED, started_minutes_ago=20)]
    source.put(*unhinted)
    clock.now += policy.full_scan_interval

    report = make_poller(quiet_when_idle=True).run()

    assert report.starts_without_hint == 2
    assert ("StartsWithoutHint", 2.0) in [(metric.name, value) for metric, value in report.metric_values()]


def test_after_a_hinted_start_every_scheduled_run_reads_so_a_failure_is_found_within_one_period(
    make_poller, make_task, make_hint, source, sns, clock
):
    idle_deployment(make_poller, make_task, source, clock)
    started = make_task(IN_PROGRESS, started_minutes_ago=0)
    source.put(started)
    make_poller(quiet_when_idle=True).run_hints(
        [make_hint(started, HintKind.STARTED)], FakeHintCallAllowance()
    )
    source.put(replace(started, state_name=FAILED.value, failure_reason="InternalError"))
    clock.now += timedelta(minutes=1)

    report = make_poller(quiet_when_idle=True).run()

    assert report.mode == "head"
    assert report.starts_without_hint == 0
    assert [(item.ami_id, item.state) for item in sns.sent] == [(started.ami_id, "Failed")]


def test_the_default_mode_reads_every_run_as_before(make_poller, make_task, source, clock):
    idle_deployment(make_poller, make_task, source, clock)
    calls = source.calls

    report = make_poller().run()

    assert report.mode == "head"
    assert source.calls == calls + 1


def test_deliveries_still_owed_or_a_read_to_go_on_with_keep_a_quiet_deployment_running(
    baselined, policy, clock
):
    owed = PendingDelivery("sns", TaskState.COMPLETED, "ami-1#2026-11-01T11:00:00.000Z", 0, 1)
    unfinished = ReadProgress(ReadMode.HEAD, ReadPhase.LISTING, "token", None)

    assert stays_quiet(baselined, policy, clock.now)
    assert not stays_quiet(replace(baselined, pending=(owed,)), policy, clock.now)
    assert not stays_quiet(replace(baselined, progress=unfinished), policy, clock.now)
    assert not stays_quiet(replace(baselined, known={owed.key: IN_PROGRESS}), policy, clock.now)
    assert not stays_quiet(replace(baselined, baselined=False), policy, clock.now)


def test_a_start_hint_ahead_of_ec2_keeps_the_scheduled_runs_reading_until_ec2_lists_the_store(
    make_poller, make_task, make_hint, source, store, sns, clock
):
    idle_deployment(make_poller, make_task, source, clock)
    started = make_task(IN_PROGRESS, started_minutes_ago=0)
    make_poller(quiet_when_idle=True).run_hints(
        [make_hint(started, HintKind.STARTED)], FakeHintCallAllowance()
    )
    assert store.cursor.awake_until is not None
    clock.now += timedelta(minutes=1)
    source.put(started)

    found = make_poller(quiet_when_idle=True).run()
    source.put(replace(started, state_name=FAILED.value, failure_reason="InternalError"))
    clock.now += timedelta(minutes=1)
    make_poller(quiet_when_idle=True).run()

    assert found.mode == "head"
    assert found.starts_without_hint == 0
    assert [(item.ami_id, item.state) for item in sns.sent] == [(started.ami_id, "Failed")]


def test_once_awake_has_passed_an_idle_quiet_deployment_rests_again(
    make_poller, make_task, make_hint, source, store, clock
):
    idle_deployment(make_poller, make_task, source, clock)
    never_listed = make_task(IN_PROGRESS, started_minutes_ago=0)
    make_poller(quiet_when_idle=True).run_hints(
        [make_hint(never_listed, HintKind.STARTED)], FakeHintCallAllowance()
    )
    clock.now = store.cursor.awake_until + timedelta(seconds=1)

    assert make_poller(quiet_when_idle=True).run().mode == "quiet"

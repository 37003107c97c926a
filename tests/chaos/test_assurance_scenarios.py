"""Archive assurance under the campaign's faults: fixed scenarios of the family (tests/chaos/
assurance_scenarios.py) replayed, the family's share of the campaign, every verdict, S3's refusals and
throttling, a channel throttled over several runs, unapproved buckets, stalls and the notifier's pauses.
(test_notice_ledger.py shows the ledger catching what it must.)"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from local.ec2_store_tasks import CLOCK, IN_PROGRESS
from tests.chaos import notice_rules
from tests.chaos.archive_buckets import LOCKED_VAULT, SCRATCH, STRAY, UNLISTED_VAULT, VAULT
from tests.chaos.assurance_scenarios import (
    HAND_MADE_SETTINGS,
    STALL_AFTER_MINUTES,
    completed_stores,
    runs_every,
    stalling_store,
)
from tests.chaos.assurance_steps import AssuranceSetup, ObjectPlan, ResumeStore, StallStore, WriteObject
from tests.chaos.families import random_scenario
from tests.chaos.harness import Ledger, RunRecord, assert_no_violations
from tests.chaos.notice_rules import STALLED, UNAPPROVED, VERIFICATION, told_reasons
from tests.chaos.scenarios import (
    Advance,
    CallFault,
    Finish,
    Run,
    Scenario,
    Start,
    Throttle,
    ami_id,
    play,
)

# Every verdict, by AMI index: the AMI's bucket, what its completed store leaves, and the verdict.
VERDICTS = (
    (VAULT, {}, "Verified"),
    (VAULT, {"delay_seconds": 120.0}, "Verified"),
    (VAULT, {"left_out": True}, "NotVerified missing"),
    (VAULT, {"empty": True}, "NotVerified empty"),
    (VAULT, {"storage_class": "GLACIER"}, "NotVerified needs a restore"),
    (LOCKED_VAULT, {}, "NotVerified access denied"),
    (UNLISTED_VAULT, {}, "NotVerified not readable"),
    (SCRATCH, {}, "Verified"),
    (VAULT, {"left_out": True}, "Verified"),
)
WRITTEN_LATE = 8


def notices_of(run: RunRecord, kind: str) -> list[str]:
    """The AMIs whose `kind` notice the topic delivered in the run."""
    return [item.detail["amiId"] for item in run.notices_delivered["sns"] if str(item.notice) == kind]


def deliveries_per_notice(ledger: Ledger) -> set[int]:
    return {len(runs) for arrivals in ledger.notices.arrivals.values() for runs in arrivals.values()}


@pytest.mark.parametrize("index", [2, 7, 34, 108])
def test_scenarios_of_the_assurance_family_replay_without_a_violation(chaos, index):
    scenario = random_scenario(random.Random(f"0:{index}"))
    assert scenario.assurance is not None

    ledger = play(chaos, scenario)

    assert ledger.notices.expected
    assert_no_violations(ledger)


def test_about_a_fifth_of_the_campaign_runs_with_archive_assurance_and_every_knob_is_drawn():
    drawn = [random_scenario(random.Random(f"{seed}:{index}")) for seed in "01" for index in range(1000)]
    assured = [scenario for scenario in drawn if scenario.assurance is not None]

    assert 0.15 <= len(assured) / len(drawn) <= 0.25
    assert any(scenario.hints is not None for scenario in assured)
    steps = Counter(type(step).__name__ for scenario in assured for step in scenario.steps)
    assert {"StallStore", "ResumeStore", "WriteObject", "Throttle", "Overlap"} <= set(steps)
    faults = {
        (fault.operation, fault.kind)
        for scenario in assured
        for step in scenario.steps
        for fault in getattr(step, "faults", ())
        if getattr(fault, "service", None) == "s3"
    }
    assert {
        ("HeadObject", "throttle"),
        ("HeadObject", "crash-after"),
        ("GetBucketVersioning", "timeout"),
    } <= faults
    buckets = {bucket for scenario in assured for bucket in scenario.assurance.buckets}
    assert buckets == {VAULT, LOCKED_VAULT, UNLISTED_VAULT, SCRATCH, STRAY}
    plans = [plan for scenario in assured for plan in scenario.assurance.objects]
    assert all(any(getattr(plan, knob) for plan in plans) for knob in ("left_out", "delay_seconds", "empty"))
    assert {plan.storage_class for plan in plans} >= {"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"}
    assert all(("STALL_AFTER_MINUTES", "30") in scenario.settings for scenario in assured)


def test_each_completion_is_verified_once_with_the_verdict_its_bucket_and_object_earn(chaos):
    buckets = tuple(bucket for bucket, _, _ in VERDICTS)
    plans = tuple(ObjectPlan(ami, **plan) for ami, (_, plan, _) in enumerate(VERDICTS) if plan)
    scenario = Scenario(
        amis=len(VERDICTS),
        steps=(
            *completed_stores(len(VERDICTS)),
            Advance(240),
            WriteObject(WRITTEN_LATE),
            *runs_every(60, 12),
        ),
        settings=HAND_MADE_SETTINGS,
        assurance=AssuranceSetup(buckets, plans),
    )

    ledger = play(chaos, scenario)

    verdicts = {
        detail["amiId"]: " ".join([detail["verdict"], *sorted(told_reasons(detail["reasons"]))])
        for kind, detail in ledger.notices.details.values()
        if kind == VERIFICATION
    }
    assert verdicts == {ami_id(ami): verdict for ami, (_, _, verdict) in enumerate(VERDICTS)}
    unapproved = [detail["amiId"] for kind, detail in ledger.notices.details.values() if kind == UNAPPROVED]
    assert unapproved == [ami_id(buckets.index(SCRATCH))]
    assert deliveries_per_notice(ledger) == {1}
    assert_no_violations(ledger)


def test_a_check_that_s3_throttles_waits_for_the_next_run_and_is_announced_once(chaos):
    throttled = CallFault("s3", "HeadObject", "throttle", code="503")
    scenario = Scenario(
        amis=1,
        steps=(
            Run(),
            Start(0),
            Advance(60),
            Run(),
            Finish(0),
            Advance(60),
            Run((throttled,)),
            *runs_every(60, 1),
        ),
        settings=HAND_MADE_SETTINGS,
        assurance=AssuranceSetup((VAULT,)),
    )

    ledger = play(chaos, scenario)

    throttled_run, next_run = ledger.runs[2], ledger.runs[3]
    assert throttled_run.faults == Counter({"throttle": 1})
    assert [detail["amiId"] for detail in throttled_run.delivered["sns"]] == [ami_id(0)]
    assert notices_of(throttled_run, VERIFICATION) == []
    assert notices_of(next_run, VERIFICATION) == [ami_id(0)]
    assert deliveries_per_notice(ledger) == {1}
    assert_no_violations(ledger)


def test_a_verification_claimed_while_the_bus_is_throttled_for_three_runs_arrives_once_after(chaos):
    scenario = Scenario(
        amis=1,
        steps=(Run(), Start(0), Advance(60), Run(), Finish(0), Throttle(("events",), 3), *runs_every(60, 5)),
        settings=HAND_MADE_SETTINGS,
        assurance=AssuranceSetup((VAULT,)),
    )

    ledger = play(chaos, scenario)

    assert all(run.notices_delivered["events"] == [] for run in ledger.runs[2:5])
    assert deliveries_per_notice(ledger) == {1}
    assert_no_violations(ledger)


def test_a_store_into_a_bucket_not_approved_is_announced_once_the_first_time_it_is_seen(chaos):
    scenario = Scenario(
        amis=1,
        steps=(Run(), Start(0), Advance(60), Run(), *runs_every(60, 2), Finish(0), *runs_every(60, 2)),
        settings=HAND_MADE_SETTINGS,
        assurance=AssuranceSetup((STRAY,)),
    )

    ledger = play(chaos, scenario)

    assert [notices_of(run, UNAPPROVED) for run in ledger.runs[:3]] == [[], [ami_id(0)], []]
    assert deliveries_per_notice(ledger) == {1}
    assert_no_violations(ledger)


def test_a_store_stalled_past_the_stall_time_is_announced_once_even_when_it_stalls_again(chaos):
    stall = runs_every(120, 25)  # fifty minutes
    ledger = play(
        chaos,
        stalling_store(StallStore(0), *stall, ResumeStore(0), *runs_every(120, 8), StallStore(0), *stall),
    )

    stalled = [ami for run in ledger.runs for ami in notices_of(run, STALLED)]
    assert stalled == [ami_id(0)]
    assert [key.kind for key in ledger.notices.expected] == [STALLED]
    assert_no_violations(ledger)


def test_a_stall_shorter_than_the_stall_time_is_not_announced(chaos):
    ledger = play(
        chaos, stalling_store(StallStore(0), *runs_every(120, 12), ResumeStore(0), *runs_every(120, 10))
    )

    assert not ledger.notices.details
    assert_no_violations(ledger)


def test_a_notifier_away_longer_than_the_pause_starts_the_stall_clock_again(chaos):
    away = notice_rules.pause(timedelta(minutes=STALL_AFTER_MINUTES)).total_seconds() + 600
    ledger = play(
        chaos, stalling_store(StallStore(0), *runs_every(120, 10), Advance(away), *runs_every(120, 25))
    )

    back = ledger.runs[16].at
    (stall,) = [detail for kind, detail in ledger.notices.details.values() if kind == STALLED]
    assert stall["unchangedSince"] >= f"{back:%Y-%m-%dT%H:%M:%S}"
    assert_no_violations(ledger)


# -- found by reading the product; not a fault the campaign draws ------------------------------------------


def test_a_commit_between_the_cursors_read_and_the_watches_read_loses_no_archive_check(archive_assurance):
    """BatchGetItem reads each item on its own: an overlapping run's commit can land between this run's
    read of the cursor and its read of the store watches. The watches are read second, so this run then
    holds a cursor older than them, and its own commit fails on the cursor's version instead of writing
    back watches without the check the other run left waiting."""
    world = archive_assurance
    world.run("baseline")
    world.backend.objects.plan(ami_id(1), left_out=True)
    world.backend.add_task(ami_id(1), VAULT, CLOCK.now(), IN_PROGRESS, 10)
    CLOCK.advance(60)
    world.run("tracks the store")
    world.backend.complete(ami_id(1))
    CLOCK.advance(60)
    before = world.cursor_answer()
    world.run("claims the completion; its check waits for the object")
    world.backend.add_task(ami_id(2), VAULT, CLOCK.now(), IN_PROGRESS, 10)  # so that the run writes watches
    CLOCK.advance(60)
    world.run("reads the cursor from before the claim and the watches after it", stale_cursor=before)

    world.settle(wait_seconds=15 * 60)

    assert_no_violations(world.ledger)

"""Hints through the real handler, the deployment's rules and queue and the emulated event source mapping:
every hint fault at once, an early start, hint runs overlapping other runs, the quietWhenIdle mode's
safety net; the campaign's share of hint scenarios; and the ledger seeing what hints must never cause (a
phantom announcement, a hint's false facts, a quiet run past the safety net)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from ami_store_notifier import handler, poller
from ami_store_notifier.adapters.publishers import EventBridgePublisher, SnsPublisher
from ami_store_notifier.domain.announcements import HintFacts, announce
from ami_store_notifier.domain.model import StoreTask, TaskState
from local.deployment import EVENT_SOURCE
from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED, IN_PROGRESS
from local.ec2_store_tasks.hint_events import OBJECT_CREATED, STARTED
from local.lambda_context import ACCOUNT, REGION
from tests.chaos.families import HINT_SHARE, random_scenario
from tests.chaos.harness import (
    HINTED_BUCKET,
    HINTS,
    OVERLAP_ORDERS,
    OVERLAP_SCHEDULED,
    ChaosWorld,
    assert_no_violations,
)
from tests.chaos.scenarios import (
    QUIET_SETTING,
    QUIET_SHARE,
    Advance,
    Finish,
    ForgeObject,
    HintOverlap,
    Hints,
    HintSetup,
    Run,
    Scenario,
    Start,
    ami_id,
    play,
)

QUIET_INTERVAL_MINUTES = 15
YEAR = timedelta(days=365)
QUIET = (QUIET_SETTING, ("FULL_SCAN_INTERVAL_MINUTES", str(QUIET_INTERVAL_MINUTES)))
# What HintEvents.forge uploads: an empty object.
EMPTY_OBJECT_ETAG = "d41d8cd98f00b204e9800998ecf8427e"
EVERY_FAULT = HintSetup(
    drop=0.25,
    delay=0.5,
    delay_seconds=600,
    repeat=1.0,
    repeat_after_seconds=10,
    early=1.0,
    early_seconds=30,
    forge=1.0,
    redeliver=0.5,
    batch_size=2,
    seed=7,
)


def stores_with_hints(*rounds: tuple[Any, ...]) -> tuple[Any, ...]:
    """A baseline run, then each round's events, every hint handed over at once, a minute, a run."""
    steps: list[Any] = [Run()]
    for events in rounds:
        for event in events:
            steps += [event, Hints()]
        steps += [Advance(60), Run()]
    return tuple(steps)


def hinted_store(world: ChaosWorld, setup: HintSetup | None = None) -> Any:
    """Hints on (as `setup` says): a baseline run, then a store of AMI 0 started, its start hint handed
    over, and a run a minute later; returns the store."""
    setup = setup or HintSetup()
    world.enable_hints(setup.faults(), setup.polling())
    world.run("baseline")
    CLOCK.advance(1)
    store = world.backend.add_task(ami_id(0), HINTED_BUCKET, CLOCK.now(), IN_PROGRESS, 0)
    world.store_started(store)
    world.deliver_hints()
    CLOCK.advance(60)
    world.run("tracks the store")
    return store


def arrivals_per_event(world: ChaosWorld, channel: str) -> set[int]:
    return {len(runs) for runs in world.ledger.arrivals[channel].values()}


def kinds(world: ChaosWorld) -> set[str]:
    return {violation.kind for violation in world.ledger.finish()}


def announced_by_hand(
    task: Any, state: TaskState, *, facts: HintFacts | None = None, ami: str | None = None
) -> None:
    """An announcement the notifier did not make, published on both channels as its publishers publish:
    what a notifier that took a hint at its word would send."""
    wired = handler.wiring()
    store = StoreTask(ami or task.ami_id, task.bucket, task.object_key, task.start_time, state.value, 100)
    made = announce(store, state, None, region=REGION, account=ACCOUNT, observed_at=CLOCK.now(), facts=facts)
    SnsPublisher(wired.sns, wired.settings.topic_arn).publish([made])
    EventBridgePublisher(wired.events, wired.settings.event_bus_name, EVENT_SOURCE).publish([made])


def test_every_hint_fault_at_once_announces_each_store_once_and_nothing_else(chaos):
    scenario = Scenario(
        amis=3,
        steps=stores_with_hints(
            (Start(0), Start(1, duration=90), Start(2)),
            (Finish(0, COMPLETED), Finish(2, FAILED)),
            (Start(0, duration=30), Start(2)),
            (Finish(2, COMPLETED),),
        ),
        hints=EVERY_FAULT,
    )

    ledger = play(chaos, scenario)

    assert_no_violations(ledger)
    figures = ledger.figures()
    assert {"early", "forged", "repeated", "redelivered"} <= set(figures.hint_faults)
    assert figures.hint_runs > 0
    assert figures.hints_retried > 0
    assert len(ledger.expected) == 5
    assert arrivals_per_event(chaos, "sns") == arrivals_per_event(chaos, "events") == {1}
    forged = {delivery.ami_id for delivery in chaos.backend.hint_events.log if delivery.fault == "forged"}
    announced = {detail["amiId"] for detail in ledger.details.values()}
    assert forged
    assert not forged & announced


def test_an_early_start_hint_is_handed_back_until_the_listing_shows_the_store(chaos):
    scenario = Scenario(
        amis=1,
        steps=(Run(), Start(0), Hints(), Advance(721), Hints(), Finish(0, FAILED), Advance(60), Run()),
        hints=HintSetup(early=1.0, early_seconds=90),
    )

    ledger = play(chaos, scenario)

    early, again = (run for run in ledger.runs if run.kind == HINTS)
    assert len(early.result["batchItemFailures"]) == 1, "EC2 does not list the store yet: asked again"
    assert again.result["batchItemFailures"] == []
    assert again.hint_report["claimsCommitted"] == 1, "the start, claimed once EC2 lists it"
    assert_no_violations(ledger)
    assert len(ledger.expected) == 1


@pytest.mark.parametrize("order", [order for order in OVERLAP_ORDERS if order != OVERLAP_SCHEDULED])
def test_a_hint_run_overlapping_another_run_announces_each_store_once(chaos, order):
    # Pages of two: the five ends need batches of two, so that two hint runs can overlap.
    ends = tuple(Finish(ami, COMPLETED) for ami in range(5))
    scenario = Scenario(
        amis=5,
        steps=(
            Run(),
            *(Start(ami) for ami in range(5)),
            Hints(),
            Advance(60),
            Run(),
            *ends,
            Advance(5),
            HintOverlap(order),
        ),
        hints=HintSetup(batch_size=2),
    )

    ledger = play(chaos, scenario)

    assert ledger.counts["hint_overlapping_pairs"] == 1
    assert_no_violations(ledger)
    assert len(ledger.expected) == 5
    assert arrivals_per_event(chaos, "sns") == arrivals_per_event(chaos, "events") == {1}


def test_quiet_a_store_whose_hints_are_all_lost_is_announced_by_the_safety_net_within_its_interval(chaos):
    scenario = Scenario(
        amis=1,
        steps=(
            Run(),
            Advance(60),
            Run(),
            Start(0),
            Hints(),
            Advance(120),
            Run(),
            Finish(0, FAILED),
            Advance(60),
            Run(),
            Advance(QUIET_INTERVAL_MINUTES * 60),
            Run(),
            Advance(60),
            Run(),
        ),
        settings=QUIET,
        hints=HintSetup(drop=1.0),
    )

    ledger = play(chaos, scenario)

    modes = [run.report.get("mode") for run in ledger.runs]
    assert modes[:6] == ["baseline", "quiet", "quiet", "quiet", "full-scan", "quiet"]
    net = ledger.runs[4]
    assert [detail["state"] for detail in net.delivered["sns"]] == [FAILED]
    assert net.metric("StartsWithoutHint") == 1
    assert_no_violations(ledger)


def test_the_harness_sees_a_quiet_run_that_let_the_safety_net_pass(chaos, monkeypatch):
    # The quiet runs' check of the safety net reads an interval of a year: the net is never due for it.
    stays_quiet = poller.stays_quiet
    monkeypatch.setattr(
        poller,
        "stays_quiet",
        lambda cursor, policy, now: stays_quiet(cursor, replace(policy, full_scan_interval=YEAR), now),
    )
    play_quietly = Scenario(
        amis=1,
        steps=(Run(), Start(0), Advance(60), Run(), Finish(0, FAILED), Advance(60), Run()),
        settings=QUIET,
        hints=HintSetup(drop=1.0),
        settle_runs=1,
    )

    ledger = play(chaos, play_quietly)

    lost = [violation for violation in ledger.violations if violation.kind == "lost"]
    assert lost
    assert "a safety-net interval ago" in lost[0].message
    assert ledger.runs[lost[0].run].quiet


def test_the_harness_sees_a_forged_object_announced_as_a_store(chaos):
    hinted_store(chaos, HintSetup(forge=1))
    store = chaos.backend.complete(ami_id(0))
    chaos.deliver_hints()
    [forged] = [delivery for delivery in chaos.backend.hint_events.log if delivery.fault == "forged"]

    announced_by_hand(store, TaskState.COMPLETED, ami=forged.ami_id)
    chaos.run("drains the forged object's announcement")

    assert kinds(chaos) == {"phantom"}


def test_the_harness_sees_a_completion_announced_on_its_objects_word_before_ec2_lists_it(chaos):
    store = hinted_store(chaos)

    announced_by_hand(store, TaskState.COMPLETED)
    chaos.run("drains the announcement EC2 does not back yet")
    chaos.backend.complete(ami_id(0))
    CLOCK.advance(60)
    chaos.run("EC2 lists the completion, announced again")

    found = [violation for violation in chaos.ledger.finish() if violation.kind == "phantom"]
    assert found
    assert "before EC2 listed it" in found[0].message


def test_the_harness_sees_a_completion_announced_with_a_forged_objects_facts(chaos):
    hinted_store(chaos)
    store = chaos.backend.complete(ami_id(0))
    forged = HintFacts(HINTED_BUCKET, store.object_key, object_size=0, object_etag=EMPTY_OBJECT_ETAG)

    announced_by_hand(store, TaskState.COMPLETED, facts=forged)
    CLOCK.advance(60)
    chaos.run("drains the announcement with the forged object's facts")

    assert "phantom-fact" in kinds(chaos)


@pytest.mark.parametrize("uploaded", ["while the store is in progress", "after the store completed"])
def test_a_store_whose_object_somebody_uploaded_is_not_announced_with_the_uploads_facts(chaos, uploaded):
    end = (Finish(0, COMPLETED),)
    upload = (ForgeObject(0),)
    scenario = Scenario(
        amis=1,
        steps=(
            *(Run(), Start(0), Hints(), Advance(60), Run()),
            *(upload + end if uploaded.startswith("while") else end + upload),
            Hints(),
        ),
        hints=HintSetup(drop=1.0, kinds=(OBJECT_CREATED,)),
    )

    assert_no_violations(play(chaos, scenario))


def test_a_quarter_of_the_campaign_runs_with_hints_and_a_share_of_those_quietly():
    drawn = [random_scenario(random.Random(f"0:{index}")) for index in range(1000)]
    hinted = [scenario for scenario in drawn if scenario.hints is not None]
    quiet = [scenario for scenario in hinted if scenario.quiet_interval is not None]

    assert 0.2 <= len(hinted) / len(drawn) <= 0.3, HINT_SHARE
    assert 0.3 <= len(quiet) / len(hinted) <= 0.5, QUIET_SHARE
    steps = Counter(type(step).__name__ for scenario in hinted for step in scenario.steps)
    assert {"Hints", "HintOverlap", "ForgeObject"} <= set(steps)
    for fault in ("drop", "delay", "repeat", "early", "forge", "redeliver"):
        assert any(getattr(scenario.hints, fault) for scenario in hinted), fault
    assert {kinds for scenario in hinted for kinds in [scenario.hints.kinds]} >= {
        (STARTED,),
        (OBJECT_CREATED,),
    }

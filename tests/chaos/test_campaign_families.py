"""The campaign's two families beyond the ordinary scenarios, played on every CI run at a small size: a
catch-up after a long absence, and throttling that outlasts several runs; and the ledger seeing what
they must not do (a channel's accepted deliveries sent again, a run ended by the Lambda timeout)."""

from __future__ import annotations

import contextlib

import pytest

from ami_store_notifier import delivery
from ami_store_notifier.adapters import dynamodb_state_store, publishers
from tests.chaos.harness import ChaosWorld, assert_no_violations
from tests.chaos.scenarios import THROTTLED_RUN, Advance, Away, Run, Scenario, Throttle, play

HOURS = 3600
THROTTLED_RUNS = 3


def resumed(runs: int) -> tuple[Advance | Run, ...]:
    """Runs a minute apart, as the schedule invokes the function."""
    return (Advance(60), Run()) * runs


def a_throttle_over_several_runs(targets: tuple[str, ...], stores: int) -> Scenario:
    """A baseline, `stores` stores ending within the hour, then the targets throttled past the SDK's
    retries for three runs, and two runs after it."""
    return Scenario(
        amis=2,
        steps=(
            Run(),
            Away(seconds=10.0 * (stores + 1), stores=stores, failed_every=7, running=1),
            Throttle(targets, THROTTLED_RUNS),
            *resumed(THROTTLED_RUNS + 2),
        ),
        settings=(("PAGE_SIZE", "25"),),
    )


def arrivals_per_event(world: ChaosWorld, channel: str) -> set[int]:
    return {len(runs) for runs in world.ledger.arrivals[channel].values()}


def test_stores_that_ended_during_a_long_absence_are_each_announced_once_after_the_runs_resume(chaos):
    # 150 stores over six hours, read ten pages of ten a run: the backlog spans two runs' reads.
    scenario = Scenario(
        amis=2,
        steps=(Run(), Away(6.0 * HOURS, stores=150, failed_every=7, running=3), *resumed(3)),
        settings=(("PAGE_SIZE", "10"),),
        settle_runs=6,
    )

    ledger = play(chaos, scenario)

    assert ledger.counts["long_absences"] == 1
    assert ledger.counts["stores_ended_while_away"] == 147
    assert any(run.report.get("readGoesOn") for run in ledger.runs), "the read went on over runs"
    assert len(ledger.expected) == 150
    assert arrivals_per_event(chaos, "sns") == arrivals_per_event(chaos, "events") == {1}
    assert len(ledger.arrivals["sns"]) == len(ledger.arrivals["events"]) == 150
    assert_no_violations(ledger)


@pytest.mark.parametrize(
    "targets", [("ec2",), ("sns",), ("events",), ("events", "sns"), ("ec2", "sns")], ids="+".join
)
def test_a_throttle_outlasting_several_runs_loses_nothing_and_repeats_nothing_a_channel_accepted(
    chaos, targets
):
    ledger = play(chaos, a_throttle_over_several_runs(targets, stores=40))

    throttled = [run for run in ledger.runs if run.label == THROTTLED_RUN]
    assert ledger.counts["multi_run_throttles"] == 1
    assert len(throttled) == ledger.counts["runs_in_multi_run_throttles"] == THROTTLED_RUNS
    assert ledger.counts["runs_stopped_by_multi_run_throttles"] == THROTTLED_RUNS
    for channel in set(targets) - {"ec2"}:
        assert all(run.delivered[channel] == [] for run in throttled)
    assert arrivals_per_event(chaos, "sns") == arrivals_per_event(chaos, "events") == {1}
    assert len(ledger.arrivals["sns"]) == 40
    assert_no_violations(ledger)


def test_the_harness_sees_a_channel_send_again_what_it_accepted_while_the_other_is_throttled(
    chaos, monkeypatch
):
    keep_everything_pending = dynamodb_state_store.DynamoDbStateStore.settle
    monkeypatch.setattr(
        dynamodb_state_store.DynamoDbStateStore,
        "settle",
        lambda self, delivered, failed: keep_everything_pending(self, [], [*delivered, *failed]),
    )

    ledger = play(chaos, a_throttle_over_several_runs(("sns",), stores=10))

    throttled = {run.index for run in ledger.runs if run.label == THROTTLED_RUN}
    repeated = {
        violation.run
        for violation in ledger.violations
        if violation.kind == "duplicate" and "on events" in violation.message
    }
    assert repeated & throttled, "EventBridge took the announcements, and was sent them again"


def test_the_harness_sees_a_run_that_outlasts_the_lambda_timeout(chaos, monkeypatch):
    # Without the two guards (a channel throttled past the retries is sent nothing more, publishing stops
    # while the settling fits), each of 20 throttled batches spends 7 s of the run's 120.
    monkeypatch.setattr(publishers, "transient_errors", lambda operation: contextlib.nullcontext())
    monkeypatch.setattr(delivery.TimeLeft, "allows_a_call", lambda self: True)

    ledger = play(chaos, a_throttle_over_several_runs(("sns",), stores=200))

    assert "timeout" in {violation.kind for violation in ledger.violations}

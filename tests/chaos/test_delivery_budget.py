"""Delivery lives within the run's time: a channel throttled past the SDK's retries is left for the next
run, publishing stops while the settling still fits, and what a channel accepted is never sent again."""

from __future__ import annotations

from collections import Counter

import pytest

from ami_store_notifier.adapters.aws import CLIENT_CONFIG
from local.ec2_store_tasks import CLOCK
from tests.chaos.harness import ChaosWorld, RunRecord, assert_no_violations
from tests.chaos.lambda_time import LambdaTime, channel_throttled, lambda_time_kept
from tests.chaos.scenarios import stores_tracked_then_finished

# 20 batches of 10 a channel: a channel that stays throttled through the SDK's four attempts on every
# batch (7 s of backoff each) would take 140 s of a 120 s run. Runs of 1,000 claims (100 batches) fail the
# same way; moto's SQS queues cost quadratic time in the messages they hold, minutes at that size.
BACKLOG = 200
THROTTLED_RUNS = 3
pytestmark = pytest.mark.usefixtures("fast_transactions")


def a_backlog_of_finished_stores(world: ChaosWorld) -> None:
    world.configure(PAGE_SIZE="200")
    stores_tracked_then_finished(world, BACKLOG)


def timed_run(world: ChaosWorld, time: LambdaTime, label: str) -> tuple[RunRecord, float]:
    with lambda_time_kept(time.start()):
        record = world.run(label, seconds_left=time.seconds_left)
    CLOCK.advance(60)
    return record, time.elapsed


def arrivals(world: ChaosWorld, channel: str) -> Counter[int]:
    """How many announcements arrived how many times on the channel."""
    return Counter(len(runs) for runs in world.ledger.arrivals[channel].values())


@pytest.mark.parametrize("throttled", ["sns", "events"])
def test_a_channel_throttled_for_several_runs_over_a_backlog_times_out_no_run_and_repeats_nothing(
    chaos, lambda_time, throttled
):
    a_backlog_of_finished_stores(chaos)

    with channel_throttled(throttled, lambda_time, attempts=CLIENT_CONFIG.retries["total_max_attempts"]):
        under_throttle = [timed_run(chaos, lambda_time, "throttled") for _ in range(THROTTLED_RUNS)]
    after = [timed_run(chaos, lambda_time, "throttle over") for _ in range(2)]

    other = "events" if throttled == "sns" else "sns"
    first, _ = under_throttle[0]
    assert all(record.crash is None for record, _ in [*under_throttle, *after]), "no run timed out"
    assert max(seconds for _, seconds in under_throttle) < lambda_time.timeout
    assert sum(first.report["announced"].values()) == BACKLOG
    assert len(first.delivered[other]) == BACKLOG, "the other channel takes the whole backlog at once"
    assert all(record.delivered[throttled] == [] for record, _ in under_throttle)
    assert all(record.stopped_because == "aws-unavailable" for record, _ in under_throttle)
    # Each throttled run spends one call on the channel: its batch counts as refused, the rest waits.
    assert all(record.report["publishFailures"] == 10 for record, _ in under_throttle)
    assert all(record.report["deliveriesLeftUnsent"] == BACKLOG - 10 for record, _ in under_throttle)
    assert arrivals(chaos, throttled) == arrivals(chaos, other) == {1: BACKLOG}, "each arrives once"
    assert after[-1][0].complete
    assert_no_violations(chaos.ledger)


def test_a_channel_too_slow_for_the_run_stops_while_the_settling_fits_and_the_next_runs_finish(
    chaos, lambda_time
):
    a_backlog_of_finished_stores(chaos)
    lambda_time.slow = {"PublishBatch": 8.0}  # 20 batches would take 160 s of a 120 s run

    runs = [timed_run(chaos, lambda_time, "slow topic") for _ in range(3)]

    first, _ = runs[0]
    assert all(record.crash is None for record, _ in runs), "no run timed out"
    assert first.stopped_because == "time"
    assert 0 < len(first.delivered["sns"]) < BACKLOG
    assert any("Little time left" in line.get("message", "") for line in first.log_lines("WARNING"))
    assert arrivals(chaos, "sns") == arrivals(chaos, "events") == {1: BACKLOG}, "each arrives once"
    assert_no_violations(chaos.ledger)

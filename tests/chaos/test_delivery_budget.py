"""Delivery lives within the run's time: a channel throttled past the SDK's retries is left for the next
run, publishing stops while the settling still fits, and what a channel accepted is never sent again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from ami_store_notifier.adapters.aws import CLIENT_CONFIG
from ami_store_notifier.adapters.batching import MAX_BATCH_ENTRIES
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN
from local.ec2_store_tasks import CLOCK
from tests.chaos.harness import ChaosWorld, RunRecord, assert_no_violations
from tests.chaos.lambda_time import LambdaTime, channel_throttled, lambda_time_kept
from tests.chaos.scenarios import stores_tracked_then_finished

# As many claims as one run makes: 100 batches of 10 a channel. A channel that stayed throttled through
# the SDK's four attempts on every batch (7 s of backoff each) would take 700 s of a 120 s run.
BACKLOG = MAX_CLAIMS_PER_RUN
THROTTLED_RUNS = 3
# PublishBatch answering in 3 s: some 34 batches fit in a run's 120 s, so the topic needs three runs or
# four, and EventBridge (published after it) waits for the last.
SLOW_PUBLISH_SECONDS = 3.0
SLOW_RUNS_AT_MOST = 6
pytestmark = pytest.mark.usefixtures("fast_transactions")


def a_backlog_of_finished_stores(world: ChaosWorld) -> None:
    world.configure(PAGE_SIZE="200")
    stores_tracked_then_finished(world, BACKLOG)


def timed_run(world: ChaosWorld, time: LambdaTime, label: str) -> tuple[RunRecord, float]:
    with lambda_time_kept(time.start()):
        record = world.run(label, seconds_left=time.seconds_left)
    CLOCK.advance(60)
    return record, time.elapsed


def taken_by(runs: list[tuple[RunRecord, float]], figure: Callable[[RunRecord], Any]) -> set[Any]:
    """The values a figure of the run takes over the runs."""
    return {figure(record) for record, _ in runs}


def assert_each_sent_one_refused_batch(runs: list[tuple[RunRecord, float]], throttled: str) -> None:
    """Each throttled run spends one call on the channel: its batch counts as refused, the other 99 wait
    for the next run, and the run says AWS was unavailable."""
    assert taken_by(runs, lambda record: len(record.delivered[throttled])) == {0}
    assert taken_by(runs, lambda record: record.stopped_because) == {"aws-unavailable"}
    assert taken_by(runs, lambda record: record.report["publishFailures"]) == {MAX_BATCH_ENTRIES}
    assert taken_by(runs, lambda record: record.report["deliveriesLeftUnsent"]) == {
        BACKLOG - MAX_BATCH_ENTRIES
    }


def arrivals(world: ChaosWorld, channel: str) -> Counter[int]:
    """How many announcements arrived how many times on the channel."""
    return Counter(len(runs) for runs in world.ledger.arrivals[channel].values())


@pytest.mark.parametrize(
    ("throttled", "other"), [("sns", "events"), ("events", "sns")], ids=["sns", "events"]
)
def test_a_channel_throttled_for_several_runs_over_a_backlog_times_out_no_run_and_repeats_nothing(
    chaos, lambda_time, throttled, other
):
    a_backlog_of_finished_stores(chaos)

    with channel_throttled(throttled, lambda_time, attempts=CLIENT_CONFIG.retries["total_max_attempts"]):
        under_throttle = [timed_run(chaos, lambda_time, "throttled") for _ in range(THROTTLED_RUNS)]
    after = [timed_run(chaos, lambda_time, "throttle over") for _ in range(2)]

    first, _ = under_throttle[0]
    assert taken_by([*under_throttle, *after], lambda record: record.crash) == {None}, "no run timed out"
    assert max(seconds for _, seconds in under_throttle) < lambda_time.timeout
    assert sum(first.report["announced"].values()) == BACKLOG
    assert len(first.delivered[other]) == BACKLOG, "the other channel takes the whole backlog at once"
    assert_each_sent_one_refused_batch(under_throttle, throttled)
    assert len(after[0][0].delivered[throttled]) == BACKLOG, "the first run after it sends the whole backlog"
    assert arrivals(chaos, throttled) == arrivals(chaos, other) == {1: BACKLOG}, "each arrives once"
    assert after[-1][0].complete
    assert_no_violations(chaos.ledger)


def test_a_channel_too_slow_for_the_run_stops_while_the_settling_fits_and_the_next_runs_finish(
    chaos, lambda_time
):
    a_backlog_of_finished_stores(chaos)
    lambda_time.slow = {"PublishBatch": SLOW_PUBLISH_SECONDS}  # 100 batches would take 300 s

    runs = []
    while len(runs) < SLOW_RUNS_AT_MOST and len(chaos.ledger.arrivals["events"]) < BACKLOG:
        runs.append(timed_run(chaos, lambda_time, "slow topic"))

    first, _ = runs[0]
    topic_per_run = [len(record.delivered["sns"]) for record, _ in runs]
    assert taken_by(runs, lambda record: record.crash) == {None}, "no run timed out"
    assert first.stopped_because == "time"
    assert any("Little time left" in line.get("message", "") for line in first.log_lines("WARNING"))
    assert all(0 < sent < BACKLOG for sent in topic_per_run), f"each run sends part of it: {topic_per_run}"
    assert arrivals(chaos, "sns") == arrivals(chaos, "events") == {1: BACKLOG}, "each arrives once"
    assert_no_violations(chaos.ledger)

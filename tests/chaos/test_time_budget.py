"""Running short of time: the run stops reading, still delivers what it claimed, and the next run finishes."""

from __future__ import annotations

from collections.abc import Callable

from local.ec2_store_tasks import CLOCK
from tests.chaos.harness import assert_no_violations
from tests.chaos.scenarios import stores_tracked_then_finished

STORES = 6


def time_runs_out(after: int, reserve: float) -> Callable[[], float]:
    """A remaining-time clock that answers plenty `after` times, then less than the delivery reserve."""
    asked = {"count": 0}

    def seconds_left() -> float:
        asked["count"] += 1
        return 600.0 if asked["count"] <= after else reserve - 1

    return seconds_left


def test_a_run_short_of_time_stops_reading_delivers_what_it_claimed_and_the_next_run_finishes(chaos):
    stores_tracked_then_finished(chaos, STORES)  # three listing pages of two

    cut = chaos.run(
        "time runs out after the second page", seconds_left=time_runs_out(2, chaos.reserve_seconds)
    )
    CLOCK.advance(60)
    following = chaos.run("the next run")

    claimed = sum(cut.report["announced"].values())
    assert cut.stopped_because == "time"
    assert not cut.report["listingComplete"]
    assert claimed == 4, "two pages of two were read before the time ran out"
    assert len(cut.delivered["sns"]) == len(cut.delivered["events"]) == claimed
    assert cut.report["runsCutShort"] == 1
    assert any("Little time left" in line.get("message", "") for line in cut.log_lines("WARNING"))
    assert following.report["readGoesOn"], "the next run goes on from the third page"
    assert following.stopped_because is None
    assert following.report["listingComplete"]
    assert len(following.delivered["sns"]) == len(following.delivered["events"]) == STORES - claimed
    assert_no_violations(chaos.ledger)


def test_a_run_with_no_time_to_read_still_delivers_what_an_earlier_run_left_pending(chaos):
    stores_tracked_then_finished(chaos, STORES)
    chaos.faults.inject("events", "PutEvents", "partial", entry=3)
    refused = chaos.run("EventBridge refuses one entry")
    CLOCK.advance(60)

    starved = chaos.run("no time to read at all", seconds_left=time_runs_out(0, chaos.reserve_seconds))

    assert refused.report["publishFailures"] == 1
    assert starved.stopped_because == "time"
    assert starved.report["tasksSeen"] == 0
    assert starved.report["redelivered"] == 1
    assert starved.delivered["sns"] == []
    assert len(starved.delivered["events"]) == 1
    assert_no_violations(chaos.ledger)


def test_runs_that_each_read_one_page_before_time_runs_out_lose_and_repeat_nothing(chaos):
    chaos.configure(PAGE_SIZE="1")
    stores_tracked_then_finished(chaos, STORES)

    starved = []
    for _ in range(3):
        starved.append(chaos.run("one page per run", seconds_left=time_runs_out(1, chaos.reserve_seconds)))
        CLOCK.advance(30)
    full = chaos.run("full time")

    # A cut-short run saves where it stopped and the next one goes on from there: under steady time
    # pressure each run still announces one more page; the first run with time finishes the rest.
    assert [sum(run.report["announced"].values()) for run in starved] == [1, 1, 1]
    assert all(run.report["readGoesOn"] for run in starved[1:])
    assert all(run.stopped_because == "time" for run in starved)
    assert full.stopped_because is None
    assert full.report["listingComplete"]
    assert sum(len(run.delivered["sns"]) for run in [*starved, full]) == STORES
    assert sum(len(run.delivered["events"]) for run in [*starved, full]) == STORES
    assert_no_violations(chaos.ledger)

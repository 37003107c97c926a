"""The baseline and the full scans: what the first run records silently, and what a full scan must find.

A head read stops at the overlap window below the high-water mark; the hourly full scan (the safety net)
lists every task in progress and reads the head down to where the previous one began, and checks
"suspects" (unrecorded-looking tasks) against the state table, to catch stores that EC2 lists late, with
a start time already older than the window.
"""

from __future__ import annotations

from datetime import timedelta

from local.ec2_store_tasks import CLOCK, COMPLETED
from tests.chaos.harness import BUCKET, ChaosWorld, Transition, assert_no_violations, ec2_timestamp
from tests.chaos.scenarios import ami_id


def announced(world: ChaosWorld, transition: Transition) -> bool:
    return all(world.ledger.delivery_count(channel, transition) >= 1 for channel in ("sns", "events"))


def test_stores_finished_long_before_the_first_run_are_never_announced(chaos):
    for ami, minutes in ((1, 300), (2, 40 * 24 * 60), (3, 31)):
        chaos.backend.add_task(ami_id(ami), BUCKET, CLOCK.now() - timedelta(minutes=minutes), COMPLETED)
    chaos.backend.add_task(ami_id(4), BUCKET, CLOCK.now(), COMPLETED)  # the newest: sets the high-water mark

    for _ in range(3):  # baseline, then two full scans an hour apart
        chaos.run()
        CLOCK.advance(3601)
    chaos.run()

    assert all(run.delivered == {"sns": [], "events": []} for run in chaos.ledger.runs)
    assert_no_violations(chaos.ledger)


def test_a_store_that_finished_shortly_before_the_first_run_is_never_announced(chaos):
    old = chaos.backend.add_task(ami_id(1), BUCKET, CLOCK.now() - timedelta(minutes=25), COMPLETED)
    chaos.backend.add_task(ami_id(2), BUCKET, CLOCK.now(), COMPLETED)

    chaos.run("baseline")
    CLOCK.advance(3601)
    scan = chaos.run("the first full scan")

    finished_before = Transition(ami_id(1), ec2_timestamp(old.start_time), COMPLETED)
    assert scan.report["mode"] == "full-scan"
    assert not announced(chaos, finished_before)


def late_listed_store(world: ChaosWorld) -> Transition:
    """A baseline, a store that moves the high-water mark 55 minutes later, and then, when the full scan
    is due, a finished store that EC2 lists only now with a start 35 minutes below the mark."""
    start = CLOCK.now()
    world.backend.add_task(ami_id(1), BUCKET, start, COMPLETED)
    world.run("baseline")
    CLOCK.advance(55 * 60)
    world.backend.add_task(ami_id(2), BUCKET, CLOCK.now(), "InProgress", 0)
    world.run("a new store moves the high-water mark")
    CLOCK.advance(6 * 60)
    late = world.backend.add_task(ami_id(3), BUCKET, start + timedelta(minutes=20), COMPLETED)
    return Transition(ami_id(3), ec2_timestamp(late.start_time), COMPLETED)


def test_a_store_listed_late_is_announced_by_the_next_full_scan(chaos):
    late = late_listed_store(chaos)

    scan = chaos.run("the full scan")

    assert scan.report["mode"] == "full-scan"
    assert scan.complete
    assert announced(chaos, late)
    assert_no_violations(chaos.ledger)


def test_a_store_listed_late_is_announced_even_when_the_full_scan_could_not_read_the_state_table(chaos):
    late = late_listed_store(chaos)
    chaos.faults.inject("dynamodb", "BatchGetItem", "throttle")

    throttled = chaos.run("the full scan cannot read its suspects' records")
    for _ in range(13):  # every five minutes until the next full scan is done
        CLOCK.advance(300)
        chaos.run()

    assert throttled.stopped_because == "aws-unavailable"
    assert any(run.report.get("mode") == "full-scan" and run.complete for run in chaos.ledger.runs[4:])
    assert announced(chaos, late)

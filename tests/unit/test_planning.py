"""The planner on its own: claims as commit steps, leases, and the cursor each step leaves behind."""

from __future__ import annotations

from datetime import timedelta

from ami_store_notifier.domain.model import Cursor, PendingDelivery, TaskState
from ami_store_notifier.domain.planning import (
    CHANNELS,
    MAX_BATCHES_RETIRED_PER_STEP,
    MAX_CLAIMS_PER_STEP,
    Planner,
    final_cursor,
)
from ami_store_notifier.domain.reading import ListingReader
from tests.world import ACCOUNT, REGION

COMPLETED, IN_PROGRESS = TaskState.COMPLETED, TaskState.IN_PROGRESS


def read(cursor, policy, clock, tasks, *, has_more=False):
    reader = ListingReader(cursor, policy, region=REGION, account=ACCOUNT, now=clock.now)
    reader.observe_page(tasks, has_more=has_more)
    return reader


def test_nothing_new_plans_nothing(baselined, policy, clock, make_task):
    recorded = make_task(COMPLETED, started_minutes_ago=40)
    unchanged = Cursor(**{**baselined.__dict__, "known": {recorded.key: COMPLETED}})

    assert Planner(unchanged, read(unchanged, policy, clock, [recorded])).plan() == []


def test_claims_come_in_small_steps_and_only_the_last_moves_the_high_water_mark_and_the_known_tasks(
    baselined, policy, clock, make_task
):
    tasks = [
        make_task(COMPLETED, started_minutes_ago=1 + index / 100) for index in range(MAX_CLAIMS_PER_STEP + 3)
    ]
    reader = read(baselined, policy, clock, tasks)

    first, last = Planner(baselined, reader).plan()

    assert (len(first.claims), len(last.claims)) == (MAX_CLAIMS_PER_STEP, 3)
    assert first.cursor.high_water_mark == baselined.high_water_mark
    assert first.cursor.known is None
    assert last.cursor.high_water_mark == tasks[0].task_start_time
    assert set(last.cursor.known or {}) == {task.key for task in tasks}


def test_each_step_writes_its_deliveries_as_a_batch_named_after_the_version_it_writes(
    baselined, policy, clock, make_task
):
    tasks = [
        make_task(COMPLETED, started_minutes_ago=1 + index / 100) for index in range(MAX_CLAIMS_PER_STEP + 3)
    ]

    first, last = Planner(baselined, read(baselined, policy, clock, tasks)).plan()

    assert {lease.batch for lease in first.cursor.leases} == {baselined.version + 1}
    assert {lease.batch for lease in last.cursor.leases} == {baselined.version + 2}
    assert last.cursor.lease_batches == {baselined.version + 1, baselined.version + 2}


def test_each_announced_claim_leases_one_delivery_per_channel(baselined, policy, clock, make_task):
    task = make_task(COMPLETED, started_minutes_ago=2)
    (step,) = Planner(baselined, read(baselined, policy, clock, [task])).plan()

    expiry = int((clock.now + policy.claim_lease).timestamp())
    assert sorted(step.cursor.leases, key=lambda lease: lease.channel) == sorted(
        (
            PendingDelivery(channel, COMPLETED, task.key, expiry, baselined.version + 1)
            for channel in CHANNELS
        ),
        key=lambda lease: lease.channel,
    )


def test_batches_whose_lease_ran_out_are_taken_over_whole_before_any_claim(
    baselined, policy, clock, make_task
):
    expired = tuple(
        PendingDelivery(channel, COMPLETED, f"ami-{index:017x}#2026-10-31T12:00:00.000Z", 0, index + 1)
        for index in range(MAX_BATCHES_RETIRED_PER_STEP + 1)
        for channel in CHANNELS
    )
    held = PendingDelivery("events", COMPLETED, "ami-0#2026-10-31T12:00:00.000Z", 2**40, 1_000)
    with_pending = Cursor(**{**baselined.__dict__, "version": 2_000, "pending": (*expired, held)})
    reader = read(with_pending, policy, clock, [make_task(COMPLETED, started_minutes_ago=2)])

    first, second, claims = Planner(with_pending, reader).plan()

    assert (first.claims, second.claims) == ((), ())
    assert len(first.cursor.retired_batches) == MAX_BATCHES_RETIRED_PER_STEP
    assert len(first.cursor.leases) + len(second.cursor.leases) == len(expired)
    assert {lease.key for lease in first.cursor.leases + second.cursor.leases} == {
        lease.key for lease in expired
    }
    assert 1_000 in claims.cursor.lease_batches
    assert held.batch not in second.cursor.retired_batches
    assert len(claims.claims) == 1


def test_deliveries_an_earlier_version_kept_in_the_cursor_move_to_a_batch_once_all_their_leases_ended(
    baselined, policy, clock, make_task
):
    ended = PendingDelivery("sns", COMPLETED, "ami-1#2026-10-31T12:00:00.000Z", 0)
    held_for_an_hour = int((clock.now + timedelta(hours=1)).timestamp())
    still_held = PendingDelivery("events", COMPLETED, "ami-1#2026-10-31T12:00:00.000Z", held_for_an_hour)
    legacy = Cursor(**{**baselined.__dict__, "pending": (ended, still_held)})
    assert Planner(legacy, read(legacy, policy, clock, [])).plan() == []

    clock.now += timedelta(hours=2)
    (step,) = Planner(legacy, read(legacy, policy, clock, [])).plan()

    assert step.cursor.retired_batches == (0,)
    assert {lease.channel for lease in step.cursor.leases} == {"sns", "events"}


def test_the_high_water_mark_stays_when_the_listing_was_not_read_to_the_end(
    baselined, policy, clock, make_task
):
    task = make_task(COMPLETED, started_minutes_ago=2)
    reader = read(baselined, policy, clock, [task], has_more=True)
    reader.findings.listing_complete = False

    assert final_cursor(baselined, reader).high_water_mark == baselined.high_water_mark


def test_the_cursor_keeps_tasks_in_progress_and_forgets_finished_ones_older_than_the_window(
    baselined, policy, clock, make_task
):
    running = make_task(IN_PROGRESS, started_minutes_ago=600)
    old = make_task(COMPLETED, started_minutes_ago=600)
    recent = make_task(COMPLETED, started_minutes_ago=2)
    known = {running.key: IN_PROGRESS, old.key: COMPLETED}
    tracked = Cursor(**{**baselined.__dict__, "known": known})

    final = final_cursor(tracked, read(tracked, policy, clock, [recent, running]))

    assert final.known == {running.key: IN_PROGRESS, recent.key: COMPLETED}


def test_once_every_step_is_committed_nothing_is_left_to_plan(baselined, policy, clock, make_task):
    reader = read(baselined, policy, clock, [make_task(COMPLETED, started_minutes_ago=2)])
    planner = Planner(baselined, reader)

    for step in planner.plan():
        planner.committed(step)

    assert planner.cursor_version == baselined.version + 1
    assert planner.plan() == []

"""Bad input: malformed listing entries, and values at or past the limits of the channels.

The emulator validates what it is given, so malformed entries are served by editing the parsed
DescribeStoreImageTasks answer on the handler's own EC2 client (ChaosWorld.listing_edited). Every case
must produce a clear log line and a metric, never crash the run, and lose nothing for the other tasks
of the same page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.deployment import TOPIC_FAILED_QUEUE, TOPIC_QUEUE
from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED
from tests.chaos.harness import BUCKET, ChaosWorld, Transition, assert_no_violations, ec2_timestamp
from tests.chaos.scenarios import ami_id, malformed_entry

MAX_SUBJECT = 100
MAX_FAILURE_REASON = 2000


def two_finished_stores(world: ChaosWorld) -> list[Transition]:
    """Three tracked stores; one completes and one fails before the next run; one runs on."""
    world.run("baseline")
    starts = {}
    for ami in (1, 2, 3):
        CLOCK.advance(1)
        starts[ami] = ec2_timestamp(
            world.backend.add_task(ami_id(ami), BUCKET, CLOCK.now(), "InProgress", 10).start_time
        )
    CLOCK.advance(60)
    world.run("tracks three stores")
    world.backend.complete(ami_id(1))
    world.backend.fail(ami_id(2), "The snapshot could not be read.")
    CLOCK.advance(60)
    return [Transition(ami_id(1), starts[1], COMPLETED), Transition(ami_id(2), starts[2], FAILED)]


def first_page_only(edit: Any) -> Any:
    done = {"yes": False}

    def once(results: list[dict[str, Any]], params: dict[str, Any]) -> None:
        if done["yes"] or params.get("ImageIds"):
            return
        done["yes"] = True
        edit(results)

    return once


def delivered_once_on_both_channels(world: ChaosWorld, transitions: list[Transition]) -> bool:
    return all(
        world.ledger.delivery_count(channel, transition) == 1
        for transition in transitions
        for channel in ("sns", "events")
    )


@pytest.mark.parametrize(
    ("kind", "counter", "level", "said"),
    [
        ("no-ami-id", "unparseableTasks", "ERROR", "Listing entry skipped: no AmiId"),
        (
            "no-start-time",
            "unparseableTasks",
            "ERROR",
            "Listing entry skipped: no TaskStartTime",
        ),
        (
            "no-state",
            "unparseableTasks",
            "ERROR",
            "Listing entry skipped: no StoreTaskState",
        ),
        ("start-not-a-time", "unparseableTasks", "ERROR", "is not a timestamp"),
        (
            "unknown-state",
            "unknownStates",
            "WARNING",
            "a state this version does not know",
        ),
        ("naive-start-copy", "malformedTasks", "WARNING", "has no time zone; read as UTC"),
        (
            "progress-over-100",
            "malformedTasks",
            "WARNING",
            "ProgressPercentage 150 is outside",
        ),
        ("progress-not-a-number", "malformedTasks", "WARNING", "is not a whole number"),
    ],
)
def test_a_malformed_listing_entry_is_logged_and_counted_and_does_not_hold_back_its_page(
    chaos, kind, counter, level, said
):
    finished = two_finished_stores(chaos)
    bad = malformed_entry(kind, 1, CLOCK.now(), [])

    def put_first(results: list[dict[str, Any]]) -> None:
        results.insert(
            0, malformed_entry(kind, 1, CLOCK.now(), results) if kind == "naive-start-copy" else bad
        )

    with chaos.listing_edited(first_page_only(put_first)):
        record = chaos.run("the first page starts with a bad entry")
    CLOCK.advance(60)
    following = chaos.run("the next run")

    assert record.error is None, record.error
    assert record.complete, "bad input is not a fault: the run completes"
    assert record.report[counter] == 1
    lines = [line for line in record.log_lines(level) if said in line.get("message", "")]
    assert lines, f"no {level} log line saying {said!r}: {[line.get('message') for line in record.logs]}"
    assert delivered_once_on_both_channels(chaos, finished)
    assert following.complete
    assert_no_violations(chaos.ledger)


def test_start_times_without_a_time_zone_are_read_as_utc_and_each_transition_is_announced_once(chaos):
    finished = two_finished_stores(chaos)

    def strip_zones(results: list[dict[str, Any]], params: dict[str, Any]) -> None:
        for entry in results:
            entry["TaskStartTime"] = entry["TaskStartTime"].astimezone(UTC).replace(tzinfo=None)

    with chaos.listing_edited(strip_zones):
        naive = chaos.run("every start time arrives without a time zone")
    for _ in range(3):
        CLOCK.advance(60)
        chaos.run("then with one again")

    assert naive.complete
    assert naive.report["malformedTasks"] == 3
    assert delivered_once_on_both_channels(chaos, finished)
    assert_no_violations(chaos.ledger)


def test_a_listing_entry_without_a_bucket_is_still_announced_and_logged(chaos):
    finished = two_finished_stores(chaos)

    def drop_bucket(results: list[dict[str, Any]]) -> None:
        for entry in results:
            if entry["AmiId"] == ami_id(2):
                del entry["Bucket"]

    with chaos.listing_edited(first_page_only(drop_bucket)):
        record = chaos.run("the failed store's entry has no bucket")

    assert record.complete
    assert record.report["malformedTasks"] == 1
    assert any("no Bucket" in line.get("message", "") for line in record.log_lines("WARNING"))
    assert delivered_once_on_both_channels(chaos, finished)
    assert_no_violations(chaos.ledger)


def test_a_300_kb_failure_reason_is_bounded_and_reaches_both_channels(chaos):
    chaos.run("baseline")
    chaos.backend.add_task(ami_id(1), BUCKET, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    chaos.run("tracks the store")
    reason = "The snapshot snap-0123456789abcdef0 could not be copied: " + "x" * 300_000
    chaos.backend.fail(ami_id(1), reason)
    CLOCK.advance(60)

    record = chaos.run("the store failed with a 300 KB reason")

    assert record.complete
    assert record.report["publishFailures"] == 0
    received = [*record.received[TOPIC_QUEUE], *record.received[TOPIC_FAILED_QUEUE]]
    details = [item.detail for item in received] + record.delivered["events"]
    assert len(details) == 3
    for detail in details:
        assert len(detail["failureReason"]) <= MAX_FAILURE_REASON
        assert detail["failureReason"].startswith(
            "The snapshot snap-0123456789abcdef0 could not be copied: xxx"
        )
        assert detail["failureReason"].endswith(" [truncated]")
    assert_no_violations(chaos.ledger)


def test_a_failure_reason_cut_to_fit_is_logged_and_counted(chaos):
    chaos.run("baseline")
    chaos.backend.add_task(ami_id(1), BUCKET, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    chaos.run("tracks the store")
    chaos.backend.fail(ami_id(1), "The snapshot could not be copied: " + "x" * 300_000)
    CLOCK.advance(60)

    record = chaos.run("the store failed with a 300 KB reason")

    assert any("announced shortened" in line.get("message", "") for line in record.log_lines("WARNING"))
    assert record.report["failureReasonsShortened"] == 1


def test_a_unicode_failure_reason_arrives_intact_and_the_subject_stays_ascii(chaos):
    chaos.run("baseline")
    chaos.backend.add_task(ami_id(1), BUCKET, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    chaos.run("tracks the store")
    reason = "Échec : l'instantané « snap-0123 » est introuvable ✗ 快照丢失 🙂\nligne 2\tfin"
    chaos.backend.fail(ami_id(1), reason)
    CLOCK.advance(60)

    record = chaos.run("the store failed with a unicode reason")

    (topic,) = record.received[TOPIC_QUEUE]
    (event,) = record.delivered["events"]
    assert topic.detail["failureReason"] == event["failureReason"] == reason
    assert topic.subject is not None
    assert topic.subject.isascii()
    assert len(topic.subject) <= MAX_SUBJECT
    assert_no_violations(chaos.ledger)


def test_the_longest_ami_id_and_bucket_name_keep_the_subject_within_100_characters(chaos):
    ami = "ami-0123456789abcdef0"
    bucket = ("ami-archive-" + "0123456789" * 6)[:63]
    assert (len(ami), len(bucket)) == (21, 63)
    chaos.run("baseline")
    task = chaos.backend.add_task(ami, bucket, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    chaos.run("tracks the store")
    chaos.backend.complete(ami)
    CLOCK.advance(60)

    record = chaos.run("the store completed")

    (topic,) = record.received[TOPIC_QUEUE]
    (event,) = record.delivered["events"]
    assert topic.subject is not None
    assert len(topic.subject) == MAX_SUBJECT
    assert topic.subject.startswith(f"AMI store Completed: {ami} to ami-archive-")
    assert topic.subject.endswith("...")
    assert topic.attributes["bucket"] == bucket
    assert topic.attributes["amiId"] == ami
    for detail in (topic.detail, event):
        assert detail["s3Uri"] == f"s3://{bucket}/{ami}.bin"
        assert detail["taskStartTime"] == ec2_timestamp(task.start_time)
    assert_no_violations(chaos.ledger)


def test_a_bucket_name_outside_ascii_is_carried_intact_and_masked_in_the_subject(chaos):
    finished = two_finished_stores(chaos)
    odd = "archivé-ü-桶"

    def rename(results: list[dict[str, Any]], params: dict[str, Any]) -> None:
        for entry in results:
            if entry["AmiId"] == ami_id(1):
                entry["Bucket"] = odd

    with chaos.listing_edited(rename):
        record = chaos.run("the completed store's bucket is not ASCII")

    completed = next(item for item in record.received[TOPIC_QUEUE] if item.detail["amiId"] == ami_id(1))
    assert completed.detail["bucket"] == odd
    assert completed.attributes["bucket"] == odd
    assert completed.subject == f"AMI store Completed: {ami_id(1)} to archiv?-?-?"
    assert delivered_once_on_both_channels(chaos, finished)
    assert_no_violations(chaos.ledger)


def test_an_entry_dated_in_the_future_does_not_hold_back_the_stores_that_follow_it(chaos):
    chaos.backend.add_task(ami_id(9), BUCKET, CLOCK.now() - timedelta(hours=2), COMPLETED)
    chaos.run("baseline")
    future = CLOCK.now() + timedelta(days=3650)

    def add_future(results: list[dict[str, Any]]) -> None:
        results.insert(0, malformed_entry("progress-over-100", 1, future, []) | {"StoreTaskState": COMPLETED})

    with chaos.listing_edited(first_page_only(add_future)):
        chaos.run("one answer lists an entry dated ten years ahead")
    stores = []
    for minute in range(0, 180, 5):  # a run every five minutes for three hours
        if minute in (5, 90):  # ten-minute stores, one before and one after the next full scan
            task = chaos.backend.add_task(
                ami_id(len(stores) + 1), BUCKET, CLOCK.now(), "InProgress", 0, duration_seconds=600
            )
            stores.append(Transition(task.ami_id, ec2_timestamp(task.start_time), COMPLETED))
        CLOCK.advance(300)
        chaos.run()

    late = []
    for store in stores:
        delivered_at = [
            run.at
            for run in chaos.ledger.runs
            if store.event_id in {d["eventId"] for d in run.delivered["sns"]}
        ]
        finished_at = datetime.fromisoformat(store.started.replace("Z", "+00:00")) + timedelta(seconds=600)
        if not delivered_at or delivered_at[0] - finished_at > timedelta(minutes=5):
            late.append((store.ami_id, delivered_at))
    assert late == [], "each store is announced by the first run after it finished"

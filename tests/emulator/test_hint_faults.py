"""The hint faults: a hint dropped, repeated, delayed past the listing's end, a start hint arriving before
the listing shows the task, and Object Created events for objects no store task made."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ami_store_notifier.domain.hints import HintKind, read_hints
from local.ec2_store_tasks import CLOCK, HintEvents, HintFaults, StoreTaskBackend

Records = Callable[[], list[dict[str, Any]]]


def sources(records: list[dict[str, Any]]) -> list[str]:
    return [json.loads(record["body"])["source"] for record in records]


def listed(ec2: Any, ami: str) -> list[str]:
    by_id = ec2.describe_store_image_tasks(ImageIds=[ami])["StoreImageTaskResults"]
    paged = ec2.describe_store_image_tasks()["StoreImageTaskResults"]
    assert [t["AmiId"] for t in by_id] == [t["AmiId"] for t in paged if t["AmiId"] == ami]
    return [t["StoreTaskState"] for t in by_id]


def test_a_dropped_hint_never_reaches_the_bus_and_the_log_says_so(
    store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    hints.faults = HintFaults(drop=1, kinds=frozenset({"object-created"}))
    store(seconds=10)
    CLOCK.advance(60)

    assert sources(queued_hints()) == ["aws.ec2"]
    assert [(d.kind, d.fault) for d in hints.log] == [("started", None), ("object-created", "dropped")]


def test_a_repeated_hint_arrives_twice_with_the_same_event_id(
    store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    hints.faults = HintFaults(repeat=1, repeat_after_seconds=5, kinds=frozenset({"object-created"}))
    store(seconds=10)
    CLOCK.advance(10)
    first = queued_hints()
    CLOCK.advance(5)
    again = queued_hints()

    assert sources(first) == ["aws.ec2", "aws.s3"]
    assert sources(again) == ["aws.s3"]
    assert json.loads(first[1]["body"]) == json.loads(again[0]["body"])
    assert first[1]["messageId"] != again[0]["messageId"]


def test_a_delayed_hint_arrives_after_the_listing_shows_the_end_with_its_own_time(
    ec2: Any, store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    hints.faults = HintFaults(delay=1, delay_seconds=120, kinds=frozenset({"object-created"}))
    ami = store(seconds=10)
    queued_hints()
    CLOCK.advance(10)

    assert listed(ec2, ami) == ["Completed"]
    assert queued_hints() == []
    CLOCK.advance(119)
    assert queued_hints() == []
    CLOCK.advance(1)
    [late] = queued_hints()
    [hint], _ = read_hints([late])
    assert hint.kind is HintKind.OBJECT_CREATED
    assert hints.log[-1].fault == "delayed"
    assert hints.log[-1].at - hints.log[-1].event_time == timedelta(seconds=120)
    assert int(late["attributes"]["SentTimestamp"]) == int(hints.log[-1].at.timestamp() * 1000)


def test_an_early_start_hint_arrives_before_the_listing_shows_the_task(
    ec2: Any, store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    hints.faults = HintFaults(early=1, early_seconds=20)
    ami = store(seconds=600)

    [start] = queued_hints()
    assert read_hints([start])[0][0].ami_id == ami
    assert listed(ec2, ami) == []
    assert (
        ec2.describe_store_image_tasks(Filters=[{"Name": "task-state", "Values": ["InProgress"]}])[
            "StoreImageTaskResults"
        ]
        == []
    )
    CLOCK.advance(20)
    assert listed(ec2, ami) == ["InProgress"]


def test_a_forged_object_for_an_ami_ec2_does_not_know_comes_with_each_real_end(
    ec2: Any, s3: Any, store: Callable[..., str], hints: HintEvents, queued_hints: Records
) -> None:
    hints.faults = HintFaults(forge=1, seed=7)
    ami = store(seconds=10)
    CLOCK.advance(10)

    found, unreadable = read_hints(queued_hints())
    assert unreadable == []
    [forged] = [h for h in found if h.ami_id != ami]
    assert forged.kind is HintKind.OBJECT_CREATED
    assert s3.head_object(Bucket="ami-archive", Key=f"{forged.ami_id}.bin")["ContentLength"] == 0
    with pytest.raises(ClientError) as unknown:
        ec2.describe_store_image_tasks(ImageIds=[forged.ami_id])
    assert unknown.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"
    assert [d.fault for d in hints.log] == [None, None, "forged"]


def test_forging_names_any_ami_even_one_ec2_knows_without_a_store(
    ec2: Any,
    new_ami: Callable[[], str],
    eventbridge_bucket: str,
    store_tasks: StoreTaskBackend,
    hints: HintEvents,
    queued_hints: Records,
) -> None:
    never_stored = new_ami()
    hints.forge(
        store_tasks.account_id, store_tasks.region_name, eventbridge_bucket, CLOCK.now(), never_stored
    )

    [hint], _ = read_hints(queued_hints())
    assert (hint.ami_id, hint.bucket) == (never_stored, eventbridge_bucket)
    assert ec2.describe_store_image_tasks(ImageIds=[never_stored])["StoreImageTaskResults"] == []


def test_rates_below_one_draw_from_the_seed_and_replay_the_same(
    ec2: Any, new_ami: Callable[[], str], eventbridge_bucket: str, store_tasks: StoreTaskBackend
) -> None:
    amis = [new_ami() for _ in range(12)]

    def outcome(seed: int) -> list[str | None]:
        store_tasks.hint_events = HintEvents(cloudtrail=True, faults=HintFaults(drop=0.5, seed=seed))
        for ami in amis:
            store_tasks.plan(ami, duration_seconds=1)
            ec2.create_store_image_task(ImageId=ami, Bucket=eventbridge_bucket)
        CLOCK.advance(2)
        return [d.fault for d in store_tasks.hint_events.log]

    first = outcome(3)
    assert outcome(3) == first
    assert set(first) == {None, "dropped"}


def test_unknown_hint_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown hint kinds"):
        HintFaults(kinds=frozenset({"finished"}))

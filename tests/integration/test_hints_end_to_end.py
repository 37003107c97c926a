"""Hints end to end: the emulator's events on moto's default bus, the deployment's rules and queue, the
emulated event source mapping, and the real handler answering the batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from local.deployment import TOPIC_QUEUE, LocalDeployment
from local.ec2_store_tasks import CLOCK, HintFaults, StoreTaskBackend

Invoke = Callable[[dict[str, Any]], Any]


def observed(item: Any) -> datetime:
    return datetime.fromisoformat(item.detail["observedAt"].replace("Z", "+00:00"))


def test_a_completion_is_announced_by_a_hint_run_seconds_after_its_object_appears(
    ec2: Any,
    new_ami: Callable[[], str],
    store_tasks: StoreTaskBackend,
    hint_path: Callable[..., LocalDeployment],
    hinted_bucket: str,
    run_handler: Callable[..., dict[str, Any]],
    invoke_with_hints: Invoke,
) -> None:
    path = hint_path()
    run_handler()  # the baseline
    ami = new_ami()
    store_tasks.plan(ami, duration_seconds=150)
    ec2.create_store_image_task(ImageId=ami, Bucket=hinted_bucket)
    start = path.deliver_hints(invoke_with_hints)
    assert start is not None
    assert start.answer == {"batchItemFailures": []}
    path.receive(TOPIC_QUEUE)

    CLOCK.advance(152)  # the object appears at 150 s; the next scheduled run is at 180 s
    end = path.deliver_hints(invoke_with_hints)

    assert end is not None
    assert end.answer == {"batchItemFailures": []}
    [announced] = path.receive(TOPIC_QUEUE)
    assert (announced.detail["amiId"], announced.detail["state"]) == (ami, "Completed")
    object_time = store_tasks.hint_events.delivered("object-created")[0].event_time
    assert timedelta(0) <= observed(announced) - object_time <= timedelta(seconds=5)


def test_forged_delayed_and_repeated_hints_announce_nothing_the_listing_would_not(
    ec2: Any,
    new_ami: Callable[[], str],
    store_tasks: StoreTaskBackend,
    hint_path: Callable[..., LocalDeployment],
    hinted_bucket: str,
    run_handler: Callable[..., dict[str, Any]],
    invoke_with_hints: Invoke,
) -> None:
    path = hint_path()
    run_handler()
    store_tasks.hint_events.faults = HintFaults(forge=1, repeat=1, repeat_after_seconds=30)
    ami = new_ami()
    store_tasks.plan(ami, duration_seconds=60)
    ec2.create_store_image_task(ImageId=ami, Bucket=hinted_bucket)

    announced = []
    for _ in range(12):
        CLOCK.advance(10)
        while path.deliver_hints(invoke_with_hints) is not None:
            pass
        announced += [(item.detail["amiId"], item.detail["state"]) for item in path.receive(TOPIC_QUEUE)]

    assert [a for a in announced if a[1] != "InProgress"] == [(ami, "Completed")]
    assert {a[0] for a in announced} == {ami}

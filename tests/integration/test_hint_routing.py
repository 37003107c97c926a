"""The hints' rules on moto's default bus, with the patterns of domain/hints.py: moto matches `exists: false`
and `wildcard` as EventBridge does, so what reaches the hints queue is what a deployment's rules pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from local.deployment import LocalDeployment
from local.ec2_store_tasks import CLOCK, CallerIdentity
from local.ec2_store_tasks.event_shapes import (
    StoredObject,
    object_created_event,
    put_on_default_bus,
    store_started_event,
)
from tests.world import ACCOUNT, REGION


def started(now: datetime, **detail: Any) -> dict[str, Any]:
    event = store_started_event(
        account_id=ACCOUNT,
        region=REGION,
        at=now,
        ami_id="ami-0123456789abcdef0",
        bucket="ami-archive",
        object_key="ami-0123456789abcdef0.bin",
        identity=CallerIdentity(),
    )
    event["detail"].update(detail)
    return event


def created(now: datetime, key: str) -> dict[str, Any]:
    stored = StoredObject("ami-archive", key, 5, "b1946ac92492d2347c6235b4d2611184", None)
    return object_created_event(account_id=ACCOUNT, region=REGION, at=now, stored=stored)


def routed(path: LocalDeployment, event: dict[str, Any]) -> list[str]:
    """Puts `event` on the default bus; the ids of the events that reached the hints queue."""
    put_on_default_bus(event, CLOCK.now())
    records: list[dict[str, Any]] = []
    while (batch := path.deliver_hints(lambda _event: None)) is not None:
        records.extend(batch.event["Records"])
    return [json.loads(record["body"])["id"] for record in records]


def test_a_successful_store_call_is_routed(hint_path: Callable[..., LocalDeployment]) -> None:
    path, event = hint_path(), started(CLOCK.now())

    assert routed(path, event) == [event["id"]]


@pytest.mark.parametrize(
    "detail",
    [
        {"errorCode": "InvalidRequest", "errorMessage": "A store task is already in progress."},
        {"eventName": "CreateRestoreImageTask"},
    ],
    ids=["refused call", "another call"],
)
def test_a_refused_call_or_another_call_is_not_routed(
    hint_path: Callable[..., LocalDeployment], detail: dict[str, Any]
) -> None:
    assert routed(hint_path(), started(CLOCK.now(), **detail)) == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ami-0123456789abcdef0.bin", True),
        ("stores/2026/ami-0123456789abcdef0.bin", True),
        ("ami-0123456789abcdef0.bin.part", False),
        ("notes.bin", False),
    ],
)
def test_objects_are_routed_by_the_wildcard_on_their_key(
    hint_path: Callable[..., LocalDeployment], key: str, expected: bool
) -> None:
    event = created(CLOCK.now(), key)

    assert routed(hint_path(), event) == ([event["id"]] if expected else [])


def test_a_disabled_rule_routes_nothing(hint_path: Callable[..., LocalDeployment], boto_session: Any) -> None:
    path = hint_path()
    boto_session.client("events").disable_rule(Name="ami-store-notifier-object-created")

    assert routed(path, created(CLOCK.now(), "ami-0123456789abcdef0.bin")) == []


def test_the_queue_gets_the_whole_event_as_the_bus_had_it(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path()
    event = created(CLOCK.now(), "ami-0123456789abcdef0.bin")
    put_on_default_bus(event, CLOCK.now())

    batch = path.deliver_hints(lambda _event: None)

    assert batch is not None
    [record] = batch.event["Records"]
    body = json.loads(record["body"])
    assert body == {**event, "time": CLOCK.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert body["account"] == ACCOUNT  # which moto's own put_events would leave out

"""quietWhenIdle through the real handler: the stack's Region rests while idle, the others are polled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ami_store_notifier.domain.model import parse_timestamp
from local.deployment import TOPIC_QUEUE, LocalDeployment
from local.ec2_store_tasks import CLOCK, HintFaults, StoreTaskBackend
from tests.world import REGION

OTHER_REGION = "eu-west-1"


@pytest.fixture
def quiet_in_two_regions(deployment: LocalDeployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIET_WHEN_IDLE", "true")
    monkeypatch.setenv("REGIONS", f"{REGION},{OTHER_REGION}")


def modes(result: dict[str, Any]) -> dict[str, str]:
    return {report["region"]: report["mode"] for report in result["regions"]}


def test_an_idle_quiet_deployment_calls_ec2_only_in_regions_whose_starts_its_rules_cannot_hear(
    quiet_in_two_regions: None, store_tasks: StoreTaskBackend, run_handler: Callable[..., dict[str, Any]]
) -> None:
    run_handler()  # the baselines
    CLOCK.advance(60)
    calls = store_tasks.calls["DescribeStoreImageTasks"]

    result = run_handler()

    assert modes(result) == {REGION: "quiet", OTHER_REGION: "head"}
    assert store_tasks.calls["DescribeStoreImageTasks"] == calls


def test_a_start_ec2_lists_before_any_hint_wakes_the_deployment_at_the_safety_net(
    quiet_in_two_regions: None,
    ec2: Any,
    ami_id: str,
    bucket: str,
    store_tasks: StoreTaskBackend,
    run_handler: Callable[..., dict[str, Any]],
) -> None:
    run_handler()
    store_tasks.plan(ami_id, duration_seconds=7200)
    ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
    CLOCK.advance(60)
    assert modes(run_handler())[REGION] == "quiet"

    CLOCK.advance(3600)
    net = run_handler()

    [home] = [report for report in net["regions"] if report["region"] == REGION]
    assert home["mode"] == "full-scan"
    assert home["startsWithoutHint"] == 1
    CLOCK.advance(60)
    assert modes(run_handler())[REGION] == "head"


def test_a_start_hint_ahead_of_ec2_wakes_a_quiet_deployment_so_the_failure_is_found_within_a_minute(
    ec2: Any,
    ami_id: str,
    store_tasks: StoreTaskBackend,
    hint_path: Callable[..., LocalDeployment],
    hinted_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    run_handler: Callable[..., dict[str, Any]],
    invoke_with_hints: Callable[[dict[str, Any]], Any],
) -> None:
    monkeypatch.setenv("QUIET_WHEN_IDLE", "true")
    path = hint_path()
    run_handler()
    store_tasks.hint_events.faults = HintFaults(early=1, early_seconds=30)
    store_tasks.plan(ami_id, duration_seconds=150, fail_reason="InternalError")
    ec2.create_store_image_task(ImageId=ami_id, Bucket=hinted_bucket)
    path.deliver_hints(invoke_with_hints)  # EC2 does not list the task yet

    modes_seen = []
    for _ in range(4):
        CLOCK.advance(60)
        modes_seen += [report["mode"] for report in run_handler()["regions"]]
    [announced] = path.receive(TOPIC_QUEUE)

    assert modes_seen == ["head"] * 4
    assert (announced.detail["amiId"], announced.detail["state"]) == (ami_id, "Failed")
    observed = parse_timestamp(announced.detail["observedAt"])
    assert observed - store_tasks.task(ami_id).end_time <= timedelta(seconds=60)

"""quietWhenIdle through the real handler: the stack's Region rests while idle, the others are polled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.deployment import LocalDeployment
from local.ec2_store_tasks import CLOCK, StoreTaskBackend
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

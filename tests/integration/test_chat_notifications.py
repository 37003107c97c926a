"""Chat notifications through the real handler: one custom notification per announced move, on the chat
topic, each one valid against the schema Amazon Q Developer in chat applications reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from ami_store_notifier import handler
from ami_store_notifier.adapters.dynamodb_state_store import DynamoDbStateStore
from local.deployment import RULE_QUEUE, TOPIC_QUEUE, LocalDeployment
from local.ec2_store_tasks import CLOCK
from tests.faults import AwsFaults
from tests.world import REGION

pytestmark = pytest.mark.chat_notifications


def run_minutes(run_handler: Callable[..., dict[str, Any]], minutes: int) -> None:
    for _ in range(minutes):
        CLOCK.advance(60)
        run_handler()


def test_each_finished_store_reaches_the_chat_topic_once_as_a_valid_custom_notification(
    two_stores: tuple[str, str], run_handler: Callable[..., dict[str, Any]], deployment: LocalDeployment
) -> None:
    completing, failing = two_stores

    run_minutes(run_handler, 12)

    chat = deployment.receive_chat()
    by_ami = {message["metadata"]["relatedResources"][0].rsplit("/", 1)[1]: message for message in chat}
    assert sorted(by_ami) == sorted([completing, failing])
    assert len(chat) == 2
    assert by_ami[completing]["content"]["title"] == f":white_check_mark: AMI store Completed: {completing}"
    assert "create-restore-image-task" in by_ami[completing]["content"]["nextSteps"][0]
    assert (
        "*Failure reason:* AMI snapshot is not in a usable state" in by_ami[failing]["content"]["description"]
    )
    assert by_ami[failing]["content"]["keywords"] == ["Failed", "us-east-1", "123456789012"]
    assert len(deployment.receive(TOPIC_QUEUE)) == len(deployment.receive(RULE_QUEUE)) == 2


def test_a_refused_chat_publish_stays_pending_and_is_delivered_by_the_next_run_without_repeating_the_others(
    two_stores: tuple[str, str],
    run_handler: Callable[..., dict[str, Any]],
    deployment: LocalDeployment,
    faults: AwsFaults,
) -> None:
    _, failing = two_stores
    run_minutes(run_handler, 4)
    assert deployment.receive_chat() == []
    faults.inject("sns", "PublishBatch", "server-error", call=2)

    CLOCK.advance(60)
    refused = run_handler()
    assert faults.pending() == 0
    assert deployment.receive_chat() == []
    CLOCK.advance(60)
    run_handler()

    [message] = deployment.receive_chat()
    assert message["content"]["title"] == f":x: AMI store Failed: {failing}"
    assert refused["regions"][0]["publishFailures"] == 1
    assert [item.detail["amiId"] for item in deployment.receive(TOPIC_QUEUE)] == [failing]


def test_turning_chat_off_drops_the_chat_deliveries_still_owed_and_delivers_the_rest(
    two_stores: tuple[str, str],
    run_handler: Callable[..., dict[str, Any]],
    deployment: LocalDeployment,
    faults: AwsFaults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_minutes(run_handler, 4)
    faults.inject("sns", "PublishBatch", "server-error", call=2)
    CLOCK.advance(60)
    run_handler()
    table = DynamoDbStateStore(
        boto3.client("dynamodb"), table_name=deployment.table_name, region=REGION, ttl_days=1, clock=CLOCK.now
    )
    assert [lease.channel for lease in table.load_cursor().pending] == ["chat"]

    monkeypatch.delenv("CHAT_TOPIC_ARN")
    handler.wiring.cache_clear()
    run_minutes(run_handler, 6)

    assert deployment.receive_chat() == []
    assert table.load_cursor().pending == ()
    assert sorted(item.detail["state"] for item in deployment.receive(TOPIC_QUEUE)) == ["Completed", "Failed"]

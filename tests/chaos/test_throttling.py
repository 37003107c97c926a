"""Throttling: what the SDK's retries absorb, and what outlasts them and ends the run cleanly."""

from __future__ import annotations

import pytest

from ami_store_notifier import handler
from ami_store_notifier.adapters.aws import CLIENT_CONFIG
from local.ec2_store_tasks import CLOCK, COMPLETED
from tests.chaos.harness import BUCKET, ChaosWorld, Transition, assert_no_violations, ec2_timestamp
from tests.chaos.scenarios import EC2_ATTEMPTS, ami_id, prepare_busy_run


def finished_store(world: ChaosWorld) -> Transition:
    """A tracked store that has just completed: the next run announces it."""
    world.run("baseline")
    task = world.backend.add_task(ami_id(1), BUCKET, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    world.run("tracks the store")
    world.backend.complete(ami_id(1))
    CLOCK.advance(60)
    return Transition(ami_id(1), ec2_timestamp(task.start_time), COMPLETED)


def delivered_on_both_channels(world: ChaosWorld, transition: Transition) -> bool:
    return all(world.ledger.delivery_count(channel, transition) >= 1 for channel in ("sns", "events"))


def test_the_sdk_clients_set_the_standard_retry_mode_explicitly_and_ec2_retries_once(chaos):
    assert CLIENT_CONFIG.retries["mode"] == "standard"
    assert EC2_ATTEMPTS == 2, "EC2: the first attempt and one retry, its bucket is everyone's"
    wired = handler.wiring()
    for client in (wired.dynamodb, wired.sns, wired.events):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    for client in wired.ec2_clients.values():
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": EC2_ATTEMPTS}


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "InternalError"])
def test_a_listing_refused_fewer_times_than_the_sdk_retries_still_completes_the_poll(chaos, code):
    completed = finished_store(chaos)
    chaos.backend.faults.inject("DescribeStoreImageTasks", code=code, times=EC2_ATTEMPTS - 1)
    calls_before = chaos.backend.calls["DescribeStoreImageTasks"]

    record = chaos.run("EC2 refuses every attempt but the last")

    assert record.faults == {"ec2-error": EC2_ATTEMPTS - 1}
    assert chaos.backend.calls["DescribeStoreImageTasks"] - calls_before == EC2_ATTEMPTS
    assert record.stopped_because is None
    assert record.report["listingComplete"]
    assert delivered_on_both_channels(chaos, completed)
    assert_no_violations(chaos.ledger)


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "InternalError"])
def test_a_listing_refused_past_the_sdk_retries_ends_the_run_cleanly_and_the_next_run_catches_up(chaos, code):
    completed = finished_store(chaos)
    chaos.backend.faults.inject("DescribeStoreImageTasks", code=code, times=EC2_ATTEMPTS)

    throttled = chaos.run("EC2 stays throttled")
    CLOCK.advance(60)
    caught_up = chaos.run("the next run")

    assert throttled.result is not None, "the handler returns"
    assert throttled.stopped_because == "aws-unavailable"
    assert throttled.metric("SuccessfulPolls") == 0
    assert throttled.report["runsCutShort"] == 1
    assert throttled.delivered == {"sns": [], "events": []}
    assert caught_up.complete
    assert delivered_on_both_channels(chaos, completed)
    assert_no_violations(chaos.ledger)


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        pytest.param("BatchGetItem", 1, id="cursor-read"),
        pytest.param("BatchGetItem", 2, id="lease-batches-read"),
        pytest.param("BatchGetItem", 3, id="suspects-read"),
        pytest.param("TransactWriteItems", 2, id="claims-commit"),
        pytest.param("BatchGetItem", 4, id="announcements-read"),
        pytest.param("UpdateItem", 1, id="settle"),
    ],
)
def test_a_state_table_throttled_past_the_sdk_retries_ends_the_run_cleanly_and_the_next_run_catches_up(
    chaos, operation, call
):
    prepare_busy_run(chaos)
    chaos.faults.inject("dynamodb", operation, "throttle", call=call)

    throttled = chaos.run("DynamoDB stays throttled")
    caught_up = chaos.settle(max_runs=1)

    assert throttled.result is not None, "the handler returns"
    assert throttled.stopped_because == "aws-unavailable"
    assert throttled.metric("SuccessfulPolls") == 0
    assert caught_up.complete
    assert_no_violations(chaos.ledger)


@pytest.mark.parametrize(("service", "operation"), [("sns", "PublishBatch"), ("events", "PutEvents")])
def test_a_channel_throttled_past_the_sdk_retries_keeps_its_deliveries_for_the_next_run(
    chaos, service, operation
):
    completed = finished_store(chaos)
    chaos.faults.inject(service, operation, "throttle")

    throttled = chaos.run("the channel stays throttled")
    CLOCK.advance(60)
    caught_up = chaos.run("the next run")

    other = "events" if service == "sns" else "sns"
    assert throttled.result is not None, "the handler returns"
    assert throttled.report["publishFailures"] == 1
    assert throttled.delivered[service] == []
    assert len(throttled.delivered[other]) == 1
    assert caught_up.complete
    assert len(caught_up.delivered[service]) == 1
    assert caught_up.delivered[other] == [], "the channel that took it is not repeated"
    assert delivered_on_both_channels(chaos, completed)
    assert_no_violations(chaos.ledger)


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("sns", "PublishBatch", "Throttled"),
        ("sns", "PublishBatch", "KMSThrottling"),
        ("events", "PutEvents", "ThrottlingException"),
    ],
)
def test_a_channel_throttled_past_the_sdk_retries_is_reported_as_aws_unavailable(
    chaos, service, operation, code
):
    finished_store(chaos)
    chaos.faults.inject(service, operation, "throttle", code=code)

    throttled = chaos.run("the channel stays throttled")

    assert throttled.stopped_because == "aws-unavailable"
    assert throttled.metric("SuccessfulPolls") == 0

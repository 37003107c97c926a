"""The harness itself: it must see a loss, a repetition, a regression and a crash when there is one.

Each test breaks the product on purpose for one run (monkeypatch, undone at the end of the test) and
checks that the ledger reports exactly that kind of violation.
"""

from __future__ import annotations

from ami_store_notifier.adapters import dynamodb_state_store, publishers
from ami_store_notifier.adapters.table_items import task_pk
from ami_store_notifier.ports import PublishResult
from local.ec2_store_tasks import CLOCK
from tests.aws_errors import (
    COMMON_ERRORS,
    EC2_CLIENT_ERRORS,
    EC2_SERVER_ERRORS,
    MODELED_SERVICES,
    modeled_errors,
)
from tests.chaos.harness import BUCKET, ChaosWorld
from tests.chaos.scenarios import ami_id
from tests.faults import SERVER_ERRORS, THROTTLES, Fault


def finished_store(world: ChaosWorld) -> None:
    world.run("baseline")
    world.backend.add_task(ami_id(1), BUCKET, CLOCK.now(), "InProgress", 10)
    CLOCK.advance(60)
    world.run("tracks the store")
    world.backend.complete(ami_id(1))
    CLOCK.advance(60)


def kinds(world: ChaosWorld) -> list[str]:
    return [violation.kind for violation in world.ledger.finish()]


def test_the_harness_sees_a_delivery_that_was_acknowledged_but_never_sent(chaos, monkeypatch):
    finished_store(chaos)
    monkeypatch.setattr(
        publishers.SnsPublisher,
        "publish",
        lambda self, announcements, go_on: PublishResult(frozenset(item.event_id for item in announcements)),
    )

    chaos.run("SNS is skipped but reported as delivered")

    assert kinds(chaos) == ["lost"]


def test_the_harness_sees_a_delivery_repeated_without_a_fault(chaos, monkeypatch):
    finished_store(chaos)
    monkeypatch.setattr(
        dynamodb_state_store.DynamoDbStateStore, "settle", lambda self, delivered, failed: None
    )
    chaos.run("delivered, but never settled")
    monkeypatch.undo()

    chaos.settle()

    assert kinds(chaos) == ["duplicate", "duplicate"]
    assert chaos.ledger.counts["duplicates_fault_free"] == 2


def test_the_harness_sees_a_finished_task_recorded_as_in_progress_again(chaos):
    finished_store(chaos)
    chaos.run("announces the completion")
    key = next(iter(chaos.table().states))
    chaos.dynamodb.update_item(
        TableName=chaos.deployment.table_name,
        Key={"pk": {"S": task_pk("us-east-1", key)}},
        UpdateExpression="SET #state = :state",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":state": {"S": "InProgress"}},
    )

    chaos.run("sees the table moved backwards")

    assert "regression" in kinds(chaos)


def test_the_harness_sees_the_handler_crash_on_its_input(chaos, monkeypatch):
    finished_store(chaos)

    def parse_page(*_args, **_kwargs):
        raise KeyError("StoreTaskState")

    monkeypatch.setattr("ami_store_notifier.adapters.ec2_task_source.parse_page", parse_page)
    record = chaos.run("the parser blows up")

    assert record.error is not None
    assert "KeyError" in record.error
    assert kinds(chaos) == ["crash"]


# S3's error responses (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), which
# botocore's model does not list; a HEAD answer has no body, so its code is its bare HTTP status.
S3_ERRORS = {"SlowDown": 503, "InternalError": 500}


def test_the_injected_errors_are_the_codes_and_statuses_the_services_send():
    """So that the code under test classifies an injected error as it would the real one."""
    faults = [
        Fault(service, "Operation", "throttle", code=code)
        for service, throttles in THROTTLES.items()
        for code in throttles
    ]
    faults += [Fault(service, "Operation", "server-error") for service in SERVER_ERRORS]
    faults.append(Fault("dynamodb", "UpdateItem", "conflict"))
    sent = {
        **COMMON_ERRORS,
        **{code: status for service in MODELED_SERVICES for code, status in modeled_errors(service).items()},
    }

    for fault in faults:
        code, status = fault.error()
        if fault.service == "s3":
            assert S3_ERRORS.get(code, int(code) if code.isdigit() else None) == status, code
        elif code in EC2_CLIENT_ERRORS | EC2_SERVER_ERRORS:
            assert (status >= 500) == (code in EC2_SERVER_ERRORS), code
        else:
            assert sent.get(code) == status, code

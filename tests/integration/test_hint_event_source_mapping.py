"""The emulated event source mapping of the hints queue (local/event_source_mapping.py): the SQS event
Lambda builds, ReportBatchItemFailures, the visibility timeout and the dead-letter queue on the emulator's
clock, the batch size and the batching window."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ami_store_notifier.settings_function import DEFAULT_TIMEOUT_SECONDS
from local.deployment import HINTS_QUEUE, LocalDeployment
from local.ec2_store_tasks import CLOCK
from local.event_source_mapping import HintBatch, Polling
from tests.world import ACCOUNT, REGION

Calls = list[dict[str, Any]]


def send(path: LocalDeployment, *bodies: str) -> list[str]:
    return [
        path.sqs.send_message(QueueUrl=path.queue_urls[HINTS_QUEUE], MessageBody=body)["MessageId"]
        for body in bodies
    ]


def answering(calls: Calls, failed: Callable[[dict[str, Any]], bool] = lambda _r: False) -> Any:
    """A function that records its events and reports the records `failed` picks."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event)
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if failed(r)]
        }

    return invoke


def test_the_function_gets_the_records_lambda_builds(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path()
    path.sqs.send_message(
        QueueUrl=path.queue_urls[HINTS_QUEUE],
        MessageBody='{"detail": {}}',
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
    )
    calls: Calls = []

    path.deliver_hints(answering(calls))

    [[record]] = [event["Records"] for event in calls]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert list(record["attributes"])[:4] == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    ]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(record["attributes"]["ApproximateFirstReceiveTimestamp"]) == int(
        CLOCK.now().timestamp() * 1000
    )
    assert record["messageAttributes"] == {
        "origin": {
            "stringValue": "test",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert record["md5OfBody"] == hashlib.md5(b'{"detail": {}}').hexdigest()
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:ami-store-notifier-hints"
    assert record["awsRegion"] == REGION


def test_listed_failures_come_back_after_the_visibility_timeout_and_the_rest_are_deleted(
    hint_path: Callable[..., LocalDeployment],
) -> None:
    path = hint_path(visibility_timeout_seconds=60)
    first, second, third = send(path, "one", "two", "three")
    calls: Calls = []
    delivered_at = CLOCK.now()

    batch = path.deliver_hints(answering(calls, lambda r: r["body"] == "two"))

    assert batch is not None
    assert (sorted(batch.deleted), batch.retried) == (sorted([first, third]), [second])
    CLOCK.advance(59)
    assert path.deliver_hints(answering(calls)) is None
    assert path.hints is not None
    assert path.hints.due() == delivered_at + timedelta(seconds=60)
    CLOCK.advance(1)
    again = path.deliver_hints(answering(calls))
    assert again is not None
    [record] = again.event["Records"]
    assert (record["messageId"], record["body"]) == (second, "two")
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert path.deliver_hints(answering(calls)) is None


def test_an_answer_naming_a_message_not_in_the_batch_fails_the_whole_batch(
    hint_path: Callable[..., LocalDeployment],
) -> None:
    path = hint_path()
    sent = send(path, "one", "two")

    batch = path.deliver_hints(lambda _event: {"batchItemFailures": [{"itemIdentifier": "not-a-message"}]})

    assert batch is not None
    assert (batch.deleted, sorted(batch.retried)) == ([], sorted(sent))


def test_a_function_error_fails_the_whole_batch(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path()
    sent = send(path, "one", "two")

    def crash(_event: dict[str, Any]) -> None:
        raise RuntimeError("the function timed out")

    batch = path.deliver_hints(crash)

    assert batch is not None
    assert batch.error == "RuntimeError: the function timed out"
    assert sorted(batch.retried) == sorted(sent)


def test_a_message_failed_max_receive_count_times_goes_to_the_dead_letter_queue(
    hint_path: Callable[..., LocalDeployment],
) -> None:
    path = hint_path(max_receive_count=2, visibility_timeout_seconds=10)
    [sent] = send(path, "poison")
    calls: Calls = []
    always = answering(calls, lambda _r: True)

    for _ in range(2):
        assert path.deliver_hints(always) is not None
        CLOCK.advance(10)
    assert path.deliver_hints(always) is None

    assert path.hints_dead_letter_url is not None
    [dead] = path.sqs.receive_message(QueueUrl=path.hints_dead_letter_url)["Messages"]
    assert (dead["MessageId"], dead["Body"]) == (sent, "poison")


def test_an_invocation_takes_at_most_the_batch_size(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path()
    send(path, *(f"hint {n}" for n in range(25)))
    calls: Calls = []

    sizes = []
    while (batch := path.deliver_hints(answering(calls))) is not None:
        sizes.append(len(batch.message_ids))

    assert sizes == [10, 10, 5]


def test_without_a_batching_window_a_poll_invokes_as_soon_as_a_message_is_there(
    hint_path: Callable[..., LocalDeployment],
) -> None:
    path = hint_path()
    calls: Calls = []
    assert path.poll_hints(answering(calls)) is None

    send(path, "one")

    assert path.poll_hints(answering(calls)) is not None


def test_a_batching_window_holds_a_partial_batch_until_it_closes(
    hint_path: Callable[..., LocalDeployment],
) -> None:
    path = hint_path(batching_window_seconds=5, batch_size=3)
    assert path.hints is not None
    send(path, "one")
    calls: Calls = []

    assert path.poll_hints(answering(calls)) is None
    opened = CLOCK.now()
    assert path.hints.due() == opened + timedelta(seconds=5)
    CLOCK.advance(4)
    send(path, "two")
    assert path.poll_hints(answering(calls)) is None
    CLOCK.advance(1)
    batch = path.poll_hints(answering(calls))

    assert batch is not None
    assert len(batch.message_ids) == 2
    assert batch.at == opened + timedelta(seconds=5)


def test_a_full_batch_does_not_wait_for_the_window(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path(batching_window_seconds=300, batch_size=3)
    send(path, "one", "two", "three")
    calls: Calls = []

    batch = path.poll_hints(answering(calls))

    assert batch is not None
    assert len(batch.message_ids) == 3


def test_redelivery_brings_a_handled_batch_back(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path(redeliver=1, visibility_timeout_seconds=30)
    [sent] = send(path, "once")
    calls: Calls = []

    first: HintBatch | None = path.deliver_hints(answering(calls))
    CLOCK.advance(30)
    second = path.deliver_hints(answering(calls))

    assert first is not None
    assert second is not None
    assert first.message_ids == second.message_ids == [sent]
    assert second.event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_the_polling_is_the_stacks() -> None:
    from infra import hints as stack

    polling = Polling()

    assert polling.batch_size == stack.BATCH_SIZE
    assert stack.BATCHING_WINDOW is None
    assert polling.batching_window_seconds == 0
    assert polling.max_receive_count == stack.MAX_RECEIVES
    assert (
        polling.visibility_timeout_seconds == stack.visibility_timeout(DEFAULT_TIMEOUT_SECONDS).to_seconds()
    )
    assert polling.retention_seconds == stack.RETENTION.to_seconds()


def test_a_null_failure_list_is_a_success(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path()
    sent = send(path, "one")

    batch = path.deliver_hints(lambda _event: {"batchItemFailures": None})

    assert batch is not None
    assert (batch.deleted, batch.retried) == (sent, [])


class Killed(BaseException):
    """The Lambda runtime ending the invocation: nothing in the function catches it."""


def test_a_killed_invocation_leaves_its_batch_to_come_back(hint_path: Callable[..., LocalDeployment]) -> None:
    path = hint_path(visibility_timeout_seconds=30)
    sent = send(path, "one")

    def killed(_event: dict[str, Any]) -> None:
        raise Killed

    with pytest.raises(Killed):
        path.deliver_hints(killed)
    CLOCK.advance(30)
    again = path.deliver_hints(lambda _event: None)

    assert again is not None
    assert again.deleted == sent

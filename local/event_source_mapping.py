"""Lambda's SQS event source mapping, emulated on the emulator's clock: the hints queue's batches handed
to the poller as Lambda hands them ("Using Lambda with Amazon SQS", Lambda developer guide,
https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).

- Polling and the batching window: Lambda gathers messages until the batch is full or the window has
  passed since the first one waited, then invokes ("Batching behavior",
  https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). `poll()` is one look of the
  poller at the emulator's now; `due()` says when the open window closes, for a caller stepping the clock.
  `deliver()` invokes at once with what is there (the window already closed).
- ReportBatchItemFailures: the messages listed in `batchItemFailures` stay in the queue and come back
  after the visibility timeout; the others are deleted. An answer naming a message that is not in the
  batch (or no id), or an invocation that raises, fails the whole batch ("Handling errors for an SQS
  event source", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
- The dead-letter queue: the queue's redrive policy moves a message received `maxReceiveCount` times
  (moto does it on the next receive, as SQS does).

moto stamps SQS times on the wall clock, which the emulator's clock does not follow. So the visibility
timeout of a failed message runs here, on the emulator's clock (the message stays hidden in moto until
this poller makes it visible again), and `SentTimestamp` / `ApproximateFirstReceiveTimestamp` are the
emulator's: the time the emulated bus delivered the event (for any other message, the time this poller
first saw the queue hold it), and the time of its first receive.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

from ami_store_notifier.settings_function import DEFAULT_TIMEOUT_SECONDS
from local.ec2_store_tasks import CLOCK, settle_everywhere
from local.ec2_store_tasks.event_shapes import sent_at

Invoke = Callable[[dict[str, Any]], Any]
MOTO_HIDDEN_SECONDS: Final = 43_200
"""How long a received message stays hidden in moto (SQS's maximum): this poller shows it again."""
SQS_RECEIVE_MAX: Final = 10


@dataclass(frozen=True)
class Polling:
    """How the event source mapping reads the hints queue: the stack's settings (infra/hints.py)."""

    batch_size: int = 10
    batching_window_seconds: float = 0.0
    """None in the stack: Lambda then invokes as soon as messages are there (with any window, a queue of
    low traffic may wait up to 20 s). The benchmark and the demo may model one."""
    visibility_timeout_seconds: float = 6.0 * DEFAULT_TIMEOUT_SECONDS
    """The queue's: six times the function's timeout, as Lambda asks of an SQS source."""
    max_receive_count: int = 5
    """The redrive policy's: the receives before a message goes to the dead-letter queue."""
    retention_seconds: int = 86_400
    redeliver: float = 0.0
    """Fault: the chance that a batch Lambda handled is not deleted and comes back after the visibility
    timeout (SQS delivers at least once)."""
    seed: int = 0


@dataclass(frozen=True)
class HintBatch:
    """One invocation: the Lambda event, what the function answered, and what became of the messages."""

    at: datetime
    event: dict[str, Any]
    answer: Any
    deleted: list[str]
    retried: list[str]
    error: str | None = None

    @property
    def message_ids(self) -> list[str]:
        return [record["messageId"] for record in self.event["Records"]]


@dataclass
class EventSourceMapping:
    """The mapping from one queue to the function, polled on the emulator's clock."""

    sqs: Any
    queue_url: str
    queue_arn: str
    region: str
    polling: Polling = field(default_factory=Polling)
    clock: Callable[[], datetime] = CLOCK.now
    batches: list[HintBatch] = field(default_factory=list)
    _waiting_since: datetime | None = None
    _held: dict[str, datetime] = field(default_factory=dict)
    _sent: dict[str, datetime] = field(default_factory=dict)
    _first_received: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.polling.seed)

    def poll(self, invoke: Invoke) -> HintBatch | None:
        """One look at the queue: invokes when a batch is full or the batching window has closed."""
        now = self._prepare()
        waiting = self.visible()
        if waiting == 0:
            self._waiting_since = None
            return None
        if self._waiting_since is None:
            self._waiting_since = now
        window = timedelta(seconds=self.polling.batching_window_seconds)
        if waiting < self.polling.batch_size and now < self._waiting_since + window:
            return None
        return self._invoke(invoke, now)

    def deliver(self, invoke: Invoke) -> HintBatch | None:
        """Invokes at once with up to a batch of what the queue holds (None when it holds nothing)."""
        now = self._prepare()
        if self._waiting_since is None:
            self._waiting_since = now
        return self._invoke(invoke, now)

    def due(self) -> datetime | None:
        """When the open batching window closes, or when the next failed message comes back."""
        times = list(self._held.values())
        if self._waiting_since is not None:
            times.append(self._waiting_since + timedelta(seconds=self.polling.batching_window_seconds))
        return min(times, default=None)

    def visible(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    # ----- internals ---------------------------------------------------------------------------

    def _prepare(self) -> datetime:
        """The world up to now: the store tasks settled (their hints sent), and failures due shown again."""
        settle_everywhere()
        now = self.clock()
        for receipt, until in list(self._held.items()):
            if until <= now:
                del self._held[receipt]
                self._show_again(receipt)
        return now

    def _invoke(self, invoke: Invoke, now: datetime) -> HintBatch | None:
        messages = self._receive(now)
        self._waiting_since = now if messages and self.visible() else None
        if not messages:
            return None
        event = {"Records": [self._record(message) for message in messages]}
        try:
            answer, error = invoke(event), None
        except Exception as raised:  # a function error: Lambda retries the whole batch
            answer, error = None, f"{type(raised).__name__}: {raised}"
        except BaseException:  # the runtime killed (a test's simulated crash): the batch comes back too
            self._settle_batch(now, event, None, "killed", messages, {m["MessageId"] for m in messages})
            raise
        failed = self._failed(answer, error, [m["MessageId"] for m in messages])
        batch = self._settle_batch(now, event, answer, error, messages, failed)
        self.batches.append(batch)
        return batch

    def _failed(self, answer: Any, error: str | None, ids: list[str]) -> set[str]:
        """The messages that come back: those reported failed, or all (an error, a drawn redelivery)."""
        failed = _failed_ids(answer, ids) if error is None else None
        if failed is None or (self.polling.redeliver > 0 and self._random.random() < self.polling.redeliver):
            return set(ids)
        return failed

    def _receive(self, now: datetime) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.polling.batch_size:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(SQS_RECEIVE_MAX, self.polling.batch_size - len(messages)),
                VisibilityTimeout=MOTO_HIDDEN_SECONDS,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            if not received:
                break
            messages.extend(received)
        for message in messages:
            sent = sent_at(_event_id(message["Body"])) or self._waiting_since or now
            self._sent.setdefault(message["MessageId"], min(sent, now))
            self._first_received.setdefault(message["MessageId"], now)
        return messages

    def _record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """The message as Lambda puts it into the event's `Records`."""
        message_id = message["MessageId"]
        attributes = dict(message.get("Attributes", {}))
        attributes["SentTimestamp"] = _millis(self._sent[message_id])
        attributes["ApproximateFirstReceiveTimestamp"] = _millis(self._first_received[message_id])
        record: dict[str, Any] = {
            "messageId": message_id,
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {name: attributes[name] for name in _attribute_order(attributes)},
            "messageAttributes": {
                name: _lambda_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record.update({"eventSource": "aws:sqs", "eventSourceARN": self.queue_arn, "awsRegion": self.region})
        return record

    def _settle_batch(
        self,
        now: datetime,
        event: dict[str, Any],
        answer: Any,
        error: str | None,
        messages: list[dict[str, Any]],
        failed: set[str],
    ) -> HintBatch:
        deleted, retried = [], []
        comes_back = now + timedelta(seconds=self.polling.visibility_timeout_seconds)
        for message in messages:
            message_id = message["MessageId"]
            if message_id in failed:
                self._held[message["ReceiptHandle"]] = comes_back
                retried.append(message_id)
                continue
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            self._sent.pop(message_id, None)
            self._first_received.pop(message_id, None)
            deleted.append(message_id)
        return HintBatch(now, event, answer, deleted, retried, error)

    def _show_again(self, receipt: str) -> None:
        with contextlib.suppress(ClientError):  # gone meanwhile (moved to the dead-letter queue)
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )


def _failed_ids(answer: Any, batch: list[str]) -> set[str] | None:
    """The ids `batchItemFailures` lists; None when the answer fails the whole batch (services-sqs-
    errorhandling.html: an empty or null list or answer is a success; an empty, null or unknown
    `itemIdentifier`, or one under another key, fails the whole batch)."""
    if not isinstance(answer, Mapping) or "batchItemFailures" not in answer:
        return set()  # no answer, or one without the list: every message succeeded
    failures = answer["batchItemFailures"]
    if failures is None:
        return set()  # a null list: every message succeeded
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not identifier or identifier not in batch:
            return None  # empty, null or unknown: Lambda counts the whole batch as failed
        ids.add(str(identifier))
    return ids


_ATTRIBUTE_ORDER: Final = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
)


def _attribute_order(attributes: Mapping[str, Any]) -> list[str]:
    first = [name for name in _ATTRIBUTE_ORDER if name in attributes]
    return first + sorted(set(attributes) - set(first))


def _lambda_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda spells it (camelCase, binary values in base64)."""
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    shaped["stringListValues"] = list(value.get("StringListValues", []))
    shaped["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])]
    shaped["dataType"] = value["DataType"]
    return shaped


def _event_id(body: str) -> str:
    """The id of the EventBridge event a message carries ("" for any other message)."""
    try:
        event = json.loads(body)
    except ValueError:
        return ""
    return str(event.get("id", "")) if isinstance(event, dict) else ""


def _millis(when: datetime) -> str:
    return str(int(when.timestamp() * 1000))

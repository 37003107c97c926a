"""moto's SQS without its quadratic costs, for the hints section only (bench only, product untouched).

A flood leaves some 10,000 messages in the hint queue, most of them handed back by the poller and waiting
out their visibility timeout. moto 5.2.5 pays for every message of the queue at each of these steps:

- `queue.attributes` counts the messages three times (visible, delayed, in flight), and moto reads it on
  each `SendMessage` (for one flag), three times per `GetQueueAttributes`, and through
  `get_queue_attributes` once per message received (the retention check);
- `Queue.messages`, read by each receive and each count, asks moto's clock (two `datetime`s built) twice
  per message; and a receive builds the set of message groups in flight, for any queue;
- `DeleteMessage` and `ChangeMessageVisibility` look for the receipt handle in every message;
- a receipt handle is 185 `random.choice` calls.

So a flood costs moto hours. Inside `fast_sqs()`: attributes are computed when read; the retention check
reads its one attribute; the clock is read once per scan, as `time.time()` (the value moto computes); a
standard queue has no message groups to collect; a receipt handle finds its message through an index, and
is drawn with `random.choices`. And a message received with a visibility timeout over an hour (the
emulated event source mapping hides what it received for 12 hours, then shows what it hands back again
when its own visibility timeout ends, on the emulator's clock) is kept aside from the scanned list until
it is shown again or deleted, and counted with those in flight. What SQS answers is unchanged, except the
order a standard queue hands its messages over, which SQS does not promise either.

`DirectSqs` answers the mapping's own calls from moto's backend, without botocore's serialization.
"""

from __future__ import annotations

import contextlib
import json
import random
import string
import time
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import moto.sqs.models as sqs_models
from botocore.exceptions import ClientError
from moto.core.exceptions import ServiceException
from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Message, Queue, SQSBackend

_MAX_VISIBILITY_MILLIS = 43_200 * 1000
_SET_ASIDE_AFTER_MILLIS = 3_600 * 1000
"""A message received hidden for longer than this is kept out of the scanned list while hidden."""
_RECEIPT_LENGTH = 185


class _Attributes(Mapping[str, Any]):
    """A queue's attributes as moto's `Queue.attributes` gives them, each computed when it is read."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        names = list(Queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += Queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:  # type: ignore[attr-defined]
            names += Queue.KMS_ATTRIBUTES
        self._names = names

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name == "RedrivePolicy" and self._queue.redrive_policy:
            return json.dumps(self._queue.redrive_policy)
        value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


_by_receipt: weakref.WeakValueDictionary[str, Message] = weakref.WeakValueDictionary()


def _now_millis() -> float:
    return time.time() * 1000.0


def _set_aside(queue: Queue) -> dict[int, Message]:
    aside: dict[int, Message] = queue.__dict__.setdefault("_bench_set_aside", {})
    return aside


def _find(queue: Queue, receipt_handle: str) -> Message | None:
    """The queue's message that had `receipt_handle` last, brought back into the list if set aside."""
    message = _by_receipt.get(receipt_handle)
    if message is None:
        return None
    if _set_aside(queue).pop(id(message), None) is not None:
        queue._messages.append(message)
        return message
    return message if message in queue._messages else None


def _messages(self: Queue) -> list[Message]:
    now = _now_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]  # type: ignore[operator]


def _not_visible(self: Queue) -> int:
    now = _now_millis()
    return sum(1 for m in self._messages if not now > m.visible_at) + len(_set_aside(self))  # type: ignore[operator]


def _delayed(self: Queue) -> int:
    now = _now_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)  # type: ignore[operator]


def _pending_groups(self: Queue) -> set[str]:
    if not self.fifo_queue:
        return set()  # a standard queue's messages have no group
    return {m.group_id for m in self._pending_messages if m.group_id is not None}


def _unix_time(dt: Any = None) -> float:
    return time.time() if dt is None else float(_ORIGINAL_CLOCK["unix_time"](dt))


def _unix_time_millis(dt: Any = None) -> float:
    return _now_millis() if dt is None else float(_ORIGINAL_CLOCK["unix_time_millis"](dt))


def _receipt_handle() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=_RECEIPT_LENGTH))


_ORIGINAL_CLOCK: dict[str, Any] = {}
_MODULE_NAMES = ("unix_time", "unix_time_millis", "generate_receipt_handle")
_QUEUE_PROPERTIES = {
    "attributes": property(_Attributes),
    "messages": property(_messages),
    "approximate_number_of_messages_not_visible": property(_not_visible),
    "approximate_number_of_messages_delayed": property(_delayed),
    "pending_message_groups": property(_pending_groups),
}


@contextlib.contextmanager
def fast_sqs() -> Iterator[None]:  # noqa: PLR0915 (the patches and their undoing, side by side)
    saved_properties = {name: Queue.__dict__[name] for name in _QUEUE_PROPERTIES}
    saved = {
        "mark_received": Message.mark_received,
        "delete_message": Queue.delete_message,
        "get_queue_attributes": SQSBackend.get_queue_attributes,
        "retention": SQSBackend.is_message_valid_based_on_retention_period,
        "change_visibility": SQSBackend.change_message_visibility,
        "receive_message": SQSBackend.receive_message,
    }
    module = {name: getattr(sqs_models, name) for name in _MODULE_NAMES}
    _ORIGINAL_CLOCK.update(module)

    def mark_received(self: Message, visibility_timeout: int | None = None) -> None:
        saved["mark_received"](self, visibility_timeout)
        _by_receipt[str(self.receipt_handle)] = self

    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> list[Message]:
        received = saved["receive_message"](self, queue_name, *args, **kwargs)
        queue = self.get_queue(queue_name)
        hidden_until = _now_millis() + _SET_ASIDE_AFTER_MILLIS
        for copy in received:
            message = _by_receipt.get(str(copy.receipt_handle))
            if message is not None and message.visible_at > hidden_until:  # type: ignore[operator]
                queue._messages.remove(message)
                _set_aside(queue)[id(message)] = message
        return received

    def delete_message(self: Queue, receipt_handle: str) -> None:
        message = None if receipt_handle in self.deleted_messages else _find(self, receipt_handle)
        if message is None:  # deleted already, or unknown: moto's own answer
            saved["delete_message"](self, receipt_handle)
            return
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]
        self._messages.remove(message)

    def get_queue_attributes(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        return dict(saved["get_queue_attributes"](self, queue_name, attribute_names))

    def retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
        period = self.get_queue(queue_name).message_retention_period  # type: ignore[attr-defined]
        return float(period) + message.sent_timestamp / 1000 > time.time()  # type: ignore[operator]

    def change_visibility(
        self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        queue = self.get_queue(queue_name)
        message = _find(queue, receipt_handle)
        if (
            message is None
            or _now_millis()
            + int(visibility_timeout) * 1000
            - float(
                message.sent_timestamp  # type: ignore[arg-type]
            )
            > _MAX_VISIBILITY_MILLIS
        ):
            saved["change_visibility"](self, queue_name, receipt_handle, visibility_timeout)  # moto's answer
            return
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)

    for name, replacement in _QUEUE_PROPERTIES.items():
        setattr(Queue, name, replacement)
    Message.mark_received = mark_received  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = change_visibility  # type: ignore[method-assign]
    sqs_models.unix_time = _unix_time  # type: ignore[assignment]
    sqs_models.unix_time_millis = _unix_time_millis  # type: ignore[assignment]
    sqs_models.generate_receipt_handle = _receipt_handle  # type: ignore[assignment]
    try:
        yield
    finally:
        for name, original in saved_properties.items():
            setattr(Queue, name, original)
        Message.mark_received = saved["mark_received"]  # type: ignore[method-assign]
        Queue.delete_message = saved["delete_message"]  # type: ignore[method-assign]
        SQSBackend.receive_message = saved["receive_message"]  # type: ignore[method-assign]
        SQSBackend.get_queue_attributes = saved["get_queue_attributes"]  # type: ignore[method-assign]
        SQSBackend.is_message_valid_based_on_retention_period = saved["retention"]  # type: ignore[method-assign]
        SQSBackend.change_message_visibility = saved["change_visibility"]  # type: ignore[method-assign]
        for name, original in module.items():
            setattr(sqs_models, name, original)
        _by_receipt.clear()


class DirectSqs:
    """The event source mapping's SQS calls, answered by moto's SQS backend directly: the queue is moto's
    all the same (what the rules put on it, its visibility, its redrive to the dead-letter queue), but the
    tens of thousands of calls of a flood skip botocore's and moto's HTTP serialization. Each answer has
    the shape moto's responses give (moto/sqs/responses.py), and moto's errors come as botocore's
    ClientError, as through a client. Only the calls local/event_source_mapping.py makes."""

    def __init__(self, account: str, region: str) -> None:
        self._account = account
        self._region = region

    @property
    def _backend(self) -> SQSBackend:
        return sqs_models.sqs_backends[self._account][self._region]

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:  # noqa: N803
        with _as_client_error("GetQueueAttributes"):
            found = self._backend.get_queue_attributes(_name(QueueUrl), list(AttributeNames))
        return {"Attributes": {name: str(value) for name, value in found.items()}}

    def receive_message(
        self,
        QueueUrl: str,  # noqa: N803
        MaxNumberOfMessages: int = 1,  # noqa: N803
        VisibilityTimeout: int | None = None,  # noqa: N803
        WaitTimeSeconds: int = 0,  # noqa: N803
        MessageAttributeNames: list[str] | None = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Any]:
        with _as_client_error("ReceiveMessage"):
            queue = self._backend.get_queue(_name(QueueUrl))
            timeout = queue.visibility_timeout if VisibilityTimeout is None else VisibilityTimeout  # type: ignore[attr-defined]
            received = self._backend.receive_message(
                queue.name, MaxNumberOfMessages, WaitTimeSeconds, timeout, list(MessageAttributeNames or [])
            )
        messages = []
        for message in received:
            shaped: dict[str, Any] = {
                "MessageId": message.id,
                "ReceiptHandle": message.receipt_handle,
                "MD5OfBody": message.body_md5,
                "Body": message.body,
                "Attributes": {
                    "SenderId": message.sender_id,
                    "SentTimestamp": str(message.sent_timestamp),
                    "ApproximateReceiveCount": str(message.approximate_receive_count),
                    "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
                },
            }
            if message.message_attributes:
                shaped["MessageAttributes"] = message.message_attributes
                shaped["MD5OfMessageAttributes"] = message.attribute_md5
            messages.append(shaped)
        return {"Messages": messages} if messages else {}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803
        with _as_client_error("DeleteMessage"):
            self._backend.delete_message(_name(QueueUrl), ReceiptHandle)

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:  # noqa: N803
        with _as_client_error("ChangeMessageVisibility"):
            self._backend.change_message_visibility(_name(QueueUrl), ReceiptHandle, VisibilityTimeout)


def _name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


@contextlib.contextmanager
def _as_client_error(operation: str) -> Iterator[None]:
    try:
        yield
    except ServiceException as error:
        code = str(getattr(error, "code", type(error).__name__))
        raise ClientError({"Error": {"Code": code, "Message": str(error)}}, operation) from error

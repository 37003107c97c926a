"""moto in the chaos harness: costs it has and AWS does not, removed so that one run may deliver a
thousand announcements on each channel. What the services answer is unchanged.

1. SQS: moto answers "which messages are visible" by asking every message the time (`Message.visible`
   and `Message.delayed` each read the clock, some 17 µs on the test machines), for each of the queue's
   three message counts, whenever it computes the queue's attributes: once per message sent (to read
   ContentBasedDeduplication) and three times per message received (to read MessageRetentionPeriod).
   Each computation also converts the names of the 14 attributes from camel case, a character at a
   time. Sending 1,000 messages to a queue and receiving them took moto about 140 s. Here the counts and
   the list of visible messages read the clock once per call, with moto's own comparisons (visible:
   now > visible_at; delayed: now < delayed_until), the converted names are kept, and the retention
   check reads the queue's retention period itself instead of every attribute: 4 s for the same 1,000.
2. EventBridge: for each event a rule sends to a target, moto parses the eight JSONPath expressions of
   its default input template with jsonpath_ng, whose parser is rebuilt on each call (about 2.5 ms a
   parse): 1,000 events cost 20 s. The parsed expressions are kept (they are not changed by use).
3. DynamoDB: before a TransactWriteItems, moto backs up the whole table once per item of the
   transaction, all before it changes anything, so that it can roll back. A claim step of 50 claims over
   a table of 500 task items made 50 copies of it: a catch-up of 500 stores spent 16 s there. Here the
   first copy of each table serves the whole backup, which is the same since nothing changed in between.
   (bench/moto_shims.py goes further and skips the backup, for scenarios where no transaction fails;
   inside it, its stand-in is left alone.)

Not removed: moto's SNS signs every message it fans out, and builds and signs a certificate for each
(two RSA-2048 signatures, about 4 ms a message and subscription).
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Iterator
from typing import Any

import jsonpath_ng.ext
import moto.dynamodb.models as dynamodb_models
import moto.sqs.models as sqs_models
from moto.core.utils import unix_time, unix_time_millis
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.sqs.models import Message, Queue, SQSBackend


def _messages(queue: Queue) -> list[Message]:
    now = unix_time_millis()
    return [
        message for message in queue._messages if now > message.visible_at and now >= message.delayed_until
    ]


def _not_visible(queue: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for message in queue._messages if now <= message.visible_at)


def _delayed(queue: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for message in queue._messages if now < message.delayed_until)


def _within_retention(backend: SQSBackend, queue_name: str, message: Message) -> bool:
    retention = int(backend.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return retention + message.sent_timestamp / 1000 > unix_time()  # type: ignore[operator]


class _OneCopyPerTable:
    """Stands in for the `copy` module inside moto's DynamoDB backend for one transaction."""

    def __init__(self) -> None:
        self._tables: dict[int, Table] = {}

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in self._tables:
            self._tables[id(value)] = copy.deepcopy(value, memo)
        return self._tables[id(value)]

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if dynamodb_models.copy is not copy:  # type: ignore[attr-defined]
        _moto_transact_write_items(backend, transact_items)
        return
    dynamodb_models.copy = _OneCopyPerTable()  # type: ignore[attr-defined,assignment]
    try:
        _moto_transact_write_items(backend, transact_items)
    finally:
        dynamodb_models.copy = copy  # type: ignore[attr-defined]


# (owner, attribute) -> what stands in for it. moto's events backend imports jsonpath_ng.ext's parse on
# each call, and its SQS models hold their own name for the case conversion: replacing those reaches them.
_REPLACED: dict[tuple[Any, str], Any] = {
    (Queue, "messages"): property(_messages),
    (Queue, "approximate_number_of_messages_not_visible"): property(_not_visible),
    (Queue, "approximate_number_of_messages_delayed"): property(_delayed),
    (SQSBackend, "is_message_valid_based_on_retention_period"): _within_retention,
    (sqs_models, "camelcase_to_underscores"): functools.cache(sqs_models.camelcase_to_underscores),  # type: ignore[attr-defined]
    (jsonpath_ng.ext, "parse"): functools.cache(jsonpath_ng.ext.parse),  # type: ignore[attr-defined]
    (DynamoDBBackend, "transact_write_items"): _transact_write_items,
}


@contextlib.contextmanager
def moto_costs_removed() -> Iterator[None]:
    saved = {(owner, name): vars(owner)[name] for owner, name in _REPLACED}
    for (owner, name), replacement in _REPLACED.items():
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)

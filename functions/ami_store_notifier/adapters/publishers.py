"""The channels: SNS for people and subscriptions, EventBridge for rules, and optionally a chat topic
that Amazon Q Developer in chat applications renders in Slack or Teams.

A publisher never raises for a refused entry or a failed batch: it reports which event ids got
through, and the poller keeps the rest pending for the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.adapters.batching import batches
from ami_store_notifier.domain.announcements import email_text, subject
from ami_store_notifier.domain.chat import chat_notification
from ami_store_notifier.domain.model import parse_timestamp
from ami_store_notifier.domain.notice_texts import notice_chat_notification, notice_email_text, notice_subject
from ami_store_notifier.domain.notices import ArchiveCheck, Deliverable, Notice
from ami_store_notifier.domain.planning import CHAT_CHANNEL
from ami_store_notifier.ports import PublishResult, TransientAwsError

if TYPE_CHECKING:
    from types_boto3_events import EventBridgeClient
    from types_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from types_boto3_sns import SNSClient
    from types_boto3_sns.type_defs import MessageAttributeValueTypeDef, PublishBatchRequestEntryTypeDef

# One channel's request entry (an SNS batch entry, an EventBridge event).
Entry = TypeVar("Entry")
_FILTERABLE_ATTRIBUTES = ("state", "amiId", "bucket", "region", "account")
# A notice has no state: subscribers filter on its kind (and a verification's verdict) instead.
_NOTICE_ATTRIBUTES = ("notice", "verdict", "amiId", "bucket", "region", "account")


def _call_failed(error: BaseException) -> str:
    cause = error.__cause__ if isinstance(error, TransientAwsError) and error.__cause__ else error
    return error_code(cause)


def publish_in_batches(
    operation: str,
    entries: Sequence[tuple[str, Entry]],
    size_of: Callable[[Entry], int],
    send: Callable[[list[tuple[str, Entry]]], dict[str, str | None]],
    go_on: Callable[[], bool],
) -> PublishResult:
    """Sends (event id, entry) pairs in batches the channel accepts, while `go_on` allows another call.
    `send` makes one call and answers, by event id, None for an accepted entry or the reason it was
    refused; a failed call fails its batch. A call that stays throttled or unavailable after the SDK's
    retries spent seconds backing off, and so would the next: the channel sends nothing more this run,
    or a run that met it on every batch would outlast the function's timeout."""
    delivered: set[str] = set()
    failures: dict[str, str] = {}
    unavailable = False
    for batch in batches(entries, lambda pair: size_of(pair[1])):
        if unavailable or not go_on():
            break
        try:
            with transient_errors(operation):
                outcomes = send(batch)
        except (ClientError, BotoCoreError, TransientAwsError) as error:
            unavailable = isinstance(error, TransientAwsError)
            reason = _call_failed(error)
            failures.update((event_id, reason) for event_id, _ in batch)
            continue
        for event_id, _ in batch:
            if event_id not in outcomes:
                failures[event_id] = "no result returned for this entry"
            elif (refusal := outcomes[event_id]) is not None:
                failures[event_id] = refusal
            else:
                delivered.add(event_id)
    return PublishResult(frozenset(delivered), failures, unavailable)


def _no_account_names(_: str) -> str | None:
    return None


def _always() -> bool:
    return True


class SnsPublisher:
    channel = "sns"

    def __init__(
        self,
        sns_client: SNSClient,
        topic_arn: str,
        *,
        account_name: Callable[[str], str | None] = _no_account_names,
    ) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._account_name = account_name

    def publish(
        self, announcements: Sequence[Deliverable], go_on: Callable[[], bool] = _always
    ) -> PublishResult:
        entries = [
            (item.event_id, self._entry(item, self._account_name(item.account))) for item in announcements
        ]
        return publish_in_batches("sns:PublishBatch", entries, _sns_entry_size, self._send, go_on)

    def _entry(self, announcement: Deliverable, account_name: str | None) -> PublishBatchRequestEntryTypeDef:
        return sns_entry(announcement, account_name)

    def _send(self, batch: list[tuple[str, PublishBatchRequestEntryTypeDef]]) -> dict[str, str | None]:
        response = self._sns.publish_batch(
            TopicArn=self._topic_arn, PublishBatchRequestEntries=[entry for _, entry in batch]
        )
        outcomes: dict[str, str | None] = {success["Id"]: None for success in response.get("Successful", [])}
        outcomes.update(
            (failure["Id"], f"{failure.get('Code')}: {failure.get('Message', '')}")
            for failure in response.get("Failed", [])
        )
        return outcomes


def sns_entry(announcement: Deliverable, account_name: str | None = None) -> PublishBatchRequestEntryTypeDef:
    if isinstance(announcement, Notice):
        return _notice_entry(announcement, account_name)
    message = {"default": announcement.detail_json(), "email": email_text(announcement, account_name)}
    return {
        "Id": announcement.event_id,
        "Subject": subject(announcement),
        "Message": json.dumps(message, ensure_ascii=False),
        "MessageStructure": "json",
        "MessageAttributes": _attributes(announcement.detail(), _FILTERABLE_ATTRIBUTES),
    }


def _notice_entry(notice: Notice, account_name: str | None) -> PublishBatchRequestEntryTypeDef:
    message = {"default": notice.detail_json(), "email": notice_email_text(notice, account_name)}
    filterable = {**notice.detail(), "notice": notice.kind.value}
    if isinstance(notice.facts, ArchiveCheck):
        filterable["verdict"] = notice.facts.verdict.value
    return {
        "Id": notice.event_id,
        "Subject": notice_subject(notice),
        "Message": json.dumps(message, ensure_ascii=False),
        "MessageStructure": "json",
        "MessageAttributes": _attributes(filterable, _NOTICE_ATTRIBUTES),
    }


def _attributes(
    detail: Mapping[str, object], names: Sequence[str]
) -> dict[str, MessageAttributeValueTypeDef]:
    return {
        name: {"DataType": "String", "StringValue": str(detail[name])} for name in names if detail.get(name)
    }


class ChatPublisher(SnsPublisher):
    """The chat topic: each message is the custom notification itself, as the chat service reads it."""

    channel = CHAT_CHANNEL

    def _entry(self, announcement: Deliverable, account_name: str | None) -> PublishBatchRequestEntryTypeDef:
        notification = (
            notice_chat_notification(announcement, account_name)
            if isinstance(announcement, Notice)
            else chat_notification(announcement, account_name)
        )
        return {"Id": announcement.event_id, "Message": json.dumps(notification, ensure_ascii=False)}


def _sns_entry_size(entry: PublishBatchRequestEntryTypeDef) -> int:
    attributes = sum(
        len(name.encode()) + len(value["DataType"]) + len(value.get("StringValue", "").encode())
        for name, value in entry.get("MessageAttributes", {}).items()
    )
    return len(entry["Message"].encode()) + len(entry.get("Subject", "").encode()) + attributes


class EventBridgePublisher:
    channel = "events"

    def __init__(self, events_client: EventBridgeClient, event_bus_name: str, source: str) -> None:
        self._events = events_client
        self._bus = event_bus_name
        self._source = source

    def publish(
        self, announcements: Sequence[Deliverable], go_on: Callable[[], bool] = _always
    ) -> PublishResult:
        entries = [(item.event_id, self._event(item)) for item in announcements]
        return publish_in_batches("events:PutEvents", entries, _event_size, self._send, go_on)

    def _send(self, batch: list[tuple[str, PutEventsRequestEntryTypeDef]]) -> dict[str, str | None]:
        response = self._events.put_events(Entries=[entry for _, entry in batch])
        # PutEvents answers entry by entry, in the order sent.
        return {
            event_id: f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
            if result.get("ErrorCode")
            else None
            for (event_id, _), result in zip(batch, response.get("Entries", []), strict=False)
        }

    def _event(self, announcement: Deliverable) -> PutEventsRequestEntryTypeDef:
        return {
            "Source": self._source,
            "DetailType": announcement.detail_type,
            "Resources": [announcement.resource_arn],
            "Detail": announcement.detail_json(),
            "EventBusName": self._bus,
            "Time": parse_timestamp(announcement.observed_at),
        }


def _event_size(entry: PutEventsRequestEntryTypeDef) -> int:
    # The size rule EventBridge documents for PutEvents entries.
    texts = (
        entry.get("Source", ""),
        entry.get("DetailType", ""),
        entry.get("Detail", ""),
        *entry.get("Resources", []),
    )
    return 14 + sum(len(text.encode()) for text in texts)

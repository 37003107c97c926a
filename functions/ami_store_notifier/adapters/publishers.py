"""The two channels: SNS for people and subscriptions, EventBridge for rules.

A publisher never raises for a refused entry or a failed batch: it reports which event ids got
through, and the poller keeps the rest pending for the next run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ami_store_notifier.adapters.aws import transient_errors
from ami_store_notifier.adapters.batching import batches
from ami_store_notifier.domain.announcements import DETAIL_TYPE, Announcement, email_text, subject
from ami_store_notifier.domain.model import parse_timestamp
from ami_store_notifier.ports import PublishResult, TransientAwsError

_FILTERABLE_ATTRIBUTES = ("state", "amiId", "bucket", "region", "account")


def _call_failed(error: BaseException) -> str:
    cause = error.__cause__ if isinstance(error, TransientAwsError) and error.__cause__ else error
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", "ClientError"))
    return type(cause).__name__


class SnsPublisher:
    channel = "sns"

    def __init__(self, sns_client: Any, topic_arn: str) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn

    def publish(self, announcements: Sequence[Announcement]) -> PublishResult:
        delivered: set[str] = set()
        failures: dict[str, str] = {}
        unavailable = False
        for batch in batches([sns_entry(item) for item in announcements], _sns_entry_size):
            try:
                with transient_errors("sns:PublishBatch"):
                    response = self._sns.publish_batch(
                        TopicArn=self._topic_arn, PublishBatchRequestEntries=batch
                    )
            except (ClientError, BotoCoreError, TransientAwsError) as error:
                unavailable = unavailable or isinstance(error, TransientAwsError)
                reason = _call_failed(error)
                failures.update((entry["Id"], reason) for entry in batch)
                continue
            delivered.update(success["Id"] for success in response.get("Successful", []))
            failures.update(
                (failure["Id"], f"{failure.get('Code')}: {failure.get('Message', '')}")
                for failure in response.get("Failed", [])
            )
        return PublishResult(frozenset(delivered), failures, unavailable)


def sns_entry(announcement: Announcement) -> dict[str, Any]:
    message = {"default": announcement.detail_json(), "email": email_text(announcement)}
    detail = announcement.detail()
    return {
        "Id": announcement.event_id,
        "Subject": subject(announcement),
        "Message": json.dumps(message, ensure_ascii=False),
        "MessageStructure": "json",
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": str(detail[name])}
            for name in _FILTERABLE_ATTRIBUTES
            if detail.get(name)
        },
    }


def _sns_entry_size(entry: dict[str, Any]) -> int:
    attributes = sum(
        len(name.encode()) + len(value["DataType"]) + len(value["StringValue"].encode())
        for name, value in entry["MessageAttributes"].items()
    )
    return len(entry["Message"].encode()) + len(entry["Subject"].encode()) + attributes


class EventBridgePublisher:
    channel = "events"

    def __init__(self, events_client: Any, event_bus_name: str, source: str) -> None:
        self._events = events_client
        self._bus = event_bus_name
        self._source = source

    def publish(self, announcements: Sequence[Announcement]) -> PublishResult:
        delivered: set[str] = set()
        failures: dict[str, str] = {}
        unavailable = False
        for batch in batches(list(announcements), lambda item: _event_size(self._event(item))):
            try:
                with transient_errors("events:PutEvents"):
                    response = self._events.put_events(Entries=[self._event(item) for item in batch])
            except (ClientError, BotoCoreError, TransientAwsError) as error:
                unavailable = unavailable or isinstance(error, TransientAwsError)
                reason = _call_failed(error)
                failures.update((item.event_id, reason) for item in batch)
                continue
            # PutEvents answers entry by entry, in the order sent.
            for item, result in zip(batch, response.get("Entries", []), strict=False):
                if result.get("ErrorCode"):
                    failures[item.event_id] = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
                else:
                    delivered.add(item.event_id)
            for item in batch[len(response.get("Entries", [])) :]:
                failures[item.event_id] = "no result returned for this entry"
        return PublishResult(frozenset(delivered), failures, unavailable)

    def _event(self, announcement: Announcement) -> dict[str, Any]:
        return {
            "Source": self._source,
            "DetailType": DETAIL_TYPE,
            "Resources": [announcement.resource_arn],
            "Detail": announcement.detail_json(),
            "EventBusName": self._bus,
            "Time": parse_timestamp(announcement.observed_at),
        }


def _event_size(entry: dict[str, Any]) -> int:
    # The size rule EventBridge documents for PutEvents entries.
    size = (
        14 + len(entry["Source"].encode()) + len(entry["DetailType"].encode()) + len(entry["Detail"].encode())
    )
    return size + sum(len(resource.encode()) for resource in entry["Resources"])

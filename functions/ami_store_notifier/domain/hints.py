"""Hints: AWS's own events that a store may have started or ended, read as pure data.

A hint only says which AMI to ask EC2 about; it is never announced on its own word. Two kinds arrive
on the default bus, each as one SQS message whose body is the EventBridge event:

- the start: CloudTrail's record of `CreateStoreImageTask` ("AWS API Call via CloudTrail", source
  `aws.ec2`), present only where a trail logs management events, and delivered to EventBridge on a
  best-effort basis ("Events from AWS services", EventBridge user guide,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html). How EC2 nests
  `requestParameters` for this action is not documented, so the AMI id is looked for at any depth;
- the end of a store that succeeded: S3's `Object Created` for the AMI's object, sent only where the
  bucket sends its events to EventBridge (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html,
  detail fields in ev-events.html). A failed store writes no object, and so sends nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TypedDict

from ami_store_notifier.domain.announcements import HintFacts
from ami_store_notifier.domain.json_values import IncomingJson, JsonValue
from ami_store_notifier.domain.model import StoreTask, TaskState, parse_timestamp

STORE_API_CALL = "CreateStoreImageTask"
CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
OBJECT_CREATED_DETAIL_TYPE = "Object Created"
# CreateStoreImageTask names the object `<amiId>.bin` ("Store and restore an AMI using S3", EC2 user guide).
AMI_OBJECT_KEY = re.compile(r"(?:^|/)(ami-[0-9a-f]{8,17})\.bin$")
AMI_ID = re.compile(r"ami-[0-9a-f]{8,17}")
# How the object of a store is written: S3's reason for the AMI's Object Created (the issue's observation;
# AWS does not document how EC2 uploads). Another reason (a PutObject or CopyObject of the same name) is
# somebody else's object: it still makes the run ask EC2, but its size and ETag are not the store's.
STORE_UPLOAD_REASON = "CompleteMultipartUpload"

# The rules' patterns, read by the stack and by the local deployment alike. A refused call is logged by
# CloudTrail too (with `errorCode`): it started nothing.
STORE_STARTED_PATTERN: Mapping[str, JsonValue] = {
    "source": ["aws.ec2"],
    "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
    "detail": {"eventName": [STORE_API_CALL], "errorCode": [{"exists": False}]},
}
OBJECT_CREATED_PATTERN: Mapping[str, JsonValue] = {
    "source": ["aws.s3"],
    "detail-type": [OBJECT_CREATED_DETAIL_TYPE],
    "detail": {"object": {"key": [{"wildcard": "*ami-*.bin"}]}},
}


# A hint ahead of EC2 (a start it does not list yet, an object of a store it still shows in progress) is
# asked about again when SQS hands it over again, up to this many receives; the scheduled run, or the
# safety net when quiet, finds the store anyway. The queue's dead-letter queue is for runs that crash.
MAX_HINT_RECEIVES = 3
# How long scheduled runs of a quiet deployment keep reading after a start hint EC2 did not answer for yet.
# EC2's API is eventually consistent ("Eventual consistency in the Amazon EC2 API", EC2 developer guide,
# https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), usually for seconds: the
# first head read after it lists the task, well within this.
AWAKE_AFTER_AN_UNLISTED_START = timedelta(minutes=15)
# How much earlier than CloudTrail's eventTime EC2 may date the task the call started (clocks of two
# services): a task older than that is an earlier store of the AMI, not the one the event tells of.
START_CLOCK_SKEW = timedelta(minutes=5)


class HintKind(StrEnum):
    STARTED = "started"
    OBJECT_CREATED = "object-created"


@dataclass(frozen=True)
class Hint:
    """One event's word that `ami_id`'s store moved, with what only the event knows."""

    message_id: str
    kind: HintKind
    region: str
    ami_id: str
    bucket: str | None = None
    object_key: str | None = None
    started_by: str | None = None
    object_size: int | None = None
    object_etag: str | None = None
    receive_count: int = 1
    event_time: str | None = None

    @property
    def facts(self) -> HintFacts:
        return HintFacts(self.bucket, self.object_key, self.started_by, self.object_size, self.object_etag)

    def ahead_of(self, task: StoreTask | None) -> bool:
        """Whether EC2's answer does not show yet what the event tells of."""
        if self.kind is HintKind.STARTED:
            return task is None or (
                self.event_time is not None
                and task.task_start_time < parse_timestamp(self.event_time) - START_CLOCK_SKEW
            )
        return task is not None and task.state is TaskState.IN_PROGRESS and self.facts.name(task)


@dataclass(frozen=True)
class HintAnswers:
    """What a hint run got from EC2 and made of it."""

    # The AMIs EC2 answered for (with a task or without one), and the newest task of each it listed.
    answered: frozenset[str]
    tasks: Mapping[str, StoreTask]
    # Whether every claim the answers called for is written: one left unwritten is asked about again.
    recorded: bool


def facts_by_ami(hints: Sequence[Hint]) -> dict[str, HintFacts]:
    """Every hint's facts, merged per AMI (a batch may hold a store's start and its object)."""
    facts: dict[str, HintFacts] = {}
    for hint in hints:
        facts[hint.ami_id] = facts.get(hint.ami_id, HintFacts()).merged(hint.facts)
    return facts


def any_start_ahead(hints: Sequence[Hint], tasks: Mapping[str, StoreTask]) -> bool:
    """Whether a start hint tells of a store EC2 does not list yet."""
    return any(hint.kind is HintKind.STARTED and hint.ahead_of(tasks.get(hint.ami_id)) for hint in hints)


def to_retry(hints: Sequence[Hint], answers: HintAnswers) -> list[Hint]:
    """The hints SQS should hand over again: not yet asked about, or ahead of EC2, while they may."""
    return [hint for hint in hints if hint.receive_count < MAX_HINT_RECEIVES and _unsettled(hint, answers)]


def _unsettled(hint: Hint, answers: HintAnswers) -> bool:
    if hint.ami_id not in answers.answered or not answers.recorded:
        return True
    return hint.ahead_of(answers.tasks.get(hint.ami_id))


@dataclass(frozen=True)
class UnreadableHint:
    message_id: str
    reason: str


class _Common(TypedDict):
    """What every hint takes from its message and event."""

    message_id: str
    region: str
    receive_count: int
    event_time: str | None


def read_hints(records: Sequence[IncomingJson]) -> tuple[list[Hint], list[UnreadableHint]]:
    """The hints of an SQS batch, and the messages that hold none (kept apart: retrying cannot help)."""
    hints: list[Hint] = []
    unreadable: list[UnreadableHint] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            hints.append(_hint(message_id, record))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            unreadable.append(UnreadableHint(message_id, f"{type(error).__name__}: {error}"[:300]))
    return hints, unreadable


def _hint(message_id: str, record: IncomingJson) -> Hint:
    event = json.loads(record["body"])
    detail = event["detail"]
    receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
    common: _Common = {
        "message_id": message_id,
        "region": str(event["region"]),
        "receive_count": receive_count,
        "event_time": None if event.get("time") is None else str(event["time"]),
    }
    if event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE:
        return _started(detail, common)
    if event.get("detail-type") == OBJECT_CREATED_DETAIL_TYPE:
        return _object_created(detail, common)
    raise ValueError(f"not a hint: detail-type {event.get('detail-type')!r}")


def _started(detail: IncomingJson, common: _Common) -> Hint:
    if detail.get("eventName") != STORE_API_CALL or detail.get("errorCode"):
        raise ValueError("not a successful CreateStoreImageTask call")
    parameters = detail.get("requestParameters") or {}
    return Hint(
        kind=HintKind.STARTED,
        ami_id=_ami_id(parameters),
        bucket=_first_value(parameters, "bucket"),
        object_key=_first_value(detail.get("responseElements") or {}, "objectkey"),
        started_by=_caller(detail.get("userIdentity") or {}),
        **common,
    )


def _ami_id(parameters: object) -> str:
    ami_id = _first_value(parameters, "imageid")
    if ami_id is None or not AMI_ID.fullmatch(ami_id):
        raise ValueError("no AMI id in requestParameters")
    return ami_id


def _caller(identity: IncomingJson) -> str | None:
    """CloudTrail's name for who made the call: an ARN, or the service that made it on someone's behalf."""
    for field in ("arn", "invokedBy", "principalId"):
        if identity.get(field):
            return str(identity[field])
    return None


def _object_created(detail: IncomingJson, common: _Common) -> Hint:
    key = str(detail["object"]["key"])
    named = AMI_OBJECT_KEY.search(key)
    if named is None:
        raise ValueError(f"object key {key[:200]!r} is not an AMI's")
    size = detail["object"].get("size")
    etag = detail["object"].get("etag")
    if detail.get("reason") != STORE_UPLOAD_REASON:
        size = etag = None
    return Hint(
        kind=HintKind.OBJECT_CREATED,
        ami_id=named.group(1),
        bucket=str(detail["bucket"]["name"]),
        object_key=key,
        object_size=None if size is None else int(size),
        object_etag=None if etag is None else str(etag),
        **common,
    )


def _first_value(tree: object, wanted: str) -> str | None:
    """The first string under a key named `wanted` (case-insensitive) at any depth."""
    for key, value in _items(tree):
        if key.lower() == wanted and isinstance(value, str):
            return value
    return None


def _items(tree: object) -> Iterator[tuple[str, object]]:
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield str(key), value
            yield from _items(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _items(value)

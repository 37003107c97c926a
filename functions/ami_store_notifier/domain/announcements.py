"""The event contract: what subscribers of the topic and rules on the bus receive.

Users write EventBridge rules and SNS filter policies against these fields, so the keys, their
meaning and the stable event id are a public interface: change them only with a new DetailType.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum

from ami_store_notifier.domain.json_values import IncomingJson, JsonObject
from ami_store_notifier.domain.model import StoreTask, TaskState, format_timestamp
from ami_store_notifier.domain.partitions import partition_of
from ami_store_notifier.domain.store_links import ami_console_url, bucket_console_url, elapsed_text

DETAIL_TYPE = "EC2 AMI Store Task State Change"
MAX_FAILURE_REASON_CHARS = 2000
MAX_SUBJECT_CHARS = 100
_TRUNCATION_MARK = " [truncated]"
HINT_FACT_FIELDS = ("started_by", "object_size", "object_etag")


@dataclass(frozen=True)
class HintFacts:
    """What the events that hinted at a store told about it, for the announcement of its move."""

    bucket: str | None = None
    object_key: str | None = None
    started_by: str | None = None
    object_size: int | None = None
    object_etag: str | None = None

    def merged(self, other: HintFacts) -> HintFacts:
        """Both hints' facts (a start's and an object's), the other's where both know one."""
        return HintFacts(
            *(
                getattr(other, known.name)
                if getattr(other, known.name) is not None
                else getattr(self, known.name)
                for known in fields(self)
            )
        )

    def name(self, task: StoreTask) -> bool:
        """Whether these facts are about this store's object (a start's may not know the key)."""
        return self.bucket == task.bucket and self.object_key in (None, task.s3_object_key)


@dataclass(frozen=True)
class Announcement:
    """One task's move into one state, exactly as it is delivered (and redelivered)."""

    event_id: str
    ami_id: str
    bucket: str
    s3_object_key: str
    s3_uri: str
    task_start_time: str
    state: str
    previous_state: str | None
    progress_percentage: int | None
    failure_reason: str | None
    region: str
    account: str
    observed_at: str
    # What only a hint knows (domain/hints.py): absent from the detail when unknown, so an event without
    # them is exactly what the contract's earlier version described.
    started_by: str | None = None
    object_size: int | None = None
    object_etag: str | None = None

    @property
    def detail_type(self) -> str:
        return DETAIL_TYPE

    def detail(self) -> JsonObject:
        """The detail as subscribers see it, with the contract's camelCase keys."""
        return {
            camel_case(name): value
            for name, value in asdict(self).items()
            if value is not None or name not in HINT_FACT_FIELDS
        }

    def detail_json(self) -> str:
        return json.dumps(self.detail(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_detail(cls, detail: IncomingJson) -> Announcement:
        return cls(**{_snake(name): value for name, value in detail.items()})

    @classmethod
    def from_detail_json(cls, text: str) -> Announcement:
        return cls.from_detail(json.loads(text))

    @property
    def resource_arn(self) -> str:
        return image_arn(self.region, self.ami_id)


def account_text(account: str, account_name: str | None) -> str:
    """The account as people read it: its id, with its name where the hub of an Organization could read it."""
    return f"{account} ({account_name})" if account_name else account


def image_arn(region: str, ami_id: str) -> str:
    """The AMI's ARN, in its Region's partition: the events' `resources`."""
    return f"arn:{partition_of(region)}:ec2:{region}::image/{ami_id}"


def camel_case(name: str) -> str:
    """The contract's key for a field: `s3_object_key` is `s3ObjectKey`."""
    head, *rest = name.split("_")
    return head + "".join(part[0].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


def event_id(region: str, ami_id: str, task_start_time: datetime, milestone: StrEnum) -> str:
    """The same for every delivery of one transition (or notice: its kind), so subscribers can drop
    redeliveries."""
    identity = f"{region}|{ami_id}|{format_timestamp(task_start_time)}|{milestone.value}"
    return hashlib.sha256(identity.encode()).hexdigest()


def announce(
    task: StoreTask,
    state: TaskState,
    previous_state: TaskState | None,
    *,
    region: str,
    account: str,
    observed_at: datetime,
    facts: HintFacts | None = None,
) -> Announcement:
    failure_reason = task.failure_reason if state is TaskState.FAILED else None
    known = _facts_of(task, state, facts)
    return Announcement(
        event_id=event_id(region, task.ami_id, task.task_start_time, state),
        ami_id=task.ami_id,
        bucket=task.bucket,
        s3_object_key=task.s3_object_key,
        s3_uri=f"s3://{task.bucket}/{task.s3_object_key}",
        task_start_time=format_timestamp(task.task_start_time),
        state=state.value,
        previous_state=previous_state.value if previous_state else None,
        progress_percentage=task.progress_percentage,
        failure_reason=_bounded(failure_reason or "unknown") if state is TaskState.FAILED else None,
        region=region,
        account=account,
        observed_at=format_timestamp(observed_at),
        started_by=known.started_by,
        object_size=known.object_size,
        object_etag=known.object_etag,
    )


def _facts_of(task: StoreTask, state: TaskState, facts: HintFacts | None) -> HintFacts:
    """The hint's facts when they are about this store's object; an object's only once it completed (an
    object of that name written before the store ended is not the store's)."""
    if facts is None or not facts.name(task):
        return HintFacts()
    if state is not TaskState.COMPLETED:
        return HintFacts(started_by=facts.started_by)
    return facts


def _bounded(reason: str) -> str:
    """EC2 publishes no list of failure reasons: treat them as free text of any size."""
    if len(reason) <= MAX_FAILURE_REASON_CHARS:
        return reason
    return reason[: MAX_FAILURE_REASON_CHARS - len(_TRUNCATION_MARK)] + _TRUNCATION_MARK


def subject(announcement: Announcement) -> str:
    return sns_subject(f"AMI store {announcement.state}: {announcement.ami_id} to {announcement.bucket}")


def sns_subject(text: str) -> str:
    """``text`` as SNS takes a subject: ASCII, no control characters, at most 100 characters."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    if len(text) > MAX_SUBJECT_CHARS:
        text = text[: MAX_SUBJECT_CHARS - 3] + "..."
    return text


def email_text(announcement: Announcement, account_name: str | None = None) -> str:
    """What a person reads at a glance in a mail client or a chat notification (with the account's
    name when the hub of an Organization could read it)."""
    region = announcement.region
    headline = {
        TaskState.COMPLETED.value: "finished storing",
        TaskState.FAILED.value: "FAILED to store",
        TaskState.IN_PROGRESS.value: "started storing",
    }.get(announcement.state, f"moved to {announcement.state} while storing")
    lines = [
        f"AMI {announcement.ami_id} {headline} to {announcement.s3_uri}.",
        "",
        f"State:       {announcement.state} (was {announcement.previous_state or 'not seen before'})",
        f"AMI:         {announcement.ami_id}",
        f"S3 object:   {announcement.s3_uri}",
        f"Started:     {announcement.task_start_time}",
        f"Observed:    {announcement.observed_at} ({elapsed_text(announcement)} after the start)",
        f"Account:     {account_text(announcement.account, account_name)} in {region}",
    ]
    if announcement.started_by is not None:
        lines.append(f"Started by:  {announcement.started_by}")
    if announcement.object_size is not None:
        lines.append(f"Object:      {announcement.object_size} bytes, ETag {announcement.object_etag}")
    if announcement.progress_percentage is not None and announcement.state == TaskState.IN_PROGRESS.value:
        lines.append(f"Progress:    {announcement.progress_percentage}%")
    if announcement.failure_reason is not None:
        lines += ["", "Failure reason:", announcement.failure_reason]
    lines += [
        "",
        f"AMI in the console: {ami_console_url(announcement)}",
        f"Bucket in the console: {bucket_console_url(announcement)}",
        "",
        f"Event id (the same on a redelivery): {announcement.event_id}",
    ]
    return "\n".join(lines)

"""What the notifier announces beside a task's state changes: the check of a completed store's archive,
a store into a bucket not approved, a store whose progress stalled.

Each is its own detail-type, so a consumer of `EC2 AMI Store Task State Change` sees no change. Each is
announced at most once per task: it is claimed with a condition on the task's item (the table keeps its
detail under its kind, beside the state changes'), and delivered through the same leases and channels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from ami_store_notifier.domain.announcements import Announcement, camel_case, event_id, image_arn
from ami_store_notifier.domain.json_values import IncomingJson, JsonObject
from ami_store_notifier.domain.model import StoreTask, TaskState, format_timestamp


class NoticeKind(StrEnum):
    VERIFICATION = "Verification"
    UNAPPROVED_BUCKET = "UnapprovedBucket"
    STALLED = "Stalled"


NOTICE_DETAIL_TYPES = {
    NoticeKind.VERIFICATION: "EC2 AMI Store Archive Verification",
    NoticeKind.UNAPPROVED_BUCKET: "EC2 AMI Store Into Unapproved Bucket",
    NoticeKind.STALLED: "EC2 AMI Store Task Stalled",
}

# A bus event's detail-type back to its notice's kind (the hub's relay, the local subscribers).
NOTICE_KINDS_BY_DETAIL_TYPE = {detail_type: kind for kind, detail_type in NOTICE_DETAIL_TYPES.items()}

# What a pending delivery and a task's stored announcements are keyed by: a state change, or a notice.
Milestone = TaskState | NoticeKind


def milestone_of(text: str) -> Milestone:
    try:
        return TaskState(text)
    except ValueError:
        return NoticeKind(text)


class Verdict(StrEnum):
    VERIFIED = "Verified"
    NOT_VERIFIED = "NotVerified"


@dataclass(frozen=True)
class ArchiveTransition:
    """A lifecycle rule of the bucket that would move the object into a class that needs a restore."""

    rule_id: str
    days: int | None
    storage_class: str

    def detail(self) -> JsonObject:
        return {"ruleId": self.rule_id, "days": self.days, "storageClass": self.storage_class}


@dataclass(frozen=True)
class ArchiveCheck:
    """The check of a completed store's object: what S3 said of it and of its bucket."""

    verdict: Verdict
    # In words a person can act on; empty when Verified.
    reasons: tuple[str, ...] = ()
    object_size: int | None = None
    object_last_modified: str | None = None
    storage_class: str | None = None
    version_id: str | None = None
    object_etag: str | None = None
    checksum_algorithm: str | None = None
    checksum: str | None = None
    bucket_versioning: str | None = None
    object_lock_mode: str | None = None
    object_lock_retain_until: str | None = None
    object_legal_hold: str | None = None
    restore_needed_after: tuple[ArchiveTransition, ...] = ()
    # Bucket facts S3 refused to tell, by the permission that reads them.
    facts_not_read: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnapprovedStore:
    approved_buckets: tuple[str, ...]
    # CloudTrail's caller, when a start hint told it.
    started_by: str | None = None


@dataclass(frozen=True)
class Stall:
    progress_percentage: int | None
    unchanged_since: str
    stall_after_minutes: int


NoticeFacts = ArchiveCheck | UnapprovedStore | Stall
_FACTS_OF_KIND: dict[NoticeKind, type[ArchiveCheck] | type[UnapprovedStore] | type[Stall]] = {
    NoticeKind.VERIFICATION: ArchiveCheck,
    NoticeKind.UNAPPROVED_BUCKET: UnapprovedStore,
    NoticeKind.STALLED: Stall,
}
_COMMON_FIELDS = (
    "event_id",
    "ami_id",
    "bucket",
    "s3_object_key",
    "s3_uri",
    "task_start_time",
    "region",
    "account",
    "observed_at",
)


@dataclass(frozen=True)
class Notice:
    """One notice about one task, exactly as it is delivered (and redelivered)."""

    kind: NoticeKind
    event_id: str
    ami_id: str
    bucket: str
    s3_object_key: str
    s3_uri: str
    task_start_time: str
    region: str
    account: str
    observed_at: str
    facts: NoticeFacts

    @property
    def detail_type(self) -> str:
        return NOTICE_DETAIL_TYPES[self.kind]

    @property
    def resource_arn(self) -> str:
        return image_arn(self.region, self.ami_id)

    def detail(self) -> JsonObject:
        """The detail as subscribers see it, with camelCase keys; every key present, null when unknown."""
        common = {camel_case(name): getattr(self, name) for name in _COMMON_FIELDS}
        return {**common, **_facts_detail(self.facts)}

    def detail_json(self) -> str:
        return json.dumps(self.detail(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_detail_json(cls, kind: NoticeKind, text: str) -> Notice:
        detail = json.loads(text)
        common = {name: detail[camel_case(name)] for name in _COMMON_FIELDS}
        return cls(kind=kind, facts=_facts_from_detail(kind, detail), **common)


# What the channels deliver: a state change or a notice.
Deliverable = Announcement | Notice


def stored_deliverable(milestone: str, detail_json: str) -> Deliverable:
    """A deliverable from the detail the task's item keeps under its milestone."""
    parsed = milestone_of(milestone)
    if isinstance(parsed, NoticeKind):
        return Notice.from_detail_json(parsed, detail_json)
    return Announcement.from_detail_json(detail_json)


def _facts_detail(facts: NoticeFacts) -> JsonObject:
    detail: JsonObject = {}
    for declared in fields(facts):
        value = getattr(facts, declared.name)
        if isinstance(value, tuple):
            value = [item.detail() if isinstance(item, ArchiveTransition) else item for item in value]
        detail[camel_case(declared.name)] = value
    return detail


def _facts_from_detail(kind: NoticeKind, detail: IncomingJson) -> NoticeFacts:
    facts_type = _FACTS_OF_KIND[kind]
    values: dict[str, Any] = {}
    for declared in fields(facts_type):
        value = detail.get(camel_case(declared.name))
        if declared.name == "restore_needed_after":
            value = tuple(
                ArchiveTransition(item["ruleId"], item["days"], item["storageClass"]) for item in value or ()
            )
        elif isinstance(value, list):
            value = tuple(value)
        elif declared.name == "verdict":
            value = Verdict(str(value))
        values[declared.name] = value
    return facts_type(**values)


def notice(
    task: StoreTask, facts: NoticeFacts, *, region: str, account: str, observed_at: datetime
) -> Notice:
    kind = next(kind for kind, facts_type in _FACTS_OF_KIND.items() if isinstance(facts, facts_type))
    return Notice(
        kind=kind,
        event_id=event_id(region, task.ami_id, task.task_start_time, kind),
        ami_id=task.ami_id,
        bucket=task.bucket,
        s3_object_key=task.s3_object_key,
        s3_uri=f"s3://{task.bucket}/{task.s3_object_key}",
        task_start_time=format_timestamp(task.task_start_time),
        region=region,
        account=account,
        observed_at=format_timestamp(observed_at),
        facts=facts,
    )

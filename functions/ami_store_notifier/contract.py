"""A typed model of the announcements, for consumers (a Lambda behind a rule, an SQS subscriber).

Built on Powertools' parser (pydantic): `event_parser(model=AmiStoreTaskStateChange)` gives a handler the
event with its detail typed, and one model per notice does the same for its detail-type
(`AmiStoreArchiveVerification`, `AmiStoreIntoUnapprovedBucket`, `AmiStoreTaskStalled`). They mirror
`event_detail.schema.json` and `notice_schemas/`; tests keep each model and its schema in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

State = Literal["InProgress", "Completed", "Failed"]


class AmiStoreTaskDetail(BaseModel):
    """The detail of one announcement (the SNS message's default text is the same JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(alias="eventId", pattern=r"^[0-9a-f]{64}$")
    ami_id: str = Field(alias="amiId", pattern=r"^ami-[0-9a-f]{8,17}$")
    bucket: str
    s3_object_key: str = Field(alias="s3ObjectKey", min_length=1)
    s3_uri: str = Field(alias="s3Uri", pattern=r"^s3://")
    task_start_time: datetime = Field(alias="taskStartTime")
    state: State
    previous_state: State | None = Field(alias="previousState")
    progress_percentage: int | None = Field(alias="progressPercentage", ge=0, le=100)
    failure_reason: str | None = Field(alias="failureReason", max_length=2000)
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    account: str = Field(pattern=r"^[0-9]{12}$")
    observed_at: datetime = Field(alias="observedAt")
    # Present only with hints on, when a hint told them (the schema does not require them).
    started_by: str | None = Field(default=None, alias="startedBy", min_length=1)
    object_size: int | None = Field(default=None, alias="objectSize", ge=0)
    object_etag: str | None = Field(default=None, alias="objectEtag")


class AmiStoreTaskStateChange(EventBridgeModel):
    """The whole EventBridge event, as a rule hands it to a target."""

    detail: AmiStoreTaskDetail


class AmiStoreNoticeDetail(BaseModel):
    """The keys every notice's detail starts with; each notice's detail adds its facts, every key present
    (null when unknown)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(alias="eventId", pattern=r"^[0-9a-f]{64}$")
    ami_id: str = Field(alias="amiId", pattern=r"^ami-[0-9a-f]{8,17}$")
    bucket: str
    s3_object_key: str = Field(alias="s3ObjectKey", min_length=1)
    s3_uri: str = Field(alias="s3Uri", pattern=r"^s3://")
    task_start_time: datetime = Field(alias="taskStartTime")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    account: str = Field(pattern=r"^[0-9]{12}$")
    observed_at: datetime = Field(alias="observedAt")


class ArchiveTransitionDetail(BaseModel):
    """A lifecycle rule of the bucket that would move the object into a class that needs a restore."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str = Field(alias="ruleId")
    days: int | None = Field(ge=0)
    storage_class: str = Field(alias="storageClass")


class AmiStoreArchiveVerificationDetail(AmiStoreNoticeDetail):
    verdict: Literal["Verified", "NotVerified"]
    reasons: tuple[Annotated[str, Field(min_length=1)], ...]
    object_size: int | None = Field(alias="objectSize", ge=0)
    object_last_modified: datetime | None = Field(alias="objectLastModified")
    storage_class: str | None = Field(alias="storageClass")
    version_id: str | None = Field(alias="versionId")
    object_etag: str | None = Field(alias="objectEtag")
    checksum_algorithm: str | None = Field(alias="checksumAlgorithm")
    checksum: str | None
    bucket_versioning: str | None = Field(alias="bucketVersioning")
    object_lock_mode: str | None = Field(alias="objectLockMode")
    object_lock_retain_until: datetime | None = Field(alias="objectLockRetainUntil")
    object_legal_hold: str | None = Field(alias="objectLegalHold")
    restore_needed_after: tuple[ArchiveTransitionDetail, ...] = Field(alias="restoreNeededAfter")
    facts_not_read: tuple[Annotated[str, Field(min_length=1)], ...] = Field(alias="factsNotRead")


class AmiStoreIntoUnapprovedBucketDetail(AmiStoreNoticeDetail):
    approved_buckets: tuple[Annotated[str, Field(min_length=1)], ...] = Field(alias="approvedBuckets")
    started_by: str | None = Field(alias="startedBy", min_length=1)


class AmiStoreTaskStalledDetail(AmiStoreNoticeDetail):
    progress_percentage: int | None = Field(alias="progressPercentage", ge=0, le=100)
    unchanged_since: datetime = Field(alias="unchangedSince")
    stall_after_minutes: int = Field(alias="stallAfterMinutes", ge=1)


class AmiStoreArchiveVerification(EventBridgeModel):
    """An `EC2 AMI Store Archive Verification` event, as a rule hands it to a target."""

    detail: AmiStoreArchiveVerificationDetail


class AmiStoreIntoUnapprovedBucket(EventBridgeModel):
    """An `EC2 AMI Store Into Unapproved Bucket` event, as a rule hands it to a target."""

    detail: AmiStoreIntoUnapprovedBucketDetail


class AmiStoreTaskStalled(EventBridgeModel):
    """An `EC2 AMI Store Task Stalled` event, as a rule hands it to a target."""

    detail: AmiStoreTaskStalledDetail

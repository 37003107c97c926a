"""Judging a completed store's archive from what S3 says of the object and its bucket, as pure logic.

Which classes need a restore: objects in S3 Glacier Flexible Retrieval (`GLACIER`) and S3 Glacier Deep
Archive (`DEEP_ARCHIVE`), and objects in the Archive Access and Deep Archive Access tiers of S3
Intelligent-Tiering, "are archived and are not accessible in real time" until restored (S3 user guide,
"Restoring an archived object": https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html).
`CreateRestoreImageTask` reads the object, so it cannot restore an AMI from one of them until the object
is restored. S3 Glacier Instant Retrieval (`GLACIER_IR`) is read in real time and needs none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ami_store_notifier.domain.model import StoreTask, format_timestamp
from ami_store_notifier.domain.notices import ArchiveCheck, ArchiveTransition, Verdict

RESTORE_NEEDED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# A lifecycle rule's Expiration, read as a move out of the bucket: S3 deletes the object (S3 user guide,
# "Lifecycle configuration elements": https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html).
EXPIRATION = "EXPIRATION"
# HeadObject's ArchiveStatus for an Intelligent-Tiering object in an archive tier.
RESTORE_NEEDED_ARCHIVE_STATUSES = frozenset({"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"})
# EC2 shows Completed once its multipart upload is complete, and S3 reads after writes are strongly
# consistent; an object still missing this long after the notifier saw the completion is missing.
MISSING_OBJECT_GRACE = timedelta(minutes=10)
# A bucket's versioning when it was never turned on: "If the versioning state has never been set on a
# bucket, it has no versioning state; a GetBucketVersioning request does not return a versioning state
# value" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html).
NEVER_ENABLED = "Never enabled"
NOT_READABLE = "not among the buckets this deployment may read (readableBuckets)"
# A multipart object's Last-Modified is when its upload was initiated (S3 user guide, "Working with object
# metadata": https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html), and no page orders
# that against the task's start: only an object older by more than this is a leftover of another store.
LAST_MODIFIED_TOLERANCE = timedelta(minutes=5)
# A check S3 has not answered for this long is concluded: the archive could not be verified.
ARCHIVE_CHECK_GIVE_UP = timedelta(days=1)


@dataclass(frozen=True)
class ObjectFacts:
    """HeadObject's answer about a store's object."""

    size: int
    last_modified: datetime
    storage_class: str | None = None
    archive_status: str | None = None
    version_id: str | None = None
    etag: str | None = None
    checksum_algorithm: str | None = None
    checksum: str | None = None
    object_lock_mode: str | None = None
    object_lock_retain_until: datetime | None = None
    legal_hold: str | None = None


@dataclass(frozen=True)
class LifecycleTransition:
    """One transition of an enabled lifecycle rule, with the filter that decides which objects it moves."""

    rule_id: str
    storage_class: str
    days: int | None = None
    prefix: str = ""
    # A rule filtered by tags may or may not apply: the object's tags are not read.
    tagged: bool = False
    larger_than: int | None = None
    smaller_than: int | None = None

    def applies_to(self, key: str, size: int) -> bool:
        return (
            key.startswith(self.prefix)
            and (self.larger_than is None or size > self.larger_than)
            and (self.smaller_than is None or size < self.smaller_than)
        )


@dataclass(frozen=True)
class BucketFacts:
    """The bucket's configuration that decides how safe and restorable its objects are."""

    versioning: str | None = None
    lifecycle: tuple[LifecycleTransition, ...] = ()
    # Permissions S3 refused for reading a part of the configuration.
    not_read: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Inspection:
    """What one look at a store's object found; S3 throttling or failing is raised, not answered."""

    # None: S3 answered that there is no such object.
    object: ObjectFacts | None = None
    # The permission S3 refused for the object itself.
    denied: str | None = None
    # Another error code S3 answered for the object.
    refused: str | None = None
    bucket: BucketFacts = BucketFacts()


def not_readable(task: StoreTask) -> ArchiveCheck:
    return ArchiveCheck(Verdict.NOT_VERIFIED, (f"s3://{task.bucket} is {NOT_READABLE}",))


def judge(
    task: StoreTask, inspection: Inspection, *, completed_seen_at: datetime, now: datetime
) -> ArchiveCheck | None:
    """The check's result; None while a missing object may still appear (look again later)."""
    uri = f"s3://{task.bucket}/{task.s3_object_key}"
    if inspection.denied is not None:
        # HeadObject with checksum mode needs kms:Decrypt too for an object under a KMS key (HeadObject API
        # reference, x-amz-checksum-mode), which only the key's policy can grant the role.
        return ArchiveCheck(
            Verdict.NOT_VERIFIED,
            (
                f"access denied: the role needs {inspection.denied} on {uri} (and kms:Decrypt on the "
                "object's KMS key, if the bucket encrypts with a customer managed key)",
            ),
        )
    if inspection.refused is not None:
        return ArchiveCheck(Verdict.NOT_VERIFIED, (f"S3 answered {inspection.refused} for {uri}",))
    found = inspection.object
    if found is None:
        if now - completed_seen_at < MISSING_OBJECT_GRACE:
            return None
        return ArchiveCheck(Verdict.NOT_VERIFIED, (f"missing: there is no object at {uri}",))
    reasons = _problems(task, found) + _deleted_by(task, found, inspection.bucket)
    return ArchiveCheck(
        Verdict.NOT_VERIFIED if reasons else Verdict.VERIFIED,
        reasons,
        object_size=found.size,
        object_last_modified=format_timestamp(found.last_modified),
        storage_class=found.storage_class or "STANDARD",
        version_id=found.version_id,
        object_etag=found.etag,
        checksum_algorithm=found.checksum_algorithm,
        checksum=found.checksum,
        bucket_versioning=inspection.bucket.versioning,
        object_lock_mode=found.object_lock_mode,
        object_lock_retain_until=(
            format_timestamp(found.object_lock_retain_until) if found.object_lock_retain_until else None
        ),
        object_legal_hold=found.legal_hold,
        restore_needed_after=_archive_transitions(task, found, inspection.bucket),
        facts_not_read=inspection.bucket.not_read,
    )


def _problems(task: StoreTask, found: ObjectFacts) -> tuple[str, ...]:
    reasons = []
    if found.size == 0:
        reasons.append("empty: the object holds 0 bytes")
    if found.last_modified < task.task_start_time - LAST_MODIFIED_TOLERANCE:
        reasons.append(
            f"older than the task: the object was written {format_timestamp(found.last_modified)}, "
            f"before the store started {format_timestamp(task.task_start_time)}"
        )
    archived = found.archive_status if found.archive_status in RESTORE_NEEDED_ARCHIVE_STATUSES else None
    if found.storage_class in RESTORE_NEEDED_CLASSES or archived:
        where = archived or found.storage_class
        reasons.append(
            f"needs a restore: the object is in {where}, which must be restored before "
            "CreateRestoreImageTask can read it"
        )
    return tuple(reasons)


def _deleted_by(task: StoreTask, found: ObjectFacts, bucket: BucketFacts) -> tuple[str, ...]:
    return tuple(
        f"deleted by a lifecycle rule: {rule.rule_id} expires it"
        + (f" {rule.days} days after it was written" if rule.days is not None else " on a date")
        + (" (filtered by tags: may apply)" if rule.tagged else "")
        for rule in bucket.lifecycle
        if rule.storage_class == EXPIRATION and rule.applies_to(task.s3_object_key, found.size)
    )


def unanswered(task: StoreTask, since: datetime) -> ArchiveCheck:
    """A check S3 did not answer for ARCHIVE_CHECK_GIVE_UP: concluded rather than kept for ever."""
    uri = f"s3://{task.bucket}/{task.s3_object_key}"
    return ArchiveCheck(
        Verdict.NOT_VERIFIED, (f"not checked: S3 did not answer for {uri} since {format_timestamp(since)}",)
    )


def _archive_transitions(
    task: StoreTask, found: ObjectFacts, bucket: BucketFacts
) -> tuple[ArchiveTransition, ...]:
    return tuple(
        ArchiveTransition(
            rule.rule_id + (" (filtered by tags: may apply)" if rule.tagged else ""),
            rule.days,
            rule.storage_class,
        )
        for rule in bucket.lifecycle
        if rule.storage_class in RESTORE_NEEDED_CLASSES and rule.applies_to(task.s3_object_key, found.size)
    )

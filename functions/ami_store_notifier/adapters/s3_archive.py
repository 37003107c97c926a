"""The S3 side of the archive checks: one HeadObject of a completed store's object, and its bucket's
versioning and lifecycle rules.

What S3's answers mean is decided by the HeadObject API reference
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). A HEAD answer has no body, so an
error comes as its HTTP status alone ("404", "403" as botocore's error code); S3 sends the same refusal
with a body (NoSuchKey, AccessDenied) to GET requests, so both spellings are read. For a key that does not
exist S3 answers 404 only to a caller that also has s3:ListBucket on the bucket, and 403 to one that has
not: the deployment grants s3:ListBucket on the readable buckets, so here 403 means a refusal and 404 a
missing object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.domain.verification import (
    EXPIRATION,
    NEVER_ENABLED,
    BucketFacts,
    Inspection,
    LifecycleTransition,
    ObjectFacts,
)
from ami_store_notifier.ports import TransientAwsError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import (
        HeadObjectOutputTypeDef,
        LifecycleRuleAndOperatorOutputTypeDef,
        LifecycleRuleFilterOutputTypeDef,
        LifecycleRuleOutputTypeDef,
    )

NOT_FOUND_CODES = frozenset({"404", "NotFound", "NoSuchKey"})
DENIED_CODES = frozenset({"403", "Forbidden", "AccessDenied"})
# S3 throttles with 503 SlowDown ("Please reduce your request rate", Amazon S3 error best practices:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html); a HEAD's throttle comes
# as its status alone. Every 5xx is transient (transient_errors); these count as the run being throttled.
SLOW_DOWN_CODES = frozenset({"SlowDown", "503"})
# HeadObject's checksum headers in order of preference: the first one present is the object's checksum.
# S3 answers with them only when the request asks (ChecksumMode=ENABLED) and the object was uploaded with
# one (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
CHECKSUM_ALGORITHMS = (
    "SHA256",
    "SHA1",
    "CRC32C",
    "CRC32",
    "CRC64NVME",
    # Added to S3 later; botocore releases that know them return them.
    "SHA512",
    "MD5",
    "XXHASH128",
    "XXHASH64",
    "XXHASH3",
)
# GetBucketLifecycleConfiguration's answer for a bucket without lifecycle rules (404).
NO_LIFECYCLE_CODE = "NoSuchLifecycleConfiguration"
UNNAMED_RULE = "(unnamed)"
VERSIONING_PERMISSION = "s3:GetBucketVersioning"
LIFECYCLE_PERMISSION = "s3:GetLifecycleConfiguration"


class S3ArchiveReader:
    def __init__(self, s3_client: S3Client) -> None:
        self._s3 = s3_client

    def look(self, bucket: str, key: str) -> Inspection:
        # For an SSE-KMS object S3 returns the checksum only to a caller that may also kms:Decrypt with
        # its key (HeadObject reference, ChecksumMode); whether it then refuses the HEAD or leaves the
        # checksum out is not documented.
        try:
            with _s3_errors("s3:HeadObject"):
                answer = self._s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as error:
            code = error_code(error)
            if code in NOT_FOUND_CODES:
                return Inspection(object=None)
            if code in DENIED_CODES:
                return Inspection(denied="s3:GetObject")
            # Every other answer is S3's word on this object, not a reason to stop the run's claims.
            return Inspection(refused=code)
        return Inspection(object=_object_facts(answer))

    def bucket_facts(self, bucket: str) -> BucketFacts:
        versioning, lifecycle = self._versioning(bucket), self._lifecycle(bucket)
        not_read = tuple(
            permission
            for permission, part in ((VERSIONING_PERMISSION, versioning), (LIFECYCLE_PERMISSION, lifecycle))
            if part is None
        )
        return BucketFacts(versioning=versioning, lifecycle=lifecycle or (), not_read=not_read)

    def _versioning(self, bucket: str) -> str | None:
        """The bucket's versioning status; None where S3 refused to tell. S3 tells the bucket owner only
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html): a bucket of
        another account refuses it whatever the role's policy says."""
        try:
            with _s3_errors("s3:GetBucketVersioning"):
                answer = self._s3.get_bucket_versioning(Bucket=bucket)
        except ClientError:
            # Refused (or any other answer): named in not_read, the object's check goes on.
            return None
        return answer.get("Status") or NEVER_ENABLED

    def _lifecycle(self, bucket: str) -> tuple[LifecycleTransition, ...] | None:
        """The transitions of the bucket's enabled lifecycle rules; None where S3 refused to tell."""
        try:
            with _s3_errors("s3:GetBucketLifecycleConfiguration"):
                answer = self._s3.get_bucket_lifecycle_configuration(Bucket=bucket)
        except ClientError as error:
            code = error_code(error)
            return () if code == NO_LIFECYCLE_CODE else None
        return tuple(
            transition
            for rule in answer.get("Rules", [])
            if rule.get("Status") == "Enabled"
            for transition in _transitions(rule)
        )


@contextmanager
def _s3_errors(operation: str) -> Iterator[None]:
    """transient_errors, with S3's own throttle (SlowDown) counted as throttling."""
    try:
        with transient_errors(operation):
            yield
    except TransientAwsError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and error_code(cause) in SLOW_DOWN_CODES:
            raise TransientAwsError(str(error), throttled=True) from cause
        raise


def _object_facts(answer: HeadObjectOutputTypeDef) -> ObjectFacts:
    algorithm, checksum = _checksum(answer)
    etag = answer.get("ETag")
    return ObjectFacts(
        size=answer["ContentLength"],
        last_modified=answer["LastModified"].astimezone(UTC),
        # S3 sends no storage class header for STANDARD objects: None stands for STANDARD.
        storage_class=answer.get("StorageClass"),
        archive_status=answer.get("ArchiveStatus"),
        version_id=answer.get("VersionId"),
        etag=etag.strip('"') if etag else None,
        checksum_algorithm=algorithm,
        checksum=checksum,
        object_lock_mode=answer.get("ObjectLockMode"),
        object_lock_retain_until=_utc(answer.get("ObjectLockRetainUntilDate")),
        legal_hold=answer.get("ObjectLockLegalHoldStatus"),
    )


def _checksum(answer: Mapping[str, object]) -> tuple[str | None, str | None]:
    for algorithm in CHECKSUM_ALGORITHMS:
        value = answer.get(f"Checksum{algorithm}")
        if value:
            return algorithm, str(value)
    return None, None


def _utc(when: datetime | None) -> datetime | None:
    return when.astimezone(UTC) if when is not None else None


def _moves(rule: LifecycleRuleOutputTypeDef) -> list[tuple[str, int | None]]:
    """Where the rule moves the current object, and after how many days: each transition's class, and
    EXPIRATION when it deletes it (on a date: no days)."""
    moves: list[tuple[str, int | None]] = [
        (transition["StorageClass"], transition.get("Days")) for transition in rule.get("Transitions", [])
    ]
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration or "Date" in expiration:
        moves.append((EXPIRATION, expiration.get("Days")))
    return moves


def _transitions(rule: LifecycleRuleOutputTypeDef) -> Iterator[LifecycleTransition]:
    """One LifecycleTransition per transition of the rule, with the rule's filter. A rule filters by the
    legacy top-level Prefix, or by Filter: one Prefix, Tag or size condition, or several under And
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-filters.html)."""
    rule_filter: LifecycleRuleFilterOutputTypeDef = rule.get("Filter") or {}
    both = rule_filter.get("And")
    conditions: LifecycleRuleAndOperatorOutputTypeDef | LifecycleRuleFilterOutputTypeDef = both or rule_filter
    # A tag is the filter's Tag, or one of the Tags under And.
    tagged = bool(both.get("Tags")) if both else bool(rule_filter.get("Tag"))
    for storage_class, days in _moves(rule):
        yield LifecycleTransition(
            rule_id=rule.get("ID") or UNNAMED_RULE,
            storage_class=storage_class,
            days=days,
            prefix=conditions.get("Prefix") or rule.get("Prefix") or "",
            tagged=tagged,
            larger_than=conditions.get("ObjectSizeGreaterThan"),
            smaller_than=conditions.get("ObjectSizeLessThan"),
        )

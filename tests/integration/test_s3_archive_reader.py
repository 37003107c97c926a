"""The archive checks' S3 reader against moto S3, and against S3's refusals and throttles (which moto never
sends) queued on a botocore Stubber: a HEAD answer has no body, so its errors come as the status alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from ami_store_notifier.adapters.s3_archive import S3ArchiveReader
from ami_store_notifier.domain.verification import EXPIRATION, BucketFacts, Inspection, LifecycleTransition
from ami_store_notifier.ports import TransientAwsError

KEY = "ami-0123456789abcdef0.bin"
BODY = b"an AMI, packed"
HEAD_REQUEST = {"Bucket": "ami-archive", "Key": KEY, "ChecksumMode": "ENABLED"}


def test_an_object_in_a_versioned_bucket_is_found_with_its_size_checksum_and_version(
    archive_s3: Any, bucket: str
) -> None:
    archive_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    written = archive_s3.put_object(Bucket=bucket, Key=KEY, Body=BODY, ChecksumAlgorithm="SHA256")

    found = S3ArchiveReader(archive_s3).look(bucket, KEY).object

    assert found is not None
    assert found.size == len(BODY)
    assert found.last_modified.tzinfo == UTC
    assert (found.checksum_algorithm, found.checksum) == ("SHA256", written["ChecksumSHA256"])
    assert found.version_id == written["VersionId"]
    assert found.etag == written["ETag"].strip('"')
    assert found.storage_class is None  # STANDARD


def test_a_missing_object_is_answered_as_no_object(archive_s3: Any, bucket: str) -> None:
    assert S3ArchiveReader(archive_s3).look(bucket, KEY) == Inspection(object=None)


def test_an_empty_object_is_found_with_a_size_of_zero(archive_s3: Any, bucket: str) -> None:
    archive_s3.put_object(Bucket=bucket, Key=KEY, Body=b"")

    found = S3ArchiveReader(archive_s3).look(bucket, KEY).object

    assert found is not None
    assert found.size == 0


def test_an_object_in_glacier_is_found_in_that_storage_class(archive_s3: Any, bucket: str) -> None:
    archive_s3.put_object(Bucket=bucket, Key=KEY, Body=BODY, StorageClass="GLACIER")

    found = S3ArchiveReader(archive_s3).look(bucket, KEY).object

    assert found is not None
    assert found.storage_class == "GLACIER"


def test_object_lock_archive_status_and_the_strongest_checksum_are_read_from_the_head_answer(
    stubbed_s3: Stubber,
) -> None:
    retain_until = datetime(2030, 1, 1, tzinfo=UTC)
    stubbed_s3.add_response(
        "head_object",
        {
            "ContentLength": 7,
            "LastModified": datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
            "ETag": '"abc-3"',
            "StorageClass": "INTELLIGENT_TIERING",
            "ArchiveStatus": "DEEP_ARCHIVE_ACCESS",
            "ChecksumCRC32": "AAAAAA==",
            "ChecksumCRC32C": "BBBBBB==",
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": retain_until,
            "ObjectLockLegalHoldStatus": "ON",
        },
        expected_params=HEAD_REQUEST,
    )

    found = S3ArchiveReader(stubbed_s3.client).look("ami-archive", KEY).object

    assert found is not None
    assert (found.storage_class, found.archive_status) == ("INTELLIGENT_TIERING", "DEEP_ARCHIVE_ACCESS")
    assert (found.checksum_algorithm, found.checksum) == ("CRC32C", "BBBBBB==")
    assert found.etag == "abc-3"
    assert (found.object_lock_mode, found.object_lock_retain_until) == ("COMPLIANCE", retain_until)
    assert found.legal_hold == "ON"


@pytest.mark.parametrize("code", ["403", "AccessDenied"])
def test_a_refused_head_names_the_permission_it_needs(stubbed_s3: Stubber, code: str) -> None:
    stubbed_s3.add_client_error(
        "head_object", service_error_code=code, http_status_code=403, expected_params=HEAD_REQUEST
    )

    inspection = S3ArchiveReader(stubbed_s3.client).look("ami-archive", KEY)

    assert inspection == Inspection(denied="s3:GetObject")


@pytest.mark.parametrize(
    ("code", "status", "throttled"),
    [("503", 503, True), ("SlowDown", 503, True), ("500", 500, False)],
)
def test_s3_throttling_or_failing_after_the_retries_raises_a_transient_error(
    stubbed_s3: Stubber, code: str, status: int, throttled: bool
) -> None:
    stubbed_s3.add_client_error("head_object", service_error_code=code, http_status_code=status)

    with pytest.raises(TransientAwsError) as raised:
        S3ArchiveReader(stubbed_s3.client).look("ami-archive", KEY)

    assert raised.value.throttled is throttled


def test_any_other_head_answer_is_reported_as_s3s_refusal_not_raised(stubbed_s3: Stubber) -> None:
    stubbed_s3.add_client_error(
        "head_object", service_error_code="400", http_status_code=400, expected_params=HEAD_REQUEST
    )

    inspection = S3ArchiveReader(stubbed_s3.client).look("ami-archive", KEY)

    assert inspection == Inspection(refused="400")


def test_an_expiration_of_an_enabled_rule_is_read_as_a_move_out_of_the_bucket(
    archive_s3: Any, bucket: str
) -> None:
    archive_s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [{"ID": "tidy-up", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 90}}]
        },
    )

    facts = S3ArchiveReader(archive_s3).bucket_facts(bucket)

    assert facts.lifecycle == (LifecycleTransition("tidy-up", EXPIRATION, 90),)


def test_a_glacier_transition_of_an_enabled_rule_is_read_with_its_prefix(
    archive_s3: Any, bucket: str
) -> None:
    archive_s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "amis-to-glacier",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "amis/"},
                    "Transitions": [
                        {"Days": 30, "StorageClass": "GLACIER"},
                        {"Days": 180, "StorageClass": "DEEP_ARCHIVE"},
                    ],
                },
                {
                    "ID": "switched-off",
                    "Status": "Disabled",
                    "Filter": {},
                    "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}],
                },
            ]
        },
    )

    facts = S3ArchiveReader(archive_s3).bucket_facts(bucket)

    assert facts.lifecycle == (
        LifecycleTransition("amis-to-glacier", "GLACIER", 30, prefix="amis/"),
        LifecycleTransition("amis-to-glacier", "DEEP_ARCHIVE", 180, prefix="amis/"),
    )


def test_a_bucket_whose_versioning_was_never_enabled_and_without_lifecycle_rules_says_so(
    archive_s3: Any, bucket: str
) -> None:
    facts = S3ArchiveReader(archive_s3).bucket_facts(bucket)

    assert facts == BucketFacts(versioning="Never enabled", lifecycle=(), not_read=())


def test_a_rule_filtered_under_and_is_read_with_its_prefix_tags_and_sizes(stubbed_s3: Stubber) -> None:
    stubbed_s3.add_response("get_bucket_versioning", {"Status": "Suspended"})
    stubbed_s3.add_response(
        "get_bucket_lifecycle_configuration",
        {
            "Rules": [
                {
                    "Status": "Enabled",
                    "Filter": {
                        "And": {
                            "Prefix": "amis/",
                            "Tags": [{"Key": "tier", "Value": "cold"}],
                            "ObjectSizeGreaterThan": 1024,
                            "ObjectSizeLessThan": 10**12,
                        }
                    },
                    "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
                },
                {
                    "ID": "legacy",
                    "Status": "Enabled",
                    "Prefix": "old/",
                    "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}],
                },
            ]
        },
    )

    facts = S3ArchiveReader(stubbed_s3.client).bucket_facts("ami-archive")

    assert facts == BucketFacts(
        versioning="Suspended",
        lifecycle=(
            LifecycleTransition(
                "(unnamed)", "GLACIER", 90, prefix="amis/", tagged=True, larger_than=1024, smaller_than=10**12
            ),
            LifecycleTransition("legacy", "GLACIER_IR", 1, prefix="old/"),
        ),
    )


def test_a_refused_lifecycle_read_is_left_empty_and_names_the_permission_it_needs(
    stubbed_s3: Stubber,
) -> None:
    stubbed_s3.add_response("get_bucket_versioning", {"Status": "Enabled"})
    stubbed_s3.add_client_error(
        "get_bucket_lifecycle_configuration", service_error_code="AccessDenied", http_status_code=403
    )

    facts = S3ArchiveReader(stubbed_s3.client).bucket_facts("ami-archive")

    assert facts == BucketFacts(
        versioning="Enabled", lifecycle=(), not_read=("s3:GetLifecycleConfiguration",)
    )


def test_a_refused_versioning_read_names_its_permission_too(stubbed_s3: Stubber) -> None:
    stubbed_s3.add_client_error(
        "get_bucket_versioning", service_error_code="AccessDenied", http_status_code=403
    )
    stubbed_s3.add_client_error(
        "get_bucket_lifecycle_configuration",
        service_error_code="NoSuchLifecycleConfiguration",
        http_status_code=404,
    )

    facts = S3ArchiveReader(stubbed_s3.client).bucket_facts("ami-archive")

    assert facts == BucketFacts(versioning=None, lifecycle=(), not_read=("s3:GetBucketVersioning",))


def test_a_throttled_bucket_read_raises_a_transient_error(stubbed_s3: Stubber) -> None:
    stubbed_s3.add_client_error("get_bucket_versioning", service_error_code="SlowDown", http_status_code=503)

    with pytest.raises(TransientAwsError):
        S3ArchiveReader(stubbed_s3.client).bucket_facts("ami-archive")

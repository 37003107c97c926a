"""What the poller may read of the buckets its stores go to (`readableBuckets`), for the archive checks:
HeadObject on a completed store's object, and the bucket configuration that decides how safe and how
restorable the archive is. Nothing at all when no bucket is named.

Each action on exactly the ARN type it authorizes (Service Authorization Reference, Amazon S3,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html): the bucket's
(`arn:<partition>:s3:::<bucket>`) for the bucket's own calls, its objects' (`.../<bucket>/*`) for the
object's.

- HeadObject is authorized as `s3:GetObject`; and for a key that does not exist S3 answers 404 Not Found
  only to a caller that also has `s3:ListBucket` on the bucket, 403 Forbidden to any other (S3 API
  reference, HeadObject, "Permissions",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). Without it a missing archive
  would read as a refusal.
- HeadObject returns an object's Object Lock mode and retain-until date only to a caller with
  `s3:GetObjectRetention`, its legal hold only to one with `s3:GetObjectLegalHold` (same page, response
  headers `x-amz-object-lock-*`).
- `s3:GetBucketVersioning` and `s3:GetLifecycleConfiguration` read whether a deleted or overwritten
  archive survives, and which lifecycle rules would move it into a class that must be restored first.

No KMS permission. HeadObject of an SSE-KMS object needs none by itself; only with checksum mode does S3
also ask for `kms:Decrypt` on the object's key ("If you enable checksum mode and the object is uploaded
with a checksum and encrypted with a KMS key, you must have permission to use the kms:Decrypt action to
retrieve the checksum", same page, request header `x-amz-checksum-mode`). Those keys are the buckets'
owners', unknown here, and `kms:Decrypt` on `*` would reach every key whose policy defers to IAM: so a
bucket encrypted with a customer managed key needs that key's policy to name the poller's role (output
`PollerRoleArn`), or S3 refuses the check and it is NotVerified, access denied. The AWS managed key
`aws/s3` lets every principal of its account through S3. A bucket of another account (a spoke's stores
into a central archive) needs its bucket policy to let the role in as well.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration")
OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectLegalHold")


def bucket_arn(scope: Construct, bucket: str) -> str:
    """The bucket's ARN in the partition the stack deploys to (a token until then)."""
    return Stack.of(scope).format_arn(service="s3", region="", account="", resource=bucket)


def reading_archives(scope: Construct, buckets: Sequence[str]) -> list[iam.PolicyStatement]:
    """The statements that let the role check archives in ``buckets``: none when there are none."""
    if not buckets:
        return []
    arns = [bucket_arn(scope, bucket) for bucket in buckets]
    return [
        iam.PolicyStatement(sid="ReadArchiveBuckets", actions=list(BUCKET_ACTIONS), resources=arns),
        iam.PolicyStatement(
            sid="ReadArchiveObjects", actions=list(OBJECT_ACTIONS), resources=[f"{arn}/*" for arn in arns]
        ),
    ]


def acknowledge_every_archive_object(role: iam.Role, buckets: Sequence[str]) -> None:
    """cdk-nag's IAM5 finds a wildcard in each bucket's objects: an archive's key is the AMI's id, and any
    of the bucket's objects may be the next store's. The finding shows the partition as the template has
    it: a token, unless the stack is pinned to a Region (a management account's spoke)."""
    partition = Stack.of(role).partition
    shown = "<AWS::Partition>" if Token.is_unresolved(partition) else partition
    Validations.of(role).acknowledge(
        *(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{shown}:s3:::{bucket}/*]",
                reason=f"The archive checks read the object of any store into {bucket} (named in "
                "readableBuckets): its key is the stored AMI's id, so no narrower ARN names the next one; "
                "the actions are HeadObject's and its Object Lock headers', read-only.",
            )
            for bucket in buckets
        )
    )

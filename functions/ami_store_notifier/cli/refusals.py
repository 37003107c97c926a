"""One line that says why AWS refused what the operator asked, and what to do about it."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ami_store_notifier.adapters.aws import error_code, error_message, is_throttling
from ami_store_notifier.adapters.ec2_task_source import AMI_UNKNOWN_CODES
from ami_store_notifier.ec2_limits import STORE_QUOTA_GB, STORE_TASK_BUCKETS

# EC2's codes (CreateStoreImageTask) and DynamoDB's (status --table); S3's AccessDenied never reaches here.
_ACCESS_DENIED = frozenset({"UnauthorizedOperation", "AccessDeniedException", "AuthFailure"})


def store_refusal(error: ClientError, *, ami_id: str, bucket: str, region: str) -> str:
    """Why CreateStoreImageTask refused to store `ami_id` into `bucket`."""
    code = error_code(error)
    message = error_message(error)
    if code in AMI_UNKNOWN_CODES:
        return f"AMI {ami_id} not found in {region} ({code}): check the id and the Region"
    if code == "InvalidParameterValue" and "bucket" in message.lower():
        return (
            f"bucket {bucket} does not exist, is not in {region}, or is not yours to write "
            f"({code}: {message})"
        )
    if code in _ACCESS_DENIED:
        # The EC2 user guide's "Permissions for storing and restoring AMIs using S3" lists what a store needs.
        return (
            f"access denied: storing {ami_id} needs ec2:CreateStoreImageTask and ec2:DescribeImages, EBS "
            f"direct reads of its snapshots and s3:PutObject on {bucket} ({code}: {message})"
        )
    if _is_quota(code):
        return (
            f"store quota exceeded in {region} ({code}: {message}); EC2 allows {STORE_QUOTA_GB:,} GB of "
            "snapshot data in stores in progress per Region: wait for some to end (ami-store-notifier watch)"
        )
    return aws_refusal(error, action="CreateStoreImageTask", region=region)


def aws_refusal(error: ClientError, *, action: str, region: str) -> str:
    """Why any call of the CLI was refused: access, throttling, or what AWS said."""
    code = error_code(error)
    if code in _ACCESS_DENIED:
        return f"access denied: {action} in {region} needs ec2:{action} ({code}: {error_message(error)})"
    if is_throttling(error):
        size = STORE_TASK_BUCKETS.get(action)
        bucket = size.describe() if size is not None else "a small request bucket"
        return (
            f"throttled by EC2 in {region} ({code}): {action} allows {bucket}, shared by every caller in "
            "the account and Region; try again in a minute"
        )
    return f"{action} in {region} refused ({code}: {error_message(error)})"


def connection_refusal(error: BotoCoreError) -> str:
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found: set a profile (AWS_PROFILE) or keys, as for the AWS CLI"
    return f"could not reach AWS: {error}"


def _is_quota(code: str) -> bool:
    return code != "RequestLimitExceeded" and (code.endswith("LimitExceeded") or "Quota" in code)

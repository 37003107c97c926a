"""The S3 side of `watch`: whether a store's AMI object is in its bucket yet, by HeadObject.

The CLI's ObjectProbe port (cli/sightings.py). What S3's answers mean is decided by the HeadObject API
reference (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), "Permissions": HeadObject
needs s3:GetObject; for an object that does not exist, S3 answers 404 Not Found where the caller also
has s3:ListBucket on the bucket, and 403 Forbidden where it has not. A HEAD answer has no body, so the
HTTP status is all there is to go by ("It's not possible to retrieve the exact exception"): 404 is "not
there (yet)", 403 and any other refusal "S3 will not say", 5xx (503 SlowDown) a passing failure.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import CLIENT_CONFIG, error_code, error_message, transient_errors
from ami_store_notifier.cli.sightings import ObjectUnreadableError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

NOT_FOUND = 404
# A look that fails is made again a few seconds later, after the watcher's own back-off: the SDK's
# retries would only hold the watch up meanwhile.
S3_PROBE_CONFIG = CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))


class S3ObjectProbe:
    def __init__(self, s3_client: S3Client) -> None:
        self._s3 = s3_client

    def written_at(self, bucket: str, key: str) -> datetime | None:
        try:
            with transient_errors("s3:HeadObject"):
                answer = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == NOT_FOUND:
                return None
            raise ObjectUnreadableError(bucket, _reason(error)) from error
        return answer["LastModified"]


def _reason(error: ClientError) -> str:
    """As S3 said it: "403 Forbidden" for a HEAD, the code and message where there is a body."""
    return " ".join(part for part in (error_code(error), error_message(error)) if part)

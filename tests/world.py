"""The offline AWS world every suite shares: its account, region and bucket, and the event contract."""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "ami-archive"
# The event contract's detail keys, in order: users' rules and filter policies depend on them.
EVENT_DETAIL_KEYS = [
    "eventId",
    "amiId",
    "bucket",
    "s3ObjectKey",
    "s3Uri",
    "taskStartTime",
    "state",
    "previousState",
    "progressPercentage",
    "failureReason",
    "region",
    "account",
    "observedAt",
]

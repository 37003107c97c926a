"""The offline AWS world every suite shares: its account, region and bucket, and the event contract."""

from __future__ import annotations

from typing import Any

from ami_store_notifier.domain.notices import Deliverable

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
# Keys a detail carries only with hints on, when a hint told them.
HINT_FACT_KEYS = ["startedBy", "objectSize", "objectEtag"]


def bus_event(announcement: Deliverable, source: str = "ami-store-notifier") -> dict[str, Any]:
    """An announcement as EventBridge hands it to a rule's target (a consumer, the hub's relay)."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": announcement.detail_type,
        "source": source,
        "account": announcement.account,
        "region": announcement.region,
        "time": announcement.observed_at,
        "resources": [announcement.resource_arn],
        "detail": announcement.detail(),
    }

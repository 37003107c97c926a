"""EC2's documented limits for the store-task actions, declared once for the notifier, the CLI and the
emulator that models them.

Request throttling (EC2 API reference, "Request throttling for the Amazon EC2 API": request token bucket
sizes and refill rates): each action has a token bucket per account and Region, shared by every caller;
a call takes a token and one that finds the bucket empty is refused with `RequestLimitExceeded`.
The store quota (EC2 user guide, store and restore limitations): snapshot data of the stores in progress
per account and Region. DescribeStoreImageTasks' parameters (EC2 API reference): `MaxResults` 1 to 200,
at most 20 `ImageIds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class BucketSize:
    capacity: int
    refill_per_second: float

    def describe(self) -> str:
        return f"{self.capacity} requests, refilled at one every {1 / self.refill_per_second:g} s"


STORE_TASK_BUCKETS: Final = {
    "DescribeStoreImageTasks": BucketSize(capacity=50, refill_per_second=0.5),
    "CreateStoreImageTask": BucketSize(capacity=50, refill_per_second=0.1),
    "CreateRestoreImageTask": BucketSize(capacity=50, refill_per_second=0.1),
}
STORE_QUOTA_GB: Final = 1200
MAX_RESULTS_PER_PAGE: Final = 200
MAX_IMAGE_IDS_PER_CALL: Final = 20

"""EC2's request token buckets for the store-task actions, kept on the emulator's clock.

EC2 throttles every action with a token bucket per account and Region: a call takes one token, tokens
come back at a fixed rate up to the bucket's size, and a call that finds the bucket empty is refused with
`RequestLimitExceeded` (HTTP 503), which botocore treats as throttling (EC2 API reference, "Request
throttling for the Amazon EC2 API": request token bucket sizes and refill rates). The store-task
actions have small buckets of their own, shared by every caller in the account and Region: the console,
scripts, `aws ec2 wait store-image-task-complete`, and the notifier.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Final

from ami_store_notifier.ec2_limits import STORE_TASK_BUCKETS, BucketSize

# The documented sizes and refill rates of the three store-task actions: ami_store_notifier.ec2_limits.
THROTTLED_CODE: Final = "RequestLimitExceeded"
THROTTLED_MESSAGE: Final = "Request limit exceeded."
THROTTLED_STATUS: Final = 503


class TokenBucket:
    """One action's bucket: full at first, refilled continuously by the clock's time."""

    def __init__(self, size: BucketSize, now: datetime) -> None:
        self.size = size
        self._tokens = float(size.capacity)
        self._at = now
        self.lowest = float(size.capacity)
        """The fewest tokens the bucket held just after a call: how close callers came to throttling."""
        self.refused = 0

    def tokens(self, now: datetime) -> float:
        self._refill(now)
        return self._tokens

    def take(self, now: datetime) -> bool:
        """Takes a token for one call; False (and nothing taken) when the bucket is empty."""
        self._refill(now)
        if self._tokens < 1:
            self.refused += 1
            return False
        self._tokens -= 1
        self.lowest = min(self.lowest, self._tokens)
        return True

    def drain(self, now: datetime, tokens: float) -> None:
        """Another caller's use: `tokens` taken at once (never below empty)."""
        self._refill(now)
        self._tokens = max(0.0, self._tokens - tokens)
        self.lowest = min(self.lowest, self._tokens)

    def _refill(self, now: datetime) -> None:
        elapsed = (now - self._at).total_seconds()
        if elapsed > 0:
            self._tokens = min(
                float(self.size.capacity), self._tokens + elapsed * self.size.refill_per_second
            )
            self._at = now


class RequestThrottle:
    """The buckets of one account and Region, and the per-call latency that spreads a burst in time.

    `enabled` (True by default) is the switch for tests that need unlimited calls. `latency_seconds`
    moves the emulator clock forward by that much on every call, as a call over a network takes time:
    a burst of calls then refills the bucket as it goes, as it would in AWS.
    """

    def __init__(self) -> None:
        self.enabled = True
        self.latency_seconds = 0.0
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, operation: str, now: datetime) -> TokenBucket:
        with self._lock:
            if operation not in self._buckets:
                self._buckets[operation] = TokenBucket(STORE_TASK_BUCKETS[operation], now)
            return self._buckets[operation]

    def admit(self, operation: str, now: datetime) -> bool:
        """Whether a call of `operation` at `now` gets a token (always, when switched off)."""
        if not self.enabled:
            return True
        bucket = self.bucket(operation, now)
        with self._lock:
            return bucket.take(now)

"""Per-operation fault injection: queued EC2 errors consumed by the next calls of an operation."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from .api import OPERATIONS

# HTTP status of the error codes a test is most likely to inject, as real EC2 answers them, so that
# botocore's retry logic treats them as it would in AWS. Any other code defaults to 400.
DEFAULT_STATUS: dict[str, int] = {
    "RequestLimitExceeded": 503,
    "Unavailable": 503,
    "ServiceUnavailable": 503,
    "InternalError": 500,
    "InternalFailure": 500,
    "UnauthorizedOperation": 403,
    "AuthFailure": 401,
}

DEFAULT_MESSAGE: dict[str, str] = {
    "RequestLimitExceeded": "Request limit exceeded.",
    "Unavailable": "The service is unavailable. Please try again shortly.",
    "InternalError": "An internal error has occurred.",
    "UnauthorizedOperation": "You are not authorized to perform this operation.",
}


@dataclass(frozen=True)
class Fault:
    code: str
    message: str
    status: int


class FaultInjector:
    """Queues of faults, one queue per operation; each call of the operation consumes one fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def inject(
        self,
        operation: str,
        code: str = "RequestLimitExceeded",
        *,
        message: str | None = None,
        status: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `operation` fail with the EC2 error `code`."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(
            code=code,
            message=message if message is not None else DEFAULT_MESSAGE.get(code, f"Injected fault: {code}"),
            status=status if status is not None else DEFAULT_STATUS.get(code, 400),
        )
        with self._lock:
            self._queues.setdefault(operation, deque()).extend([fault] * times)

    def take(self, operation: str) -> Fault | None:
        """Consume and return the next fault queued for `operation`, if any."""
        with self._lock:
            queue = self._queues.get(operation)
            return queue.popleft() if queue else None

    def pending(self, operation: str | None = None) -> int:
        """How many faults are still queued (for one operation, or for all)."""
        with self._lock:
            if operation is not None:
                return len(self._queues.get(operation, ()))
            return sum(len(queue) for queue in self._queues.values())

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()

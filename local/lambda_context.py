"""A stand-in for the context object Lambda passes to a handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class LambdaContextStub:
    """The remaining time is a callable, so a caller can make it run out."""

    seconds_left: Callable[[], float] = lambda: 120.0
    function_name: str = "ami-store-notifier-poller"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ami-store-notifier-poller"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left() * 1000)

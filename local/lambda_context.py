"""Running the handler outside Lambda: a stand-in for its context, and an offline AWS environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ACCOUNT = "123456789012"
REGION = "us-east-1"
# What a process needs to talk to moto only: fake credentials, a region, and no profile or endpoint
# of a real account that could be picked up by mistake.
OFFLINE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # faster backends; callers register their own AMIs
}
OFFLINE_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL")


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

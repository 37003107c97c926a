"""The run's time as Lambda counts it, without sleeping: what a run would spend waiting on AWS becomes
visible to the handler's remaining time, and a run that outlasts the function's timeout is ended as
Lambda ends it.

Each request attempt of the handler's clients costs `latency` seconds (more for the operations given
in `slow`), each of botocore's retries the longest backoff its standard mode may wait, and time spent
past the timeout raises LambdaTimeout (a SimulatedCrash): Lambda stops the function wherever it is, and
the chaos harness counts it as a violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff

from ami_store_notifier import handler
from tests.faults import SimulatedCrash

# botocore's standard mode backs off rand(0, 1) * min(1 s * 2^(attempt - 1), 20 s) after a throttled
# attempt (botocore/retries/standard.py, ExponentialBackoff): rand taken as 1, the worst case.
_THROTTLE_BASE_SECONDS = 1.0
_MAX_BACKOFF_SECONDS = 20.0
_UNIQUE_ID = "chaos-lambda-time"
_THROTTLE_ID = "chaos-channel-throttled"


class LambdaTimeout(SimulatedCrash):
    """Lambda ending a run that outlasted the function's timeout."""


@dataclass
class LambdaTime:
    timeout: float
    latency: float = 0.05
    slow: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    def start(self) -> LambdaTime:
        """A new invocation: its time starts from zero."""
        self.elapsed = 0.0
        return self

    def seconds_left(self) -> float:
        return self.timeout - self.elapsed

    def attempt(self, event_name: str, **_: Any) -> None:
        self._spend(self.slow.get(event_name.rsplit(".", 1)[-1], self.latency))

    def backoff(self, context: Any) -> float:
        """What botocore would sleep before a retry, spent on the run's time instead."""
        self._spend(_throttle_backoff(context.attempt_number))
        return 0.0

    def throttled(self, attempts: int) -> None:
        """A call throttled on every one of its attempts."""
        for attempt in range(1, attempts + 1):
            self._spend(self.latency + (_throttle_backoff(attempt) if attempt < attempts else 0.0))

    def _spend(self, seconds: float) -> None:
        self.elapsed += seconds
        if self.elapsed > self.timeout:
            raise LambdaTimeout(f"Lambda timeout after {self.timeout:.0f} s")


def _throttle_backoff(attempt: int) -> float:
    return min(_THROTTLE_BASE_SECONDS * 2 ** (attempt - 1), _MAX_BACKOFF_SECONDS)


def _clients() -> tuple[Any, ...]:
    wired = handler.wiring()
    return (*wired.ec2_clients.values(), wired.dynamodb, wired.sns, wired.events)


@contextmanager
def lambda_time_kept(time: LambdaTime) -> Iterator[LambdaTime]:
    """While active, every request attempt of the handler's clients is counted on `time` (ahead of moto,
    which answers them). The handler's clients change when the world is configured: keep it per run."""
    for client in _clients():
        client.meta.events.register_first("before-send.*.*", time.attempt, unique_id=_UNIQUE_ID)
    try:
        yield time
    finally:
        for client in _clients():
            client.meta.events.unregister("before-send.*.*", unique_id=_UNIQUE_ID)


@contextmanager
def backoffs_spent(time: LambdaTime) -> Iterator[LambdaTime]:
    """While active, each of botocore's retry backoffs is spent on `time` instead of being slept (the
    chaos harness otherwise skips them)."""
    skipping = ExponentialBackoff.delay_amount
    ExponentialBackoff.delay_amount = lambda _, context: time.backoff(context)  # type: ignore[method-assign,assignment]
    try:
        yield time
    finally:
        ExponentialBackoff.delay_amount = skipping  # type: ignore[method-assign]


# How each channel's service answers a request past its rate: SNS's ThrottledException is sent as
# `Throttled` with HTTP 429, EventBridge's as ThrottlingException with HTTP 400.
_THROTTLED = {"sns": ("PublishBatch", "Throttled", 429), "events": ("PutEvents", "ThrottlingException", 400)}


@contextmanager
def channel_throttled(service: str, time: LambdaTime, attempts: int) -> Iterator[None]:
    """While active, every call of the service's publishing operation stays throttled through the SDK's
    `attempts`, and spends on `time` what they would: each attempt, and botocore's backoff between them.
    The call is answered before it is sent, so moto never acts on it (as AwsFaults' `throttle` does)."""
    operation, code, status = _THROTTLED[service]
    client = handler.wiring().sns if service == "sns" else handler.wiring().events

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        time.throttled(attempts)
        error = {
            "Error": {"Code": code, "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse(f"https://{service}.amazonaws.com/", status, {}, None), error

    client.meta.events.register_first(f"before-call.{service}.{operation}", refuse, unique_id=_THROTTLE_ID)
    try:
        yield
    finally:
        client.meta.events.unregister(f"before-call.{service}.{operation}", unique_id=_THROTTLE_ID)

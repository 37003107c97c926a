"""How long a hint takes from the moment it happens to the moment Lambda hands it to the poller.

The emulator puts a hint on moto's default bus at the emulated moment its store starts or its object is
written, and the rule puts it on the queue at once. In AWS three hops take time, and each is drawn here,
per hint, from a seeded generator; the hint reaches the queue that much later, and the emulated event
source mapping hands it over as soon as it is there (the stack sets no batching window).

What AWS documents, and what is assumed where it documents no figure:

1. S3 -> EventBridge. "Amazon S3 event notifications are designed to be delivered at least once.
   Typically, event notifications are delivered in seconds but can sometimes take a minute or longer."
   (S3 user guide, "Amazon S3 Event Notifications",
   https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html; EventBridge is one of the
   destinations that page covers.) No distribution is documented. ASSUMED: a typical delivery takes
   `typical_seconds` (uniform, 0.5 to 5 s: "in seconds"), and a share `slow_share` (1 %: "sometimes") takes
   `slow_seconds` (uniform, 60 to 120 s: "a minute or longer"). The p95 target holds or fails on the
   typical part as long as the slow share stays under 5 %; above it, the p95 is the schedule's.
   CloudTrail -> EventBridge (the start hints): AWS documents best-effort delivery and no time
   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-delivery-level.html);
   ASSUMED the same as S3's.
2. EventBridge rule -> SQS target. EventBridge delivers "in near-real-time" (EventBridge FAQ,
   https://aws.amazon.com/eventbridge/faqs/); no figure. ASSUMED uniform 0 to 1 s.
3. SQS -> Lambda. Lambda polls the queue for the mapping ("Using Lambda with Amazon SQS",
   https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html), and "long polling lets you consume messages
   from your Amazon SQS queue as soon as they become available" (SQS developer guide, "Using the appropriate
   polling mode", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
   best-practices-using-appropriate-polling-mode.html). With a batching window a queue of low traffic may
   wait up to 20 s (with-sqs.html), which is why infra/hints.py sets none. ASSUMED uniform 0 to 1 s.

The fourth part, the handler's own run, is not drawn: it is the measured wall time of the invocation.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from local.ec2_store_tasks import HintDelivery, HintEvents


@dataclass(frozen=True)
class Delay:
    """One hint's three hops, in seconds."""

    to_eventbridge: float
    to_queue: float
    to_lambda: float

    @property
    def total(self) -> float:
        return self.to_eventbridge + self.to_queue + self.to_lambda


@dataclass(frozen=True)
class DeliveryModel:
    typical_seconds: tuple[float, float] = (0.5, 5.0)
    slow_share: float = 0.01
    slow_seconds: tuple[float, float] = (60.0, 120.0)
    to_queue_seconds: tuple[float, float] = (0.0, 1.0)
    to_lambda_seconds: tuple[float, float] = (0.0, 1.0)

    def draw(self, rng: random.Random) -> Delay:
        slow = rng.random() < self.slow_share
        return Delay(
            rng.uniform(*(self.slow_seconds if slow else self.typical_seconds)),
            rng.uniform(*self.to_queue_seconds),
            rng.uniform(*self.to_lambda_seconds),
        )


@dataclass
class DelayedHintEvents(HintEvents):
    """The emulator's hints, each put on the bus `model`'s drawn delay after it happened (None: at once)."""

    model: DeliveryModel | None = None
    seed: int = 0
    delays: dict[tuple[str, str], Delay] = field(default_factory=dict)
    """The delay drawn for each (kind, AMI) hint; the last one when an AMI had several."""

    def __post_init__(self) -> None:
        self._draws = random.Random(self.seed)

    def next_due(self) -> datetime | None:
        """When the next delayed hint reaches the bus (None: none is waiting)."""
        with self._lock:
            return self._pending[0][0] if self._pending else None

    def _send(self, event: dict[str, Any], kind: str, ami_id: str, at: datetime) -> None:
        if self.model is None:
            super()._send(event, kind, ami_id, at)
            return
        delay = self.model.draw(self._draws)
        self.delays[(kind, ami_id)] = delay
        due = at + timedelta(seconds=delay.total)
        planned = HintDelivery(kind, ami_id, str(event["id"]), at, due)
        heapq.heappush(self._pending, (due, next(self._order), event, planned))

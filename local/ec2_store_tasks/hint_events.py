"""The hints: what the emulated AWS puts on the default bus of a store's account and Region, when told.

`backend.hint_events` (off by default) says which of the two events AWS would send:
- `cloudtrail`: the account has a trail logging management events, so every successful
  CreateStoreImageTask reaches the bus as "AWS API Call via CloudTrail", at the call;
- `s3`: S3 sends its events to EventBridge for the buckets whose notification configuration has
  EventBridge delivery on (`put_bucket_notification_configuration(..., {"EventBridgeConfiguration": {}})`,
  the user's own command), so a store that completes sends "Object Created" for its object, at the
  emulated time of the completion, even when nobody asks EC2 about it (the clock's move settles it).

`backend.hint_events.faults` (`HintFaults`) spoils the delivery the way a best-effort bus may: each hint
drawn on its own, from a seeded generator, so a scenario replays the same.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from .event_shapes import (
    CallerIdentity,
    StoredObject,
    object_created_event,
    put_on_default_bus,
    store_started_event,
)

if TYPE_CHECKING:
    from .lifecycle import StoreTask

STARTED: Final = "started"
OBJECT_CREATED: Final = "object-created"
HINT_KINDS: Final = frozenset({STARTED, OBJECT_CREATED})
FORGED_REASON: Final = "PutObject"
"""A forged object is one somebody uploaded: S3 reports it created by a PUT."""


@dataclass
class HintFaults:
    """What goes wrong with the hints: each rate is the chance that one hint suffers it (0: never,
    1: every hint). Drawn in this order, for each hint whose kind is in `kinds`: dropped (and nothing
    else), delayed, repeated."""

    drop: float = 0.0
    """The hint never reaches the bus."""
    delay: float = 0.0
    delay_seconds: float = 120.0
    """The hint reaches the bus `delay_seconds` after it was due (its `time` unchanged), once the
    emulator clock has passed that: long enough, by default, for the listing to show the end first."""
    repeat: float = 0.0
    repeat_after_seconds: float = 0.0
    """The hint reaches the bus twice, the copy `repeat_after_seconds` later, with the same event id
    (EventBridge delivers at least once)."""
    early: float = 0.0
    early_seconds: float = 30.0
    """A start hint only: DescribeStoreImageTasks leaves the task out for `early_seconds` after its
    start, so its hint arrives before the listing shows the task (EC2's reads are eventually consistent)."""
    forge: float = 0.0
    """With each real "Object Created", one more for an `ami-….bin` object no store task made (the
    object is uploaded into the same bucket, for an AMI id EC2 does not know)."""
    kinds: frozenset[str] = HINT_KINDS
    """The kinds of hint that drop, delay and repeat touch."""
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - HINT_KINDS
        if unknown:
            raise ValueError(f"unknown hint kinds {sorted(unknown)}; expected some of {sorted(HINT_KINDS)}")
        self._random = random.Random(self.seed)

    def happens(self, rate: float) -> bool:
        """One draw; a rate of 0 or 1 takes none, so turning a fault fully on or off leaves the others'
        draws where they were."""
        if rate <= 0:
            return False
        return rate >= 1 or self._random.random() < rate

    def unknown_ami_id(self) -> str:
        """An AMI id no AMI has: 17 hexadecimal digits, from the seeded generator."""
        return f"ami-{self._random.getrandbits(68):017x}"


@dataclass(frozen=True)
class HintDelivery:
    """One hint as the emulator handled it: put on the bus (`matched` rules took it), or not (`fault`)."""

    kind: str
    ami_id: str
    event_id: str
    event_time: datetime
    """The event's own `time`: the call, or the completion."""
    at: datetime
    """When it reached the bus (for a dropped hint: when it would have)."""
    fault: str | None = None
    """None, or "dropped", "delayed", "repeated" (the copy), "forged"."""
    matched: int = 0


@dataclass
class HintEvents:
    """Which hints the emulator sends for one account and Region, their faults, and what it sent."""

    cloudtrail: bool = False
    s3: bool = False
    faults: HintFaults = field(default_factory=HintFaults)
    identity: CallerIdentity = field(default_factory=CallerIdentity)
    """Who CloudTrail says started the stores (the request's access key is shown when moto saw one)."""
    log: list[HintDelivery] = field(default_factory=list)
    _pending: list[tuple[datetime, int, dict[str, Any], HintDelivery]] = field(
        default_factory=list, repr=False, compare=False
    )
    _unlisted: dict[int, datetime] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _order: itertools.count[int] = field(default_factory=itertools.count, repr=False, compare=False)

    # ----- what the backend tells ---------------------------------------------------------------

    def store_started(self, task: StoreTask, account_id: str, region: str, access_key_id: str | None) -> None:
        """A CreateStoreImageTask call succeeded: CloudTrail's record of it, where a trail logs."""
        if not self.cloudtrail:
            return
        event = store_started_event(
            account_id=account_id,
            region=region,
            at=task.start_time,
            ami_id=task.ami_id,
            bucket=task.bucket,
            object_key=task.object_key,
            identity=self.identity,
            access_key_id=access_key_id,
        )
        with self._lock:
            if self.faults.happens(self.faults.early):
                self._unlisted[task.seq] = task.start_time + timedelta(seconds=self.faults.early_seconds)
            self._send(event, STARTED, task.ami_id, task.start_time)

    def object_written(self, task: StoreTask, account_id: str, region: str, key: Any) -> None:
        """The completed store's object is in the bucket: S3's event, where the bucket sends them."""
        at = task.end_time
        bucket = _bucket(account_id, region, task.bucket)
        if not self.s3 or at is None or bucket is None or not sends_to_eventbridge(bucket):
            return
        event = object_created_event(account_id=account_id, region=region, at=at, stored=stored_object(key))
        with self._lock:
            self._send(event, OBJECT_CREATED, task.ami_id, at)
            if self.faults.happens(self.faults.forge):
                self.forge(account_id, region, task.bucket, at)

    def forge(
        self, account_id: str, region: str, bucket: str, at: datetime, ami_id: str | None = None
    ) -> str:
        """An `<ami>.bin` object no store task made, uploaded into `bucket` (if it exists), and S3's event
        for it on the bus; `ami_id` defaults to an id EC2 does not know. Returns the AMI id."""
        ami_id = ami_id or self.faults.unknown_ami_id()
        s3 = s3_backends[account_id][get_partition(region)]
        stored = StoredObject(bucket, f"{ami_id}.bin", 0, "d41d8cd98f00b204e9800998ecf8427e", None)
        with contextlib.suppress(MissingBucket):  # a user's upload; the event below is S3's for it
            stored = stored_object(s3.put_object(bucket, stored.key, b"", disable_notification=True))
        event = object_created_event(
            account_id=account_id, region=region, at=at, stored=stored, reason=FORGED_REASON
        )
        with self._lock:
            self._deliver(event, OBJECT_CREATED, ami_id, at, at, "forged")
        return ami_id

    def release(self, now: datetime) -> None:
        """Delivers the delayed hints and repeated copies that are due by `now` (the clock's moves call
        this, through the backend's settling)."""
        with self._lock:
            while self._pending and self._pending[0][0] <= now:
                due, _, event, planned = heapq.heappop(self._pending)
                self._deliver(event, planned.kind, planned.ami_id, planned.event_time, due, planned.fault)

    def listed(self, task: StoreTask, now: datetime) -> bool:
        """False while an early start hint keeps `task` out of DescribeStoreImageTasks."""
        until = self._unlisted.get(task.seq)
        return until is None or now >= until

    def hiding(self, now: datetime) -> bool:
        """Whether any task is kept out of the listing at `now` (the listing then checks each task)."""
        with self._lock:
            for seq, until in list(self._unlisted.items()):
                if now >= until:
                    del self._unlisted[seq]
            return bool(self._unlisted)

    def delivered(self, kind: str | None = None) -> list[HintDelivery]:
        """The hints that reached the bus so far, oldest first (all kinds, or one)."""
        with self._lock:
            return [d for d in self.log if d.fault != "dropped" and kind in (None, d.kind)]

    # ----- internals ---------------------------------------------------------------------------

    def _send(self, event: dict[str, Any], kind: str, ami_id: str, at: datetime) -> None:
        faults = self.faults
        touched = kind in faults.kinds
        if touched and faults.happens(faults.drop):
            self.log.append(HintDelivery(kind, ami_id, str(event["id"]), at, at, "dropped"))
            return
        if touched and faults.happens(faults.delay):
            self._later(event, kind, ami_id, at, at + timedelta(seconds=faults.delay_seconds), "delayed")
        else:
            self._deliver(event, kind, ami_id, at, at, None)
        if touched and faults.happens(faults.repeat):
            again = at + timedelta(seconds=faults.repeat_after_seconds)
            self._later(event, kind, ami_id, at, again, "repeated")

    def _later(
        self, event: dict[str, Any], kind: str, ami_id: str, at: datetime, due: datetime, fault: str
    ) -> None:
        planned = HintDelivery(kind, ami_id, str(event["id"]), at, due, fault)
        heapq.heappush(self._pending, (due, next(self._order), event, planned))

    def _deliver(
        self,
        event: dict[str, Any],
        kind: str,
        ami_id: str,
        event_time: datetime,
        at: datetime,
        fault: str | None,
    ) -> None:
        matched = put_on_default_bus(event, at)
        self.log.append(HintDelivery(kind, ami_id, str(event["id"]), event_time, at, fault, matched))


def sends_to_eventbridge(bucket: Any) -> bool:
    """Whether the bucket's notification configuration has EventBridge delivery on."""
    configuration = getattr(bucket, "notification_configuration", None)
    return configuration is not None and configuration.event_bridge is not None


def _bucket(account_id: str, region: str, name: str) -> Any:
    try:
        return s3_backends[account_id][get_partition(region)].get_bucket(name)
    except MissingBucket:
        return None


def stored_object(key: Any) -> StoredObject:
    """The object as moto stored it: its size, its ETag without quotes, its version where kept."""
    version = key.version_id if getattr(key, "version_id", None) not in (None, "null") else None
    return StoredObject(str(key.bucket_name), str(key.name), int(key.size), str(key.etag).strip('"'), version)

"""State and rules of the emulated EC2 AMI store tasks, one backend per account and region.

The backends live in a moto `BackendDict`, so moto's own reset (the exit of `mock_aws()`, or a POST to
`/moto-api/reset` in server mode) clears them together with every other moto backend; `reset()` clears
them alone.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
import threading
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

from moto.core.base_backend import BackendDict, BaseBackend, backend_lock
from moto.ec2.models import ec2_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL, MAX_RESULTS_PER_PAGE, STORE_QUOTA_GB
from local.moto_backends import forget_all

from .clock import Clock, as_utc
from .faults import FaultInjector
from .hint_events import HintEvents
from .objects import StoreObjects, stored_image
from .throttling import THROTTLED_CODE, THROTTLED_MESSAGE, THROTTLED_STATUS, RequestThrottle

IN_PROGRESS: Final = "InProgress"
COMPLETED: Final = "Completed"
FAILED: Final = "Failed"
TASK_STATES: Final = (IN_PROGRESS, COMPLETED, FAILED)

CREATE_STORE: Final = "CreateStoreImageTask"
DESCRIBE_STORE: Final = "DescribeStoreImageTasks"
CREATE_RESTORE: Final = "CreateRestoreImageTask"

LISTING_WINDOW: Final = timedelta(days=31)
"""Only tasks that started within this window (by the emulator clock) are listed."""
DEFAULT_PAGE_SIZE: Final = 1000
"""Page size of DescribeStoreImageTasks when MaxResults is not given (EC2 documents none)."""
MAX_RESULTS_MIN: Final = 1
MAX_RESULTS_MAX: Final = MAX_RESULTS_PER_PAGE
MAX_IMAGE_IDS: Final = MAX_IMAGE_IDS_PER_CALL
DEFAULT_DURATION_SECONDS: Final = 300.0
DEFAULT_FAILURE_REASON: Final = "The store task failed."
FILTER_NAMES: Final = ("task-state", "bucket")
DEFAULT_IMAGE_SIZE_GB: Final = 8
"""Snapshot data of an AMI without `set_image_size` (moto registers 8 GiB root volumes)."""
STORE_QUOTA_CODE: Final = "ResourceLimitExceeded"
"""EC2 documents no code for the store quota; this is its common code for an exceeded resource limit
(EC2 API reference, "Error codes": "You have exceeded an Amazon EC2 resource limit")."""


class StoreTaskError(Exception):
    """An EC2 error answer: rendered as EC2's error XML with the given HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _dry_run() -> StoreTaskError:
    return StoreTaskError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def _missing(parameter: str) -> StoreTaskError:
    return StoreTaskError("MissingParameter", f"The request must contain the parameter {parameter}")


# How EC2 answers a NextToken it no longer accepts (EC2 API reference, "Error codes").
TOKEN_EXPIRED_CODE = "InvalidPaginationToken"


def _invalid(message: str) -> StoreTaskError:
    return StoreTaskError("InvalidParameterValue", message)


def _not_found(ami_ids: Sequence[str]) -> StoreTaskError:
    """EC2's refusal of AMI ids it does not know, as its other actions word it."""
    if len(ami_ids) == 1:
        return StoreTaskError("InvalidAMIID.NotFound", f"The image id '[{ami_ids[0]}]' does not exist")
    return StoreTaskError("InvalidAMIID.NotFound", f"The image ids '[{', '.join(ami_ids)}]' do not exist")


class UnknownImageIds(Enum):
    """How DescribeStoreImageTasks answers `ImageIds` naming an AMI the emulator does not know (EC2
    documents no answer; its DescribeImages leaves a deregistered AMI out, then refuses its id)."""

    REFUSE_NAMING_THEM = "refuse-naming-them"
    """The whole request refused, `InvalidAMIID.NotFound` naming the unknown ids (EC2's other actions)."""
    REFUSE = "refuse"
    """The whole request refused, `InvalidAMIID.NotFound` naming no id."""
    OMIT = "omit"
    """The unknown ids left out of the answer."""


@dataclass(eq=False, slots=True)
class StoreTask:
    """One store task. Treat it as read-only: change it through the backend's helpers."""

    ami_id: str
    bucket: str
    object_key: str
    start_time: datetime
    seq: int
    state: str = IN_PROGRESS
    progress: int = 0
    failure_reason: str | None = None
    duration_seconds: float | None = None
    """Timed task: progress follows the clock and the outcome lands after this many seconds.
    None: the task stays as it is until a helper changes it."""
    planned_failure: str | None = None
    end_time: datetime | None = None
    object_tags: tuple[tuple[str, str], ...] = ()
    image_name: str | None = None
    object_written: bool = False
    size_gb: float = DEFAULT_IMAGE_SIZE_GB
    stalled_at: datetime | None = None
    """Set while the task is stalled (`backend.stall`): its progress stands still and it does not end."""
    stalled_seconds: float = 0.0
    """How long the task stood still in the stalls it was resumed from: its end comes as much later."""

    @property
    def due(self) -> datetime | None:
        if self.duration_seconds is None or self.stalled_at is not None:
            return None
        return self.start_time + timedelta(seconds=self.duration_seconds + self.stalled_seconds)

    def progress_at(self, now: datetime) -> int:
        if self.state != IN_PROGRESS or self.duration_seconds is None:
            return self.progress
        if self.duration_seconds <= 0:
            return 99
        moving_until = self.stalled_at or now
        elapsed = (moving_until - self.start_time).total_seconds() - self.stalled_seconds
        return max(0, min(99, int(100 * elapsed / self.duration_seconds)))


def _sort_key(task: StoreTask) -> tuple[datetime, int]:
    return (task.start_time, task.seq)


@dataclass(frozen=True, slots=True)
class StoreTaskResult:
    """One item of a DescribeStoreImageTasks answer, as seen at the time of the call."""

    ami_id: str
    task_start_time: datetime
    bucket: str
    s3_object_key: str
    progress_percentage: int
    store_task_state: str
    store_task_failure_reason: str | None


@dataclass(frozen=True, slots=True)
class DescribePage:
    results: list[StoreTaskResult]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class DescribeCall:
    """What an `on_describe` hook is told about the DescribeStoreImageTasks call about to be answered."""

    number: int
    """1 for the first DescribeStoreImageTasks call on this backend, then 2, 3, ..."""
    image_ids: tuple[str, ...]
    next_token: str | None
    max_results: int | None


@dataclass(frozen=True, slots=True)
class TaskPlan:
    duration_seconds: float
    fail_reason: str | None


DescribeHook = Callable[["StoreTaskBackend", DescribeCall], None]


def encode_token(offset: int, issued_at: datetime) -> str:
    """NextToken: an opaque offset into the filtered, newest-first listing, and when it was issued."""
    raw = json.dumps(
        {"v": 1, "offset": offset, "issued": issued_at.timestamp()}, separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, now: datetime, lifetime: timedelta | None) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        data = None
    offset = data.get("offset") if isinstance(data, dict) and data.get("v") == 1 else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise _invalid(f"The parameter NextToken is not valid: {token!r}")
    issued = data.get("issued") if isinstance(data, dict) else None
    if (
        lifetime is not None
        and isinstance(issued, int | float)
        and now.timestamp() - issued > lifetime.total_seconds()
    ):
        raise StoreTaskError(TOKEN_EXPIRED_CODE, "The specified pagination token is not valid or is expired.")
    return offset


class StoreTaskBackend(BaseBackend):
    """Store tasks of one account and region. Reach it with `store_tasks_backend(account_id, region)`."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.faults = FaultInjector()
        self.throttle = RequestThrottle()
        """EC2's request token buckets of this account and Region (on by default; `.enabled = False`)."""
        self.on_describe: DescribeHook | None = None
        self.calls: Counter[str] = Counter()
        """Calls per operation name that reached the emulator (faulted calls included)."""
        self.default_duration_seconds: float = DEFAULT_DURATION_SECONDS
        self.default_page_size: int = DEFAULT_PAGE_SIZE
        self.token_lifetime: timedelta | None = None
        """How long a NextToken is accepted (None: for ever). EC2 does not document it."""
        self.store_quota_gb: float = STORE_QUOTA_GB
        self._image_sizes_gb: dict[str, float] = {}
        self.reject_existing_object = False
        """When True, a store into a bucket that already holds `<amiId>.bin` is refused (InvalidRequest),
        as one public project reports EC2 does. Off by default: not verified."""
        self.unknown_image_ids = UnknownImageIds.REFUSE_NAMING_THEM
        """The answer to `ImageIds` naming an AMI that is neither in moto EC2 nor has a store task."""
        self.hint_events = HintEvents()
        """The events put on the default bus at a store's start and end (hint_events.py; off by default)."""
        self.objects = StoreObjects(account_id, region_name, lambda: self.hint_events)
        """What each AMI's completed stores leave in the bucket (objects.py: `objects.plan(ami_id, ...)`)."""
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._plans: dict[str, deque[TaskPlan]] = {}
        self._current: dict[str, StoreTask] = {}
        self._asc: list[StoreTask] = []
        self._asc_starts: list[datetime] = []
        self._dirty = False
        self._pending: list[tuple[datetime, int, StoreTask]] = []

    @property
    def clock(self) -> Clock:
        """The emulator clock, shared by all accounts and regions."""
        return CLOCK

    # ----- helpers for tests, demos and benchmarks -------------------------------------------------

    def plan(
        self, ami_id: str, *, duration_seconds: float | None = None, fail_reason: str | None = None
    ) -> None:
        """Plan the next CreateStoreImageTask of `ami_id`: how long it runs and whether it fails.

        Plans queue up per AMI, one consumed per store; without a plan a store runs for
        `default_duration_seconds` (300) and completes.
        """
        duration = self.default_duration_seconds if duration_seconds is None else float(duration_seconds)
        if duration < 0:
            raise ValueError("duration_seconds must not be negative")
        with self._lock:
            self._plans.setdefault(ami_id, deque()).append(TaskPlan(duration, fail_reason))

    def set_image_size(self, ami_id: str, size_gb: float) -> None:
        """The snapshot data a store of `ami_id` counts against `store_quota_gb`."""
        if size_gb <= 0:
            raise ValueError("size_gb must be positive")
        with self._lock:
            self._image_sizes_gb[ami_id] = size_gb

    def add_task(
        self,
        ami_id: str,
        bucket: str,
        start_time: datetime | None = None,
        state: str = IN_PROGRESS,
        progress: int | None = None,
        *,
        failure_reason: str | None = None,
        duration_seconds: float | None = None,
        object_key: str | None = None,
    ) -> StoreTask:
        """Seed a task directly: no AMI, bucket or in-progress checks; a seeded Completed task writes
        no S3 object (`complete()` does).

        Without `duration_seconds` the task keeps the given state and progress until a helper changes
        it; with it (InProgress only), progress follows the clock and the task completes when it elapses.
        """
        if state not in TASK_STATES:
            raise ValueError(f"state must be one of {TASK_STATES}, not {state!r}")
        if failure_reason is not None and state != FAILED:
            raise ValueError("failure_reason is only for a Failed task")
        if duration_seconds is not None and state != IN_PROGRESS:
            raise ValueError("duration_seconds is only for an InProgress task")
        if progress is None:
            progress = 100 if state == COMPLETED else 0
        if not 0 <= progress <= 100:
            raise ValueError("progress must be within 0..100")
        with self._lock:
            task = StoreTask(
                ami_id=ami_id,
                bucket=bucket,
                object_key=object_key or f"{ami_id}.bin",
                start_time=as_utc(start_time) if start_time is not None else self.clock.now(),
                seq=next(self._seq),
                state=state,
                progress=progress,
                failure_reason=(failure_reason or DEFAULT_FAILURE_REASON) if state == FAILED else None,
                duration_seconds=duration_seconds,
            )
            self._insert(task)
            return task

    def set_state(
        self,
        ami_id: str,
        state: str,
        *,
        progress: int | None = None,
        failure_reason: str | None = None,
    ) -> StoreTask:
        """Force the listed task of `ami_id` into `state`.

        Completed writes `<amiId>.bin` into the bucket (if the bucket exists in moto S3); Failed keeps the
        progress reached unless one is given; InProgress freezes the task at `progress` (default: the
        progress reached).
        """
        if state not in TASK_STATES:
            raise ValueError(f"state must be one of {TASK_STATES}, not {state!r}")
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            task = self._current.get(ami_id)
            if task is None:
                raise KeyError(f"no store task for {ami_id}")
            reached = task.progress_at(now)
            task.duration_seconds = None
            task.planned_failure = None
            if state == COMPLETED:
                self._complete(task, now)
            elif state == FAILED:
                task.state = FAILED
                task.progress = reached if progress is None else progress
                task.failure_reason = failure_reason or DEFAULT_FAILURE_REASON
                task.end_time = now
            else:
                task.state = IN_PROGRESS
                task.progress = reached if progress is None else progress
                task.failure_reason = None
                task.end_time = None
            return task

    def complete(self, ami_id: str) -> StoreTask:
        return self.set_state(ami_id, COMPLETED)

    def fail(self, ami_id: str, reason: str = DEFAULT_FAILURE_REASON) -> StoreTask:
        return self.set_state(ami_id, FAILED, failure_reason=reason)

    def deregister(self, ami_id: str) -> None:
        """The AMI deregistered: moto EC2 forgets it and its store task leaves the listing, so the id is
        unknown from now on (whether EC2 still lists a deregistered AMI's store task is not documented)."""
        with self._lock:
            self._amis().pop(ami_id, None)
            task = self._current.pop(ami_id, None)
            if task is not None:
                task.duration_seconds = None  # its planned end, still queued, no longer lands
                self._dirty = True

    def stall(self, ami_id: str) -> StoreTask:
        """The AMI's store in progress stands still at the progress it reached: it neither moves nor ends
        (nor fails as planned) until `resume`."""
        with self._lock:
            task = self._in_progress(ami_id)
            if task.stalled_at is None:
                task.stalled_at = self.clock.now()
            return task

    def resume(self, ami_id: str) -> StoreTask:
        """A stalled store moves on from where it stood; it ends as much later as it stood still."""
        with self._lock:
            task = self._in_progress(ami_id)
            if task.stalled_at is not None:
                task.stalled_seconds += (self.clock.now() - task.stalled_at).total_seconds()
                task.stalled_at = None
                self._queue_end(task)
            return task

    def write_object(self, ami_id: str) -> StoreTask:
        """Writes the object of the AMI's completed store now, as its object plan says it looks (for an
        object left out at the completion, or one that should appear early)."""
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            task = self._current.get(ami_id)
            if task is None or task.state != COMPLETED:
                raise ValueError(f"no completed store of {ami_id} to write the object of")
            self.objects.write(task, now)
            return task

    def task(self, ami_id: str) -> StoreTask | None:
        """The listed (newest) task of `ami_id`, settled to the current clock."""
        with self._lock:
            self._settle(self.clock.now())
            return self._current.get(ami_id)

    def tasks(self) -> list[StoreTask]:
        """All listed tasks, newest first, including those outside the 31-day window."""
        with self._lock:
            self._settle(self.clock.now())
            self._ensure_sorted()
            return self._asc[::-1]

    def settle(self) -> None:
        """Finish every timed task whose duration has elapsed by the clock (writing its S3 object)."""
        with self._lock:
            self._settle(self.clock.now())

    # ----- the three EC2 operations ---------------------------------------------------------------

    def create_store_image_task(
        self,
        ami_id: str | None,
        bucket: str | None,
        *,
        object_tags: Sequence[tuple[str, str]] = (),
        dry_run: bool = False,
        access_key_id: str | None = None,
    ) -> str:
        """CreateStoreImageTask: returns the object key `<amiId>.bin`.

        Errors: InvalidAMIID.Malformed / InvalidAMIID.NotFound for an unknown AMI; InvalidParameterValue
        for a bucket missing from moto S3 or in another region; InvalidRequest while a store of the AMI
        is in progress.
        """
        self._enter(CREATE_STORE)
        if not ami_id:
            raise _missing("ImageId")
        if not bucket:
            raise _missing("Bucket")
        if dry_run:
            raise _dry_run()
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            if not ami_id.startswith("ami-"):
                raise StoreTaskError("InvalidAMIID.Malformed", f'Invalid id: "{ami_id}"')
            image = self._amis().get(ami_id)
            if image is None:
                raise _not_found([ami_id])
            self._check_bucket(bucket)
            current = self._current.get(ami_id)
            if current is not None and current.state == IN_PROGRESS:
                raise StoreTaskError("InvalidRequest", f"A store task for {ami_id} is already in progress.")
            size_gb = self._image_sizes_gb.get(ami_id, DEFAULT_IMAGE_SIZE_GB)
            self._check_store_quota(size_gb)
            object_key = f"{ami_id}.bin"
            if self.reject_existing_object and self._s3().get_object(bucket, object_key) is not None:
                raise StoreTaskError(
                    "InvalidRequest", f"The object {object_key} already exists in the bucket {bucket}."
                )
            plans = self._plans.get(ami_id)
            plan = plans.popleft() if plans else TaskPlan(self.default_duration_seconds, fail_reason=None)
            task = StoreTask(
                ami_id=ami_id,
                bucket=bucket,
                object_key=object_key,
                start_time=now,
                seq=next(self._seq),
                duration_seconds=plan.duration_seconds,
                planned_failure=plan.fail_reason,
                object_tags=tuple(object_tags),
                image_name=image.name,
                size_gb=size_gb,
            )
            self._insert(task)
            self.hint_events.store_started(task, self.account_id, self.region_name, access_key_id)
            return object_key

    def describe_store_image_tasks(
        self,
        image_ids: Sequence[str] | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
        dry_run: bool = False,
    ) -> DescribePage:
        """DescribeStoreImageTasks: newest first, tasks started within 31 days, offset-based NextToken."""
        number = self._enter(DESCRIBE_STORE, fault=False)
        hook = self.on_describe
        if hook is not None:
            hook(self, DescribeCall(number, tuple(image_ids or ()), next_token, max_results))
        self._raise_fault(DESCRIBE_STORE)
        ids = list(dict.fromkeys(image_ids or ()))
        if len(ids) > MAX_IMAGE_IDS:
            raise _invalid(f"The maximum number of ImageIds is {MAX_IMAGE_IDS}; the request has {len(ids)}.")
        if ids and max_results is not None:
            raise StoreTaskError("InvalidParameterCombination", "ImageIds cannot be used with MaxResults")
        if max_results is not None and not MAX_RESULTS_MIN <= max_results <= MAX_RESULTS_MAX:
            raise _invalid(
                f"Value ( {max_results} ) for parameter MaxResults is invalid. "
                f"Expecting a value between {MAX_RESULTS_MIN} and {MAX_RESULTS_MAX}."
            )
        states: set[str] | None = None
        buckets: set[str] | None = None
        offset = 0
        if not ids:
            states, buckets = _parse_filters(filters or ())
            if next_token:
                offset = decode_token(next_token, self.clock.now(), self.token_lifetime)
        if dry_run:
            raise _dry_run()
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            if ids:
                self._refuse_unknown(ids)
                found = [self._current[i] for i in ids if i in self._current]
                found = [t for t in found if t.start_time >= now - LISTING_WINDOW]
                found = [t for t in found if self.hint_events.listed(t, now)]
                found.sort(key=_sort_key, reverse=True)
                return DescribePage([_result(t, now) for t in found], None)
            size = max_results if max_results is not None else self.default_page_size
            page, more = self._page(now, states, buckets, offset, size)
            token = encode_token(offset + size, now) if more else None
            return DescribePage([_result(t, now) for t in page], token)

    def create_restore_image_task(
        self,
        bucket: str | None,
        object_key: str | None,
        name: str | None = None,
        *,
        image_tags: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> str:
        """CreateRestoreImageTask: registers a new AMI in moto EC2 and returns its id.

        The AMI is available at once (real EC2 shows it pending for a while). Without `name` it takes the
        stored AMI's name; errors: InvalidParameterValue for a missing bucket or object,
        InvalidAMIName.Duplicate when the account already owns an AMI of that name in the region.
        """
        self._enter(CREATE_RESTORE)
        if not bucket:
            raise _missing("Bucket")
        if not object_key:
            raise _missing("ObjectKey")
        if dry_run:
            raise _dry_run()
        with self._lock:
            self._settle(self.clock.now())
            self._check_bucket(bucket)
            key = self._s3().get_object(bucket, object_key)
            if key is None:
                raise _invalid(f"The object {object_key} does not exist in the bucket {bucket}.")
            original = stored_image(key.value)
            name = name or original.get("name") or f"restored-{object_key.removesuffix('.bin')}"
            ec2 = ec2_backends[self.account_id][self.region_name]
            if any(a.name == name and a.owner_id == self.account_id for a in ec2.amis.values()):
                raise StoreTaskError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use")
            image = ec2.register_image(name=name, description=f"Restored from s3://{bucket}/{object_key}")
            if image_tags:
                ec2.create_tags([image.id], dict(image_tags))
            return str(image.id)

    # ----- internals -------------------------------------------------------------------------------

    def _enter(self, operation: str, *, fault: bool = True) -> int:
        with self._lock:
            self.calls[operation] += 1
            number = self.calls[operation]
        if self.throttle.latency_seconds:
            self.clock.advance(self.throttle.latency_seconds)
        if not self.throttle.admit(operation, self.clock.now()):
            raise StoreTaskError(THROTTLED_CODE, THROTTLED_MESSAGE, THROTTLED_STATUS)
        if fault:
            self._raise_fault(operation)
        return number

    def _raise_fault(self, operation: str) -> None:
        injected = self.faults.take(operation)
        if injected is not None:
            raise StoreTaskError(injected.code, injected.message, injected.status)

    def _s3(self) -> Any:
        return s3_backends[self.account_id][get_partition(self.region_name)]

    def _amis(self) -> dict[str, Any]:
        """moto EC2's AMIs of this account and region."""
        amis: dict[str, Any] = ec2_backends[self.account_id][self.region_name].amis
        return amis

    def _in_progress(self, ami_id: str) -> StoreTask:
        self._settle(self.clock.now())
        task = self._current.get(ami_id)
        if task is None or task.state != IN_PROGRESS:
            raise ValueError(f"no store of {ami_id} in progress")
        return task

    def _refuse_unknown(self, ids: Sequence[str]) -> None:
        """Refuses `ImageIds` naming an AMI known neither to moto EC2 nor by a store task, unless the
        answer chosen leaves such ids out."""
        if self.unknown_image_ids is UnknownImageIds.OMIT:
            return
        amis = self._amis()
        unknown = [i for i in ids if i not in self._current and i not in amis]
        if not unknown:
            return
        if self.unknown_image_ids is UnknownImageIds.REFUSE:
            raise StoreTaskError("InvalidAMIID.NotFound", "The image ids of the request do not all exist")
        raise _not_found(unknown)

    def _check_bucket(self, bucket: str) -> None:
        try:
            found = self._s3().get_bucket(bucket)
        except MissingBucket:
            raise _invalid(f"The bucket {bucket} does not exist or you do not have access to it.") from None
        region = getattr(found, "region_name", self.region_name)
        if region != self.region_name:
            raise _invalid(f"The bucket {bucket} is in {region}, not in {self.region_name}.")

    def _check_store_quota(self, size_gb: float) -> None:
        in_progress = sum(task.size_gb for task in self._current.values() if task.state == IN_PROGRESS)
        if in_progress + size_gb > self.store_quota_gb:
            raise StoreTaskError(
                STORE_QUOTA_CODE,
                f"Storing {size_gb:g} GB would exceed the quota of {self.store_quota_gb:g} GB of snapshot "
                f"data in progress for store tasks ({in_progress:g} GB in progress).",
            )

    def _insert(self, task: StoreTask) -> None:
        old = self._current.get(task.ami_id)
        if old is None or _sort_key(old) < _sort_key(task):
            self._current[task.ami_id] = task
            if old is not None:
                self._dirty = True  # the old task leaves the listing
            elif not self._dirty and (not self._asc or _sort_key(self._asc[-1]) <= _sort_key(task)):
                self._asc.append(task)
                self._asc_starts.append(task.start_time)
            else:
                self._dirty = True
        self._queue_end(task)

    def _queue_end(self, task: StoreTask) -> None:
        due = task.due
        if task.state == IN_PROGRESS and due is not None:
            heapq.heappush(self._pending, (due, task.seq, task))

    def _ensure_sorted(self) -> None:
        if self._dirty:
            self._asc = sorted(self._current.values(), key=_sort_key)
            self._asc_starts = [t.start_time for t in self._asc]
            self._dirty = False

    def _settle(self, now: datetime) -> None:
        while self._pending and self._pending[0][0] <= now:
            due, _, task = heapq.heappop(self._pending)
            if task.state != IN_PROGRESS or task.due != due:
                continue  # forced into another state since it was queued
            if task.planned_failure is not None:
                task.progress = task.progress_at(due)
                task.state = FAILED
                task.failure_reason = task.planned_failure
                task.end_time = due
                task.duration_seconds = None
            else:
                self._complete(task, due)
        self.objects.release(now)
        self.hint_events.release(now)

    def _complete(self, task: StoreTask, at: datetime) -> None:
        task.state = COMPLETED
        task.progress = 100
        task.failure_reason = None
        task.end_time = at
        task.duration_seconds = None
        self.objects.completed(task, at)

    def _page(
        self,
        now: datetime,
        states: set[str] | None,
        buckets: set[str] | None,
        offset: int,
        size: int,
    ) -> tuple[list[StoreTask], bool]:
        """One page of the newest-first listing: O(size) unfiltered, O(offset + size) filtered."""
        self._ensure_sorted()
        asc = self._asc
        low = bisect_left(self._asc_starts, now - LISTING_WINDOW)
        top = len(asc) - 1 - offset  # asc index of the first item of the page
        hiding = self.hint_events.hiding(now)  # a task kept out of the listing: check each one
        if states is None and buckets is None and not hiding:
            stop = max(low - 1, top - size)
            return [asc[i] for i in range(top, stop, -1)], stop >= low
        page: list[StoreTask] = []
        seen = 0
        for i in range(len(asc) - 1, low - 1, -1):
            task = asc[i]
            if (
                (states is None or task.state in states)
                and (buckets is None or task.bucket in buckets)
                and (not hiding or self.hint_events.listed(task, now))
            ):
                if seen >= offset:
                    if len(page) == size:
                        return page, True
                    page.append(task)
                seen += 1
        return page, False


def _result(task: StoreTask, now: datetime) -> StoreTaskResult:
    return StoreTaskResult(
        ami_id=task.ami_id,
        task_start_time=task.start_time,
        bucket=task.bucket,
        s3_object_key=task.object_key,
        progress_percentage=task.progress_at(now),
        store_task_state=task.state,
        store_task_failure_reason=task.failure_reason if task.state == FAILED else None,
    )


def _parse_filters(filters: Sequence[Mapping[str, Any]]) -> tuple[set[str] | None, set[str] | None]:
    """`task-state` and `bucket` filters: values OR-ed within a filter, filters AND-ed."""
    values: dict[str, set[str]] = {}
    for item in filters:
        name = item.get("Name")
        if name not in FILTER_NAMES:
            raise _invalid(f"The filter '{name}' is invalid. Valid filters: {', '.join(FILTER_NAMES)}.")
        given = item.get("Values") or []
        if isinstance(given, str):
            given = [given]
        if not given:
            raise _invalid(f"The filter '{name}' must have at least one value.")
        chosen = {str(v) for v in given}
        values[name] = values[name] & chosen if name in values else chosen
    return values.get("task-state"), values.get("bucket")


CLOCK = Clock()
"""The emulator clock, shared by every account and region; restarted at real time after each reset."""

_BACKENDS: BackendDict[StoreTaskBackend] = BackendDict(StoreTaskBackend, "ec2")


def store_tasks_backend(account_id: str, region: str) -> StoreTaskBackend:
    """The store-task backend of an account and region (created on first use)."""
    return _BACKENDS[account_id][region]


def reset() -> None:
    """Forget every store task, plan, fault and hook, and restart the clock at the real current time."""
    forget_all(_BACKENDS)
    CLOCK.restart()


def hook_moto_reset() -> None:
    """Make moto's own reset (start and exit of `mock_aws()`, POST /moto-api/reset) restart the clock.

    moto already resets the backends themselves, which live in a moto BackendDict. Idempotent.
    """
    current = BackendDict.__dict__["reset"].__func__
    if getattr(current, "_ec2_store_tasks", False):
        return

    def reset_with_clock(cls: type[BackendDict[Any]]) -> None:
        current(cls)
        CLOCK.restart()

    reset_with_clock._ec2_store_tasks = True  # type: ignore[attr-defined]
    BackendDict.reset = classmethod(reset_with_clock)  # type: ignore[assignment,method-assign]


def settle_everywhere() -> None:
    """Settles every backend to the clock: due stores end (their objects and hints sent), delayed hints
    go out. Each clock move does it; a caller of real-time mode does it before it looks."""
    with backend_lock:
        backends = [backend for _, _, backend in _BACKENDS.iter_backends()]
    for backend in backends:
        if isinstance(backend, StoreTaskBackend):
            backend.settle()


CLOCK.add_listener(settle_everywhere)

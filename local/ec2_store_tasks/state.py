"""One account and region's store tasks as state: planned, seeded, forced into a state, stalled and
resumed, and settled to the emulator clock. The helpers of tests, demos and benchmarks live here; the
EC2 actions that read and start tasks are the backend's (backend.py)."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime

from .clock import CLOCK, Clock, as_utc
from .hint_events import HintEvents
from .lifecycle import (
    COMPLETED,
    DEFAULT_DURATION_SECONDS,
    DEFAULT_FAILURE_REASON,
    FAILED,
    IN_PROGRESS,
    PlannedEnds,
    StoreTask,
    TaskPlan,
    check_state,
    seeded_task,
)
from .listing import TaskListing
from .moto_world import amis
from .objects import StoreObjects


class StoreTaskState:
    """The tasks of one account and region, under one lock. The backend (a moto `BaseBackend`) builds on
    it; `account_id` and `region_name` are the backend's."""

    account_id: str
    region_name: str

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)  # type: ignore[call-arg]  # the backend's BaseBackend
        self.default_duration_seconds: float = DEFAULT_DURATION_SECONDS
        self.hint_events = HintEvents()
        """The events put on the default bus at a store's start and end (hint_events.py; off by default)."""
        self.objects = StoreObjects(account_id, region_name, lambda: self.hint_events)
        """What each AMI's completed stores leave in the bucket (objects.py: `objects.plan(ami_id, ...)`)."""
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._plans: dict[str, deque[TaskPlan]] = {}
        self._image_sizes_gb: dict[str, float] = {}
        self._listing = TaskListing()
        self._ends = PlannedEnds()

    @property
    def clock(self) -> Clock:
        """The emulator clock, shared by all accounts and regions."""
        return CLOCK

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
        with self._lock:
            started = as_utc(start_time) if start_time is not None else self.clock.now()
            task = seeded_task(
                ami_id,
                bucket,
                started,
                state,
                progress,
                seq=next(self._seq),
                failure_reason=failure_reason,
                duration_seconds=duration_seconds,
                object_key=object_key,
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
        check_state(state)
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            task = self._listing.get(ami_id)
            if task is None:
                raise KeyError(f"no store task for {ami_id}")
            task.force(state, now, progress=progress, failure_reason=failure_reason)
            if state == COMPLETED:
                self.objects.completed(task, now)
            return task

    def complete(self, ami_id: str) -> StoreTask:
        return self.set_state(ami_id, COMPLETED)

    def fail(self, ami_id: str, reason: str = DEFAULT_FAILURE_REASON) -> StoreTask:
        return self.set_state(ami_id, FAILED, failure_reason=reason)

    def deregister(self, ami_id: str) -> None:
        """The AMI deregistered: moto EC2 forgets it and its store task leaves the listing, so the id is
        unknown from now on (whether EC2 still lists a deregistered AMI's store task is not documented)."""
        with self._lock:
            amis(self.account_id, self.region_name).pop(ami_id, None)
            task = self._listing.remove(ami_id)
            if task is not None:
                task.duration_seconds = None  # its planned end, still queued, no longer lands

    def stall(self, ami_id: str) -> StoreTask:
        """The AMI's store in progress stands still at the progress it reached: it neither moves nor ends
        (nor fails as planned) until `resume`."""
        with self._lock:
            task = self._in_progress(ami_id)
            task.stall(self.clock.now())
            return task

    def resume(self, ami_id: str) -> StoreTask:
        """A stalled store moves on from where it stood; it ends as much later as it stood still."""
        with self._lock:
            task = self._in_progress(ami_id)
            if task.resume(self.clock.now()):
                self._ends.add(task)
            return task

    def write_object(self, ami_id: str) -> StoreTask:
        """Writes the object of the AMI's completed store now, as its object plan says it looks (for an
        object left out at the completion, or one that should appear early)."""
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            task = self._listing.get(ami_id)
            if task is None or task.state != COMPLETED:
                raise ValueError(f"no completed store of {ami_id} to write the object of")
            self.objects.write(task, now)
            return task

    def task(self, ami_id: str) -> StoreTask | None:
        """The listed (newest) task of `ami_id`, settled to the current clock."""
        with self._lock:
            self._settle(self.clock.now())
            return self._listing.get(ami_id)

    def tasks(self) -> list[StoreTask]:
        """All listed tasks, newest first, including those outside the 31-day window."""
        with self._lock:
            self._settle(self.clock.now())
            return self._listing.newest_first()

    def settle(self) -> None:
        """Finish every timed task whose duration has elapsed by the clock (writing its S3 object)."""
        with self._lock:
            self._settle(self.clock.now())

    # ----- internals -------------------------------------------------------------------------------

    def _in_progress(self, ami_id: str) -> StoreTask:
        self._settle(self.clock.now())
        task = self._listing.get(ami_id)
        if task is None or task.state != IN_PROGRESS:
            raise ValueError(f"no store of {ami_id} in progress")
        return task

    def _listed(self, now: datetime) -> Callable[[StoreTask], bool]:
        return lambda task: self.hint_events.listed(task, now)

    def _insert(self, task: StoreTask) -> None:
        self._listing.insert(task)
        self._ends.add(task)

    def _settle(self, now: datetime) -> None:
        for due, task in self._ends.pop_due(now):
            task.end_as_planned(due)
            if task.state == COMPLETED:
                self.objects.completed(task, due)
        self.objects.release(now)
        self.hint_events.release(now)

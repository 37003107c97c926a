"""A store task's life: its states, its progress by the emulator clock, its moves from state to state, and
the queue of the planned ends that the clock brings."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

IN_PROGRESS: Final = "InProgress"
COMPLETED: Final = "Completed"
FAILED: Final = "Failed"
TASK_STATES: Final = (IN_PROGRESS, COMPLETED, FAILED)

DEFAULT_DURATION_SECONDS: Final = 300.0
DEFAULT_FAILURE_REASON: Final = "The store task failed."
DEFAULT_IMAGE_SIZE_GB: Final = 8
"""Snapshot data of an AMI without `set_image_size` (moto registers 8 GiB root volumes)."""


@dataclass(frozen=True, slots=True)
class TaskPlan:
    """How the next store of an AMI goes: how long it runs, and the reason it fails with (None: it
    completes)."""

    duration_seconds: float
    fail_reason: str | None


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

    def complete(self, at: datetime) -> None:
        self.state = COMPLETED
        self.progress = 100
        self.failure_reason = None
        self.end_time = at
        self.duration_seconds = None

    def fail(self, at: datetime, reason: str, progress: int) -> None:
        self.state = FAILED
        self.progress = progress
        self.failure_reason = reason
        self.end_time = at
        self.duration_seconds = None

    def end_as_planned(self, due: datetime) -> None:
        """The timed task's duration elapsed at `due`: it fails as planned, or completes."""
        if self.planned_failure is not None:
            self.fail(due, self.planned_failure, self.progress_at(due))
        else:
            self.complete(due)

    def force(self, state: str, now: datetime, *, progress: int | None, failure_reason: str | None) -> None:
        """Into `state` now, whatever its plan: Failed keeps the progress reached unless one is given;
        InProgress freezes the task at `progress` (default: the progress reached)."""
        reached = self.progress_at(now) if progress is None else progress
        self.duration_seconds = None
        self.planned_failure = None
        if state == COMPLETED:
            self.complete(now)
        elif state == FAILED:
            self.fail(now, failure_reason or DEFAULT_FAILURE_REASON, reached)
        else:
            self.state = IN_PROGRESS
            self.progress = reached
            self.failure_reason = None
            self.end_time = None

    def stall(self, now: datetime) -> None:
        if self.stalled_at is None:
            self.stalled_at = now

    def resume(self, now: datetime) -> bool:
        """Moves on after a stall; whether it was stalled (its end is then due anew)."""
        if self.stalled_at is None:
            return False
        self.stalled_seconds += (now - self.stalled_at).total_seconds()
        self.stalled_at = None
        return True


def object_key_of(ami_id: str) -> str:
    """The key of the object a store of the AMI writes (EC2 names it `<amiId>.bin`)."""
    return f"{ami_id}.bin"


def sort_key(task: StoreTask) -> tuple[datetime, int]:
    """The listing's order: by start, then by creation."""
    return (task.start_time, task.seq)


def seeded_task(
    ami_id: str,
    bucket: str,
    start_time: datetime,
    state: str,
    progress: int | None,
    *,
    seq: int,
    failure_reason: str | None,
    duration_seconds: float | None,
    object_key: str | None,
) -> StoreTask:
    """A task seeded as a test or a demo describes it (`backend.add_task`), refused when it could not be."""
    _check_seed(state, failure_reason, duration_seconds)
    if progress is None:
        progress = 100 if state == COMPLETED else 0
    if not 0 <= progress <= 100:
        raise ValueError("progress must be within 0..100")
    return StoreTask(
        ami_id=ami_id,
        bucket=bucket,
        object_key=object_key or object_key_of(ami_id),
        start_time=start_time,
        seq=seq,
        state=state,
        progress=progress,
        failure_reason=(failure_reason or DEFAULT_FAILURE_REASON) if state == FAILED else None,
        duration_seconds=duration_seconds,
    )


def check_state(state: str) -> None:
    if state not in TASK_STATES:
        raise ValueError(f"state must be one of {TASK_STATES}, not {state!r}")


def _check_seed(state: str, failure_reason: str | None, duration_seconds: float | None) -> None:
    check_state(state)
    if failure_reason is not None and state != FAILED:
        raise ValueError("failure_reason is only for a Failed task")
    if duration_seconds is not None and state != IN_PROGRESS:
        raise ValueError("duration_seconds is only for an InProgress task")


class PlannedEnds:
    """The ends of the timed tasks in progress, by when they are due."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, StoreTask]] = []

    def add(self, task: StoreTask) -> None:
        due = task.due
        if task.state == IN_PROGRESS and due is not None:
            heapq.heappush(self._heap, (due, task.seq, task))

    def pop_due(self, now: datetime) -> Iterator[tuple[datetime, StoreTask]]:
        """The ends due by `now`, earliest first, each once; an end no longer planned is dropped."""
        while self._heap and self._heap[0][0] <= now:
            due, _, task = heapq.heappop(self._heap)
            if task.state == IN_PROGRESS and task.due == due:
                yield due, task

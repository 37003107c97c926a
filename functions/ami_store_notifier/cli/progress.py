"""What the CLI learns about a store task from the checks it makes: its pace and when it should end.

Pure: fed with the tasks each check returns and the time of the check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ami_store_notifier.domain.model import StoreTask, TaskState

FULL = 100


@dataclass(frozen=True)
class Sample:
    at: datetime
    percent: int


@dataclass(frozen=True)
class FollowedTask:
    """A store task as the checks so far saw it: the newest listing entry and two progress samples, the
    first and the latest, from which its pace is measured."""

    region: str
    task: StoreTask
    first: Sample
    latest: Sample
    # When a check first saw the task ended (EC2 reports no end time); None while it runs, or when it
    # had already ended at the first check.
    seen_ending_at: datetime | None = None
    # The AMI's store was no longer listed at a check (the AMI deregistered, or the task older than the
    # 31 days EC2 lists): how it ended is unknown.
    lost: bool = False

    @classmethod
    def start(cls, region: str, task: StoreTask, at: datetime) -> FollowedTask:
        sample = Sample(at, _percent(task))
        return cls(region, task, sample, sample)

    def observe(self, task: StoreTask, at: datetime) -> FollowedTask:
        """The same task (or the AMI's newer store) as a later check saw it."""
        if task.key != self.task.key:
            return FollowedTask.start(self.region, task, at)
        ending = self.seen_ending_at
        if ending is None and self.is_running and _is_terminal(task):
            ending = at
        return replace(self, task=task, latest=Sample(at, _percent(task)), seen_ending_at=ending)

    def lose(self, at: datetime) -> FollowedTask:
        return replace(self, lost=True, seen_ending_at=self.seen_ending_at or at)

    @property
    def state(self) -> str:
        return "NotListed" if self.lost else self.task.state_name

    @property
    def percent(self) -> int:
        return self.latest.percent

    @property
    def is_running(self) -> bool:
        return not (self.lost or _is_terminal(self.task))

    @property
    def succeeded(self) -> bool:
        return not self.lost and self.task.state is TaskState.COMPLETED

    @property
    def failure(self) -> str | None:
        """Why the store did not complete, once it ended otherwise."""
        if self.lost:
            return "its store task is no longer listed (AMI deregistered?); how it ended is unknown"
        if self.is_running or self.succeeded:
            return None
        return self.task.failure_reason or f"ended {self.task.state_name} without a reason"

    @property
    def label(self) -> str:
        return f"{self.task.ami_id} ({self.region})"

    def elapsed(self, now: datetime) -> timedelta | None:
        """How long the store has run: until now while it runs, until it was seen ended after."""
        end = now if self.is_running else self.seen_ending_at
        return None if end is None else max(end - self.task.task_start_time, timedelta(0))

    def percent_per_second(self) -> float | None:
        """The pace between the first and latest samples; before they differ, since the task started."""
        gained = self.latest.percent - self.first.percent
        span = (self.latest.at - self.first.at).total_seconds()
        if gained > 0 and span > 0:
            return gained / span
        since_start = (self.latest.at - self.task.task_start_time).total_seconds()
        if self.latest.percent > 0 and since_start > 0:
            return self.latest.percent / since_start
        return None

    def remaining(self, now: datetime) -> timedelta | None:
        """The expected time to finish at the pace observed, counted from now."""
        pace = self.percent_per_second()
        if not self.is_running or pace is None:
            return None
        left_at_latest = (FULL - self.latest.percent) / pace
        return timedelta(seconds=max(left_at_latest - (now - self.latest.at).total_seconds(), 0.0))


def _percent(task: StoreTask) -> int:
    if task.state is TaskState.COMPLETED:
        return FULL
    return task.progress_percentage or 0


def _is_terminal(task: StoreTask) -> bool:
    state = task.state
    return state is not None and state.is_terminal

"""What one run learns from the listing beside its claims: counts, oddities, and how far it got."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ami_store_notifier.domain.model import ReadMode, StoreTask

# How far ahead of the poller's clock a task may claim to have started before it counts as misdated.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class ReadingReport:
    mode: ReadMode
    listing_complete: bool
    tasks_seen: int
    unknown_states: tuple[StoreTask, ...]
    future_dated: tuple[StoreTask, ...]
    shortened_reasons: tuple[StoreTask, ...]
    vanished: tuple[str, ...]
    superseded: tuple[str, ...]
    claim_limit_reached: bool


@dataclass
class Findings:
    """What the run has learnt so far, beyond its claims."""

    tasks_seen: int = 0
    newest_start: datetime | None = None
    listing_complete: bool = False
    rechecked: bool = False
    in_progress_swept: bool = False
    claim_limit_reached: bool = False
    seen_in_progress: set[str] = field(default_factory=set)
    # The tasks of the last listing page the run read: the next run may read them again.
    last_page: frozenset[str] = frozenset()
    recheck_newest_by_ami: dict[str, datetime] = field(default_factory=dict)
    unknown_states: dict[str, StoreTask] = field(default_factory=dict)
    future_dated: dict[str, StoreTask] = field(default_factory=dict)
    shortened_reasons: dict[str, StoreTask] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """The listing was read as far as the run meant to, and every transition found was claimed."""
        return self.listing_complete and not self.claim_limit_reached

    def note_start(self, task: StoreTask, now: datetime) -> None:
        if task.task_start_time > now + FUTURE_TOLERANCE:
            # A clock gone wrong somewhere: such a task is handled, but must not become the
            # high-water mark, or every task after it would look older than the window.
            self.future_dated[task.key] = task
        elif self.newest_start is None or task.task_start_time > self.newest_start:
            self.newest_start = task.task_start_time

    def note_recheck(self, task: StoreTask) -> None:
        newest = self.recheck_newest_by_ami.get(task.ami_id)
        if newest is None or task.task_start_time > newest:
            self.recheck_newest_by_ami[task.ami_id] = task.task_start_time

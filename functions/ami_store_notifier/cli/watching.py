"""`watch`: follows store tasks to their end with as few DescribeStoreImageTasks calls as will do.

The first check finds the tasks (the AMIs named, or every task in progress); later checks re-read just
the tasks still running, 20 AMIs a call by `ImageIds`, at the pace of `pacing.next_check_in`.

Between checks it looks in S3 every few seconds for the objects of the stores running (sightings.py).
When one appears, the check due next comes at once, and the one after it is due a pace after the one it
replaced was. So EC2 gets the paced checks it got without S3, some sooner, and failures, which S3 never
shows, are still found by them. A check never comes before the one it follows was due, nor within the
pace's quiet after it: where stores complete more often than the pace checks, a completion waits for
the next paced check, as without S3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from ami_store_notifier.cli.pacing import SHORTEST_INTERVAL, next_check_in
from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.sightings import PROBE_INTERVAL, ObjectProbe, Sightings
from ami_store_notifier.domain.model import StoreTask
from ami_store_notifier.domain.planning import chunks
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL, MAX_RESULTS_PER_PAGE
from ami_store_notifier.ports import CallBudget, CallBudgetSpentError, TaskSource, TransientAwsError
from ami_store_notifier.rechecks import Recheck

MAX_FOLLOWED = 400


class WatchView(Protocol):
    def show(self, tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> None:
        """The tasks after a check, and when the next check is due (None: the watch ends)."""
        ...

    def note(self, text: str, now: datetime) -> None: ...


class NothingToWatchError(Exception):
    """The AMIs named have no store task in the Regions watched, or too many were asked for."""


@dataclass(frozen=True)
class WatchResult:
    tasks: tuple[FollowedTask, ...]

    @property
    def failures(self) -> tuple[FollowedTask, ...]:
        return tuple(task for task in self.tasks if task.failure is not None)


class Watcher:
    def __init__(
        self,
        sources: Mapping[str, TaskSource],
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        view: WatchView,
        probes: Mapping[str, ObjectProbe] | None = None,
    ) -> None:
        """`probes`: where S3 is looked at, by Region (none: EC2's pace alone)."""
        self._sources = sources
        self._clock = clock
        self._sleep = sleep
        self._view = view
        self._probes = probes or {}

    def run(self, ami_ids: Sequence[str]) -> WatchResult:
        followed = self._until_answered(partial(self._find, ami_ids), calls=len(self._sources))
        sightings = Sightings(self._probes, lambda text: self._view.note(text, self._clock()))
        # When the last check was due by the pace: when it was made, unless an object brought it forward.
        paced = self._clock()
        while any(task.is_running for task in followed):
            now, calls = self._clock(), _calls_per_check(followed)
            earliest = max(paced, now + SHORTEST_INTERVAL * calls)
            # Reckoned as of when the last check was due, as EC2's pace alone would have reckoned it.
            paced += next_check_in(_soonest_remaining(followed, paced), calls_per_check=calls)
            self._view.show(followed, now, paced - now)
            self._await_check(followed, sightings, due=paced, earliest=earliest)
            followed = self._until_answered(partial(self._check, followed), calls=calls)
            paced = max(paced, self._clock())
        self._view.show(followed, self._clock(), None)
        return WatchResult(tuple(followed))

    def _await_check(
        self, followed: list[FollowedTask], sightings: Sightings, *, due: datetime, earliest: datetime
    ) -> None:
        """Until the paced check is `due`, or an object appeared and it is `earliest`."""
        if not self._probes:
            self._sleep((due - self._clock()).total_seconds())
            return
        appeared = False
        while (now := self._clock()) < due:
            appeared = appeared or sightings.look(followed, now)
            if appeared and now >= earliest:
                return
            until = earliest if appeared else now + PROBE_INTERVAL
            self._sleep((min(until, due) - now).total_seconds())

    def _until_answered(self, check: Callable[[], list[FollowedTask]], *, calls: int) -> list[FollowedTask]:
        """The check's answer; while EC2 throttles it (or does not answer), waits longer each time."""
        refused = 0
        while True:
            try:
                return check()
            except (TransientAwsError, CallBudgetSpentError) as error:
                refused += 1
                wait = next_check_in(None, calls_per_check=calls, throttled_in_a_row=refused)
                self._view.note(f"EC2 did not answer ({_short(error)}); next check in {wait}", self._clock())
                self._sleep(wait.total_seconds())

    def _find(self, ami_ids: Sequence[str]) -> list[FollowedTask]:
        now = self._clock()
        found = [
            FollowedTask.start(region, task, now)
            for region, source in self._sources.items()
            for task in (_by_ami(source, ami_ids, now) if ami_ids else _in_progress(source))
        ]
        missing = sorted(set(ami_ids) - {task.task.ami_id for task in found})
        if missing:
            raise NothingToWatchError(
                f"no store task of {', '.join(missing)} in {', '.join(self._sources)} "
                "(EC2 lists the tasks of the last 31 days)"
            )
        if len(found) > MAX_FOLLOWED:
            raise NothingToWatchError(
                f"{len(found)} store tasks: watch follows at most {MAX_FOLLOWED}; name some"
            )
        return found

    def _check(self, followed: list[FollowedTask]) -> list[FollowedTask]:
        now = self._clock()
        latest: dict[tuple[str, str], StoreTask] = {}
        for region, source in self._sources.items():
            running = [task.task.ami_id for task in followed if task.region == region and task.is_running]
            latest |= {(region, task.ami_id): task for task in _by_ami(source, running, now)}
        return [_updated(task, latest, now) for task in followed]


def _updated(task: FollowedTask, latest: Mapping[tuple[str, str], StoreTask], now: datetime) -> FollowedTask:
    if not task.is_running:
        return task
    seen = latest.get((task.region, task.task.ami_id))
    return task.lose(now) if seen is None else task.observe(seen, now)


def _by_ami(source: TaskSource, ami_ids: Sequence[str], now: datetime) -> list[StoreTask]:
    if not ami_ids:
        return []
    # EC2 may refuse a request naming an AMI it does not know (deregistered, or of another Region): when
    # its refusal names none, the request is split in halves, 2n - 1 calls for n such AMIs at worst.
    # Allowing that much keeps a check from failing for ever; it is one call per 20 AMIs otherwise.
    budget = CallBudget(sum(2 * len(request) - 1 for request in chunks(ami_ids, MAX_IMAGE_IDS_PER_CALL)))
    recheck = Recheck(ami_ids, seed=now.isoformat())
    pages = recheck.pages(partial(source.by_ami, budget=budget), lambda: True)
    return [task for page in pages for task in page.tasks]


def _in_progress(source: TaskSource) -> list[StoreTask]:
    """Every task in progress, or one more than watch follows (enough to refuse the lot)."""
    tasks: list[StoreTask] = []
    budget = CallBudget(math.ceil(MAX_FOLLOWED / MAX_RESULTS_PER_PAGE) + 1)
    for page in source.pages(MAX_RESULTS_PER_PAGE, budget, in_progress_only=True):
        tasks += page.tasks
        if len(tasks) > MAX_FOLLOWED:
            break
    return tasks


def _calls_per_check(followed: Sequence[FollowedTask]) -> int:
    running: dict[str, int] = {}
    for task in followed:
        if task.is_running:
            running[task.region] = running.get(task.region, 0) + 1
    return sum(math.ceil(count / MAX_IMAGE_IDS_PER_CALL) for count in running.values())


def _soonest_remaining(followed: Sequence[FollowedTask], now: datetime) -> timedelta | None:
    estimates = [left for task in followed if (left := task.remaining(now)) is not None]
    return min(estimates, default=None)


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:160]

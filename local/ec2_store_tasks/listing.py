"""The listed store tasks of one account and Region: the newest task of each AMI, kept in start order so
that a page of the newest-first listing costs O(size) unfiltered, O(offset + size) filtered."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from .lifecycle import IN_PROGRESS, StoreTask, sort_key

LISTING_WINDOW: Final = timedelta(days=31)
"""Only tasks that started within this window (by the emulator clock) are listed."""

Listed = Callable[[StoreTask], bool]
"""Whether a task shows in the listing now (hint_events may keep one out for a while)."""


class TaskListing:
    """The listed (newest) task of each AMI. Not thread-safe: the backend holds its lock around it."""

    def __init__(self) -> None:
        self._current: dict[str, StoreTask] = {}
        self._asc: list[StoreTask] = []
        self._asc_starts: list[datetime] = []
        self._dirty = False

    def get(self, ami_id: str) -> StoreTask | None:
        return self._current.get(ami_id)

    def __contains__(self, ami_id: object) -> bool:
        return ami_id in self._current

    def insert(self, task: StoreTask) -> None:
        """Lists `task` unless its AMI has a newer one; an older one of the AMI leaves the listing."""
        old = self._current.get(task.ami_id)
        if old is not None and sort_key(old) >= sort_key(task):
            return
        self._current[task.ami_id] = task
        if old is None and not self._dirty and (not self._asc or sort_key(self._asc[-1]) <= sort_key(task)):
            self._asc.append(task)
            self._asc_starts.append(task.start_time)
        else:
            self._dirty = True  # an old task leaves the listing, or the new one is not the newest

    def remove(self, ami_id: str) -> StoreTask | None:
        task = self._current.pop(ami_id, None)
        if task is not None:
            self._dirty = True
        return task

    def newest_first(self) -> list[StoreTask]:
        """All listed tasks, including those outside the window."""
        self._ensure_sorted()
        return self._asc[::-1]

    def in_progress_gb(self) -> float:
        """The snapshot data of the stores in progress, which the store quota bounds."""
        return sum(task.size_gb for task in self._current.values() if task.state == IN_PROGRESS)

    def of_images(self, ami_ids: Iterable[str], now: datetime, listed: Listed) -> list[StoreTask]:
        """The listed tasks of `ami_ids` within the window, newest first."""
        found = [self._current[i] for i in ami_ids if i in self._current]
        found = [t for t in found if t.start_time >= now - LISTING_WINDOW and listed(t)]
        return sorted(found, key=sort_key, reverse=True)

    def page(
        self,
        now: datetime,
        kept: Callable[[StoreTask], bool] | None,
        offset: int,
        size: int,
    ) -> tuple[list[StoreTask], bool]:
        """One page of the newest-first listing within the window, and whether more follow; `kept`
        (None: every task) is the filters' and the hints' choice of tasks."""
        self._ensure_sorted()
        asc = self._asc
        low = bisect_left(self._asc_starts, now - LISTING_WINDOW)
        if kept is None:
            top = len(asc) - 1 - offset  # asc index of the first item of the page
            stop = max(low - 1, top - size)
            return [asc[i] for i in range(top, stop, -1)], stop >= low
        page: list[StoreTask] = []
        matching = (asc[i] for i in range(len(asc) - 1, low - 1, -1) if kept(asc[i]))
        for seen, task in enumerate(matching):
            if seen < offset:
                continue
            if len(page) == size:
                return page, True
            page.append(task)
        return page, False

    def _ensure_sorted(self) -> None:
        if self._dirty:
            self._asc = sorted(self._current.values(), key=sort_key)
            self._asc_starts = [t.start_time for t in self._asc]
            self._dirty = False

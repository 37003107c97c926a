"""What finding the tracked tasks costs in calls: by re-checks, by the sweep of the tasks in progress,
or by more listing pages; and so whether a head read sweeps, and whether it reads on past its horizon."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from ami_store_notifier.domain.model import StoreTask, TaskState, split_task_key
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL


def recheck_calls(amis: int) -> int:
    return math.ceil(amis / MAX_IMAGE_IDS_PER_CALL)


def sweep_calls(states: Iterable[TaskState], page_size: int) -> int:
    """The pages of the tasks in progress: those recorded so (`states`, as the run would record them),
    as the few this notifier does not know cannot be counted before the sweep shows them."""
    in_progress = sum(1 for state in states if state is TaskState.IN_PROGRESS)
    return math.ceil(in_progress / page_size)


def finish_calls(tasks: int, sweep: int) -> int:
    """Calls that find `tasks` unseen tracked tasks without more listing pages, `sweep` being the calls
    of the sweep (a re-check names one AMI per task: EC2 stores an AMI once at a time)."""
    if tasks <= 0:
        return 0
    return min(sweep, recheck_calls(tasks))


def next_page_saves_calls(
    page: Sequence[StoreTask], unseen: Sequence[str], known: Mapping[str, TaskState], sweep: int
) -> bool:
    """Whether reading the page after `page` saves calls, `sweep` being the pages of the tasks in
    progress. Past the horizon only tracked tasks matter, and a head read finds them one of three ways:
    more listing pages (a call each; an end shows on its page), the pages of every task in progress
    (`task-state` filter, `page_size` a call; an end drops out of them and costs a re-check of its
    own, in that run only), or re-checks by AMI (20 a call). Reading on pays one call now and leaves
    what the next page would not show to the cheaper of the other two: worth it only when that
    totals fewer calls than stopping here.

    The arithmetic with pages of 200: 130 tracked tasks past the head cost 1 page of the tasks in
    progress or 7 re-checks, so stopping costs 1 and reading on 1 + at least 0: never fewer, and a
    quiet run is the head and that page, 2 calls (reading on while the next page held more than 20
    of them made it 3 to 6, and 250 of them spent the run's 10). 400 stores in progress in a row,
    200 of them on the head page: the other 200 cost 2 pages of the tasks in progress (all 400 are
    listed) or 10 re-checks, and the next page likely shows them all (the head held no other
    task): 1 + 0 < 2, so it is read, 2 calls."""
    stopping = finish_calls(len(unseen), sweep)
    left = len(unseen) - _likely_on_next_page(page, unseen, known)
    return 1 + finish_calls(left, sweep) < stopping


def _likely_on_next_page(
    page: Sequence[StoreTask], unseen: Sequence[str], known: Mapping[str, TaskState]
) -> int:
    """How many unseen tracked tasks the next page would show: it holds as many entries as this one,
    the tracked tasks among them (their starts are known) and the others at this page's pace."""
    if not page:
        return 0
    oldest = min(task.task_start_time for task in page)
    behind = sorted((oldest - split_task_key(key)[1]).total_seconds() for key in unseen)
    pace = _pace_of_others(page, oldest, known)
    return _fitting(len(page), pace, [gap for gap in behind if gap >= 0])


def _pace_of_others(page: Sequence[StoreTask], oldest: datetime, known: Mapping[str, TaskState]) -> float:
    """Entries a second on this page that are not tracked tasks; a page of tracked tasks only is
    followed by more of them. A page that started within a second counts as a second long."""
    span = (max(task.task_start_time for task in page) - oldest).total_seconds()
    others = sum(1 for task in page if known.get(task.key) is not TaskState.IN_PROGRESS)
    return others / max(span, 1.0)


def _fitting(room: int, pace: float, seconds_behind: Sequence[float]) -> int:
    """How many tracked tasks, `seconds_behind` a page's oldest entry (nearest first), a next page of
    `room` entries holds beside the other tasks listed at `pace` a second."""
    fitting = 0
    for gap in seconds_behind:
        if fitting + 1 + pace * gap > room:
            break
        fitting += 1
    return fitting

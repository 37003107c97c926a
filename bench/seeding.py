"""The account's store tasks: the N seeded over the 31-day window, the new ones a scenario starts, and
how tracked tasks end."""

from __future__ import annotations

from datetime import timedelta

from bench.emulated import START
from bench.scenario import BUCKET
from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED, IN_PROGRESS, LISTING_WINDOW, StoreTaskBackend

IN_PROGRESS_TASKS = 20
"""Seeded tasks in progress: a few tens, as the account's GB-in-flight limit allows."""
IN_PROGRESS_AMONG_NEWEST = 40
FAILED_EVERY = 33
"""About 3 % of the finished tasks failed."""
WINDOW_MARGIN = timedelta(hours=4)
"""The oldest seeded task starts this long inside the 31-day window, so that N stays N all run long."""
NEW_TASKS_SPREAD = timedelta(minutes=10)


def seed(backend: StoreTaskBackend, n: int) -> list[str]:
    """N tasks over the 31-day window, listed newest first; returns the AMIs in progress, newest first.

    Tasks are added oldest first (the emulator appends them in order; the listing is newest first
    either way). 20 tasks are in progress, every other one among the newest 40; about 3 % of the rest
    failed and the others completed."""
    newest = START - timedelta(minutes=1)
    step = (LISTING_WINDOW - WINDOW_MARGIN) / max(n - 1, 1)
    in_progress = list(range(0, min(IN_PROGRESS_AMONG_NEWEST, n), 2))[:IN_PROGRESS_TASKS]
    running = set(in_progress)
    for index in reversed(range(n)):
        ami = f"ami-0{index:016x}"
        start = newest - step * index
        if index in running:
            backend.add_task(ami, BUCKET, start, IN_PROGRESS, 10 + (index * 7) % 80)
        elif index % FAILED_EVERY == FAILED_EVERY // 2:
            backend.add_task(
                ami, BUCKET, start, FAILED, 40, failure_reason="The AMI's snapshot could not be read"
            )
        else:
            backend.add_task(ami, BUCKET, start, COMPLETED)
    return [f"ami-0{index:016x}" for index in in_progress]


class NewAmis:
    """Tasks of AMIs the account never had, named in order (ami-f…)."""

    def __init__(self) -> None:
        self._next = 0

    def names(self, count: int) -> list[str]:
        first, self._next = self._next, self._next + count
        return [f"ami-f{index:016x}" for index in range(first, self._next)]

    def start(
        self,
        backend: StoreTaskBackend,
        count: int,
        *,
        state: str = IN_PROGRESS,
        spread: timedelta = NEW_TASKS_SPREAD,
    ) -> list[str]:
        """`count` tasks started within the last `spread` (newest last)."""
        now = CLOCK.now()
        step = spread / count
        amis = self.names(count)
        for position, ami in enumerate(amis):
            start = now - spread + step * (position + 1) - timedelta(seconds=1)
            backend.add_task(ami, BUCKET, start, state, 5 if state == IN_PROGRESS else None)
        return amis


def finish(backend: StoreTaskBackend, amis: list[str]) -> None:
    """Completes the tasks of these AMIs, failing about 3 % of them (the first, then every 33rd)."""
    for position, ami in enumerate(amis):
        if len(amis) > 1 and position % FAILED_EVERY == 0:
            backend.fail(ami, "The AMI's snapshot could not be read")
        else:
            backend.complete(ami)

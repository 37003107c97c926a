"""Which read a scheduled run makes (none, the head, the safety net or the first run's baseline), and how
far down the newest-first listing that read goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ami_store_notifier.domain.model import Cursor, ReadMode, TaskState


@dataclass(frozen=True)
class Policy:
    announce_states: frozenset[TaskState]
    announce_existing_on_first_run: bool
    overlap: timedelta
    full_scan_interval: timedelta
    claim_lease: timedelta


def idle(cursor: Cursor, now: datetime) -> bool:
    """Nothing in progress that the notifier knows or was told of, no read to go on with, nothing to
    deliver and no archive still to check."""
    return (
        cursor.baselined
        and cursor.progress is None
        and not cursor.pending
        and TaskState.IN_PROGRESS not in cursor.known.values()
        and not any(watch.awaits_check for watch in cursor.watches.values())
        and (cursor.awake_until is None or now >= cursor.awake_until)
    )


def stays_quiet(cursor: Cursor, policy: Policy, now: datetime) -> bool:
    """Whether a scheduled run of the quiet-when-idle mode asks EC2 nothing: idle, and the safety net not
    due. Starts then come from the trail's hints (domain/hints.py)."""
    return idle(cursor, now) and choose_mode(cursor, policy, now) is ReadMode.HEAD


def choose_mode(cursor: Cursor, policy: Policy, now: datetime) -> ReadMode:
    if cursor.progress is not None:
        return cursor.progress.mode
    if not cursor.baselined:
        return ReadMode.BASELINE
    last = cursor.last_full_scan_at
    if last is None or now - last >= policy.full_scan_interval:
        return ReadMode.FULL_SCAN
    return ReadMode.HEAD


def horizon(cursor: Cursor, policy: Policy) -> datetime | None:
    """The overlap below the newest task already recorded; None before the first read."""
    return cursor.high_water_mark - policy.overlap if cursor.high_water_mark is not None else None


def floor(mode: ReadMode, cursor: Cursor, policy: Policy, newest_start: datetime | None) -> datetime | None:
    """How far down the newest-first listing a read of `mode` goes; None: to its end. `newest_start` is
    the newest task the read has seen so far.

    A head read stops at the horizon, the overlap below the newest task already recorded. The
    safety net reads down to where the previous one started: below that, the previous net checked
    every finished task, and the sweep of the tasks in progress finds the rest whatever their age.
    The first run reads the overlap below the newest task: the high-water mark covers the finished
    history, and the sweep tracks every task in progress (unless the history is to be announced).
    """
    if mode is ReadMode.HEAD:
        return horizon(cursor, policy)
    if mode is ReadMode.FULL_SCAN:
        return cursor.full_scan_horizon
    if policy.announce_existing_on_first_run or newest_start is None:
        return None
    return newest_start - policy.overlap

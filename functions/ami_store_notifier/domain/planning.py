"""Planning one run's writes, as pure logic: the reader's claims as commit steps, and the new cursor.

Each step is small enough for one DynamoDB transaction, and leaves a cursor that is correct if the run
stops right after it: deliveries taken over from earlier runs come first, then the claims; each step's
cursor counts only the claims written so far, and only the last one moves the high-water mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ami_store_notifier.domain.findings import ReadMode
from ami_store_notifier.domain.model import Cursor, PendingDelivery, TaskState, split_task_key
from ami_store_notifier.domain.reading import Claim, ListingReader

CHANNELS = ("sns", "events")
MAX_CLAIMS_PER_STEP = 50
# A step's leases are written as map paths of one update expression, which DynamoDB caps at 4 KB.
MAX_LEASES_PER_STEP = 140


@dataclass(frozen=True)
class CursorUpdate:
    baselined: bool
    high_water_mark: datetime | None
    known: Mapping[str, TaskState]
    last_full_scan_at: datetime | None
    full_scan_horizon: datetime | None
    leases: tuple[PendingDelivery, ...] = ()


@dataclass(frozen=True)
class CommitStep:
    claims: tuple[Claim, ...]
    cursor: CursorUpdate


class Planner:
    """The commit steps still owed for what the reader concluded, as the run's steps get committed."""

    def __init__(self, cursor: Cursor, reader: ListingReader) -> None:
        self._cursor = cursor
        self._reader = reader
        self._committed: set[str] = set()

    @property
    def cursor_version(self) -> int:
        return self._cursor.version

    def plan(self) -> list[CommitStep]:
        """The commit steps still to run; empty when the table already holds all there is."""
        current = as_update(self._cursor)
        expiry = self._lease_expiry()
        steps = lease_renewal_steps(current, renewed_leases(self._cursor, self._reader.now, expiry))
        remaining = [claim for key, claim in self._reader.claims.items() if key not in self._committed]
        steps += claim_steps(current, remaining, expiry)
        final = final_cursor(self._cursor, self._reader)
        if steps:
            steps[-1] = replace(steps[-1], cursor=replace(final, leases=steps[-1].cursor.leases))
        elif current != final:
            steps.append(CommitStep((), final))
        return steps

    def committed(self, step: CommitStep) -> None:
        self._committed.update(claim.task.key for claim in step.claims)
        self._cursor = Cursor(
            version=self._cursor.version + 1,
            baselined=step.cursor.baselined,
            high_water_mark=step.cursor.high_water_mark,
            known=dict(step.cursor.known),
            pending=(),
            last_full_scan_at=step.cursor.last_full_scan_at,
            full_scan_horizon=step.cursor.full_scan_horizon,
        )

    def in_progress_count(self) -> int:
        known = final_cursor(self._cursor, self._reader).known
        return sum(1 for state in known.values() if state is TaskState.IN_PROGRESS)

    def _lease_expiry(self) -> int:
        return int((self._reader.now + self._reader.policy.claim_lease).timestamp())


def as_update(cursor: Cursor) -> CursorUpdate:
    return CursorUpdate(
        baselined=cursor.baselined,
        high_water_mark=cursor.high_water_mark,
        known=dict(cursor.known),
        last_full_scan_at=cursor.last_full_scan_at,
        full_scan_horizon=cursor.full_scan_horizon,
    )


def renewed_leases(cursor: Cursor, now: datetime, expiry: int) -> tuple[PendingDelivery, ...]:
    """Deliveries whose claiming run died or gave up: this run takes them over."""
    return tuple(
        pending.leased_until(expiry)
        for pending in cursor.pending
        if pending.lease_expires_at <= now.timestamp()
    )


def lease_renewal_steps(current: CursorUpdate, renewals: Sequence[PendingDelivery]) -> list[CommitStep]:
    return [
        CommitStep((), replace(current, leases=tuple(renewals[start : start + MAX_LEASES_PER_STEP])))
        for start in range(0, len(renewals), MAX_LEASES_PER_STEP)
    ]


def claim_steps(current: CursorUpdate, claims: Sequence[Claim], expiry: int) -> list[CommitStep]:
    """The claims in steps; each step's cursor knows the claims written up to it."""
    steps = []
    known = dict(current.known)
    for start in range(0, len(claims), MAX_CLAIMS_PER_STEP):
        chunk = tuple(claims[start : start + MAX_CLAIMS_PER_STEP])
        known.update((claim.task.key, claim.state) for claim in chunk)
        leases = tuple(
            PendingDelivery(channel, claim.state, claim.task.key, expiry)
            for claim in chunk
            if claim.announcement is not None
            for channel in CHANNELS
        )
        steps.append(CommitStep(chunk, replace(current, known=dict(known), leases=leases)))
    return steps


def final_cursor(cursor: Cursor, reader: ListingReader) -> CursorUpdate:
    """The cursor once every claim is written: the high-water mark moves only after a complete read,
    and the safety net counts as done only when no suspect is left unresolved."""
    complete = reader.complete
    high_water_mark = cursor.high_water_mark
    if complete:
        high_water_mark = newer(high_water_mark, reader.findings.newest_start)
    scanned = complete and reader.mode is not ReadMode.HEAD and not reader.suspects
    return CursorUpdate(
        baselined=cursor.baselined or (complete and reader.mode is ReadMode.BASELINE),
        high_water_mark=high_water_mark,
        known=known_after(reader, high_water_mark),
        last_full_scan_at=reader.now if scanned else cursor.last_full_scan_at,
        full_scan_horizon=(
            high_water_mark - reader.policy.overlap
            if scanned and high_water_mark is not None
            else cursor.full_scan_horizon
        ),
    )


def known_after(reader: ListingReader, high_water_mark: datetime | None) -> dict[str, TaskState]:
    """What the cursor keeps: tasks in progress, and the others that started inside the window."""
    known = {**reader.known, **{key: claim.state for key, claim in reader.claims.items()}}
    for departed in reader.departed():
        for key in departed:
            known.pop(key, None)
    if high_water_mark is None:
        return known
    window_start = high_water_mark - reader.policy.overlap
    return {
        key: state
        for key, state in known.items()
        if state is TaskState.IN_PROGRESS or split_task_key(key)[1] >= window_start
    }


def newer(mark: datetime | None, candidate: datetime | None) -> datetime | None:
    if mark is None or (candidate is not None and candidate > mark):
        return candidate
    return mark

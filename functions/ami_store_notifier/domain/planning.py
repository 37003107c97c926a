"""Planning one run's writes, as pure logic: the reader's claims as commit steps, and the new cursor.

Each step is small enough for one DynamoDB transaction, and leaves a cursor that is correct if the run
stops right after it: deliveries taken over from earlier runs come first, then the claims. Each step
writes its deliveries as one batch of its own, so no step rewrites what earlier steps wrote; only the
last step moves the high-water mark and rewrites the tasks the cursor knows. A run that stops before
it leaves that list behind the table, which is safe: a claim the table already holds is refused by
its condition, and the run re-reads the task's record instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from ami_store_notifier.domain.claims import Claim
from ami_store_notifier.domain.known_tasks import kept_tasks, newer
from ami_store_notifier.domain.model import (
    LEGACY_BATCH,
    Cursor,
    PendingDelivery,
    ReadMode,
    ReadProgress,
    TaskState,
)
from ami_store_notifier.domain.reading import ListingReader
from ami_store_notifier.domain.store_watch import StoreWatch

# Every deployment delivers on these; chat is a third channel when the chat notifications are on.
CHANNELS = ("sns", "events")
CHAT_CHANNEL = "chat"
# The key naming the channel in the input the hub's rule gives its relay (absent: the topic).
RELAY_CHANNEL = "channel"
MAX_CLAIMS_PER_STEP = 50
T = TypeVar("T")
# A step that takes over deliveries deletes their old batches in the same transaction (at most 100
# items): this leaves room for the cursor and the new batch.
MAX_BATCHES_RETIRED_PER_STEP = 90


@dataclass(frozen=True)
class CursorUpdate:
    baselined: bool
    high_water_mark: datetime | None
    # None: the step leaves the known tasks as they are (only the last step of a run rewrites them).
    known: Mapping[str, TaskState] | None
    last_full_scan_at: datetime | None
    full_scan_horizon: datetime | None
    progress: ReadProgress | None = None
    awake_until: datetime | None = None
    # None: the step leaves the store watches as they are (only the last step of a run rewrites them).
    watches: Mapping[str, StoreWatch] | None = None
    # The step's own batch of deliveries (its id is the cursor version the step writes).
    leases: tuple[PendingDelivery, ...] = ()
    # The batches still holding deliveries once the step is written, and those it removes.
    lease_batches: frozenset[int] = frozenset()
    retired_batches: tuple[int, ...] = ()


@dataclass(frozen=True)
class CommitStep:
    claims: tuple[Claim, ...]
    cursor: CursorUpdate


class Planner:
    """The commit steps still owed for what the reader concluded, as the run's steps get committed."""

    def __init__(
        self,
        cursor: Cursor,
        reader: ListingReader,
        channels: tuple[str, ...] = CHANNELS,
        watches: Mapping[str, StoreWatch] | None = None,
    ) -> None:
        self._cursor = cursor
        self._reader = reader
        self._channels = channels
        # The store watches once the run's claims are in; None when the run leaves them as they were.
        self._watches = watches
        self._committed: set[str] = set()

    @property
    def cursor_version(self) -> int:
        return self._cursor.version

    def plan(self) -> list[CommitStep]:
        """The commit steps still to run; empty when the table already holds all there is."""
        cursor = self._cursor
        expiry = self._lease_expiry()
        builder = StepBuilder(as_update(cursor), cursor.version, batches_of(cursor.pending), self._channels)
        for retired in chunks(expired_batches(cursor, self._reader.now), MAX_BATCHES_RETIRED_PER_STEP):
            builder.take_over(cursor.pending, retired, expiry)
        claimed: set[str] = set()
        for chunk in chunks(self.unwritten_claims(), MAX_CLAIMS_PER_STEP):
            claimed.update(claim.task.key for claim in chunk)
            builder.claim(chunk, expiry, self._watches_after(claimed, chunk))
        return builder.finish(self._final())

    def _watches_after(self, claimed: set[str], step: tuple[Claim, ...]) -> dict[str, StoreWatch] | None:
        """The watches a step writes when it claims a completion whose archive is still to check: the
        final ones of the tasks claimed up to it, the others as they were. Only that must be written with
        its claim (a later run would not know to check it); the rest moves with the run's last step."""
        final = self._watches
        if final is None or not any(
            claim.task.key in final and final[claim.task.key].awaits_check for claim in step
        ):
            return None
        watches = dict(self._cursor.watches)
        for key in claimed:
            watches.pop(key, None)
            if key in final:
                watches[key] = final[key]
        return watches if watches != self._cursor.watches else None

    def unwritten_claims(self) -> list[Claim]:
        return [claim for key, claim in self._reader.claims.items() if key not in self._committed]

    def _final(self) -> CursorUpdate:
        final = final_cursor(self._cursor, self._reader)
        watches = self._watches if self._watches != self._cursor.watches else None
        final = replace(final, watches=watches)
        if final.known != self._cursor.known or self._cursor.legacy_layout:
            return final
        return replace(final, known=None)

    def committed(self, step: CommitStep) -> None:
        self._committed.update(claim.task.key for claim in step.claims)
        update = step.cursor
        kept = tuple(lease for lease in self._cursor.pending if lease.batch not in update.retired_batches)
        self._cursor = Cursor(
            version=self._cursor.version + 1,
            baselined=update.baselined,
            high_water_mark=update.high_water_mark,
            known=dict(update.known) if update.known is not None else self._cursor.known,
            pending=kept + update.leases,
            last_full_scan_at=update.last_full_scan_at,
            full_scan_horizon=update.full_scan_horizon,
            progress=update.progress,
            awake_until=update.awake_until,
            watches=dict(update.watches) if update.watches is not None else self._cursor.watches,
        )

    def in_progress_count(self) -> int:
        known = final_cursor(self._cursor, self._reader).known or {}
        return sum(1 for state in known.values() if state is TaskState.IN_PROGRESS)

    def _lease_expiry(self) -> int:
        return int((self._reader.now + self._reader.policy.claim_lease).timestamp())


class StepBuilder:
    """Builds the steps in order; step n writes cursor version `base + n`, which names its batch."""

    def __init__(
        self, current: CursorUpdate, base_version: int, batches: frozenset[int], channels: tuple[str, ...]
    ) -> None:
        self._current = current
        self._channels = channels
        self._base = base_version
        self._batches = batches
        self.steps: list[CommitStep] = []

    def _next_batch(self) -> int:
        return self._base + len(self.steps) + 1

    def _add(
        self,
        claims: tuple[Claim, ...],
        leases: tuple[PendingDelivery, ...],
        retired: tuple[int, ...],
        watches: Mapping[str, StoreWatch] | None = None,
    ) -> None:
        batch = self._next_batch()
        self._batches = (self._batches - set(retired)) | ({batch} if leases else set())
        cursor = replace(
            self._current,
            leases=leases,
            lease_batches=self._batches,
            retired_batches=retired,
            watches=watches,
        )
        self.steps.append(CommitStep(claims, cursor))

    def take_over(self, pending: Sequence[PendingDelivery], retired: tuple[int, ...], expiry: int) -> None:
        """Deliveries whose claiming run died or gave up: this run moves them into a batch of its own."""
        batch = self._next_batch()
        moved = tuple(lease.moved_to(batch, expiry) for lease in pending if lease.batch in retired)
        self._add((), moved, retired)

    def claim(
        self, claims: tuple[Claim, ...], expiry: int, watches: Mapping[str, StoreWatch] | None = None
    ) -> None:
        batch = self._next_batch()
        leases = tuple(
            PendingDelivery(channel, milestone, claim.task.key, expiry, batch)
            for claim in claims
            for milestone in claim.announced()
            for channel in self._channels
        )
        self._add(claims, leases, (), watches)

    def finish(self, final: CursorUpdate) -> list[CommitStep]:
        """The steps, the last one carrying the final cursor; one step of its own when the cursor
        changes but nothing was claimed or taken over."""
        if self.steps:
            last = self.steps[-1].cursor
            self.steps[-1] = replace(
                self.steps[-1],
                cursor=replace(
                    final,
                    leases=last.leases,
                    lease_batches=last.lease_batches,
                    retired_batches=last.retired_batches,
                ),
            )
        elif (
            final.known is not None
            or final.watches is not None
            or replace(final, lease_batches=self._current.lease_batches) != self._current
        ):
            self.steps.append(CommitStep((), replace(final, lease_batches=self._batches)))
        return self.steps


def chunks(items: Sequence[T], size: int) -> list[tuple[T, ...]]:
    return [tuple(items[start : start + size]) for start in range(0, len(items), size)]


def batches_of(pending: Sequence[PendingDelivery]) -> frozenset[int]:
    return frozenset(lease.batch for lease in pending if lease.batch != LEGACY_BATCH)


def expired_batches(cursor: Cursor, now: datetime) -> list[int]:
    """Batches whose every lease has ended (a batch of an earlier version may hold several leases)."""
    latest: dict[int, int] = {}
    for lease in cursor.pending:
        latest[lease.batch] = max(latest.get(lease.batch, 0), lease.lease_expires_at)
    return sorted(batch for batch, expiry in latest.items() if expiry <= now.timestamp())


def as_update(cursor: Cursor) -> CursorUpdate:
    return CursorUpdate(
        baselined=cursor.baselined,
        high_water_mark=cursor.high_water_mark,
        known=None,
        last_full_scan_at=cursor.last_full_scan_at,
        full_scan_horizon=cursor.full_scan_horizon,
        progress=cursor.progress,
        awake_until=cursor.awake_until,
        lease_batches=batches_of(cursor.pending),
    )


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
        known=known_after(reader, cursor.high_water_mark),
        last_full_scan_at=reader.now if scanned else cursor.last_full_scan_at,
        full_scan_horizon=(
            high_water_mark - reader.policy.overlap
            if scanned and high_water_mark is not None
            else cursor.full_scan_horizon
        ),
        progress=reader.progress(),
        awake_until=newer(cursor.awake_until, reader.awake_until),
    )


def known_after(reader: ListingReader, previous_mark: datetime | None) -> dict[str, TaskState]:
    """What the cursor keeps (known_tasks.py): tasks in progress, and the finished tasks a later read
    meets again, out of what the table holds once the run's claims are in."""
    known = {**reader.known, **{key: claim.state for key, claim in reader.claims.items()}}
    if reader.mode is ReadMode.HINTS:
        # What a hint run learnt is kept whole: trimming needs the listing's window, which it did not read.
        return known
    for departed in reader.departed():
        for key in departed:
            known.pop(key, None)
    return kept_tasks(
        known,
        read_newest=reader.findings.newest_start,
        previous_mark=previous_mark,
        overlap=reader.policy.overlap,
        last_page=reader.findings.last_page,
    )

"""One poll of one region, as pure logic: which tasks moved, what to record, what to announce.

The session is fed the listing page by page (newest first), the answers to targeted re-checks,
and what the state table says about tasks it asked for. It never calls AWS itself: the poller does,
and hands the answers in. What the session returns is a plan of commit steps, each small enough for
one DynamoDB transaction, and each leaving a cursor that is correct if the run stops right after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from ami_store_notifier.domain.announcements import MAX_FAILURE_REASON_CHARS, Announcement, announce
from ami_store_notifier.domain.model import (
    Cursor,
    PendingDelivery,
    RecordedTask,
    StoreTask,
    TaskState,
    split_task_key,
)

MAX_IMAGE_IDS_PER_CALL = 20

CHANNELS = ("sns", "events")
MAX_CLAIMS_PER_RUN = 1000
MAX_CLAIMS_PER_STEP = 50
# How far ahead of the poller's clock a task may claim to have started before it counts as misdated.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A step's leases are written as map paths of one update expression, which DynamoDB caps at 4 KB.
MAX_LEASES_PER_STEP = 140


class ReadMode(Enum):
    BASELINE = "baseline"
    FULL_SCAN = "full-scan"
    HEAD = "head"


@dataclass(frozen=True)
class Policy:
    announce_states: frozenset[TaskState]
    announce_existing_on_first_run: bool
    overlap: timedelta
    full_scan_interval: timedelta
    claim_lease: timedelta


@dataclass(frozen=True)
class Claim:
    """Recording `state` for a task. `previous_state` is what the table must hold for the write to
    win: None means the task must not be recorded yet. Only one run can win each claim."""

    task: StoreTask
    state: TaskState
    previous_state: TaskState | None
    announcement: Announcement | None


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


@dataclass(frozen=True)
class SessionReport:
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
class _Progress:
    tasks_seen: int = 0
    newest_start: datetime | None = None
    listing_complete: bool = False
    rechecked: bool = False
    claim_limit_reached: bool = False
    seen_in_progress: set[str] = field(default_factory=set)
    recheck_newest_by_ami: dict[str, datetime] = field(default_factory=dict)
    unknown_states: dict[str, StoreTask] = field(default_factory=dict)
    future_dated: dict[str, StoreTask] = field(default_factory=dict)
    shortened_reasons: dict[str, StoreTask] = field(default_factory=dict)


class PollSession:
    def __init__(self, cursor: Cursor, policy: Policy, *, region: str, account: str, now: datetime) -> None:
        self._cursor = cursor
        self._policy = policy
        self._region = region
        self._account = account
        self._now = now
        self._known: dict[str, TaskState] = dict(cursor.known)
        self._claims: dict[str, Claim] = {}
        self._committed: set[str] = set()
        self._suspects: dict[str, StoreTask] = {}
        self._progress = _Progress()
        self.mode = self._choose_mode()
        self._horizon = (
            cursor.high_water_mark - policy.overlap if cursor.high_water_mark is not None else None
        )

    def _choose_mode(self) -> ReadMode:
        if not self._cursor.baselined:
            return ReadMode.BASELINE
        last = self._cursor.last_full_scan_at
        if last is None or self._now - last >= self._policy.full_scan_interval:
            return ReadMode.FULL_SCAN
        return ReadMode.HEAD

    @property
    def cursor_version(self) -> int:
        return self._cursor.version

    def in_progress_count(self) -> int:
        return sum(1 for state in self._final_cursor().known.values() if state is TaskState.IN_PROGRESS)

    # -- feeding the listing -------------------------------------------------------------------

    def observe_page(self, tasks: Sequence[StoreTask], *, has_more: bool) -> bool:
        """Takes one page of the listing; answers whether the next page is worth reading."""
        for task in tasks:
            if self._progress.claim_limit_reached:
                return False
            self._observe(task)
        if self._progress.claim_limit_reached:
            return False
        if not has_more:
            self._progress.listing_complete = True
            return False
        reached_horizon = (
            self.mode is ReadMode.HEAD
            and self._horizon is not None
            and any(task.task_start_time < self._horizon for task in tasks)
        )
        if reached_horizon:
            self._progress.listing_complete = True
            return self._next_page_cheaper_than_rechecks(tasks)
        return True

    def _next_page_cheaper_than_rechecks(self, page: Sequence[StoreTask]) -> bool:
        """Past the horizon only tracked tasks matter. One more page costs one call; re-checking by
        AMI costs one call per 20 tasks. Estimate how many tracked tasks the next page would show
        from the time span this page covered, and read on only when that beats re-checking."""
        if not page:
            return False
        oldest = min(task.task_start_time for task in page)
        span = max(task.task_start_time for task in page) - oldest
        likely_on_next_page = sum(
            1 for key in self._unseen_tracked() if oldest - span <= split_task_key(key)[1] <= oldest
        )
        return likely_on_next_page > MAX_IMAGE_IDS_PER_CALL

    def tracked_amis_to_recheck(self) -> list[str]:
        """AMIs of tasks recorded in progress that this run has not seen in the listing."""
        return sorted({split_task_key(key)[0] for key in self._unseen_tracked()})

    def _unseen_tracked(self) -> list[str]:
        """Keys of the tasks recorded in progress that this run has neither seen nor claimed yet."""
        return [
            key
            for key, state in self._known.items()
            if state is TaskState.IN_PROGRESS
            and key not in self._progress.seen_in_progress
            and key not in self._claims
        ]

    def observe_recheck(self, tasks: Sequence[StoreTask]) -> None:
        """Takes the answer to a re-check by AMI id (EC2 returns each AMI's newest store task)."""
        for task in tasks:
            newest = self._progress.recheck_newest_by_ami.get(task.ami_id)
            if newest is None or task.task_start_time > newest:
                self._progress.recheck_newest_by_ami[task.ami_id] = task.task_start_time
            self._observe(task)

    def recheck_finished(self) -> None:
        self._progress.rechecked = True

    def _observe(self, task: StoreTask) -> None:
        state = task.state
        key = task.key
        if state is None:
            self._progress.unknown_states[key] = task
            if self._known.get(key) is TaskState.IN_PROGRESS:
                self._progress.seen_in_progress.add(key)
            return
        self._progress.tasks_seen += 1
        if task.task_start_time > self._now + FUTURE_TOLERANCE:
            # A clock gone wrong somewhere: such a task is handled, but must not become the
            # high-water mark, or every task after it would look older than the window.
            self._progress.future_dated[task.key] = task
        elif self._progress.newest_start is None or task.task_start_time > self._progress.newest_start:
            self._progress.newest_start = task.task_start_time

        recorded = self._claims[key].state if key in self._claims else self._known.get(key)
        if recorded is not None:
            if recorded is TaskState.IN_PROGRESS:
                self._progress.seen_in_progress.add(key)
                if state.is_terminal:
                    self._claim(task, state, previous=TaskState.IN_PROGRESS)
            return

        if self.mode is ReadMode.BASELINE:
            self._observe_during_baseline(task, state)
        elif self._horizon is None or task.task_start_time >= self._horizon:
            self._claim(task, state, previous=None)
        elif self.mode is ReadMode.FULL_SCAN and self._worth_checking(task, state):
            self._suspects[key] = task

    def _observe_during_baseline(self, task: StoreTask, state: TaskState) -> None:
        newest = self._progress.newest_start
        inside_window = newest is not None and task.task_start_time >= newest - self._policy.overlap
        announce_history = self._policy.announce_existing_on_first_run
        if (
            state is TaskState.IN_PROGRESS
            or inside_window
            or (announce_history and state in self._policy.announce_states)
        ):
            self._claim(task, state, previous=None)

    def _worth_checking(self, task: StoreTask, state: TaskState) -> bool:
        """During a full scan: could this unrecorded-looking task have slipped past the window?

        A task in progress that the cursor does not track always could. A finished one could only
        if it started after the window of the previous full scan: everything older was either
        checked by that scan or, for the first run, recorded by its high-water mark."""
        if state is TaskState.IN_PROGRESS:
            return True
        horizon = self._cursor.full_scan_horizon
        return horizon is None or task.task_start_time >= horizon

    def _claim(self, task: StoreTask, state: TaskState, *, previous: TaskState | None) -> None:
        if task.key not in self._claims and len(self._claims) >= MAX_CLAIMS_PER_RUN:
            self._progress.claim_limit_reached = True
            return
        self._claims[task.key] = Claim(task, state, previous, self._announcement(task, state, previous))

    def _announcement(
        self, task: StoreTask, state: TaskState, previous: TaskState | None
    ) -> Announcement | None:
        if state not in self._policy.announce_states:
            return None
        if self.mode is ReadMode.BASELINE and not self._policy.announce_existing_on_first_run:
            return None
        if state is TaskState.FAILED and len(task.failure_reason or "") > MAX_FAILURE_REASON_CHARS:
            self._progress.shortened_reasons[task.key] = task
        return announce(
            task, state, previous, region=self._region, account=self._account, observed_at=self._now
        )

    # -- answers from the state table ---------------------------------------------------------

    def suspects(self) -> dict[str, StoreTask]:
        return dict(self._suspects)

    def resolve(self, tasks: Iterable[StoreTask], records: Mapping[str, RecordedTask]) -> None:
        """Re-decides tasks against what the table holds: suspects of a full scan, and claims that
        lost their condition because the table knew more than the cursor did."""
        for task in tasks:
            state = task.state
            self._suspects.pop(task.key, None)
            self._claims.pop(task.key, None)
            if state is None:
                continue
            record = records.get(task.key)
            if record is None:
                self._claim(task, state, previous=None)
                continue
            self._known[task.key] = record.state
            if record.state is TaskState.IN_PROGRESS:
                self._progress.seen_in_progress.add(task.key)
                if state.is_terminal:
                    self._claim(task, state, previous=TaskState.IN_PROGRESS)

    # -- the plan ------------------------------------------------------------------------------

    def committed(self, step: CommitStep) -> None:
        for claim in step.claims:
            self._committed.add(claim.task.key)
        self._cursor = Cursor(
            version=self._cursor.version + 1,
            baselined=step.cursor.baselined,
            high_water_mark=step.cursor.high_water_mark,
            known=dict(step.cursor.known),
            pending=(),
            last_full_scan_at=step.cursor.last_full_scan_at,
            full_scan_horizon=step.cursor.full_scan_horizon,
        )

    def plan(self) -> list[CommitStep]:
        """The commit steps still to run; empty when the table already holds all there is.

        Deliveries taken over from earlier runs come first, then the claims in small steps. Each
        step's cursor counts only the claims written so far, and only the last one moves the
        high-water mark, so a run that stops between steps leaves nothing unaccounted for."""
        current = CursorUpdate(
            baselined=self._cursor.baselined,
            high_water_mark=self._cursor.high_water_mark,
            known=dict(self._cursor.known),
            last_full_scan_at=self._cursor.last_full_scan_at,
            full_scan_horizon=self._cursor.full_scan_horizon,
        )
        renewals = self._renewed_leases()
        steps = [
            CommitStep((), replace(current, leases=renewals[start : start + MAX_LEASES_PER_STEP]))
            for start in range(0, len(renewals), MAX_LEASES_PER_STEP)
        ]
        remaining = [claim for key, claim in self._claims.items() if key not in self._committed]
        known = dict(self._cursor.known)
        for start in range(0, len(remaining), MAX_CLAIMS_PER_STEP):
            chunk = remaining[start : start + MAX_CLAIMS_PER_STEP]
            known.update((claim.task.key, claim.state) for claim in chunk)
            leases = tuple(
                PendingDelivery(channel, claim.state, claim.task.key, self._lease_expiry())
                for claim in chunk
                if claim.announcement is not None
                for channel in CHANNELS
            )
            steps.append(CommitStep(tuple(chunk), replace(current, known=dict(known), leases=leases)))

        final = self._final_cursor()
        if steps:
            steps[-1] = replace(steps[-1], cursor=replace(final, leases=steps[-1].cursor.leases))
        elif not self._cursor_unchanged(final):
            steps.append(CommitStep((), final))
        return steps

    def _lease_expiry(self) -> int:
        return int((self._now + self._policy.claim_lease).timestamp())

    def _renewed_leases(self) -> tuple[PendingDelivery, ...]:
        """Deliveries whose claiming run died or gave up: this run takes them over."""
        now = int(self._now.timestamp())
        expiry = self._lease_expiry()
        return tuple(
            pending.leased_until(expiry)
            for pending in self._cursor.pending
            if pending.lease_expires_at <= now
        )

    def _final_cursor(self) -> CursorUpdate:
        progress = self._progress
        complete = progress.listing_complete and not progress.claim_limit_reached
        high_water_mark = self._cursor.high_water_mark
        newest = progress.newest_start
        if complete and newest is not None and (high_water_mark is None or newest > high_water_mark):
            high_water_mark = newest

        known = dict(self._known)
        for key, claim in self._claims.items():
            known[key] = claim.state
        for keys in self._departed():
            for key in keys:
                known.pop(key, None)
        if high_water_mark is not None:
            window_start = high_water_mark - self._policy.overlap
            known = {
                key: state
                for key, state in known.items()
                if state is TaskState.IN_PROGRESS or split_task_key(key)[1] >= window_start
            }

        # Suspects still unresolved (the table could not be read) mean the safety net did not finish.
        scanned = complete and self.mode is not ReadMode.HEAD and not self._suspects
        return CursorUpdate(
            baselined=self._cursor.baselined or (complete and self.mode is ReadMode.BASELINE),
            high_water_mark=high_water_mark,
            known=known,
            last_full_scan_at=self._now if scanned else self._cursor.last_full_scan_at,
            full_scan_horizon=(
                high_water_mark - self._policy.overlap
                if scanned and high_water_mark is not None
                else self._cursor.full_scan_horizon
            ),
        )

    def _cursor_unchanged(self, final: CursorUpdate) -> bool:
        cursor = self._cursor
        return (
            final.baselined == cursor.baselined
            and final.high_water_mark == cursor.high_water_mark
            and dict(final.known) == dict(cursor.known)
            and final.last_full_scan_at == cursor.last_full_scan_at
            and final.full_scan_horizon == cursor.full_scan_horizon
        )

    def _departed(self) -> tuple[list[str], list[str]]:
        """Once the re-check by AMI has answered: the tracked tasks still unseen, as (vanished,
        superseded by a newer store of their AMI)."""
        vanished: list[str] = []
        superseded: list[str] = []
        if not self._progress.rechecked:
            return vanished, superseded
        newest = self._progress.recheck_newest_by_ami
        for key in self._unseen_tracked():
            ami, start = split_task_key(key)
            newer = newest.get(ami)
            (superseded if newer is not None and newer > start else vanished).append(key)
        return vanished, superseded

    def report(self) -> SessionReport:
        progress = self._progress
        vanished, superseded = self._departed()
        return SessionReport(
            mode=self.mode,
            listing_complete=progress.listing_complete and not progress.claim_limit_reached,
            tasks_seen=progress.tasks_seen,
            unknown_states=tuple(progress.unknown_states.values()),
            future_dated=tuple(progress.future_dated.values()),
            shortened_reasons=tuple(progress.shortened_reasons.values()),
            vanished=tuple(vanished),
            superseded=tuple(superseded),
            claim_limit_reached=progress.claim_limit_reached,
        )

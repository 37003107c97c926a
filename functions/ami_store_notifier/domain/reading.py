"""Reading one region's listing, as pure logic: which tasks moved, and so what the run must claim.

The reader is fed the listing page by page (newest first), the answers to targeted re-checks by AMI,
and what the state table says about tasks it asked for. It never calls AWS itself: the poller does,
and hands the answers in. What it concludes (claims, suspects, what left the listing) is turned into
commit steps by `planning.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ami_store_notifier.domain.announcements import (
    MAX_FAILURE_REASON_CHARS,
    Announcement,
    HintFacts,
    announce,
)
from ami_store_notifier.domain.findings import Findings, ReadingReport
from ami_store_notifier.domain.model import (
    Cursor,
    ReadMode,
    ReadPhase,
    ReadProgress,
    RecordedTask,
    StoreTask,
    TaskState,
    split_task_key,
)
from ami_store_notifier.domain.notices import Deliverable, Notice
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL, MAX_RESULTS_PER_PAGE

MAX_CLAIMS_PER_RUN = 1000
# DescribeStoreImageTasks calls one run may make in one region. The account's bucket for that call
# holds 50 tokens and refills 0.5 a second (EC2 API reference, "Request throttling", request token
# bucket sizes and refill rates); every caller shares it. One run a minute at 10 calls, beside
# `aws ec2 wait store-image-task-complete` at one call every 5 seconds (12 a minute), stays under
# the 30 a minute the bucket refills, so neither is ever throttled by the other. A read that needs
# more pages goes on in the next run from where this one stopped (ReadProgress).
MAX_DESCRIBE_CALLS_PER_RUN = 10
# What hint runs may add in a minute, all of them together: 10 scheduled + 12 waiting + 4 = 26 of the 30
# a minute refills, so a flood of hints cannot throttle the schedule or a waiter either.
HINT_CALLS_PER_MINUTE = 4


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
    win: None means the task must not be recorded yet. Only one run can win each claim.

    `notices` are claimed with it, each only if the task has not had one of its kind (domain/notices.py);
    a claim whose state is its previous state moves nothing and claims its notices alone."""

    task: StoreTask
    state: TaskState
    previous_state: TaskState | None
    announcement: Announcement | None
    notices: tuple[Notice, ...] = ()

    @property
    def moves(self) -> bool:
        return self.state is not self.previous_state

    def with_notice(self, notice: Notice) -> Claim:
        return replace(self, notices=(*self.notices, notice))

    def announced(self) -> dict[str, Deliverable]:
        """What the claim announces, by milestone: its state change (when announced) and its notices."""
        told: dict[str, Deliverable] = {}
        if self.announcement is not None:
            told[self.state.value] = self.announcement
        return told | {notice.kind.value: notice for notice in self.notices}


def _recheck_calls(amis: int) -> int:
    return math.ceil(amis / MAX_IMAGE_IDS_PER_CALL)


def _fitting(room: int, pace: float, seconds_behind: Sequence[float]) -> int:
    """How many tracked tasks, `seconds_behind` a page's oldest entry (nearest first), a next page of
    `room` entries holds beside the other tasks listed at `pace` a second."""
    fitting = 0
    for gap in seconds_behind:
        if fitting + 1 + pace * gap > room:
            break
        fitting += 1
    return fitting


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


class ListingReader:
    def __init__(
        self,
        cursor: Cursor,
        policy: Policy,
        *,
        region: str,
        account: str,
        now: datetime,
        page_size: int = MAX_RESULTS_PER_PAGE,
        hints: Mapping[str, HintFacts] | None = None,
    ) -> None:
        self.policy = policy
        self.now = now
        self._page_size = page_size
        self._cursor = cursor
        self._region = region
        self._account = account
        # A hint run's facts by AMI; None for a scheduled run.
        self._hints = hints
        self.mode = ReadMode.HINTS if hints is not None else choose_mode(cursor, policy, now)
        self.horizon = cursor.high_water_mark - policy.overlap if cursor.high_water_mark is not None else None
        self.known: dict[str, TaskState] = dict(cursor.known)
        self.claims: dict[str, Claim] = {}
        self.suspects: dict[str, StoreTask] = {}
        # Every task the run saw, as EC2 last showed it (for the archive checks and stall watches).
        self.observed: dict[str, StoreTask] = {}
        self.findings = Findings()
        # Set by a hint run told of a start EC2 does not list yet: scheduled runs read until then.
        self.awake_until: datetime | None = None
        self.resumed = cursor.progress
        # Per phase, the NextToken of the first page not yet fully observed (None: the first page).
        self._tokens: dict[ReadPhase, str | None] = dict.fromkeys(ReadPhase)
        if self.resumed is not None:
            self._tokens[self.resumed.phase] = self.resumed.token
            self.findings.newest_start = self.resumed.newest_start
            self.findings.listing_complete = self.resumed.phase is ReadPhase.SWEEP

    @property
    def region(self) -> str:
        return self._region

    @property
    def account(self) -> str:
        return self._account

    @property
    def hint_facts(self) -> Mapping[str, HintFacts]:
        """A hint run's facts by AMI; empty for a scheduled run."""
        return self._hints or {}

    # -- the listing ---------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """Whether the run read all it meant to: the listing down to its floor and, except for a head
        read, every task in progress."""
        if self.mode is ReadMode.HINTS:
            return False
        swept = self.mode is ReadMode.HEAD or self.findings.in_progress_swept
        return self.findings.complete and swept

    @property
    def listing_read(self) -> bool:
        """Whether the listing itself needs no more reading (an earlier run may have finished it)."""
        return self.findings.listing_complete

    def resume_token(self, phase: ReadPhase) -> str | None:
        return self._tokens[phase]

    def start_over(self, phase: ReadPhase) -> None:
        """EC2 refused the saved token: the phase is read again from its first page. Tasks seen
        before are recorded by now, so reading them again claims nothing twice."""
        self._tokens[phase] = None

    def progress(self) -> ReadProgress | None:
        """Where the next run goes on, when this one stopped within a phase's pages; None when it
        finished its read, or stopped before the listing's second page (starting over costs no more).
        A listing read to its end is kept even when the sweep got no call yet: starting over would read
        the same pages again, and a listing that takes a run's every call would never get to the sweep.
        A hint run leaves the read in progress as it was."""
        if self.mode is ReadMode.HINTS:
            return self._cursor.progress
        if self.complete:
            return None
        phase = ReadPhase.SWEEP if self.findings.listing_complete else ReadPhase.LISTING
        token = self._tokens[phase]
        if token is None and phase is ReadPhase.LISTING:
            return None
        return ReadProgress(self.mode, phase, token, self.findings.newest_start)

    def observe_page(
        self, tasks: Sequence[StoreTask], *, has_more: bool, next_token: str | None = None
    ) -> bool:
        """Takes one page of the listing; answers whether the next page is worth reading."""
        self.findings.last_page = frozenset(task.key for task in tasks)
        if not self._observe_all(tasks, moves_high_water_mark=True):
            return False
        self._tokens[ReadPhase.LISTING] = next_token
        if not has_more:
            self.findings.listing_complete = True
            return False
        floor = self._floor()
        if floor is None or not any(task.task_start_time < floor for task in tasks):
            return True
        self.findings.listing_complete = True
        return self.mode is ReadMode.HEAD and self._next_page_saves_calls(tasks)

    def _floor(self) -> datetime | None:
        """How far down the newest-first listing this run reads; None: to its end.

        A head read stops at the horizon, the overlap below the newest task already recorded. The
        safety net reads down to where the previous one started: below that, the previous net checked
        every finished task, and the sweep of the tasks in progress finds the rest whatever their age.
        The first run reads the overlap below the newest task: the high-water mark covers the finished
        history, and the sweep tracks every task in progress (unless the history is to be announced).
        """
        if self.mode is ReadMode.HEAD:
            return self.horizon
        if self.mode is ReadMode.FULL_SCAN:
            return self._cursor.full_scan_horizon
        newest = self.findings.newest_start
        if self.policy.announce_existing_on_first_run or newest is None:
            return None
        return newest - self.policy.overlap

    @property
    def needs_in_progress_sweep(self) -> bool:
        """The first run and the safety net list the tasks in progress (the `task-state` filter); a head
        read does when that takes fewer calls than re-checking its unseen tracked tasks by AMI. On a tie
        it re-checks: a re-check shows an end at once, where the sweep needs a re-check more for it."""
        if self.mode is not ReadMode.HEAD:
            return True
        amis = len(self.tracked_amis_to_recheck())
        return amis > 0 and self._sweep_calls() < _recheck_calls(amis)

    def observe_in_progress_page(
        self, tasks: Sequence[StoreTask], *, has_more: bool, next_token: str | None = None
    ) -> bool:
        """Takes one page of the tasks in progress; answers whether to read the next one. A task here
        never moves the high-water mark: it may have started after the listing was read."""
        if not self._observe_all(tasks, moves_high_water_mark=False):
            return False
        self._tokens[ReadPhase.SWEEP] = next_token
        if not has_more:
            self.findings.in_progress_swept = True
        return has_more

    def _observe_all(self, tasks: Sequence[StoreTask], *, moves_high_water_mark: bool) -> bool:
        """Observes the tasks in order; False once the run holds as many claims as it may."""
        for task in tasks:
            if self.findings.claim_limit_reached:
                return False
            self.observe(task, moves_high_water_mark=moves_high_water_mark)
        return not self.findings.claim_limit_reached

    def _next_page_saves_calls(self, page: Sequence[StoreTask]) -> bool:
        """Past the horizon only tracked tasks matter, and a head read finds them one of three ways:
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
        unseen = self.unseen_tracked()
        stopping = self._finish_calls(len(unseen))
        left = len(unseen) - self._likely_on_next_page(page, unseen)
        return 1 + self._finish_calls(left) < stopping

    def _finish_calls(self, tasks: int) -> int:
        """Calls that find `tasks` unseen tracked tasks without more listing pages (a re-check names one
        AMI per task: EC2 stores an AMI once at a time)."""
        if tasks <= 0:
            return 0
        return min(self._sweep_calls(), _recheck_calls(tasks))

    def _sweep_calls(self) -> int:
        """The pages of the tasks in progress: those recorded so, as the few this notifier does not know
        cannot be counted before the sweep shows them."""
        states = {**self.known, **{key: claim.state for key, claim in self.claims.items()}}
        in_progress = sum(1 for state in states.values() if state is TaskState.IN_PROGRESS)
        return math.ceil(in_progress / self._page_size)

    def _likely_on_next_page(self, page: Sequence[StoreTask], unseen: Sequence[str]) -> int:
        """How many unseen tracked tasks the next page would show: it holds as many entries as this one,
        the tracked tasks among them (their starts are known) and the others at this page's pace."""
        if not page:
            return 0
        oldest = min(task.task_start_time for task in page)
        behind = sorted((oldest - split_task_key(key)[1]).total_seconds() for key in unseen)
        return _fitting(len(page), self._pace_of_others(page, oldest), [gap for gap in behind if gap >= 0])

    def _pace_of_others(self, page: Sequence[StoreTask], oldest: datetime) -> float:
        """Entries a second on this page that are not tracked tasks; a page of tracked tasks only is
        followed by more of them. A page that started within a second counts as a second long."""
        span = (max(task.task_start_time for task in page) - oldest).total_seconds()
        others = sum(1 for task in page if self.known.get(task.key) is not TaskState.IN_PROGRESS)
        return others / max(span, 1.0)

    def observe(self, task: StoreTask, *, moves_high_water_mark: bool = True) -> None:
        state = task.state
        if state is None:
            self._note_unknown_state(task)
            return
        self.findings.tasks_seen += 1
        self.observed[task.key] = task
        if moves_high_water_mark:
            self.findings.note_start(task, self.now)
        recorded = self.claims[task.key].state if task.key in self.claims else self.known.get(task.key)
        if recorded is None:
            self._observe_unrecorded(task, state)
        else:
            self._observe_recorded(task, state, recorded)

    def _note_unknown_state(self, task: StoreTask) -> None:
        self.findings.unknown_states[task.key] = task
        if self.known.get(task.key) is TaskState.IN_PROGRESS:
            self.findings.seen_in_progress.add(task.key)

    def _observe_recorded(self, task: StoreTask, state: TaskState, recorded: TaskState) -> None:
        if recorded is TaskState.IN_PROGRESS:
            self.findings.seen_in_progress.add(task.key)
            if state.is_terminal:
                self._claim(task, state, previous=TaskState.IN_PROGRESS)

    def _observe_unrecorded(self, task: StoreTask, state: TaskState) -> None:
        if self.mode is ReadMode.BASELINE:
            self._observe_during_baseline(task, state)
        elif self.horizon is None or task.task_start_time >= self.horizon:
            self._claim(task, state, previous=None)
        elif self.mode in (ReadMode.FULL_SCAN, ReadMode.HINTS) and self._worth_checking(task, state):
            # A hint run decides an older task as the safety net would: it announces only what the
            # listing's own reading would, whatever the hint said.
            self.suspects[task.key] = task

    def _observe_during_baseline(self, task: StoreTask, state: TaskState) -> None:
        newest = self.findings.newest_start
        inside_window = newest is not None and task.task_start_time >= newest - self.policy.overlap
        announce_history = self.policy.announce_existing_on_first_run
        if (
            state is TaskState.IN_PROGRESS
            or inside_window
            or (announce_history and state in self.policy.announce_states)
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

    # -- re-checks of tracked tasks ------------------------------------------------------------

    def tracked_amis_to_recheck(self) -> list[str]:
        """AMIs of tasks recorded in progress that this run has not seen in the listing."""
        return sorted({split_task_key(key)[0] for key in self.unseen_tracked()})

    def unseen_tracked(self) -> list[str]:
        """Keys of the tasks recorded in progress that this run has neither seen nor claimed yet."""
        return [
            key
            for key, state in self.known.items()
            if state is TaskState.IN_PROGRESS
            and key not in self.findings.seen_in_progress
            and key not in self.claims
        ]

    def observe_recheck(self, tasks: Sequence[StoreTask]) -> None:
        """Takes the answer to a re-check by AMI id (EC2 returns each AMI's newest store task)."""
        for task in tasks:
            self.findings.note_recheck(task)
            self.observe(task)

    def observe_hinted(self, tasks: Sequence[StoreTask]) -> None:
        """Takes EC2's answer about the AMIs hints named. A task found this way never moves the high-water
        mark: the listing above it was not read, and the next head read must still read down to it."""
        for task in tasks:
            self.observe(task, moves_high_water_mark=False)

    def recheck_finished(self) -> None:
        self.findings.rechecked = True

    def departed(self) -> tuple[list[str], list[str]]:
        """Once the re-check by AMI has answered: the tracked tasks still unseen, as (vanished,
        superseded by a newer store of their AMI)."""
        vanished: list[str] = []
        superseded: list[str] = []
        if not self.findings.rechecked:
            return vanished, superseded
        newest = self.findings.recheck_newest_by_ami
        for key in self.unseen_tracked():
            ami, start = split_task_key(key)
            newer = newest.get(ami)
            (superseded if newer is not None and newer > start else vanished).append(key)
        return vanished, superseded

    # -- answers from the state table ---------------------------------------------------------

    def resolve(self, tasks: Iterable[StoreTask], records: Mapping[str, RecordedTask]) -> None:
        """Re-decides tasks against what the table holds: suspects of a full scan, and claims that
        lost their condition because the table knew more than the cursor did."""
        for task in tasks:
            self.suspects.pop(task.key, None)
            earlier = self.claims.pop(task.key, None)
            state = task.state
            if state is None:
                continue
            record = records.get(task.key)
            if record is None:
                self._claim(task, state, previous=None)
            else:
                self.known[task.key] = record.state
                self._observe_recorded(task, state, record.state)
            told = record.announced if record is not None else ()
            for notice in earlier.notices if earlier is not None else ():
                if notice.kind.value not in told:
                    self.add_notice(task, notice, recorded=record.state if record else state)

    def add_notice(self, task: StoreTask, notice: Notice, *, recorded: TaskState) -> None:
        """Claims a notice about a task: with the run's claim of the task, or alone when the task is
        recorded in `recorded` and the run claims nothing else of it."""
        claim = self.claims.get(task.key)
        if claim is None:
            claim = Claim(task, recorded, recorded, None)
        self.claims[task.key] = claim.with_notice(notice)

    # -- claims ---------------------------------------------------------------------------------

    def _claim(self, task: StoreTask, state: TaskState, *, previous: TaskState | None) -> None:
        if task.key not in self.claims and len(self.claims) >= MAX_CLAIMS_PER_RUN:
            self.findings.claim_limit_reached = True
            return
        self.claims[task.key] = Claim(task, state, previous, self._announcement(task, state, previous))

    def _announcement(
        self, task: StoreTask, state: TaskState, previous: TaskState | None
    ) -> Announcement | None:
        if state not in self.policy.announce_states:
            return None
        if self.mode is ReadMode.BASELINE and not self.policy.announce_existing_on_first_run:
            return None
        if state is TaskState.FAILED and len(task.failure_reason or "") > MAX_FAILURE_REASON_CHARS:
            self.findings.shortened_reasons[task.key] = task
        return announce(
            task,
            state,
            previous,
            region=self._region,
            account=self._account,
            observed_at=self.now,
            facts=(self._hints or {}).get(task.ami_id),
        )

    def report(self) -> ReadingReport:
        findings = self.findings
        vanished, superseded = self.departed()
        return ReadingReport(
            mode=self.mode,
            listing_complete=self.complete,
            tasks_seen=findings.tasks_seen,
            unknown_states=tuple(findings.unknown_states.values()),
            future_dated=tuple(findings.future_dated.values()),
            shortened_reasons=tuple(findings.shortened_reasons.values()),
            vanished=tuple(vanished),
            superseded=tuple(superseded),
            claim_limit_reached=findings.claim_limit_reached,
        )

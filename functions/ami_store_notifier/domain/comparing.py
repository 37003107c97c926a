"""Comparing each task EC2 shows with what the notifier records of it, and so what the run claims.

A task recorded in progress that ended is claimed from IN_PROGRESS; one not recorded is claimed, left
alone or, below the horizon of a safety net or a hint run, held as a suspect until the state table
says what it records (`resolve`). Where the tasks come from (listing pages, the sweep, re-checks, hints)
is `reading.py`'s concern.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from ami_store_notifier.domain.announcements import (
    MAX_FAILURE_REASON_CHARS,
    Announcement,
    HintFacts,
    announce,
)
from ami_store_notifier.domain.claims import Claim
from ami_store_notifier.domain.findings import Findings
from ami_store_notifier.domain.model import Cursor, ReadMode, RecordedTask, StoreTask, TaskState
from ami_store_notifier.domain.notices import Notice
from ami_store_notifier.domain.read_plan import Policy, choose_mode, horizon
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN


class Comparer:
    def __init__(
        self,
        cursor: Cursor,
        policy: Policy,
        *,
        region: str,
        account: str,
        now: datetime,
        hints: Mapping[str, HintFacts] | None = None,
    ) -> None:
        self.policy = policy
        self.now = now
        self._cursor = cursor
        self._region = region
        self._account = account
        # A hint run's facts by AMI; None for a scheduled run.
        self._hints = hints
        self.mode = ReadMode.HINTS if hints is not None else choose_mode(cursor, policy, now)
        self.horizon = horizon(cursor, policy)
        self.known: dict[str, TaskState] = dict(cursor.known)
        self.claims: dict[str, Claim] = {}
        self.suspects: dict[str, StoreTask] = {}
        # Every task the run saw, as EC2 last showed it (for the archive checks and stall watches).
        self.observed: dict[str, StoreTask] = {}
        self.findings = Findings()
        # Set by a hint run told of a start EC2 does not list yet: scheduled runs read until then.
        self.awake_until: datetime | None = None

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

    # -- tasks as EC2 shows them ----------------------------------------------------------------

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
        previous_net = self._cursor.full_scan_horizon
        return previous_net is None or task.task_start_time >= previous_net

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

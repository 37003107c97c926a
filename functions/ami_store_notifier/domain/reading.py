"""Reading one region's listing, as pure logic: which tasks moved, and so what the run must claim.

The reader is fed the listing page by page (newest first), the answers to targeted re-checks by AMI,
and what the state table says about tasks it asked for. It never calls AWS itself: the poller does,
and hands the answers in. This module holds where the read stands (its pages, the sweep of the tasks in
progress, the re-checks, and where the next run goes on); what each task means is `comparing.py`'s,
how far to read `read_plan.py`'s and `read_costs.py`'s. What it concludes (claims, suspects, what left
the listing) is turned into commit steps by `planning.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from ami_store_notifier.domain.announcements import HintFacts
from ami_store_notifier.domain.comparing import Comparer
from ami_store_notifier.domain.findings import ReadingReport
from ami_store_notifier.domain.model import (
    Cursor,
    ReadMode,
    ReadPhase,
    ReadProgress,
    StoreTask,
    TaskState,
    split_task_key,
)
from ami_store_notifier.domain.read_costs import next_page_saves_calls, recheck_calls, sweep_calls
from ami_store_notifier.domain.read_plan import Policy, floor
from ami_store_notifier.ec2_limits import MAX_RESULTS_PER_PAGE


class ListingReader(Comparer):
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
        super().__init__(cursor, policy, region=region, account=account, now=now, hints=hints)
        self._page_size = page_size
        self.resumed = cursor.progress
        # Per phase, the NextToken of the first page not yet fully observed (None: the first page).
        self._tokens: dict[ReadPhase, str | None] = dict.fromkeys(ReadPhase)
        if self.resumed is not None:
            self._tokens[self.resumed.phase] = self.resumed.token
            self.findings.newest_start = self.resumed.newest_start
            self.findings.listing_complete = self.resumed.phase is ReadPhase.SWEEP

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
        listing_floor = floor(self.mode, self._cursor, self.policy, self.findings.newest_start)
        if listing_floor is None or not any(task.task_start_time < listing_floor for task in tasks):
            return True
        self.findings.listing_complete = True
        return self.mode is ReadMode.HEAD and self._next_page_saves_calls(tasks)

    @property
    def needs_in_progress_sweep(self) -> bool:
        """The first run and the safety net list the tasks in progress (the `task-state` filter); a head
        read does when that takes fewer calls than re-checking its unseen tracked tasks by AMI. On a tie
        it re-checks: a re-check shows an end at once, where the sweep needs a re-check more for it."""
        if self.mode is not ReadMode.HEAD:
            return True
        amis = len(self.tracked_amis_to_recheck())
        return amis > 0 and self._sweep_calls() < recheck_calls(amis)

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
        """Whether a head read past its horizon reads on (read_costs.py): never with no tracked task
        left unseen, as stopping then costs nothing."""
        unseen = self.unseen_tracked()
        return bool(unseen) and next_page_saves_calls(page, unseen, self.known, self._sweep_calls())

    def _sweep_calls(self) -> int:
        states = {**self.known, **{key: claim.state for key, claim in self.claims.items()}}
        return sweep_calls(states.values(), self._page_size)

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

"""One run for one region: read what changed, claim it in the table, announce it, settle it.

A scheduled run reads the listing; a hint run asks EC2 only about the AMIs that hints name
(domain/hints.py), and claims and announces through the same steps.

The order is what makes delivery safe. A transition is claimed (recorded, with its deliveries
pending under a lease) in the same transaction that moves the cursor, before anything is sent; it
is forgotten only after the channel accepted it. A crash at any point leaves either nothing done or
a pending delivery that a later run takes over when the lease ends. Only one of two overlapping runs
can move the cursor, so without faults each transition is sent once.

This module orders a run's steps; asking EC2 within the run's calls and time is `fetching.py`'s, and
what the reading makes of the answers is `domain/reading.py`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from ami_store_notifier.assurance import NO_ASSURANCE, Assurance, AssurancePolicy
from ami_store_notifier.claiming import Claimer
from ami_store_notifier.delivery import TimeLeft, claimed_deliveries, deliver
from ami_store_notifier.domain.hints import (
    AWAKE_AFTER_AN_UNLISTED_START,
    Hint,
    HintAnswers,
    any_start_ahead,
    facts_by_ami,
)
from ami_store_notifier.domain.model import Cursor, ReadMode
from ami_store_notifier.domain.planning import CHANNELS, CommitStep, Planner
from ami_store_notifier.domain.read_costs import recheck_calls
from ami_store_notifier.domain.read_plan import Policy, idle, stays_quiet
from ami_store_notifier.domain.reading import ListingReader
from ami_store_notifier.fetching import Fetcher
from ami_store_notifier.ports import (
    ArchiveReader,
    CallBudget,
    HintCallAllowance,
    ImageSizes,
    Publisher,
    StateStore,
    TaskSource,
    TransientAwsError,
)
from ami_store_notifier.rechecks import Recheck
from ami_store_notifier.report import QUIET, RunReport
from ami_store_notifier.run_findings import record_findings
from ami_store_notifier.time_budget import TimeBudget

logger = logging.getLogger(__name__)

MAX_PENDING_BEFORE_READING = 2 * 1000
T = TypeVar("T")


@dataclass(frozen=True)
class HintRun:
    report: RunReport
    answers: HintAnswers


class Poller:
    def __init__(
        self,
        *,
        region: str,
        account: str,
        policy: Policy,
        page_size: int,
        source: TaskSource,
        store: StateStore,
        publishers: Sequence[Publisher],
        clock: Callable[[], datetime],
        seconds_left: Callable[[], float],
        delivery_reserve_seconds: float,
        quiet_when_idle: bool = False,
        assurance: AssurancePolicy = NO_ASSURANCE,
        archives: ArchiveReader | None = None,
        sizes: ImageSizes | None = None,
    ) -> None:
        channels = tuple(publisher.channel for publisher in publishers)
        if len(set(channels)) != len(channels) or not set(CHANNELS) <= set(channels):
            raise ValueError(f"one publisher per channel is needed, {CHANNELS} at least: got {channels}")
        self._channels = channels
        self._region = region
        self._account = account
        self._policy = policy
        self._page_size = page_size
        self._source = source
        self._store = store
        self._publishers = publishers
        self._clock = clock
        self._time = TimeBudget(seconds_left, delivery_reserve_seconds)
        self._quiet_when_idle = quiet_when_idle
        self._assurance = assurance
        self._archives = archives
        self._sizes = sizes

    @property
    def region(self) -> str:
        return self._region

    def run(self) -> RunReport:
        report = RunReport(region=self._region)
        self._timed(report, partial(self._run, report))
        return report

    def run_hints(self, hints: Sequence[Hint], allowance: HintCallAllowance) -> HintRun:
        """Asks EC2 about the AMIs the hints name, within the calls `allowance` grants, and claims what
        the answers show as a scheduled run would."""
        report = RunReport(region=self._region, mode=ReadMode.HINTS.value)
        answers = self._timed(report, partial(self._run_hints, report, hints, allowance))
        return HintRun(report, answers or HintAnswers(frozenset(), {}, recorded=False))

    def _timed(self, report: RunReport, run: Callable[[], T]) -> T | None:
        """The run's result; None when AWS stayed unavailable (the report says so)."""
        started = time.perf_counter()
        result = None
        try:
            result = run()
        except TransientAwsError as error:
            report.stop_unavailable(error)
            logger.warning("AWS stayed unavailable; the next run catches up", extra={"error": str(error)})
        report.duration_ms = (time.perf_counter() - started) * 1000
        return result

    def _run(self, report: RunReport) -> None:
        cursor = self._store.load_cursor()
        now = self._clock()
        if self._quiet_when_idle and stays_quiet(cursor, self._policy, now):
            report.mode = QUIET
            return
        reader = self._reader(cursor, now)
        report.mode = reader.mode.value
        report.read_goes_on = reader.resumed is not None
        if len(cursor.pending) >= MAX_PENDING_BEFORE_READING:
            report.stop("delivery-backlog")
            logger.warning(
                "Delivery backlog: delivering before reading more", extra={"pending": len(cursor.pending)}
            )
        else:
            self._fetcher(report).read(reader)
        steps_done = self._claim_and_deliver(cursor, reader, report).steps
        if self._quiet_when_idle and idle(cursor, now):
            # The safety net of an idle account: every start it claims came without a hint.
            report.starts_without_hint = sum(
                1 for step in steps_done for claim in step.claims if claim.previous_state is None
            )

    def _reader(self, cursor: Cursor, now: datetime, hints: Sequence[Hint] | None = None) -> ListingReader:
        return ListingReader(
            cursor,
            self._policy,
            region=self._region,
            account=self._account,
            now=now,
            page_size=self._page_size,
            hints=None if hints is None else facts_by_ami(hints),
        )

    def _fetcher(self, report: RunReport) -> Fetcher:
        return Fetcher(
            source=self._source, store=self._store, page_size=self._page_size, time=self._time, report=report
        )

    def _claim_and_deliver(self, cursor: Cursor, reader: ListingReader, report: RunReport) -> Claimed:
        assurance = Assurance(
            self._assurance,
            archives=self._archives,
            sizes=self._sizes,
            report=report,
            time_to_stop=self._time.time_to_stop,
        )
        watches = assurance.conclude(cursor, reader)
        planner = Planner(cursor, reader, self._channels, watches)
        claimer = Claimer(self._store, reader, planner, report)
        steps_done = claimer.commit()
        record_findings(reader.report(), report)
        report.tasks_in_progress = planner.in_progress_count()
        time_left = TimeLeft(self._time.seconds_left, self._time.reserve, report)
        deliver(claimed_deliveries(steps_done), self._store, self._publishers, time_left)
        return Claimed(steps_done, claimer.all_written)

    # -- hints -----------------------------------------------------------------------------------

    def _run_hints(
        self, report: RunReport, hints: Sequence[Hint], allowance: HintCallAllowance
    ) -> HintAnswers:
        cursor = self._store.load_cursor()
        amis = sorted({hint.ami_id for hint in hints})
        if not cursor.baselined:
            # The first read claims every store in progress and its window: a hint adds nothing to it.
            return HintAnswers(frozenset(amis), {}, recorded=True)
        reader = self._reader(cursor, self._clock(), hints)
        budget = CallBudget(allowance.take(recheck_calls(len(amis))))
        recheck = Recheck(amis, seed=reader.now.isoformat())
        tasks = self._fetcher(report).ask_about(recheck, reader, budget)
        answered = frozenset(amis) - recheck.unanswered
        if any_start_ahead(hints, tasks):
            # EC2 lists a task a little after the call that started it (eventual consistency): the
            # scheduled runs read until it does, so a quiet deployment finds its end in time too.
            reader.awake_until = reader.now + AWAKE_AFTER_AN_UNLISTED_START
        claimed = self._claim_and_deliver(cursor, reader, report)
        report.hints_asked = len(answered)
        return HintAnswers(answered, tasks, recorded=claimed.all_written and not reader.suspects)


@dataclass(frozen=True)
class Claimed:
    steps: list[CommitStep]
    all_written: bool

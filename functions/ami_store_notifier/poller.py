"""One run for one region: read what changed, claim it in the table, announce it, settle it.

A scheduled run reads the listing; a hint run asks EC2 only about the AMIs that hints name
(domain/hints.py), and claims and announces through the same steps.

The order is what makes delivery safe. A transition is claimed (recorded, with its deliveries
pending under a lease) in the same transaction that moves the cursor, before anything is sent; it
is forgotten only after the channel accepted it. A crash at any point leaves either nothing done or
a pending delivery that a later run takes over when the lease ends. Only one of two overlapping runs
can move the cursor, so without faults each transition is sent once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from ami_store_notifier.assurance import NO_ASSURANCE, Assurance, AssurancePolicy
from ami_store_notifier.claiming import Claimer
from ami_store_notifier.delivery import TimeLeft, claimed_deliveries, deliver
from ami_store_notifier.domain.findings import ReadingReport
from ami_store_notifier.domain.hints import (
    AWAKE_AFTER_AN_UNLISTED_START,
    Hint,
    HintAnswers,
    any_start_ahead,
    facts_by_ami,
)
from ami_store_notifier.domain.model import Cursor, ReadMode, ReadPhase, StoreTask
from ami_store_notifier.domain.planning import CHANNELS, CommitStep, Planner
from ami_store_notifier.domain.reading import (
    MAX_DESCRIBE_CALLS_PER_RUN,
    ListingReader,
    Policy,
    idle,
    stays_quiet,
)
from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
from ami_store_notifier.ports import (
    ArchiveReader,
    CallBudget,
    CallBudgetSpentError,
    HintCallAllowance,
    ImageSizes,
    ListingPage,
    ListingTokenRefusedError,
    Publisher,
    StateStore,
    TaskSource,
    TransientAwsError,
)
from ami_store_notifier.rechecks import Recheck
from ami_store_notifier.report import CALL_BUDGET_SPENT, QUIET, RunReport

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
        self._seconds_left = seconds_left
        self._reserve = delivery_reserve_seconds
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
            self._read(reader, report)
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

    def _claim_and_deliver(self, cursor: Cursor, reader: ListingReader, report: RunReport) -> Claimed:
        assurance = Assurance(
            self._assurance,
            archives=self._archives,
            sizes=self._sizes,
            report=report,
            time_to_stop=self._time_to_stop,
        )
        watches = assurance.conclude(cursor, reader)
        planner = Planner(cursor, reader, self._channels, watches)
        claimer = Claimer(self._store, reader, planner, report)
        steps_done = claimer.commit()
        record_findings(reader.report(), report)
        report.tasks_in_progress = planner.in_progress_count()
        time_left = TimeLeft(self._seconds_left, self._reserve, report)
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
        budget = CallBudget(allowance.take(math.ceil(len(amis) / MAX_IMAGE_IDS_PER_CALL)))
        recheck = Recheck(amis, seed=reader.now.isoformat())
        tasks = self._ask_about(recheck, reader, report, budget)
        answered = frozenset(amis) - recheck.unanswered
        if any_start_ahead(hints, tasks):
            # EC2 lists a task a little after the call that started it (eventual consistency): the
            # scheduled runs read until it does, so a quiet deployment finds its end in time too.
            reader.awake_until = reader.now + AWAKE_AFTER_AN_UNLISTED_START
        claimed = self._claim_and_deliver(cursor, reader, report)
        report.hints_asked = len(answered)
        return HintAnswers(answered, tasks, recorded=claimed.all_written and not reader.suspects)

    def _ask_about(
        self, recheck: Recheck, reader: ListingReader, report: RunReport, budget: CallBudget
    ) -> dict[str, StoreTask]:
        """EC2's newest task of each hinted AMI it answered for, each answer observed as it comes."""
        tasks: dict[str, StoreTask] = {}
        ask = partial(self._source.by_ami, budget=budget)
        try:
            for page in recheck.pages(ask, lambda: self._may_call(report, budget)):
                note_anomalies(page, report)
                tasks |= {task.ami_id: task for task in page.tasks}
                reader.observe_hinted(page.tasks)
            self._check_suspects(reader)
        except CallBudgetSpentError:
            report.stop(CALL_BUDGET_SPENT)
        except TransientAwsError as error:
            report.stop_unavailable(error)
            logger.warning("Asking about hints stopped: AWS stayed unavailable", extra={"error": str(error)})
        return tasks

    # -- reading ---------------------------------------------------------------------------------

    def _time_to_stop(self) -> bool:
        return self._seconds_left() <= self._reserve

    def _read(self, reader: ListingReader, report: RunReport) -> None:
        budget = CallBudget(MAX_DESCRIBE_CALLS_PER_RUN)
        try:
            if not reader.listing_read:
                self._read_phase(reader, report, budget, ReadPhase.LISTING)
            if report.stopped_because is None and reader.needs_in_progress_sweep:
                self._read_phase(reader, report, budget, ReadPhase.SWEEP)
            if report.stopped_because is None:
                self._recheck_tracked(reader, report, budget)
            self._check_suspects(reader)
        except CallBudgetSpentError:
            report.stop(CALL_BUDGET_SPENT)
            logger.info("Call budget spent: the next run goes on from here")
        except TransientAwsError as error:
            report.stop_unavailable(error)
            logger.warning("Reading stopped: AWS stayed unavailable", extra={"error": str(error)})

    def _read_phase(
        self, reader: ListingReader, report: RunReport, budget: CallBudget, phase: ReadPhase
    ) -> None:
        """Reads one phase, going on from where an earlier run stopped; when EC2 refuses that run's
        NextToken, the phase starts over from its first page (once: a refusal then is an outage)."""
        try:
            self._read_pages(reader, report, budget, phase)
        except ListingTokenRefusedError as refused:
            report.listing_restarts += 1
            logger.warning(
                "EC2 refused the saved NextToken: the read starts over from the top",
                extra={"phase": phase.value, "error": str(refused)},
            )
            reader.start_over(phase)
            self._read_pages(reader, report, budget, phase)

    def _read_pages(
        self, reader: ListingReader, report: RunReport, budget: CallBudget, phase: ReadPhase
    ) -> None:
        """The phase's pages, as long as the reader wants more and the run has calls and time left."""
        sweep = phase is ReadPhase.SWEEP
        pages = self._source.pages(
            self._page_size, budget, in_progress_only=sweep, start_token=reader.resume_token(phase)
        )
        observe = reader.observe_in_progress_page if sweep else reader.observe_page
        while self._may_call(report, budget):
            page = next(pages, None)
            if page is None:
                return
            note_anomalies(page, report)
            if not observe(page.tasks, has_more=page.has_more, next_token=page.next_token):
                return

    def _recheck_tracked(self, reader: ListingReader, report: RunReport, budget: CallBudget) -> None:
        """Each answer reaches the reader as it comes; the re-check counts as finished (and so its
        tracked tasks EC2 did not return as departed) only once every AMI was answered."""
        recheck = Recheck(reader.tracked_amis_to_recheck(), seed=reader.now.isoformat())
        ask = partial(self._source.by_ami, budget=budget)
        for page in recheck.pages(ask, lambda: self._may_call(report, budget)):
            note_anomalies(page, report)
            reader.observe_recheck(page.tasks)
        if recheck.finished:
            reader.recheck_finished()

    def _may_call(self, report: RunReport, budget: CallBudget) -> bool:
        """Whether one more DescribeStoreImageTasks call fits the time the run has left; once the run's
        calls are spent, CallBudgetSpentError ends its reading."""
        budget.ensure_left()
        if self._time_to_stop():
            report.stop("time")
            logger.warning("Little time left: reading stops here; the next run goes on")
            return False
        return True

    def _check_suspects(self, reader: ListingReader) -> None:
        suspects = dict(reader.suspects)
        if suspects:
            reader.resolve(suspects.values(), self._store.load_records(list(suspects)))


@dataclass(frozen=True)
class Claimed:
    steps: list[CommitStep]
    all_written: bool


def note_anomalies(page: ListingPage, report: RunReport) -> None:
    for anomaly in page.anomalies:
        if anomaly.skipped:
            report.unparseable_tasks += 1
            logger.error("Listing entry skipped: %s", anomaly.reason, extra={"entry": anomaly.entry})
        else:
            report.malformed_tasks += 1
            logger.warning("Listing entry repaired: %s", anomaly.reason, extra={"entry": anomaly.entry})


def record_findings(findings: ReadingReport, report: RunReport) -> None:
    """Counts what the reading found beside the transitions, and logs each finding once."""
    report.tasks_seen = findings.tasks_seen
    report.listing_complete = findings.listing_complete
    report.unknown_states = len(findings.unknown_states)
    report.malformed_tasks += len(findings.future_dated)
    report.failure_reasons_shortened = len(findings.shortened_reasons)
    report.vanished = len(findings.vanished)
    report.superseded = len(findings.superseded)
    for task in findings.unknown_states:
        logger.warning(
            "Task in a state this version does not know; left as it was",
            extra={"task": task.key, "state": task.state_name},
        )
    for task in findings.future_dated:
        logger.warning(
            "Task starts in the future by this poller's clock; handled, but not taken as the newest",
            extra={"task": task.key},
        )
    for task in findings.shortened_reasons:
        logger.warning(
            "Failure reason too long for the channels' limits; announced shortened",
            extra={"task": task.key, "characters": len(task.failure_reason or "")},
        )
    for key in findings.vanished:
        logger.warning("Task recorded in progress left the listing; not announced", extra={"task": key})
    for key in findings.superseded:
        logger.warning(
            "Task recorded in progress was superseded by a newer store of its AMI; not announced",
            extra={"task": key},
        )

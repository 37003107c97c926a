"""Asking EC2 what a run's reader needs, within the run's calls and time: each phase's pages (going on
from where an earlier run stopped), the re-checks of tracked tasks by AMI, and the AMIs hints named; and
the state table, about the suspects the answers raised. Each answer reaches the reader as it comes."""

from __future__ import annotations

import logging
from functools import partial

from ami_store_notifier.domain.model import ReadPhase, StoreTask
from ami_store_notifier.domain.reading import ListingReader
from ami_store_notifier.domain.run_limits import MAX_DESCRIBE_CALLS_PER_RUN
from ami_store_notifier.ports import (
    CallBudget,
    CallBudgetSpentError,
    ListingTokenRefusedError,
    StateStore,
    TaskSource,
    TransientAwsError,
)
from ami_store_notifier.rechecks import Recheck
from ami_store_notifier.report import CALL_BUDGET_SPENT, RunReport
from ami_store_notifier.run_findings import note_anomalies
from ami_store_notifier.time_budget import TimeBudget

logger = logging.getLogger(__name__)


class Fetcher:
    def __init__(
        self, *, source: TaskSource, store: StateStore, page_size: int, time: TimeBudget, report: RunReport
    ) -> None:
        self._source = source
        self._store = store
        self._page_size = page_size
        self._time = time
        self._report = report

    def read(self, reader: ListingReader) -> None:
        """A scheduled run's read: the listing, the sweep of the tasks in progress when the reader needs
        it, and the re-checks, within MAX_DESCRIBE_CALLS_PER_RUN calls."""
        report = self._report
        budget = CallBudget(MAX_DESCRIBE_CALLS_PER_RUN)
        try:
            if not reader.listing_read:
                self._read_phase(reader, budget, ReadPhase.LISTING)
            if report.stopped_because is None and reader.needs_in_progress_sweep:
                self._read_phase(reader, budget, ReadPhase.SWEEP)
            if report.stopped_because is None:
                self._recheck_tracked(reader, budget)
            self._check_suspects(reader)
        except CallBudgetSpentError:
            report.stop(CALL_BUDGET_SPENT)
            logger.info("Call budget spent: the next run goes on from here")
        except TransientAwsError as error:
            report.stop_unavailable(error)
            logger.warning("Reading stopped: AWS stayed unavailable", extra={"error": str(error)})

    def ask_about(self, recheck: Recheck, reader: ListingReader, budget: CallBudget) -> dict[str, StoreTask]:
        """EC2's newest task of each hinted AMI it answered for, each answer observed as it comes."""
        report = self._report
        tasks: dict[str, StoreTask] = {}
        ask = partial(self._source.by_ami, budget=budget)
        try:
            for page in recheck.pages(ask, lambda: self._time.may_call(report, budget)):
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

    def _read_phase(self, reader: ListingReader, budget: CallBudget, phase: ReadPhase) -> None:
        """Reads one phase, going on from where an earlier run stopped; when EC2 refuses that run's
        NextToken, the phase starts over from its first page (once: a refusal then is an outage)."""
        try:
            self._read_pages(reader, budget, phase)
        except ListingTokenRefusedError as refused:
            self._report.listing_restarts += 1
            logger.warning(
                "EC2 refused the saved NextToken: the read starts over from the top",
                extra={"phase": phase.value, "error": str(refused)},
            )
            reader.start_over(phase)
            self._read_pages(reader, budget, phase)

    def _read_pages(self, reader: ListingReader, budget: CallBudget, phase: ReadPhase) -> None:
        """The phase's pages, as long as the reader wants more and the run has calls and time left."""
        sweep = phase is ReadPhase.SWEEP
        pages = self._source.pages(
            self._page_size, budget, in_progress_only=sweep, start_token=reader.resume_token(phase)
        )
        observe = reader.observe_in_progress_page if sweep else reader.observe_page
        while self._time.may_call(self._report, budget):
            page = next(pages, None)
            if page is None:
                return
            note_anomalies(page, self._report)
            if not observe(page.tasks, has_more=page.has_more, next_token=page.next_token):
                return

    def _recheck_tracked(self, reader: ListingReader, budget: CallBudget) -> None:
        """Each answer reaches the reader as it comes; the re-check counts as finished (and so its
        tracked tasks EC2 did not return as departed) only once every AMI was answered."""
        recheck = Recheck(reader.tracked_amis_to_recheck(), seed=reader.now.isoformat())
        ask = partial(self._source.by_ami, budget=budget)
        for page in recheck.pages(ask, lambda: self._time.may_call(self._report, budget)):
            note_anomalies(page, self._report)
            reader.observe_recheck(page.tasks)
        if recheck.finished:
            reader.recheck_finished()

    def _check_suspects(self, reader: ListingReader) -> None:
        suspects = dict(reader.suspects)
        if suspects:
            reader.resolve(suspects.values(), self._store.load_records(list(suspects)))

"""Writing what a run's reading concluded: the planner's steps, each one transaction, in order.

Only one of two overlapping runs can move the cursor, so without faults each transition is claimed once;
a claim the table already holds is refused by its condition, and the reader re-decides it from the
table's record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ami_store_notifier.domain.planning import CommitStep, Planner
from ami_store_notifier.domain.reading import ListingReader
from ami_store_notifier.ports import CommitOutcome, CommitResult, StateStore, TransientAwsError
from ami_store_notifier.report import RunReport

logger = logging.getLogger(__name__)

MAX_COMMIT_ATTEMPTS = 4


class Claimer:
    def __init__(self, store: StateStore, reader: ListingReader, planner: Planner, report: RunReport) -> None:
        self._store = store
        self._reader = reader
        self._planner = planner
        self._report = report

    def commit(self) -> list[CommitStep]:
        """The steps written; the run stops claiming at a conflict, or when AWS stays unavailable."""
        done: list[CommitStep] = []
        for _ in range(MAX_COMMIT_ATTEMPTS):
            steps = self._planner.plan()
            if not steps or not self._commit_steps(steps, done):
                return done
        self._report.stop("commit-retries-exhausted")
        return done

    @property
    def all_written(self) -> bool:
        return not self._planner.unwritten_claims()

    def _commit_steps(self, steps: Sequence[CommitStep], done: list[CommitStep]) -> bool:
        """Commits the steps in order; True when a rejected step means planning again."""
        planner = self._planner
        for step in steps:
            result = self._try_commit(planner.cursor_version, step)
            if result is None or result.outcome is CommitOutcome.CONFLICT:
                return False
            if result.outcome is CommitOutcome.REJECTED:
                # The cursor's known tasks may lag the table (a run cut short after some of its
                # steps): every claim still to write is checked at once, not one step per attempt.
                unwritten = [claim.task for claim in planner.unwritten_claims()]
                self._reader.resolve(unwritten, self._store.load_records([task.key for task in unwritten]))
                return True
            planner.committed(step)
            done.append(step)
            self._report.claims_committed += len(step.claims)
            self._report.announced.update(
                milestone for claim in step.claims for milestone in claim.announced()
            )
        return False

    def _try_commit(self, version: int, step: CommitStep) -> CommitResult | None:
        """The store's answer, or None when AWS stayed unavailable (the run stops claiming)."""
        try:
            result = self._store.commit(version, step)
        except TransientAwsError as error:
            self._report.stop_unavailable(error)
            logger.warning("Claiming stopped: AWS stayed unavailable", extra={"error": str(error)})
            return None
        if result.outcome is CommitOutcome.CONFLICT:
            self._report.stop("overlapping-run")
            logger.info("Another run moved the cursor first; it owns the rest of this work")
        return result

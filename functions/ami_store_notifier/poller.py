"""One run for one region: read what changed, claim it in the table, announce it, settle it.

The order is what makes delivery safe. A transition is claimed (recorded, with its deliveries
pending under a lease) in the same transaction that moves the cursor, before anything is sent; it
is forgotten only after the channel accepted it. A crash at any point leaves either nothing done or
a pending delivery that a later run takes over when the lease ends. Only one of two overlapping runs
can move the cursor, so without faults each transition is sent once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from ami_store_notifier.domain.announcements import Announcement
from ami_store_notifier.domain.model import PendingDelivery
from ami_store_notifier.domain.session import (
    CHANNELS,
    MAX_IMAGE_IDS_PER_CALL,
    CommitStep,
    Policy,
    PollSession,
)
from ami_store_notifier.ports import (
    CommitOutcome,
    ListingPage,
    Publisher,
    StateStore,
    TaskSource,
    TransientAwsError,
)
from ami_store_notifier.report import AWS_UNAVAILABLE, RunReport

logger = logging.getLogger(__name__)

MAX_PENDING_BEFORE_READING = 2 * 1000
MAX_COMMIT_ATTEMPTS = 4


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
    ) -> None:
        if sorted(publisher.channel for publisher in publishers) != sorted(CHANNELS):
            raise ValueError(f"one publisher per channel is needed: {CHANNELS}")
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

    @property
    def region(self) -> str:
        return self._region

    def run(self) -> RunReport:
        started = time.perf_counter()
        report = RunReport(region=self._region)
        try:
            self._run(report)
        except TransientAwsError as error:
            report.stop(AWS_UNAVAILABLE)
            logger.warning("AWS stayed unavailable; the next run catches up", extra={"error": str(error)})
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    def _run(self, report: RunReport) -> None:
        cursor = self._store.load_cursor()
        session = PollSession(
            cursor, self._policy, region=self._region, account=self._account, now=self._clock()
        )
        report.mode = session.mode.value
        if len(cursor.pending) >= MAX_PENDING_BEFORE_READING:
            report.stop("delivery-backlog")
            logger.warning(
                "Delivery backlog: delivering before reading more", extra={"pending": len(cursor.pending)}
            )
        else:
            self._read(session, report)

        steps_done = self._commit(session, report)
        deliveries = self._claimed_deliveries(steps_done)
        summary = session.report()
        report.tasks_seen = summary.tasks_seen
        report.listing_complete = summary.listing_complete
        report.unknown_states = len(summary.unknown_states)
        report.malformed_tasks += len(summary.future_dated)
        report.failure_reasons_shortened = len(summary.shortened_reasons)
        report.vanished = len(summary.vanished)
        report.superseded = len(summary.superseded)
        report.tasks_in_progress = session.in_progress_count()
        for task in summary.unknown_states:
            logger.warning(
                "Task in a state this version does not know; left as it was",
                extra={"task": task.key, "state": task.state_name},
            )
        for task in summary.future_dated:
            logger.warning(
                "Task starts in the future by this poller's clock; handled, but not taken as the newest",
                extra={"task": task.key},
            )
        for task in summary.shortened_reasons:
            logger.warning(
                "Failure reason too long for the channels' limits; announced shortened",
                extra={"task": task.key, "characters": len(task.failure_reason or "")},
            )
        for key in summary.vanished:
            logger.warning("Task recorded in progress left the listing; not announced", extra={"task": key})
        for key in summary.superseded:
            logger.warning(
                "Task recorded in progress was superseded by a newer store of its AMI; not announced",
                extra={"task": key},
            )
        self._deliver(deliveries, report)

    # -- reading ---------------------------------------------------------------------------------

    def _time_to_stop(self) -> bool:
        return self._seconds_left() <= self._reserve

    def _read(self, session: PollSession, report: RunReport) -> None:
        try:
            self._read_listing(session, report)
            if report.stopped_because is None:
                self._recheck_tracked(session, report)
            self._check_suspects(session)
        except TransientAwsError as error:
            report.stop(AWS_UNAVAILABLE)
            logger.warning("Reading stopped: AWS stayed unavailable", extra={"error": str(error)})

    def _read_listing(self, session: PollSession, report: RunReport) -> None:
        pages = self._source.pages(self._page_size)
        while True:
            if self._time_to_stop():
                report.stop("time")
                logger.warning("Little time left: reading stops here; the next run goes on")
                return
            page = next(pages, None)
            if page is None:
                return
            self._note_anomalies(page, report)
            if not session.observe_page(page.tasks, has_more=page.has_more):
                return

    @staticmethod
    def _note_anomalies(page: ListingPage, report: RunReport) -> None:
        for anomaly in page.anomalies:
            if anomaly.skipped:
                report.unparseable_tasks += 1
                logger.error("Listing entry skipped: %s", anomaly.reason, extra={"entry": anomaly.entry})
            else:
                report.malformed_tasks += 1
                logger.warning("Listing entry repaired: %s", anomaly.reason, extra={"entry": anomaly.entry})

    def _recheck_tracked(self, session: PollSession, report: RunReport) -> None:
        amis = session.tracked_amis_to_recheck()
        for start in range(0, len(amis), MAX_IMAGE_IDS_PER_CALL):
            if self._time_to_stop():
                report.stop("time")
                return
            page = self._source.by_ami(amis[start : start + MAX_IMAGE_IDS_PER_CALL])
            self._note_anomalies(page, report)
            session.observe_recheck(page.tasks)
        session.recheck_finished()

    def _check_suspects(self, session: PollSession) -> None:
        suspects = session.suspects()
        if suspects:
            session.resolve(suspects.values(), self._store.load_records(list(suspects)))

    # -- claiming --------------------------------------------------------------------------------

    def _commit(self, session: PollSession, report: RunReport) -> list[CommitStep]:
        done: list[CommitStep] = []
        for _ in range(MAX_COMMIT_ATTEMPTS):
            steps = session.plan()
            if not steps:
                return done
            for step in steps:
                try:
                    result = self._store.commit(session.cursor_version, step)
                except TransientAwsError as error:
                    report.stop(AWS_UNAVAILABLE)
                    logger.warning("Claiming stopped: AWS stayed unavailable", extra={"error": str(error)})
                    return done
                if result.outcome is CommitOutcome.CONFLICT:
                    report.stop("overlapping-run")
                    logger.info("Another run moved the cursor first; it owns the rest of this work")
                    return done
                if result.outcome is CommitOutcome.REJECTED:
                    tasks = [claim.task for claim in step.claims if claim.task.key in result.rejected_keys]
                    session.resolve(tasks, self._store.load_records([task.key for task in tasks]))
                    break
                session.committed(step)
                done.append(step)
                report.claims_committed += len(step.claims)
                report.announced.update(
                    claim.state.value for claim in step.claims if claim.announcement is not None
                )
            else:
                return done
        report.stop("commit-retries-exhausted")
        return done

    @staticmethod
    def _claimed_deliveries(steps: Sequence[CommitStep]) -> list[tuple[PendingDelivery, Announcement | None]]:
        announcements = {
            (claim.task.key, claim.state): claim.announcement for step in steps for claim in step.claims
        }
        return [
            (lease, announcements.get((lease.key, lease.state)))
            for step in steps
            for lease in step.cursor.leases
        ]

    # -- delivering ------------------------------------------------------------------------------

    def _deliver(
        self, deliveries: list[tuple[PendingDelivery, Announcement | None]], report: RunReport
    ) -> None:
        if not deliveries:
            return
        delivered: list[PendingDelivery] = []
        failed: list[PendingDelivery] = []
        stored: dict[str, Announcement] = {}
        taken_over = [lease for lease, announcement in deliveries if announcement is None]
        stored_readable = True
        if taken_over:
            try:
                stored = self._store.load_announcements(taken_over)
            except TransientAwsError:
                report.stop(AWS_UNAVAILABLE)
                stored_readable = False
        by_channel: dict[str, list[tuple[PendingDelivery, Announcement]]] = defaultdict(list)
        for lease, claimed in deliveries:
            announcement = claimed or stored.get(lease.entry_id)
            if announcement is not None:
                by_channel[lease.channel].append((lease, announcement))
            elif not stored_readable:
                failed.append(lease)
            else:
                # Written in the same transaction as its claim: only a deleted item gets here.
                logger.error(
                    "Pending delivery has no stored announcement; dropped", extra={"entry": lease.entry_id}
                )
                delivered.append(lease)

        for publisher in self._publishers:
            ready = by_channel.get(publisher.channel, [])
            if not ready:
                continue
            result = publisher.publish([announcement for _, announcement in ready])
            if result.throttled_or_unavailable:
                report.stop(AWS_UNAVAILABLE)
            for lease, announcement in ready:
                (delivered if announcement.event_id in result.delivered else failed).append(lease)
            for event_id, reason in result.failures.items():
                logger.warning(
                    "Publish refused; the next run retries",
                    extra={"channel": publisher.channel, "eventId": event_id, "reason": reason},
                )

        report.publish_failures = len(failed)
        claimed_now = {lease.entry_id for lease, announcement in deliveries if announcement is not None}
        report.redelivered = sum(1 for lease in delivered if lease.entry_id not in claimed_now)
        try:
            self._store.settle(delivered, failed)
        except TransientAwsError as error:
            report.stop(AWS_UNAVAILABLE)
            logger.warning(
                "Settling failed; leases expire and deliveries repeat", extra={"error": str(error)}
            )

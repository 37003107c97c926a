"""What a run's reading found beside its claims, counted in the run's report and logged once each."""

from __future__ import annotations

import logging

from ami_store_notifier.domain.findings import ReadingReport
from ami_store_notifier.ports import ListingPage
from ami_store_notifier.report import RunReport

logger = logging.getLogger(__name__)


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

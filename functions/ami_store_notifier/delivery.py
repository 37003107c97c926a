"""Delivering what a run claimed or took over, then settling it in the table.

A delivery is forgotten only after its channel accepted it; a refused one stays pending for the next
run. Each function does one part: find the announcements, publish per channel, settle.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ami_store_notifier.domain.announcements import Announcement
from ami_store_notifier.domain.model import PendingDelivery
from ami_store_notifier.domain.planning import CommitStep
from ami_store_notifier.ports import Publisher, StateStore, TransientAwsError
from ami_store_notifier.report import AWS_UNAVAILABLE, RunReport

logger = logging.getLogger(__name__)

# A lease with its announcement, when this run claimed it (None: taken over, stored in the table).
Delivery = tuple[PendingDelivery, Announcement | None]
Ready = list[tuple[PendingDelivery, Announcement]]


@dataclass
class Settlement:
    delivered: list[PendingDelivery] = field(default_factory=list)
    failed: list[PendingDelivery] = field(default_factory=list)


def claimed_deliveries(steps: Sequence[CommitStep]) -> list[Delivery]:
    """The leases the committed steps hold, with the announcements of this run's own claims."""
    announcements = {
        (claim.task.key, claim.state): claim.announcement for step in steps for claim in step.claims
    }
    return [
        (lease, announcements.get((lease.key, lease.state))) for step in steps for lease in step.cursor.leases
    ]


def deliver(
    deliveries: Sequence[Delivery], store: StateStore, publishers: Sequence[Publisher], report: RunReport
) -> None:
    if not deliveries:
        return
    settlement = Settlement()
    by_channel = _ready_by_channel(deliveries, _stored_announcements(deliveries, store, report), settlement)
    for publisher in publishers:
        _publish(publisher, by_channel.pop(publisher.channel, []), settlement, report)
    _drop_unconfigured(by_channel, settlement)
    report.publish_failures = len(settlement.failed)
    claimed_now = {lease.entry_id for lease, announcement in deliveries if announcement is not None}
    report.redelivered = sum(1 for lease in settlement.delivered if lease.entry_id not in claimed_now)
    _settle(store, settlement, report)


def _stored_announcements(
    deliveries: Sequence[Delivery], store: StateStore, report: RunReport
) -> dict[str, Announcement] | None:
    """The announcements of deliveries taken over from earlier runs; None when the table is unreachable."""
    taken_over = [lease for lease, announcement in deliveries if announcement is None]
    if not taken_over:
        return {}
    try:
        return dict(store.load_announcements(taken_over))
    except TransientAwsError as error:
        report.stop_unavailable(error)
        return None


def _ready_by_channel(
    deliveries: Sequence[Delivery], stored: dict[str, Announcement] | None, settlement: Settlement
) -> dict[str, Ready]:
    by_channel: dict[str, Ready] = defaultdict(list)
    for lease, claimed in deliveries:
        announcement = claimed or (stored or {}).get(lease.entry_id)
        if announcement is not None:
            by_channel[lease.channel].append((lease, announcement))
        elif stored is None:
            settlement.failed.append(lease)
        else:
            # Written in the same transaction as its claim: only a deleted item gets here.
            logger.error(
                "Pending delivery has no stored announcement; dropped", extra={"entry": lease.entry_id}
            )
            settlement.delivered.append(lease)
    return by_channel


def _publish(publisher: Publisher, ready: Ready, settlement: Settlement, report: RunReport) -> None:
    if not ready:
        return
    result = publisher.publish([announcement for _, announcement in ready])
    if result.throttled_or_unavailable:
        report.stop(AWS_UNAVAILABLE)
    for lease, announcement in ready:
        accepted = announcement.event_id in result.delivered
        (settlement.delivered if accepted else settlement.failed).append(lease)
    for event_id, reason in result.failures.items():
        logger.warning(
            "Publish refused; the next run retries",
            extra={"channel": publisher.channel, "eventId": event_id, "reason": reason},
        )


def _drop_unconfigured(by_channel: dict[str, Ready], settlement: Settlement) -> None:
    """Deliveries owed to a channel the deployment no longer has (chat turned off after they were
    claimed): nobody can take them any more, so they are forgotten rather than kept for ever."""
    for channel, ready in by_channel.items():
        logger.warning(
            "Channel no longer configured; its pending deliveries are dropped",
            extra={"channel": channel, "deliveries": len(ready)},
        )
        settlement.delivered.extend(lease for lease, _ in ready)


def _settle(store: StateStore, settlement: Settlement, report: RunReport) -> None:
    try:
        store.settle(settlement.delivered, settlement.failed)
    except TransientAwsError as error:
        report.stop_unavailable(error)
        logger.warning("Settling failed; leases expire and deliveries repeat", extra={"error": str(error)})

"""Delivering what a run claimed or took over, then settling it in the table.

A delivery is forgotten only after its channel accepted it; a refused one stays pending for the next
run, and so does one left unsent: its channel stayed throttled or unavailable, or the run's time ran
short. Each function does one part: find the announcements, publish per channel, settle.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ami_store_notifier.domain.model import PendingDelivery
from ami_store_notifier.domain.notices import Deliverable
from ami_store_notifier.domain.planning import CommitStep
from ami_store_notifier.ports import Publisher, StateStore, TransientAwsError
from ami_store_notifier.report import AWS_UNAVAILABLE, TIME, RunReport

logger = logging.getLogger(__name__)

# Publishing stops while the run still has time for one more call that stays throttled through the
# SDK's four attempts (they back off up to 1 + 2 + 4 s: adapters/aws.py) and for the settling after it
# (one UpdateItem per batch of claims and one on the cursor; a throttled one ends it the same way).
LAST_CALL_AND_SETTLING_SECONDS = 16.0

# A lease with its announcement, when this run claimed it (None: taken over, stored in the table).
Delivery = tuple[PendingDelivery, Deliverable | None]
Ready = list[tuple[PendingDelivery, Deliverable]]


@dataclass
class Settlement:
    delivered: list[PendingDelivery] = field(default_factory=list)
    failed: list[PendingDelivery] = field(default_factory=list)
    # Not sent: released for the next run as refused ones are, without counting as refused.
    unsent: list[PendingDelivery] = field(default_factory=list)


@dataclass
class TimeLeft:
    """Whether the run has time for one more publishing call and the settling after it."""

    seconds_left: Callable[[], float]
    # Never more than the time kept back for delivering: reading stops there, and what it claimed must
    # still get its chance to be published.
    reserve: float
    report: RunReport
    ran_out: bool = False

    def allows_a_call(self) -> bool:
        if self.seconds_left() > min(self.reserve, LAST_CALL_AND_SETTLING_SECONDS):
            return True
        if not self.ran_out:
            self.ran_out = True
            self.report.stop(TIME)
            logger.warning("Little time left: publishing stops here; the next run delivers the rest")
        return False


def claimed_deliveries(steps: Sequence[CommitStep]) -> list[Delivery]:
    """The leases the committed steps hold, with the announcements of this run's own claims."""
    claimed = {
        (claim.task.key, milestone): announced
        for step in steps
        for claim in step.claims
        for milestone, announced in claim.announced().items()
    }
    return [
        (lease, claimed.get((lease.key, lease.milestone))) for step in steps for lease in step.cursor.leases
    ]


def deliver(
    deliveries: Sequence[Delivery], store: StateStore, publishers: Sequence[Publisher], time_left: TimeLeft
) -> None:
    if not deliveries:
        return
    report = time_left.report
    settlement = Settlement()
    by_channel = _ready_by_channel(deliveries, _stored_announcements(deliveries, store, report), settlement)
    for publisher in publishers:
        _publish(publisher, by_channel.pop(publisher.channel, []), settlement, time_left)
    _drop_unconfigured(by_channel, settlement)
    report.publish_failures = len(settlement.failed)
    report.deliveries_left_unsent = len(settlement.unsent)
    claimed_now = {lease.entry_id for lease, announcement in deliveries if announcement is not None}
    report.redelivered = sum(1 for lease in settlement.delivered if lease.entry_id not in claimed_now)
    _settle(store, settlement, report)


def _stored_announcements(
    deliveries: Sequence[Delivery], store: StateStore, report: RunReport
) -> dict[str, Deliverable] | None:
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
    deliveries: Sequence[Delivery], stored: dict[str, Deliverable] | None, settlement: Settlement
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


def _publish(publisher: Publisher, ready: Ready, settlement: Settlement, time_left: TimeLeft) -> None:
    if not ready:
        return
    result = publisher.publish([announcement for _, announcement in ready], time_left.allows_a_call)
    for lease, announcement in ready:
        if announcement.event_id in result.delivered:
            settlement.delivered.append(lease)
        elif announcement.event_id in result.failures:
            settlement.failed.append(lease)
        else:
            settlement.unsent.append(lease)
    for event_id, reason in result.failures.items():
        logger.warning(
            "Publish refused; the next run retries",
            extra={"channel": publisher.channel, "eventId": event_id, "reason": reason},
        )
    if result.throttled_or_unavailable:
        time_left.report.stop(AWS_UNAVAILABLE)
        logger.warning(
            "Channel stayed throttled or unavailable: it is sent nothing more this run",
            extra={"channel": publisher.channel, "left": len(ready) - len(result.delivered)},
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
        store.settle(settlement.delivered, settlement.failed + settlement.unsent)
    except TransientAwsError as error:
        report.stop_unavailable(error)
        logger.warning("Settling failed; leases expire and deliveries repeat", extra={"error": str(error)})

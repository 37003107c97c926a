"""EC2's store quota as the CLI shows it: the snapshot data of the stores the notifier has in progress
(`status --table`), and `store`'s look before it asks EC2 whether one more AMI fits.

EC2 user guide, "How AMI store and restore works": "The sum of the sizes of all the AMIs in progress is
limited to 1,200 GB of EBS snapshot data per account"; a store beyond it is refused. The notifier's table
is as old as its last run and does not know every store's size, so `store` only warns: EC2 decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ami_store_notifier.domain.model import Cursor, TaskState
from ami_store_notifier.domain.store_watch import quota_use
from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from ami_store_notifier.ports import ImageSizes, TransientAwsError


class CursorReader(Protocol):
    def load_cursor(self) -> Cursor: ...


@dataclass(frozen=True)
class StoreQuota:
    """What the notifier's table counts against the quota in one Region."""

    gigabytes: int
    stores: int
    # Stores in progress whose AMI the notifier has not sized, or EC2 no longer describes: not counted.
    unsized: int


def recorded_quota(cursor: Cursor) -> StoreQuota:
    in_progress = frozenset(key for key, state in cursor.known.items() if state is TaskState.IN_PROGRESS)
    use = quota_use(cursor.watches, in_progress)
    return StoreQuota(use.gigabytes, len(in_progress), use.unsized)


def quota_line(quota: StoreQuota) -> str:
    stores = f"{quota.stores:,} store{'' if quota.stores == 1 else 's'}"
    unsized = f", {quota.unsized:,} of unknown size" if quota.unsized else ""
    return f"Store quota: {quota.gigabytes:,} of {STORE_QUOTA_GB:,} GB in progress ({stores}{unsized})"


def store_warning(ami_id: str, sizes: ImageSizes, records: CursorReader | None) -> str | None:
    """The warning `store` prints before asking EC2 to store `ami_id`, or None when it fits or its size
    is unknown. Neither look may stop the store: a failed one counts as not knowing."""
    try:
        ami_gb = sizes.snapshot_gigabytes([ami_id]).get(ami_id)
    except (ClientError, TransientAwsError):
        return None
    if ami_gb is None:
        return None
    return over_quota_warning(ami_id, ami_gb, _gigabytes_in_progress(records))


def over_quota_warning(ami_id: str, ami_gb: int, in_progress_gb: int | None) -> str | None:
    """`in_progress_gb` None: the notifier's table was not read, so only the AMI's own size can tell."""
    if ami_gb + (in_progress_gb or 0) <= STORE_QUOTA_GB:
        return None
    if not in_progress_gb:
        return (
            f"Warning: {ami_id} holds {ami_gb:,} GB of snapshot data, more on its own than the "
            f"{STORE_QUOTA_GB:,} GB EC2 allows in progress per account and Region: EC2 may refuse it."
        )
    return (
        f"Warning: {ami_id} holds {ami_gb:,} GB of snapshot data; with {in_progress_gb:,} GB already in "
        f"progress that is over the {STORE_QUOTA_GB:,} GB EC2 allows in progress per account and Region: "
        "EC2 refuses it until other stores finish."
    )


def _gigabytes_in_progress(records: CursorReader | None) -> int | None:
    if records is None:
        return None
    try:
        return recorded_quota(records.load_cursor()).gigabytes
    except (ClientError, BotoCoreError, TransientAwsError):
        return None

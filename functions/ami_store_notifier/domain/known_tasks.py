"""What the cursor keeps of the tasks it knows: bounded by AWS's documented limits, never by a backlog.

The known tasks are one DynamoDB item, rewritten by the last commit step of a run, the step that also
records how far a read got. DynamoDB refuses an item over 400 KB ("Quotas in Amazon DynamoDB", item
size: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html), so an item
that outgrew it would stop the Region's reads for good. What is kept, and why each part stays small:

- Every task recorded in progress, whose end must still be seen. The AMIs being stored add up to at most
  1,200 GB of EBS snapshot data per account and Region (EC2 user guide, "How AMI store and restore
  works": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/store-restore-how-it-works.html), and an
  AMI's smallest snapshot is of a 1 GiB volume (EBS user guide, "Amazon EBS volume types"), so at most
  1,200 stores are in progress at once. A task stays recorded in progress until a complete read sees it
  again, so this part holds at most the stores in progress at some moment since the previous complete
  read began: 1,200, plus the stores started since, which CreateStoreImageTask's token bucket limits to
  50 + 0.1 a second (EC2 API reference, "Request throttling").
- Finished tasks only where a later read meets them again: the overlap below the newest task of the
  read (the window of the next head read), the overlap below the previous high-water mark (where an
  unfinished read ends), and the last listing page this run read (the next run reads it again when the
  run stopped within it, or when new tasks shifted the listing under its NextToken). A window of the
  overlap holds at most 50 + 0.1 x overlap stores: 1,490 at the longest overlap the setting accepts.
  These entries only save work: a finished task missing here is claimed again, refused by the table's
  condition, and re-read, never announced twice. So at most MAX_FINISHED_KEPT of them are kept.

The arithmetic: an entry takes at most 57 bytes (a 46-byte key, 'ami-' + 17 hex digits + '#' + a
24-character timestamp; at most 10 for the state; 1 for the map element). MAX_FINISHED_KEPT finished
entries take 85,500 bytes, which leaves 324,000 of the 409,600 for 5,684 tasks in progress: 1,250 plus
0.1 a second covers 12 hours since the previous complete read began. The longest read, the whole 31-day
listing at the fastest pace stores can start (267,890 tasks), takes 268 runs of 1,000 claims: 4.5 hours,
so two reads in a row stay inside it with room to spare.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from ami_store_notifier.domain.model import TaskState, split_task_key
from ami_store_notifier.ec2_limits import STORE_TASK_BUCKETS

ITEM_SIZE_LIMIT_BYTES: Final = 400 * 1024
LARGEST_ENTRY_BYTES: Final = 46 + len(TaskState.IN_PROGRESS.value) + 1
MAX_FINISHED_KEPT: Final = 1500
MAX_OVERLAP_MINUTES: Final = 240
# Starts from a moment on, up to a moment or without end.
Window = tuple[datetime, datetime | None]


def stores_started_within(seconds: float) -> int:
    """The most store tasks an account can start in a Region within `seconds`: a full token bucket of
    CreateStoreImageTask, then its refill."""
    bucket = STORE_TASK_BUCKETS["CreateStoreImageTask"]
    return bucket.capacity + int(bucket.refill_per_second * seconds)


def kept_tasks(
    known: Mapping[str, TaskState],
    *,
    read_newest: datetime | None,
    previous_mark: datetime | None,
    overlap: timedelta,
    last_page: Collection[str],
) -> dict[str, TaskState]:
    """The tasks the cursor keeps out of `known` (what the table holds once the run's claims are in)."""
    windows = _windows(newer(previous_mark, read_newest), previous_mark, overlap)
    finished = [
        key
        for key, state in known.items()
        if state.is_terminal and (key in last_page or _inside(key, windows))
    ]
    finished.sort(key=lambda key: (key in last_page, split_task_key(key)[1]), reverse=True)
    kept = set(finished[:MAX_FINISHED_KEPT])
    return {key: state for key, state in known.items() if not state.is_terminal or key in kept}


def _windows(anchor: datetime | None, previous_mark: datetime | None, overlap: timedelta) -> list[Window]:
    """Where a later read meets finished tasks again: the overlap below the read's newest task and on, and
    the overlap below the previous high-water mark; with nothing read yet, everywhere."""
    if anchor is None:
        return [(datetime.min.replace(tzinfo=UTC), None)]
    windows: list[Window] = [(anchor - overlap, None)]
    if previous_mark is not None and previous_mark != anchor:
        windows.append((previous_mark - overlap, previous_mark))
    return windows


def _inside(key: str, windows: list[Window]) -> bool:
    start = split_task_key(key)[1]
    return any(low <= start and (high is None or start <= high) for low, high in windows)


def newer(mark: datetime | None, candidate: datetime | None) -> datetime | None:
    if mark is None or (candidate is not None and candidate > mark):
        return candidate
    return mark

"""What S3 shows `watch` of the stores it follows: the AMI object, which appears only once a store has
completed (CreateStoreImageTask API reference: "The AMI object appears in the bucket only after the
upload task has completed").

S3 answers HeadObject outside EC2's store-task request bucket, so the watcher looks every few seconds and,
when an object appears, asks EC2 at once rather than at its pace. S3 never has the last word: EC2 confirms
every completion, and a failure leaves no object, so failures are found by EC2's paced checks alone.

Pure: the look-up is the ObjectProbe port (adapters/s3_objects.py over boto3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.ports import TransientAwsError

PROBE_INTERVAL = timedelta(seconds=5)
# HeadObject answers within some tens of milliseconds: 20 a round keep well inside the interval. With more
# stores running, the 20 expected to end soonest are looked for, and the others found at EC2's pace.
PROBES_PER_ROUND = 20
# A bucket where S3 throttles (503 SlowDown) or fails is left alone twice as long each time in a row.
LONGEST_BACKOFF = timedelta(minutes=5)


class ObjectUnreadableError(Exception):
    """S3 would not say whether the object is there: the caller may not read it (403), or S3 answered
    anything else that is not 404 Not Found."""

    def __init__(self, bucket: str, reason: str) -> None:
        super().__init__(f"s3://{bucket}: {reason}")
        self.bucket = bucket
        self.reason = reason


class ObjectProbe(Protocol):
    def written_at(self, bucket: str, key: str) -> datetime | None:
        """When the object was last written; None when S3 says there is none (404). Raises
        ObjectUnreadableError when S3 will not say, TransientAwsError while it throttles or fails."""
        ...


@dataclass
class _Bucket:
    unreadable: bool = False
    failed_in_a_row: int = 0
    resume_at: datetime | None = None

    def may_probe(self, now: datetime) -> bool:
        return not self.unreadable and (self.resume_at is None or now >= self.resume_at)

    def back_off(self, now: datetime) -> None:
        self.failed_in_a_row += 1
        self.resume_at = now + min(PROBE_INTERVAL * 2**self.failed_in_a_row, LONGEST_BACKOFF)

    def answered(self) -> None:
        self.failed_in_a_row = 0
        self.resume_at = None


class Sightings:
    """The objects of one watch's stores: which appeared, and which buckets S3 does not show."""

    def __init__(self, probes: Mapping[str, ObjectProbe], note: Callable[[str], None]) -> None:
        """`probes` by Region: a store's bucket is in its Region (CreateStoreImageTask refuses others)."""
        self._probes = probes
        self._note = note
        self._buckets: dict[str, _Bucket] = {}
        self._seen: set[tuple[str, str]] = set()

    def look(self, followed: Sequence[FollowedTask], now: datetime) -> bool:
        """Looks for the objects of the stores running; True when one appeared since the last look.

        Each store's object counts once: when EC2 still lists that store in progress, its end is left
        to EC2's pace rather than asked for again at every look.
        """
        wanted = sorted((task for task in followed if self._wanted(task)), key=_soonest_end(now))
        appeared = False
        for task in wanted[:PROBES_PER_ROUND]:
            if self._bucket(task).may_probe(now):
                appeared = self._appeared(task, now) or appeared
        return appeared

    def _wanted(self, task: FollowedTask) -> bool:
        return (
            task.is_running
            and bool(task.task.bucket)  # a listing entry without one (ec2_task_source.py) names nothing
            and task.region in self._probes
            and (task.region, task.task.key) not in self._seen
            and not self._bucket(task).unreadable
        )

    def _bucket(self, task: FollowedTask) -> _Bucket:
        return self._buckets.setdefault(task.task.bucket, _Bucket())

    def _appeared(self, task: FollowedTask, now: datetime) -> bool:
        bucket = self._bucket(task)
        try:
            written = self._probes[task.region].written_at(task.task.bucket, task.task.s3_object_key)
        except ObjectUnreadableError as error:
            # Once per bucket, and it is left alone from then on. Without s3:ListBucket a store's object
            # that is not there yet answers 403 too (adapters/s3_objects.py): a 403 cannot tell "not
            # yet" from "never", and the note names what lets S3 tell.
            bucket.unreadable = True
            self._note(
                f"cannot read s3://{error.bucket} ({error.reason}): completions there are found at EC2's "
                "pace; seeing them in seconds needs s3:GetObject on its objects and s3:ListBucket on it"
            )
            return False
        except TransientAwsError:
            bucket.back_off(now)
            return False
        bucket.answered()
        # An object older than the store is an earlier store's of the same AMI, not yet replaced.
        # Last-Modified is an HTTP date, to the second.
        if written is None or written < task.task.task_start_time.replace(microsecond=0):
            return False
        self._seen.add((task.region, task.task.key))
        return True


def _soonest_end(now: datetime) -> Callable[[FollowedTask], timedelta]:
    def remaining(task: FollowedTask) -> timedelta:
        left = task.remaining(now)
        return timedelta.max if left is None else left

    return remaining

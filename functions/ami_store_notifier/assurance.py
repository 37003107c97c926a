"""Archive assurance in one run: what the reading concluded, checked and watched further before it is
claimed.

- A store into a bucket not approved is noticed the first time the run claims it.
- The stores in progress are watched: their size (DescribeImages, for the store quota) when first seen,
  and their progress, to notice a stall (domain/store_watch.py).
- A completed store's archive is checked: one HeadObject, the bucket's facts once per bucket and run. A
  check S3 cannot answer yet (throttled, failing, the object not there yet) waits in the watches for a
  later run, as a refused delivery waits for the next one.

Each notice joins the run's claims (`ListingReader.add_notice`), so it is claimed, leased and delivered
as a state change is, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from ami_store_notifier.domain.model import (
    Cursor,
    ReadMode,
    StoreTask,
    TaskState,
    format_timestamp,
    split_task_key,
)
from ami_store_notifier.domain.notices import (
    ArchiveCheck,
    Notice,
    NoticeFacts,
    Stall,
    UnapprovedStore,
    notice,
)
from ami_store_notifier.domain.reading import ListingReader
from ami_store_notifier.domain.store_watch import (
    MAX_ARCHIVES_WAITING,
    MAX_WATCHED_IN_PROGRESS,
    StoreWatch,
    observed,
    quota_use,
    refresh_due,
    stall_due,
)
from ami_store_notifier.domain.verification import (
    ARCHIVE_CHECK_GIVE_UP,
    BucketFacts,
    Inspection,
    judge,
    not_readable,
    unanswered,
)
from ami_store_notifier.ports import ArchiveReader, ImageSizes, TransientAwsError
from ami_store_notifier.report import RunReport

logger = logging.getLogger(__name__)

# HeadObject calls one run makes at most; more completions wait for the next run. S3 answers thousands of
# HEAD requests a second per prefix, so the bound is the run's time, not S3's rate.
MAX_ARCHIVE_CHECKS_PER_RUN = 100


@dataclass(frozen=True)
class AssurancePolicy:
    # None: no archive checks.
    readable_buckets: frozenset[str] | None = None
    # Empty: every bucket is approved (the alert is off).
    approved_buckets: tuple[str, ...] = ()
    # None: no stall notices.
    stall_after: timedelta | None = None


# Every check off: the product as it was before them.
NO_ASSURANCE = AssurancePolicy()


def approved(bucket: str, patterns: tuple[str, ...]) -> bool:
    """Whether a bucket is one the setting names, or begins as a pattern ending in `*` does."""
    return any(
        bucket.startswith(pattern[:-1]) if pattern.endswith("*") else bucket == pattern
        for pattern in patterns
    )


class Assurance:
    def __init__(
        self,
        policy: AssurancePolicy,
        *,
        archives: ArchiveReader | None,
        sizes: ImageSizes | None,
        report: RunReport,
        time_to_stop: Callable[[], bool],
    ) -> None:
        self._policy = policy
        self._archives = archives
        self._sizes = sizes
        self._report = report
        self._time_to_stop = time_to_stop
        self._bucket_facts: dict[str, BucketFacts] = {}

    def conclude(self, cursor: Cursor, reader: ListingReader) -> dict[str, StoreWatch]:
        """Adds the run's notices to its claims; answers the watches once its claims are written."""
        watches = dict(cursor.watches)
        in_progress = in_progress_after(reader)
        self._notice_unapproved(reader)
        self._watch_progress(reader, watches, in_progress)
        self._size_new_stores(watches, in_progress)
        self._check_archives(reader, watches)
        kept = {key: watch for key, watch in watches.items() if watch.awaits_check or key in in_progress}
        use = quota_use(kept, in_progress)
        self._report.store_quota_gigabytes = use.gigabytes
        self._report.stores_without_size = use.unsized
        return kept

    # -- unapproved buckets ------------------------------------------------------------------------

    def _notice_unapproved(self, reader: ListingReader) -> None:
        patterns = self._policy.approved_buckets
        if not patterns:
            return
        for claim in list(reader.claims.values()):
            first_seen = claim.previous_state is None
            history = reader.mode is ReadMode.BASELINE and claim.state is not TaskState.IN_PROGRESS
            if first_seen and not history and not approved(claim.task.bucket, patterns):
                facts = reader.hint_facts.get(claim.task.ami_id)
                started_by = facts.started_by if facts is not None and facts.name(claim.task) else None
                unapproved = self._notice(reader, claim.task, UnapprovedStore(patterns, started_by))
                reader.add_notice(claim.task, unapproved, recorded=claim.state)
                self._report.unapproved_announced += 1

    # -- progress and size -------------------------------------------------------------------------

    def _watch_progress(
        self, reader: ListingReader, watches: dict[str, StoreWatch], in_progress: frozenset[str]
    ) -> None:
        refresh = refresh_due((watches[key] for key in in_progress if key in watches), reader.now)
        for key in sorted(in_progress):
            if key not in watches and len(watches) >= MAX_WATCHED_IN_PROGRESS:
                continue
            watch = watches.get(key, StoreWatch())
            task = reader.observed.get(key)
            seen_in_progress = task is not None and task.state is TaskState.IN_PROGRESS
            if self._policy.stall_after is not None and task is not None and seen_in_progress:
                watch = self._watched(reader, task, watch, self._policy.stall_after, refresh=refresh)
            watches[key] = watch

    def _watched(
        self,
        reader: ListingReader,
        task: StoreTask,
        watch: StoreWatch,
        stall_after: timedelta,
        *,
        refresh: bool,
    ) -> StoreWatch:
        """The store's watch once this run saw it, with its stall noticed when due."""
        watch = observed(watch, task, reader.now, stall_after, refresh=refresh)
        if not stall_due(watch, task, reader.now, stall_after):
            return watch
        since = format_timestamp(watch.progress_since or reader.now)
        stall = Stall(task.progress_percentage, since, int(stall_after.total_seconds() // 60))
        reader.add_notice(task, self._notice(reader, task, stall), recorded=TaskState.IN_PROGRESS)
        self._report.stalls_announced += 1
        return replace(watch, stalled=True)

    def _size_new_stores(self, watches: dict[str, StoreWatch], in_progress: frozenset[str]) -> None:
        unsized = sorted(key for key in in_progress if key in watches and not watches[key].sized)
        if not unsized:
            return
        sizes = self._snapshot_gigabytes(sorted({split_task_key(key)[0] for key in unsized}))
        for key in unsized:
            ami = split_task_key(key)[0]
            if ami in sizes:
                watches[key] = watches[key].sized_as(sizes[ami])

    def _snapshot_gigabytes(self, amis: list[str]) -> dict[str, int | None]:
        """The AMIs' sizes EC2 told in one lookup (batched and bounded by the adapter); none when it stayed
        throttled or unavailable (a later run asks again)."""
        if self._sizes is None:
            return {}
        try:
            return self._sizes.snapshot_gigabytes(amis)
        except TransientAwsError as error:
            logger.warning("Sizing stores stopped; the next run goes on", extra={"error": str(error)})
            return {}

    # -- archives ----------------------------------------------------------------------------------

    def _check_archives(self, reader: ListingReader, watches: dict[str, StoreWatch]) -> None:
        if self._policy.readable_buckets is None:
            return
        checks = 0
        for task, watch in archives_to_check(reader, watches):
            if checks >= MAX_ARCHIVE_CHECKS_PER_RUN or self._time_to_stop():
                watches[task.key] = watch.awaiting_check(task, reader.now)
                continue
            checks += task.bucket in self._policy.readable_buckets
            if not self._check(reader, task, watch.awaiting_check(task, reader.now), watches):
                # S3 stayed throttled or unavailable: the next checks wait for a later run.
                checks = MAX_ARCHIVE_CHECKS_PER_RUN
        self._conclude_beyond_the_item(reader, watches)
        self._report.archive_checks_waiting = sum(1 for watch in watches.values() if watch.awaits_check)

    def _conclude_beyond_the_item(self, reader: ListingReader, watches: dict[str, StoreWatch]) -> None:
        """The oldest waiting checks past MAX_ARCHIVES_WAITING are concluded as unanswered, as a day's wait
        would: the watches are one DynamoDB item, and one past 400 KB would stop the Region's commits."""
        waiting = sorted(
            (watch.completed_seen_at or reader.now, key)
            for key, watch in watches.items()
            if watch.awaits_check
        )
        for since, key in waiting[: max(0, len(waiting) - MAX_ARCHIVES_WAITING)]:
            task = waiting_task(key, watches[key])
            self._conclude(reader, task, unanswered(task, since), watches)

    def _check(
        self, reader: ListingReader, task: StoreTask, waiting: StoreWatch, watches: dict[str, StoreWatch]
    ) -> bool:
        """Checks one archive; False when S3 did not answer (the run's next checks wait too)."""
        try:
            result = self._judged(reader, task, waiting)
        except TransientAwsError as error:
            logger.warning("Archive check waits: S3 did not answer", extra={"error": str(error)})
            since = waiting.completed_seen_at or reader.now
            if reader.now - since < ARCHIVE_CHECK_GIVE_UP:
                watches[task.key] = waiting
            else:
                self._conclude(reader, task, unanswered(task, since), watches)
            return False
        if result is None:
            watches[task.key] = waiting
        else:
            self._conclude(reader, task, result, watches)
        return True

    def _judged(self, reader: ListingReader, task: StoreTask, waiting: StoreWatch) -> ArchiveCheck | None:
        if task.bucket not in (self._policy.readable_buckets or frozenset()):
            return not_readable(task)
        seen = waiting.completed_seen_at or reader.now
        return judge(task, self._inspect(task), completed_seen_at=seen, now=reader.now)

    def _conclude(
        self, reader: ListingReader, task: StoreTask, result: ArchiveCheck, watches: dict[str, StoreWatch]
    ) -> None:
        watches.pop(task.key, None)
        reader.add_notice(task, self._notice(reader, task, result), recorded=TaskState.COMPLETED)
        self._report.archives_checked += 1
        self._report.archives_not_verified += result.reasons != ()

    def _inspect(self, task: StoreTask) -> Inspection:
        assert self._archives is not None
        found = self._archives.look(task.bucket, task.s3_object_key)
        if found.object is None:
            return found
        if task.bucket not in self._bucket_facts:
            self._bucket_facts[task.bucket] = self._archives.bucket_facts(task.bucket)
        return replace(found, bucket=self._bucket_facts[task.bucket])

    @staticmethod
    def _notice(reader: ListingReader, task: StoreTask, facts: NoticeFacts) -> Notice:
        return notice(task, facts, region=reader.region, account=reader.account, observed_at=reader.now)


def in_progress_after(reader: ListingReader) -> frozenset[str]:
    """The tasks recorded in progress once the run's claims are in, but those that left the listing."""
    states = {**reader.known, **{key: claim.state for key, claim in reader.claims.items()}}
    vanished, superseded = reader.departed()
    departed = set(vanished) | set(superseded)
    return frozenset(
        key for key, state in states.items() if state is TaskState.IN_PROGRESS and key not in departed
    )


def archives_to_check(
    reader: ListingReader, watches: Mapping[str, StoreWatch]
) -> Iterator[tuple[StoreTask, StoreWatch]]:
    """The stores whose completion the run claims (not a baseline's history), then those still waiting."""
    for claim in list(reader.claims.values()):
        completed_now = claim.moves and claim.state is TaskState.COMPLETED
        if completed_now and (
            claim.announcement is not None or claim.previous_state is TaskState.IN_PROGRESS
        ):
            yield claim.task, watches.get(claim.task.key, StoreWatch())
    for key, watch in sorted(watches.items()):
        claimed = reader.claims.get(key)
        if watch.awaits_check and (claimed is None or not claimed.moves):
            yield waiting_task(key, watch), watch


def waiting_task(key: str, watch: StoreWatch) -> StoreTask:
    ami_id, start = split_task_key(key)
    return StoreTask(ami_id, watch.bucket or "", watch.object_key or "", start, TaskState.COMPLETED.value)

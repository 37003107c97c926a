"""What the notifier promises of its notices (docs/archive-assurance.md, settings_spec.py,
domain/verification.py and domain/store_watch.py), as rules over what the harness saw after each run
(RunMoment).

Verification (READABLE_BUCKETS set): for each completion it announces, one check of the store's object;
its verdict is what S3 held when the check was made (`observedAt`): NotVerified for a bucket not among
the readable ones (no call to S3), for a HeadObject refused (access denied), for an object still missing
MISSING_OBJECT_GRACE after the notifier first saw the completion, for an empty object, one older than the
store by more than LAST_MODIFIED_TOLERANCE, or one in a class that needs a restore; Verified otherwise.
While S3 throttles or fails, or the object may still appear, the check waits for a later run, and S3
failing it ARCHIVE_CHECK_GIVE_UP after the notifier saw the completion concludes it (not checked).

UnapprovedBucket (APPROVED_BUCKETS set): a store into a bucket not approved, announced with the claim that
first records it, unless that claim is the silent record of a store that ended before the baseline.

Stalled (STALL_AFTER_MINUTES, 120 unless set): a store whose progress the notifier watched unchanged that
long, announced once. Only the notifier's own observations count: it notes a store at most every
WATCH_REFRESH, and a gap between two notes longer than the pause (half the stall time, and never under
three notes' worth: domain/store_watch.py) restarts the clock. So a stall is owed only when the harness
can show the notifier could not miss it (stall_owed), and forbidden when the notifier could not have
watched it (stall_problem).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ami_store_notifier.domain.notices import NoticeKind
from ami_store_notifier.domain.store_watch import DEFAULT_STALL_AFTER_MINUTES, WATCH_REFRESH
from ami_store_notifier.domain.verification import (
    ARCHIVE_CHECK_GIVE_UP,
    LAST_MODIFIED_TOLERANCE,
    MISSING_OBJECT_GRACE,
)
from local.lambda_context import REGION
from tests.chaos.world_views import TaskView, WorldView, ec2_timestamp

VERIFICATION = NoticeKind.VERIFICATION.value
UNAPPROVED = NoticeKind.UNAPPROVED_BUCKET.value
STALLED = NoticeKind.STALLED.value
NOTICE_KINDS = (VERIFICATION, UNAPPROVED, STALLED)
VERIFIED = "Verified"
NOT_VERIFIED = "NotVerified"
RESTORE_NEEDED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# The reasons a verdict gives, by a phrase of their documented wording.
REASON_PHRASES = {
    "not readable": "not among the buckets this deployment may read",
    "access denied": "access denied",
    "missing": "missing: there is no object",
    "empty": "empty: the object holds 0 bytes",
    "older than the store": "older than the task",
    "needs a restore": "needs a restore",
    "not checked": "not checked: S3 did not answer",
}


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (value or "").split(",") if name.strip())


@dataclass(frozen=True)
class AssuranceSettings:
    readable: frozenset[str] | None = None
    approved: tuple[str, ...] = ()
    stall_after: timedelta | None = timedelta(minutes=DEFAULT_STALL_AFTER_MINUTES)
    refused: frozenset[str] = frozenset()
    """Buckets whose policy refuses the function's HeadObject."""

    @classmethod
    def of(cls, settings: Mapping[str, str], refused: frozenset[str] = frozenset()) -> AssuranceSettings:
        """From the handler's environment, as settings_spec.py reads it."""
        readable = _names(settings.get("READABLE_BUCKETS"))
        minutes = int(settings.get("STALL_AFTER_MINUTES", DEFAULT_STALL_AFTER_MINUTES))
        return cls(
            readable=frozenset(readable) if readable else None,
            approved=_names(settings.get("APPROVED_BUCKETS")),
            stall_after=timedelta(minutes=minutes) if minutes else None,
            refused=refused,
        )

    def approves(self, bucket: str) -> bool:
        """A name the setting lists, or one that begins as a pattern ending in `*` does."""
        return any(
            bucket.startswith(pattern.removesuffix("*")) if pattern.endswith("*") else bucket == pattern
            for pattern in self.approved
        )


@dataclass(frozen=True, order=True)
class NoticeKey:
    """One notice about one store task."""

    ami_id: str
    started: str
    kind: str

    @property
    def task_key(self) -> str:
        return f"{self.ami_id}#{self.started}"

    @property
    def event_id(self) -> str:
        """Computed here from the published contract, not with the product's own function."""
        return hashlib.sha256(f"{REGION}|{self.ami_id}|{self.started}|{self.kind}".encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.kind} of {self.ami_id} started {self.started}"


@dataclass(frozen=True)
class RunMoment:
    """One run as the notices are judged: when, whether it was complete, and the world at its end."""

    index: int
    at: datetime
    complete: bool
    view: WorldView
    s3_failed: bool = False
    """A fault fired at one of the run's calls to S3."""

    @property
    def stamp(self) -> str:
        return ec2_timestamp(self.at)


# -- Verification ----------------------------------------------------------------------------------------


def expected_reasons(task: TaskView, moment: RunMoment, settings: AssuranceSettings) -> frozenset[str]:
    """The reasons a check made at `moment` gives (empty: Verified); "missing" while the object may still
    appear is judged by the caller."""
    if settings.readable is None or task.bucket not in settings.readable:
        return frozenset({"not readable"})
    if task.bucket in settings.refused:
        return frozenset({"access denied"})
    found = moment.view.objects.get((task.bucket, task.object_key))
    if found is None:
        return frozenset({"missing"})
    started = _parsed(task.started)
    reasons = set()
    if found.size == 0:
        reasons.add("empty")
    if found.last_modified < started - LAST_MODIFIED_TOLERANCE:
        reasons.add("older than the store")
    if found.storage_class in RESTORE_NEEDED_CLASSES:
        reasons.add("needs a restore")
    return frozenset(reasons)


def told_reasons(reasons: Sequence[str]) -> frozenset[str]:
    """The reasons a Verification gives, by name; one the rules do not know is kept as it is."""
    named = set()
    for reason in reasons:
        known = [name for name, phrase in REASON_PHRASES.items() if phrase in reason]
        named.add(known[0] if known else reason)
    return frozenset(named)


def check_concludes(
    task: TaskView, moment: RunMoment, claimed_at: datetime, settings: AssuranceSettings
) -> bool:
    """Whether a check at `moment` gives a verdict rather than waiting: anything but a missing object,
    which waits MISSING_OBJECT_GRACE from when the notifier saw the completion (at latest: the run whose
    claim of it the table first held)."""
    if expected_reasons(task, moment, settings) != {"missing"}:
        return True
    return moment.at - claimed_at >= MISSING_OBJECT_GRACE


def verdict_problem(
    task: TaskView,
    moment: RunMoment,
    completed_listed_at: datetime,
    detail: Mapping[str, Any],
    settings: AssuranceSettings,
) -> str | None:
    """What is false in a Verification made at `moment`, or None."""
    expected = expected_reasons(task, moment, settings)
    if told_reasons(detail.get("reasons") or ()) == {"not checked"}:
        if moment.s3_failed and moment.at - completed_listed_at >= ARCHIVE_CHECK_GIVE_UP:
            return None
        answered = "failed" if moment.s3_failed else "answered"
        return f"not checked, though S3 {answered} {moment.at - completed_listed_at} after the completion"
    if expected == {"missing"} and moment.at - completed_listed_at < MISSING_OBJECT_GRACE:
        return f"missing after {moment.at - completed_listed_at}, within the grace of {MISSING_OBJECT_GRACE}"
    verdict = NOT_VERIFIED if expected else VERIFIED
    told = told_reasons(detail.get("reasons") or ())
    if (detail.get("verdict"), told) != (verdict, expected):
        return f"{detail.get('verdict')} {sorted(told)}, S3 held what makes it {verdict} {sorted(expected)}"
    found = moment.view.objects.get((task.bucket, task.object_key))
    looked = not expected & {"not readable", "access denied"}
    if looked and found is not None and detail.get("objectSize") != found.size:
        return f"objectSize {detail.get('objectSize')}, the object holds {found.size}"
    return None


# -- Stalled ----------------------------------------------------------------------------------------------


def pause(stall_after: timedelta) -> timedelta:
    """The gap between two of the notifier's notes of a store that restarts its stall clock."""
    return max(stall_after / 2, 3 * WATCH_REFRESH)


def stall_owed(moments: Sequence[RunMoment], key: str, stall_after: timedelta) -> bool:
    """Whether the last moment, a complete run, owes the task's stall notice: a chain of complete runs
    ending with it, each seeing the task in progress at the same progress (as every run between them
    did), no two consecutive ones more than the pause less WATCH_REFRESH apart, spans the stall time plus
    WATCH_REFRESH plus its widest gap. Within such a chain the notifier never restarts the clock, notes
    the progress by WATCH_REFRESH and a gap after the chain's first run, and announces a stall time later."""
    last = moments[-1]
    task = last.view.tasks.get(key)
    if task is None or not task.in_progress:
        return False
    longest_gap = pause(stall_after) - WATCH_REFRESH
    chained, widest = last.at, timedelta(0)
    for moment in reversed(moments[:-1]):
        seen = moment.view.tasks.get(key)
        if seen is None or not seen.in_progress or seen.progress != task.progress:
            break
        if not moment.complete:
            continue
        gap = chained - moment.at
        if gap > longest_gap:
            break
        chained, widest = moment.at, max(widest, gap)
        if last.at - chained >= stall_after + WATCH_REFRESH + widest:
            return True
    return False


def stall_problem(
    moments: Sequence[RunMoment], key: str, detail: Mapping[str, Any], stall_after: timedelta
) -> str | None:
    """What is false in a Stalled notice: the progress it names moved within its window, the window is
    shorter than the stall time, or the notifier could not have watched all of it (two runs within it
    further apart than the pause restart its clock)."""
    since, observed = _parsed(detail["unchangedSince"]), detail.get("observedAt")
    progress = detail.get("progressPercentage")
    if detail.get("stallAfterMinutes") != stall_after.total_seconds() // 60:
        return f"stallAfterMinutes {detail.get('stallAfterMinutes')}, the setting is {stall_after}"
    # The run that noted the progress (its time as the watch keeps it, to the second or the millisecond),
    # of those at its time: a step between runs moves no clock.
    noted = [
        number
        for number, moment in enumerate(moments)
        if moment.at.replace(microsecond=0) <= since <= moment.at and _shows(moment, key, progress)
    ]
    if not noted or moments[-1].stamp != observed:
        return f"no run at the window's ends ({detail['unchangedSince']}, {observed}) saw it at {progress}%"
    window = moments[noted[-1] :]
    if window[-1].at - window[0].at < stall_after - timedelta(seconds=1):
        return f"unchanged from {detail['unchangedSince']} to {observed}, less than {stall_after}"
    for earlier, later in itertools.pairwise(window):
        if later.at - earlier.at > pause(stall_after):
            return f"no run between {earlier.stamp} and {later.stamp}: the notifier was not watching"
    for moment in window:
        if not _shows(moment, key, progress):
            seen = moment.view.tasks.get(key)
            shown = f"{seen.state} at {seen.progress}%" if seen else "not listed"
            return (
                f"progress {progress}% from {detail['unchangedSince']}, but run {moment.index} saw it {shown}"
            )
    return None


def _parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _shows(moment: RunMoment, key: str, progress: int | None) -> bool:
    seen = moment.view.tasks.get(key)
    return seen is not None and seen.in_progress and seen.progress == progress

"""The ledger of notices (domain/notices.py: Verification, UnapprovedBucket, Stalled), kept beside the
ledger of state changes (tests/chaos/harness.py, Ledger) with the same verdict: every notice owed is
delivered on both channels, none twice without a fault between, none that the rules forbid.

Channels: the topic's subscriber queue (a notice carries the message attribute `notice`, a state change
`state`) and a queue behind a bus rule on the notices' detail-types (state changes have a rule of their
own). Also checked: the bus rule of the docs' cleanup example gets exactly the Verified ones.

Owed by a complete run (tests/chaos/notice_rules.py says when each kind is due):
- every notice the table holds claimed (a task item's `announcements.<Kind>`);
- a Verification for each completion the table holds announced (not one of the baseline's), once its
  check gives a verdict rather than waiting;
- an UnapprovedBucket for each task the table records in a bucket not approved, unless its first record
  was the silent one of a store that ended before the baseline;
- a Stalled for each store in progress that stall_owed says the notifier watched stand still long enough.
A quiet run owes the notices claimed in the table (it runs only when nothing is pending).

Judged at the end, for each notice delivered: it is about a task EC2 listed, of a kind its settings turn
on (a phantom otherwise), and what it says was true when it was made (a false fact otherwise): the
verdict and its reasons against what S3 held at `observedAt`, the stall's window against the runs and the
progress the listing showed, the unapproved bucket against the setting.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from local.deployment import Received
from local.ec2_store_tasks import COMPLETED, IN_PROGRESS
from tests.chaos.notice_rules import (
    NOTICE_KINDS,
    STALLED,
    UNAPPROVED,
    VERIFICATION,
    VERIFIED,
    AssuranceSettings,
    NoticeKey,
    RunMoment,
    check_concludes,
    stall_owed,
    stall_problem,
    told_reasons,
    verdict_problem,
)
from tests.chaos.world_views import FirstRecord, RecordedTask, TaskView, WorldView

NOTICE_CHANNELS = ("sns", "events")


class NoticeLedger:
    def __init__(self, settings: AssuranceSettings, violate: Callable[[str, int, str], None]) -> None:
        self.settings = settings
        self._violate = violate
        self.moments: list[RunMoment] = []
        self.arrivals: dict[str, dict[str, list[int]]] = {
            channel: defaultdict(list) for channel in NOTICE_CHANNELS
        }
        self.details: dict[str, tuple[str, dict[str, Any]]] = {}
        self.claimed: dict[NoticeKey, int] = {}
        self.expected: dict[NoticeKey, int] = {}
        self.lost: set[NoticeKey] = set()
        self.first_records: dict[str, FirstRecord] = {}
        # Every task the listing showed, the first time it showed each completion, and every notice's id.
        self.tasks: dict[str, TaskView] = {}
        self.completed_at: dict[str, datetime] = {}
        self.candidates: dict[str, NoticeKey] = {}
        self.counts: Counter[str] = Counter()

    # -- per run ---------------------------------------------------------------------------------------

    def observe(
        self,
        index: int,
        at: datetime,
        complete: bool,
        s3_failed: bool,
        view: WorldView,
        tasks_at_start: Mapping[str, TaskView],
        delivered: Mapping[str, list[Received]],
        cleanup: list[Received],
        tasks: Mapping[str, RecordedTask],
    ) -> None:
        """What a run left: the world at its end, the notices delivered, the table's task items."""
        self.moments.append(RunMoment(index, at, complete, view, s3_failed))
        for task in (*tasks_at_start.values(), *view.tasks.values()):
            self.listed(task, at)
        for channel, items in delivered.items():
            for item in items:
                event_id = str(item.detail.get("eventId"))
                self.arrivals[channel][event_id].append(index)
                self.details.setdefault(event_id, (str(item.notice), item.detail))
        self._check_cleanup_rule(index, delivered["events"], cleanup)
        for key, record in tasks.items():
            announced = bool(record.milestones - set(NOTICE_KINDS))
            self.first_records.setdefault(key, FirstRecord(record.bucket, record.state, announced))
            for kind in record.milestones & set(NOTICE_KINDS):
                self.claimed.setdefault(NoticeKey(record.ami_id, record.started, kind), index)

    def listed(self, task: TaskView, at: datetime) -> None:
        """A task the listing showed at `at`: one of the world's, or an entry a run's listing was given."""
        if task.key not in self.tasks:
            notices = (NoticeKey(task.ami_id, task.started, kind) for kind in NOTICE_KINDS)
            self.candidates |= {notice.event_id: notice for notice in notices}
        self.tasks[task.key] = task
        if task.state == COMPLETED:
            self.completed_at.setdefault(task.key, at)

    def _check_cleanup_rule(self, index: int, on_the_bus: list[Received], cleanup: list[Received]) -> None:
        verified = Counter(
            item.detail.get("eventId")
            for item in on_the_bus
            if str(item.notice) == VERIFICATION and item.detail.get("verdict") == VERIFIED
        )
        got = Counter(item.detail.get("eventId") for item in cleanup)
        if got != verified:
            self._violate(
                "filter",
                index,
                f"the cleanup rule got {sorted(got)}, the bus's Verified were {sorted(verified)}",
            )

    def check_owed(
        self, index: int, announced_completions: Mapping[str, datetime], *, complete: bool
    ) -> None:
        """After a complete run (or, with `complete` False, a quiet one): what it owes has arrived on both
        channels. `announced_completions`: the completions the table holds announced, not the baseline's
        (task key: when the table first held the claim)."""
        owed = dict.fromkeys(self.claimed, "claimed in the table")
        if complete:
            moment = self.moments[-1]
            owed |= dict.fromkeys(
                self._verifications_due(moment, announced_completions),
                "a completion announced, its check due",
            )
            owed |= dict.fromkeys(self._unapproved_due(), "recorded in a bucket not approved")
            owed |= dict.fromkeys(self._stalls_due(moment), "watched standing still")
        for key, why in sorted(owed.items()):
            self.expected.setdefault(key, index)
            missing = [channel for channel in NOTICE_CHANNELS if key.event_id not in self.arrivals[channel]]
            if missing and key not in self.lost:
                self.lost.add(key)
                self._violate(
                    "notice-lost",
                    index,
                    f"{key} ({why}) not delivered on {', '.join(missing)} by this complete run",
                )

    def _verifications_due(self, moment: RunMoment, announced: Mapping[str, datetime]) -> Iterable[NoticeKey]:
        if self.settings.readable is None:
            return
        for key, claimed_at in announced.items():
            task = self.tasks.get(key)
            if task is not None and check_concludes(task, moment, claimed_at, self.settings):
                yield NoticeKey(task.ami_id, task.started, VERIFICATION)

    def _unapproved_due(self) -> Iterable[NoticeKey]:
        if not self.settings.approved:
            return
        for key, first in self.first_records.items():
            if not self.settings.approves(first.bucket) and (first.state == IN_PROGRESS or first.announced):
                ami_id, started = key.split("#", 1)
                yield NoticeKey(ami_id, started, UNAPPROVED)

    def _stalls_due(self, moment: RunMoment) -> Iterable[NoticeKey]:
        stall_after = self.settings.stall_after
        if stall_after is None:
            return
        for key, task in moment.view.tasks.items():
            if task.in_progress and stall_owed(self.moments, key, stall_after):
                yield NoticeKey(task.ami_id, task.started, STALLED)

    # -- at the end ------------------------------------------------------------------------------------

    def finish(self, fault_runs: set[int], history: frozenset[str], started_by: str) -> None:
        """Repeats, phantoms and false facts, once the scenario is over. `history`: the task keys of the
        stores that ended before the baseline."""
        for channel, arrivals in self.arrivals.items():
            for event_id, runs in arrivals.items():
                self._check_repeats(channel, event_id, runs, fault_runs)
        for event_id, (kind, detail) in self.details.items():
            key = self.candidates.get(event_id)
            first = min(min(arrivals.get(event_id, [10**9])) for arrivals in self.arrivals.values())
            if key is None or key.kind != kind:
                self._phantom(
                    first,
                    f"{kind} of {detail.get('amiId')} {detail.get('taskStartTime')}: no such store task",
                )
                continue
            if (detail.get("amiId"), detail.get("taskStartTime")) != (key.ami_id, key.started):
                self._violate(
                    "garbled",
                    first,
                    f"{key} carries {detail.get('amiId')} {detail.get('taskStartTime')}",
                )
            phantom, false_fact = self._judge(key, detail, history, started_by)
            if phantom:
                self._phantom(first, f"{key}: {phantom}")
            elif false_fact:
                self.counts["notice_false_facts"] += 1
                self._violate("notice-false-fact", first, f"{key}: {false_fact}")

    def _judge(
        self, key: NoticeKey, detail: Mapping[str, Any], history: frozenset[str], started_by: str
    ) -> tuple[str | None, str | None]:
        """(why the notice should not exist, what it says that is false)."""
        settings = self.settings
        task = self.tasks[key.task_key]
        if key.kind == VERIFICATION:
            if settings.readable is None:
                return "archive checks are off", None
            if key.task_key not in self.completed_at or key.task_key in history:
                return "a check of a store whose completion was never announced", None
            moment = self._claiming_run(key)
            if moment is None:
                return "delivered, never claimed in the table", None
            if moment.stamp != detail.get("observedAt"):
                return f"observedAt {detail.get('observedAt')}, claimed by a run at {moment.stamp}", None
            return None, verdict_problem(task, moment, self.completed_at[key.task_key], detail, settings)
        if key.kind == UNAPPROVED:
            first = self.first_records.get(key.task_key)
            if not settings.approved or settings.approves(task.bucket):
                return f"s3://{task.bucket} is approved ({settings.approved})", None
            if key.task_key in history or (
                first is not None and first.state != IN_PROGRESS and not first.announced
            ):
                return "a store that ended before the baseline", None
            if detail.get("approvedBuckets") != list(settings.approved) or detail.get("startedBy") not in (
                None,
                started_by,
            ):
                return (
                    None,
                    f"approvedBuckets {detail.get('approvedBuckets')}, startedBy {detail.get('startedBy')}",
                )
            return None, None
        if settings.stall_after is None:
            return "stall notices are off", None
        claiming = self._claiming_run(key)
        if claiming is None:
            return "delivered, never claimed in the table", None
        watched = [moment for moment in self.moments if moment.index <= claiming.index]
        return stall_problem(watched, key.task_key, detail, settings.stall_after), None

    def _claiming_run(self, key: NoticeKey) -> RunMoment | None:
        """The run that made the notice: the one that claimed it (and delivered it, unless it died or a
        channel refused), whose world the notice describes. A run after it at the same time of the
        emulator's clock may see another world: a scenario's step between runs moves no clock."""
        return self.moments[self.claimed[key]] if key in self.claimed else None

    def _phantom(self, run: int, message: str) -> None:
        self.counts["notice_phantoms"] += 1
        self._violate("notice-phantom", run, message)

    def _check_repeats(self, channel: str, event_id: str, runs: list[int], fault_runs: set[int]) -> None:
        for first, second in itertools.pairwise(runs):
            if any(index in fault_runs for index in range(first, max(second, first + 1))):
                self.counts["notice_duplicates_after_faults"] += 1
                continue
            self.counts["notice_duplicates_fault_free"] += 1
            key = self.candidates.get(event_id, event_id[:12])
            self._violate(
                "notice-duplicate",
                second,
                f"{key} delivered again on {channel} (first in run {first}) with no fault in between",
            )

    def figures(self) -> dict[str, Any]:
        delivered = [key for key in self.expected if self._arrived_on_both(key)]
        counted = ("notice_duplicates_after_faults", "notice_duplicates_fault_free", "notice_phantoms")
        return {
            "notices_expected": len(self.expected),
            "notices_delivered": len(delivered),
            "notices_lost": len(self.lost),
            "notice_messages": sum(
                len(runs) for arrivals in self.arrivals.values() for runs in arrivals.values()
            ),
            "notices_by_kind": Counter(kind for kind, _ in self.details.values()),
            "verdicts": Counter(
                _verdict(detail) for kind, detail in self.details.values() if kind == VERIFICATION
            ),
            "notice_false_facts": self.counts["notice_false_facts"],
            **{name: self.counts[name] for name in counted},
        }

    def _arrived_on_both(self, key: NoticeKey) -> bool:
        return all(key.event_id in self.arrivals[channel] for channel in NOTICE_CHANNELS)


def _verdict(detail: Mapping[str, Any]) -> str:
    """A verdict and its reasons by name, as the campaign counts them."""
    return " ".join([str(detail.get("verdict")), *sorted(told_reasons(detail.get("reasons") or ()))])

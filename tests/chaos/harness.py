"""The fault-injection harness: the real handler against moto and the store-task emulator, watched from
the subscribers' side, with the notifier's invariants checked after every run.

One `ChaosWorld` is one `mock_aws()` session with the notifier's resources deployed (local.deployment)
and the handler wired to them once (its boto3 clients are built on the first invocation and cached,
as in a warm Lambda container). `reset()` empties it between scenarios in a few milliseconds, so the
pytest tests, the Hypothesis properties and the campaign command all share the same code and cost.

What the harness can do to a run:
- inject SDK-level faults on the handler's own clients (`world.faults`, a tests.faults.AwsFaults):
  throttle, server-error, timeout, conflict, partial, crash-before, crash-after, at the n-th call
  of an operation from now;
- inject EC2 errors inside the emulator (`world.backend.faults`), which go through botocore's retries;
- serve the cursor to a second run as it was before the first one committed (overlapping runs);
- start a store between two page requests (the listing shifts while it is paged);
- edit the parsed DescribeStoreImageTasks answer (malformed entries the emulator itself would refuse);
- run short of time (a remaining-time callable), or on Lambda's clock (tests/chaos/lambda_time.py), where
  a run that outlasts the function's timeout is ended as Lambda ends it;
- with hints on (`enable_hints`): the emulator puts CloudTrail's start and S3's Object Created on the
  default bus, spoiled by its HintFaults (dropped, delayed, repeated, early, forged), the deployment's
  rules put them on the hints queue, and `run_hints` hands a batch to the handler as Lambda's event source
  mapping does (local/event_source_mapping.py: batchItemFailures come back after the visibility timeout,
  and the queue may hand a handled batch over again). A hint run may overlap a scheduled run or another
  hint run (`run_overlapping`).

Every run is recorded (`RunRecord`) and handed to a `Ledger` that checks the invariants below. The
definitions are the ones RESULTS.md explains to subscribers.

Transition: a store task (AMI id, start time to the millisecond) reaching Completed or Failed.
Visible: in the DescribeStoreImageTasks listing (the newest task of its AMI, started within 31 days).
History: every transition visible at the start or end of a run up to and including the run that
    completed the first-run baseline (the cursor item says `baselined`). History is recorded silently.
Complete run: the handler returned; no fault fired during the run (AwsFaults or emulator); the report
    says stoppedBecause None and listingComplete True; and no pending delivery in the cursor held a
    live lease when the run started (after a crash the harness waits out CLAIM_LEASE_SECONDS, since a
    crashed run's deliveries are only taken over once their lease ends).
Owed by a complete run: every non-history transition visible both when the run starts and when it
    ends, plus every announcement claimed in the table (a task item's `announcements`). A hint run is
    never complete: it reads no listing.
Owed by a quiet run (quietWhenIdle: a scheduled run that asked EC2 nothing, without a fault, a live
    lease or a stale cursor): every announcement claimed in the table, and every non-history transition
    visible when it starts and ends that was already visible fullScanIntervalMinutes before it. A run
    may stay quiet only while the safety net is not due, so a net completed since that transition was
    listed, and found it.

Invariants:
1. lost: after each complete run and each quiet run, everything it owes has arrived at least once on
   both channels (the topic's SQS subscriber and the bus rule's SQS subscriber).
2. duplicated: an eventId that arrives twice on a channel, in runs a <= b, is a fault-free duplicate
   unless a fault fired in one of the runs a..b-1 (or in run a when a == b). Throttling that outlasts
   several runs (EC2's request bucket kept empty, a channel refusing every call after the SDK's
   retries: tests/chaos/scenarios.py, Throttle) is not such a fault: nothing it refused was accepted,
   so nothing may come twice across it. Nor is a hint's fault (dropped, delayed, repeated, early,
   forged, a batch handed over again): a hint only says which AMIs to ask EC2 about.
3. regressions: a task item that reached Completed or Failed never changes state again; the cursor's
   version never decreases; the cursor never lists a finished task as in progress.
4. crashes: the handler raises nothing but the injected SimulatedCrash, whatever the listing holds (nor
   does a hint run fail, whatever its batch holds).
5. timeouts: a run on Lambda's clock ends before the function's timeout.
6. phantoms: every delivered eventId belongs to a non-history transition that EC2 listed by the end of
   the run that first delivered it (an announcement of a store or state EC2 never had, such as a forged
   object's, or one made before EC2 showed it, on a hint's word, is a phantom; one of a transition from
   before the baseline is history announced), and what a hint added to it is true: `startedBy` the
   caller CloudTrail named, `objectSize`/`objectEtag` only on a Completed store and never a forged
   object's (a phantom fact).
Also checked: each detail matches its transition, and the topic's Failed-only subscriber gets exactly
the Failed announcements of the topic.

Notices (archive verifications, unapproved buckets, stalls) have a ledger of their own beside this one,
with the same invariants 1, 2 and 6 (tests/chaos/notice_ledger.py). The world keeps the buckets they are
about (tests/chaos/archive_buckets.py), answers the handler's HeadObject into a bucket whose policy refuses
it, and reads the listing and S3 after each run (tests/chaos/world_views.py).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import itertools
import json
import os
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.sqs.models import sqs_backends

from ami_store_notifier import handler
from ami_store_notifier.adapters.table_items import (
    LEASE_BATCHES,
    cursor_pk,
    known_pk,
    lease_batch_pk,
    watch_pk,
)
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES
from ami_store_notifier.poller import HintRun, Poller
from ami_store_notifier.report import QUIET
from local import dynamodb_tokens
from local.deployment import (
    EVENT_SOURCE,
    RULE_QUEUE,
    TOPIC_FAILED_QUEUE,
    TOPIC_QUEUE,
    VERIFIED_QUEUE,
    LocalDeployment,
    Received,
    decode,
    deploy,
)
from local.ec2_store_tasks import (
    CLOCK,
    COMPLETED,
    FAILED,
    LISTING_WINDOW,
    CallerIdentity,
    HintEvents,
    HintFaults,
    StoreTask,
    StoreTaskBackend,
    install,
    store_tasks_backend,
)
from local.ec2_store_tasks import reset as reset_emulator
from local.event_source_mapping import EventSourceMapping, HintBatch, Polling
from local.lambda_context import ACCOUNT, OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, REGION, LambdaContextStub
from tests.chaos.archive_buckets import (
    ARCHIVE_BUCKETS,
    REFUSED,
    create_archive_buckets,
    empty_archive_buckets,
    refuse_head_object,
)
from tests.chaos.lambda_time import LambdaTimeout
from tests.chaos.moto_shims import moto_costs_removed
from tests.chaos.notice_ledger import NoticeLedger
from tests.chaos.notice_rules import NOTICE_KINDS, AssuranceSettings
from tests.chaos.world_views import RecordedTask, TaskView, WorldView, ec2_timestamp, tasks_view, world_view
from tests.faults import AwsFaults, SimulatedCrash

CHANNELS = {"sns": TOPIC_QUEUE, "events": RULE_QUEUE}
# The harness's own subscriber of the notices on the bus (the deployment's rule takes state changes only).
NOTICE_QUEUE = "rule-notices"
NOTICE_CHANNELS = {"sns": TOPIC_QUEUE, "events": NOTICE_QUEUE}
SUBSCRIBER_QUEUES = (TOPIC_QUEUE, TOPIC_FAILED_QUEUE, RULE_QUEUE, NOTICE_QUEUE, VERIFIED_QUEUE)
TERMINAL = frozenset({COMPLETED, FAILED})
BUCKET = "ami-archive"
# The hint scenarios' bucket: it exists, with S3's delivery to EventBridge on, so that a completed store's
# object lands in it and S3 sends Object Created (BUCKET does not exist: the other scenarios write none).
HINTED_BUCKET = "ami-archive-hinted"
# Who CloudTrail says started every store (the emulator's default caller), and what a forged object is:
# an empty upload (HintEvents.forge), where the emulator's stored AMI is never empty.
STARTED_BY = CallerIdentity().arn(ACCOUNT)
FORGED_OBJECT_SIZE = 0
SCHEDULED = "scheduled"
HINTS = "hints"
# The overlapping pairs `run_overlapping` makes: which run reads the cursor first, which one second.
OVERLAP_SCHEDULED = f"{SCHEDULED}+{SCHEDULED}"
OVERLAP_ORDERS = (OVERLAP_SCHEDULED, f"{HINTS}+{SCHEDULED}", f"{SCHEDULED}+{HINTS}", f"{HINTS}+{HINTS}")
CURSOR_PK = cursor_pk(REGION)
KNOWN_PK = known_pk(REGION)
WATCH_PK = watch_pk(REGION)
# Small pages so that a handful of tasks already spans several DescribeStoreImageTasks calls.
DEFAULT_SETTINGS = {"PAGE_SIZE": "2"}
_ENVIRONMENT = {
    **OFFLINE_AWS_ENVIRONMENT,
    # The harness empties the subscriber queues between scenarios, faster than SQS's 60 s rule allows.
    "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false",
}
_deserializer = TypeDeserializer()


@dataclass(frozen=True, order=True)
class Transition:
    """One store task reaching Completed or Failed."""

    ami_id: str
    started: str
    state: str

    @property
    def key(self) -> str:
        return f"{self.ami_id}#{self.started}"

    @property
    def event_id(self) -> str:
        """Computed here from the published contract, not with the product's own function."""
        return hashlib.sha256(f"{REGION}|{self.ami_id}|{self.started}|{self.state}".encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.ami_id} started {self.started} -> {self.state}"


def visible_transitions(backend: StoreTaskBackend) -> frozenset[Transition]:
    """The finished tasks the listing shows right now (not one an early hint's fault hides yet)."""
    now = CLOCK.now()
    oldest = now - LISTING_WINDOW
    hints = backend.hint_events
    return frozenset(
        Transition(task.ami_id, ec2_timestamp(task.start_time), task.state)
        for task in backend.tasks()
        if task.state in TERMINAL and task.start_time >= oldest and hints.listed(task, now)
    )


@dataclass(frozen=True)
class Violation:
    kind: str
    run: int
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] run {self.run}: {self.message}"


@dataclass
class RunRecord:
    """One invocation of the handler, as the harness saw it."""

    index: int
    label: str
    at: datetime
    leases_live_at_start: bool
    visible_start: frozenset[Transition]
    visible_end: frozenset[Transition] = frozenset()
    ended: datetime | None = None
    kind: str = SCHEDULED
    """SCHEDULED (a tick of the schedule) or HINTS (a batch of the hints queue)."""
    hint_report: dict[str, Any] = field(default_factory=dict)
    """A hint run's report (its result holds only the batchItemFailures)."""
    hint_messages: int = 0
    batch: HintBatch | None = None
    stale_cursor: bool = False
    """Served the cursor as it was before an overlapping run committed."""
    outdated_cursor: bool = False
    """Served a cursor that the overlapping run had moved since: it cannot know that run's claims and
    leases, so it is not complete even when it had nothing to commit (and so no conflict to stop it)."""
    result: dict[str, Any] | None = None
    crash: str | None = None
    timed_out: bool = False
    error: str | None = None
    faults: Counter[str] = field(default_factory=Counter)
    faulted_services: frozenset[str] = frozenset()
    unfired_faults: int = 0
    received: dict[str, list[Received]] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = False
    view: WorldView | None = None
    """The listing and the archive buckets at the end of the run."""
    tasks_at_start: dict[str, TaskView] = field(default_factory=dict)
    """The listing when the run began (a task a shifting listing supersedes is gone by its end)."""

    @property
    def report(self) -> dict[str, Any]:
        if self.kind == HINTS:
            return self.hint_report
        return self.result["regions"][0] if self.result else {}

    @property
    def quiet(self) -> bool:
        """A scheduled run of the quietWhenIdle mode that asked EC2 nothing."""
        return self.kind == SCHEDULED and self.report.get("mode") == QUIET

    @property
    def stopped_because(self) -> str | None:
        return self.report.get("stoppedBecause")

    @property
    def delivered(self) -> dict[str, list[dict[str, Any]]]:
        """The state changes each channel delivered."""
        return {
            channel: [item.detail for item in self.received[queue] if item.notice is None]
            for channel, queue in CHANNELS.items()
        }

    @property
    def notices_delivered(self) -> dict[str, list[Received]]:
        return {
            channel: [item for item in self.received[queue] if item.notice is not None]
            for channel, queue in NOTICE_CHANNELS.items()
        }

    def metric(self, name: str) -> float:
        """The sum of one metric over the EMF documents this run printed."""
        return sum(sum(document.get(name, [])) for document in self.metrics if name in document)

    def log_lines(self, level: str | None = None) -> list[dict[str, Any]]:
        return [line for line in self.logs if level is None or line.get("level") == level]


@dataclass(frozen=True)
class TableSnapshot:
    cursor: dict[str, Any]
    states: dict[str, str]
    claimed: frozenset[Transition]
    tasks: dict[str, RecordedTask] = field(default_factory=dict)


@dataclass
class Figures:
    """What a scenario (or a campaign, summed) did and found."""

    scenarios: int = 0
    runs: int = 0
    complete_runs: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    faults_not_reached: int = 0
    overlapping_pairs: int = 0
    listing_shifts: int = 0
    malformed_entries: int = 0
    starved_runs: int = 0
    throttled_runs: int = 0
    runs_short_of_time: int = 0
    long_absences: int = 0
    stores_ended_while_away: int = 0
    multi_run_throttles: int = 0
    runs_in_multi_run_throttles: int = 0
    runs_stopped_by_multi_run_throttles: int = 0
    hint_scenarios: int = 0
    quiet_scenarios: int = 0
    hints_sent: int = 0
    """Hints the emulator had to send (a store's start or end, and forged objects): their faults below."""
    hints_delivered: int = 0
    """Hints that reached the hints queue (repeated copies and forged objects included)."""
    hint_faults: Counter[str] = field(default_factory=Counter)
    hint_runs: int = 0
    hint_messages: int = 0
    hints_retried: int = 0
    hint_overlapping_pairs: int = 0
    quiet_runs: int = 0
    owed_by_quiet_runs: int = 0
    """Transitions a quiet run owed: listed a safety-net interval before it."""
    starts_without_hint: int = 0
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    unobservable: int = 0
    messages: int = 0
    duplicates_after_faults: int = 0
    duplicates_fault_free: int = 0
    phantoms: int = 0
    phantom_facts: int = 0
    history_announced: int = 0
    regressions: int = 0
    crashes: int = 0
    timeouts: int = 0
    other_violations: int = 0
    assurance_scenarios: int = 0
    assurance_steps: Counter[str] = field(default_factory=Counter)
    """Stalls, resumes, objects written late, object plans and refused buckets of the assurance family."""
    notices_expected: int = 0
    notices_delivered: int = 0
    notices_lost: int = 0
    notice_messages: int = 0
    notice_duplicates_after_faults: int = 0
    notice_duplicates_fault_free: int = 0
    notice_phantoms: int = 0
    notice_false_facts: int = 0
    notices_by_kind: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)

    def add(self, other: Figures) -> None:
        for name, value in vars(other).items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            name: dict(sorted(value.items())) if isinstance(value, Counter) else value
            for name, value in vars(self).items()
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Figures:
        counters = {name for name, value in vars(cls()).items() if isinstance(value, Counter)}
        return cls(**{name: Counter(value) if name in counters else value for name, value in values.items()})


class Ledger:
    """Everything one scenario's runs did, and the invariants checked against it."""

    def __init__(self, assurance: AssuranceSettings | None = None) -> None:
        self.runs: list[RunRecord] = []
        self.baseline_run: int | None = None
        self.history: set[Transition] = set()
        # Finished after the first run began but before a baseline completed (a baseline read can go on
        # over several runs): they ended after the deployment, so announcing them is right, and the
        # baseline may also record them unannounced; neither owed nor forbidden.
        self.grace: set[Transition] = set()
        self._first_run_seen = False
        self.seen: dict[Transition, int] = {}
        self.claimed: dict[Transition, int] = {}
        self.expected: dict[Transition, int] = {}
        self.lost: set[Transition] = set()
        self.arrivals: dict[str, dict[str, list[int]]] = {channel: defaultdict(list) for channel in CHANNELS}
        self.details: dict[str, dict[str, Any]] = {}
        self.fault_runs: set[int] = set()
        # When EC2 first listed each transition (history included): the run, and the emulator's time.
        self.listed_in: dict[Transition, int] = {}
        self.listed_at: dict[Transition, datetime] = {}
        # quietWhenIdle's safety-net interval (fullScanIntervalMinutes), when the scenario runs quiet.
        self.quiet_interval: timedelta | None = None
        self.owed_when_quiet: set[Transition] = set()
        self.hint_faults: Counter[str] = Counter()
        self.states: dict[str, str] = {}
        self.cursor_version = 0
        self.violations: list[Violation] = []
        self.counts: Counter[str] = Counter()
        self.notices = NoticeLedger(assurance or AssuranceSettings(), self._violate)
        self._finished = False

    # -- per run -----------------------------------------------------------------------------------

    def observe(self, run: RunRecord, table: TableSnapshot) -> None:
        self.runs.append(run)
        if run.faults:
            self.fault_runs.add(run.index)
        if run.error is not None:
            self._violate("crash", run, run.error)
        if run.timed_out:
            self._violate("timeout", run, f"{run.crash} (the run's own time, tests/chaos/lambda_time.py)")
        self._note_arrivals(run)
        self._check_table(run, table)
        for moment, listed in ((run.at, run.visible_start), (run.ended or run.at, run.visible_end)):
            for transition in listed:
                self.listed_in.setdefault(transition, run.index)
                self.listed_at.setdefault(transition, moment)
        baselined_before = self.baseline_run is not None
        if not baselined_before:
            if not self._first_run_seen:
                self.history |= run.visible_start
                self._first_run_seen = True
            self.grace |= (run.visible_start | run.visible_end) - self.history
            if table.cursor.get("baselined"):
                self.baseline_run = run.index
        else:
            for transition in (run.visible_start | run.visible_end) - self.history - self.grace:
                self.seen.setdefault(transition, run.index)
        for transition in table.claimed:
            self.claimed.setdefault(transition, run.index)
        assert run.view is not None
        self.notices.observe(
            run.index,
            run.at,
            run.complete,
            "s3" in run.faulted_services,
            run.view,
            run.tasks_at_start,
            run.notices_delivered,
            run.received[VERIFIED_QUEUE],
            table.tasks,
        )
        if run.complete:
            self._check_owed(run, baselined_before)
            self.notices.check_owed(run.index, self._announced_completions(), complete=True)
        elif baselined_before and self.quiet_interval is not None and _owes_when_quiet(run):
            self._check_owed(run, baselined_before, listed_by=run.at - self.quiet_interval)
            self.notices.check_owed(run.index, {}, complete=False)

    def _announced_completions(self) -> dict[str, datetime]:
        """The completions the table holds announced, not the baseline's: when it first held each."""
        return {
            transition.key: self.runs[index].at
            for transition, index in self.claimed.items()
            if transition.state == COMPLETED and transition not in self.history | self.grace
        }

    def _note_arrivals(self, run: RunRecord) -> None:
        topic_failed = Counter(
            item.detail.get("eventId")
            for item in run.received[TOPIC_QUEUE]
            if item.detail.get("state") == FAILED
        )
        failed_only = Counter(item.detail.get("eventId") for item in run.received[TOPIC_FAILED_QUEUE])
        if topic_failed != failed_only:
            self._violate(
                "filter",
                run,
                f"the Failed-only subscriber got {sorted(failed_only)}, "
                f"the topic's Failed were {sorted(topic_failed)}",
            )
        for channel, details in run.delivered.items():
            for detail in details:
                event_id = str(detail.get("eventId"))
                self.arrivals[channel][event_id].append(run.index)
                self.details.setdefault(event_id, detail)

    def _check_table(self, run: RunRecord, table: TableSnapshot) -> None:
        for key, state in table.states.items():
            before = self.states.get(key)
            if before in TERMINAL and state != before:
                self._violate("regression", run, f"task {key} was recorded {before}, now {state}")
            self.states[key] = state
        version = int(table.cursor.get("version", 0))
        if version < self.cursor_version:
            self._violate("regression", run, f"cursor version went from {self.cursor_version} to {version}")
        self.cursor_version = version
        if not run.complete:
            # A run cut short may leave the known tasks behind the task items (only its last step
            # writes them): safe, since a claim the table already holds is refused by its condition.
            return
        for key, state in (table.cursor.get("known") or {}).items():
            if state == "InProgress" and table.states.get(key) in TERMINAL:
                self._violate(
                    "regression", run, f"cursor knows {key} as InProgress, its item says {table.states[key]}"
                )

    def _check_owed(self, run: RunRecord, baselined_before: bool, listed_by: datetime | None = None) -> None:
        """What the run owes: the claims, and what the listing shows at its start and end (a quiet run:
        only what it already showed at `listed_by`, a safety-net interval before the run)."""
        owed = dict.fromkeys(self.claimed, "claimed in the table")
        listed = "visible in the listing" if listed_by is None else "listed a safety-net interval ago"
        if baselined_before:
            for transition in (run.visible_start & run.visible_end) - self.history - self.grace:
                if listed_by is None or self.listed_at[transition] <= listed_by:
                    owed.setdefault(transition, listed)
                    if listed_by is not None:
                        self.owed_when_quiet.add(transition)
        for transition, why in sorted(owed.items()):
            self.expected.setdefault(transition, run.index)
            missing = [channel for channel in CHANNELS if transition.event_id not in self.arrivals[channel]]
            if missing and transition not in self.lost:
                self.lost.add(transition)
                self._violate(
                    "lost",
                    run,
                    f"{transition} ({why}) not delivered on {', '.join(missing)} by this complete run",
                )

    # -- at the end --------------------------------------------------------------------------------

    def finish(self) -> list[Violation]:
        """Checks what can only be judged over the whole scenario; returns every violation."""
        if self._finished:
            return self.violations
        self._finished = True
        for channel, arrivals in self.arrivals.items():
            for event_id, runs in arrivals.items():
                self._check_repeats(channel, event_id, runs)
        legitimate = {transition.event_id: transition for transition in (*self.seen, *self.grace)}
        history = {transition.event_id: transition for transition in self.history}
        for event_id, detail in self.details.items():
            transition = legitimate.get(event_id)
            if transition is None:
                self._not_a_transition(event_id, history.get(event_id))
                continue
            shown = (detail.get("amiId"), detail.get("taskStartTime"), detail.get("state"))
            if shown != (transition.ami_id, transition.started, transition.state):
                self._violate("garbled", -1, f"eventId {event_id[:12]} carries {shown} for {transition}")
            self._check_listed_first(event_id, transition)
            self._check_hint_facts(event_id, detail, transition)
        history = frozenset(transition.key for transition in self.history)
        self.notices.finish(self.fault_runs, history, STARTED_BY)
        return self.violations

    def _check_listed_first(self, event_id: str, transition: Transition) -> None:
        """An announcement of a transition EC2 did not list yet by the end of its run: a hint's word."""
        first = self._first_arrival(event_id)
        listed = self.listed_in.get(transition, first)
        if first < listed:
            self.counts["phantoms"] += 1
            self._violate(
                "phantom", first, f"{transition} announced before EC2 listed it (first in run {listed})"
            )

    def _check_hint_facts(self, event_id: str, detail: Mapping[str, Any], transition: Transition) -> None:
        """What a hint added to an announcement must be true of the store."""
        wrong = []
        started_by = detail.get("startedBy")
        if started_by is not None and started_by != STARTED_BY:
            wrong.append(f"startedBy {started_by!r}, CloudTrail named {STARTED_BY!r}")
        if "objectSize" in detail or "objectEtag" in detail:
            if transition.state != COMPLETED:
                wrong.append(f"an object ({detail.get('objectEtag')}) for a store that {transition.state}")
            elif detail.get("objectSize") == FORGED_OBJECT_SIZE:
                wrong.append(f"a forged object's size and ETag ({detail.get('objectEtag')})")
        if wrong:
            self.counts["phantom_facts"] += 1
            self._violate("phantom-fact", self._first_arrival(event_id), f"{transition}: {'; '.join(wrong)}")

    def _first_arrival(self, event_id: str) -> int:
        return min(min(arrivals.get(event_id, [10**9])) for arrivals in self.arrivals.values())

    def _check_repeats(self, channel: str, event_id: str, runs: list[int]) -> None:
        for first, second in itertools.pairwise(runs):
            window = range(first, max(second, first + 1))
            if any(index in self.fault_runs for index in window):
                self.counts["duplicates_after_faults"] += 1
                continue
            self.counts["duplicates_fault_free"] += 1
            self._violate(
                "duplicate",
                second,
                f"{self._describe(event_id)} delivered again on {channel} (first in run {first}) "
                "with no fault in between",
            )

    def _not_a_transition(self, event_id: str, history: Transition | None) -> None:
        """An announcement of a transition from before the baseline, or of none at all."""
        first = self._first_arrival(event_id)
        if history is not None:
            self.counts["history_announced"] += 1
            self._violate("history", first, f"{history} finished before the baseline yet was announced")
        else:
            self.counts["phantoms"] += 1
            self._violate("phantom", first, f"{self._describe(event_id)} matches no transition")

    def figures(self) -> Figures:
        self.finish()
        kinds = Counter(violation.kind for violation in self.violations)
        counted: dict[str, Any] = {name: self.counts[name] for name in _COUNTED}
        return Figures(
            scenarios=1,
            **self._run_figures(),
            **self.notices.figures(),
            **counted,
            hint_faults=Counter(self.hint_faults),
            owed_by_quiet_runs=len(self.owed_when_quiet),
            expected=len(self.expected),
            delivered=sum(1 for transition in self.expected if self._arrived_on_both(transition)),
            lost=len(self.lost),
            unobservable=len(set(self.seen) - set(self.expected)),
            messages=sum(len(runs) for arrivals in self.arrivals.values() for runs in arrivals.values()),
            regressions=kinds["regression"],
            crashes=kinds["crash"],
            timeouts=kinds["timeout"],
            other_violations=kinds["filter"] + kinds["garbled"] + kinds["never-complete"],
            assurance_steps=Counter(
                {name: self.counts[name] for name in _ASSURANCE_STEPS if self.counts[name]}
            ),
        )

    def _run_figures(self) -> dict[str, Any]:
        faults: Counter[str] = Counter()
        for run in self.runs:
            faults.update(run.faults)
        return {
            "runs": len(self.runs),
            "complete_runs": sum(1 for run in self.runs if run.complete),
            "faults": faults,
            "faults_not_reached": sum(run.unfired_faults for run in self.runs),
            "throttled_runs": sum(1 for run in self.runs if run.metric("RunsThrottled") > 0),
            "runs_short_of_time": sum(1 for run in self.runs if run.stopped_because == "time"),
            "hint_runs": sum(1 for run in self.runs if run.kind == HINTS),
            "hint_messages": sum(run.hint_messages for run in self.runs),
            "quiet_runs": sum(1 for run in self.runs if run.quiet),
            "starts_without_hint": int(sum(run.metric("StartsWithoutHint") for run in self.runs)),
        }

    def _arrived_on_both(self, transition: Transition) -> bool:
        return all(transition.event_id in self.arrivals[channel] for channel in CHANNELS)

    # -- helpers -----------------------------------------------------------------------------------

    def delivery_count(self, channel: str, transition: Transition) -> int:
        return len(self.arrivals[channel].get(transition.event_id, []))

    def _describe(self, event_id: str) -> str:
        detail = self.details.get(event_id, {})
        return f"{detail.get('amiId')} started {detail.get('taskStartTime')} -> {detail.get('state')}"

    def _violate(self, kind: str, run: RunRecord | int, message: str) -> None:
        index = run.index if isinstance(run, RunRecord) else run
        self.violations.append(Violation(kind, index, message))


# Figures that the scenarios and the ledger count as they go (Ledger.counts).
_COUNTED = (
    "overlapping_pairs",
    "listing_shifts",
    "malformed_entries",
    "starved_runs",
    "long_absences",
    "stores_ended_while_away",
    "multi_run_throttles",
    "runs_in_multi_run_throttles",
    "runs_stopped_by_multi_run_throttles",
    "duplicates_after_faults",
    "duplicates_fault_free",
    "phantoms",
    "phantom_facts",
    "history_announced",
    "hint_scenarios",
    "quiet_scenarios",
    "hints_sent",
    "hints_delivered",
    "hints_retried",
    "hint_overlapping_pairs",
    "assurance_scenarios",
)
# What the assurance family did to the world (tests/chaos/assurance_scenarios.py), counted as it goes.
_ASSURANCE_STEPS = (
    "stores stalled",
    "stalls resumed",
    "objects written late",
    "objects left out",
    "objects delayed",
    "objects empty",
    "objects in an archive class",
    "stores into a refused bucket",
)
ListingEdit = Callable[[list[dict[str, Any]], Mapping[str, Any]], None]


class ChaosWorld:
    """moto, the emulator and the deployed notifier; the handler wired once and invoked per run."""

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        self._settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._stack = contextlib.ExitStack()
        self._listing_edits: list[ListingEdit] = []
        self.ledger = Ledger()
        self.lease_seconds = 300
        self.faults = AwsFaults()
        # The event source mapping of the hints queue while a scenario has hints on (`enable_hints`).
        self.hints: EventSourceMapping | None = None
        self._hint_runs: list[HintRun | str] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> ChaosWorld:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        stack = self._stack
        saved = {name: os.environ.get(name) for name in (*_ENVIRONMENT, *OFFLINE_UNSET)}
        stack.callback(_restore_environment, saved)
        os.environ.update(_ENVIRONMENT)
        for name in OFFLINE_UNSET:
            os.environ.pop(name, None)
        install()
        dynamodb_tokens.install()
        reset_emulator()
        stack.callback(reset_emulator)
        stack.enter_context(mock_aws())
        stack.enter_context(moto_costs_removed())
        session = boto3.session.Session()
        self.deployment: LocalDeployment = deploy(session, region=REGION, hints=True)
        self.dynamodb = session.client("dynamodb", region_name=REGION)
        self.sqs = self.deployment.sqs
        s3 = session.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=HINTED_BUCKET)
        s3.put_bucket_notification_configuration(
            Bucket=HINTED_BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        create_archive_buckets(s3)
        self._subscribe_to_notices(session)
        # A hint run's report and answers, which the handler only logs (at INFO, below the deployment's
        # level): kept as the poller returns them.
        saved_run_hints = Poller.run_hints
        stack.callback(setattr, Poller, "run_hints", saved_run_hints)
        kept = self._hint_runs

        def run_hints(poller: Poller, *args: Any, **kwargs: Any) -> HintRun:
            try:
                answered: HintRun = saved_run_hints(poller, *args, **kwargs)
            except Exception as error:
                kept.append("".join(traceback.format_exception(error)).strip())
                raise
            kept.append(answered)
            return answered

        Poller.run_hints = run_hints  # type: ignore[method-assign]
        # The handler reads the emulator's clock, as the conftest's run_handler fixture arranges.
        saved_clock = handler.utc_now
        handler.utc_now = CLOCK.now
        stack.callback(setattr, handler, "utc_now", saved_clock)
        # botocore's standard retries really sleep between attempts; the emulator's clock does not
        # need them to, and a campaign of thousands of runs cannot afford it.
        saved_delay = ExponentialBackoff.delay_amount
        ExponentialBackoff.delay_amount = lambda self, context: 0.0
        stack.callback(setattr, ExponentialBackoff, "delay_amount", saved_delay)
        # The powertools handler writes JSON lines to the stdout of import time: send them here instead.
        self._log_stream = io.StringIO()
        log_handler = handler.logger.registered_handler
        previous = log_handler.setStream(self._log_stream)
        stack.callback(log_handler.setStream, previous)
        stack.callback(handler.wiring.cache_clear)
        self._environment_names: set[str] = set()
        stack.callback(self._clear_handler_environment)
        self.configure(**self._settings)

    def close(self) -> None:
        self._stack.close()

    def _subscribe_to_notices(self, session: Any) -> None:
        """A queue behind a rule on the bus that takes every notice's detail-type, as a subscriber of the
        notices would have."""
        queue_url = self.sqs.create_queue(QueueName=f"chaos-{NOTICE_QUEUE}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        events = session.client("events", region_name=REGION)
        rule = f"chaos-{NOTICE_QUEUE}"
        pattern = {"source": [EVENT_SOURCE], "detail-type": sorted(NOTICE_DETAIL_TYPES.values())}
        bus = self.deployment.bus_name
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
        target = {"Id": NOTICE_QUEUE, "Arn": arn["Attributes"]["QueueArn"]}
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[target])
        self.deployment.queue_urls[NOTICE_QUEUE] = queue_url

    @property
    def settings(self) -> dict[str, str]:
        return dict(self._settings)

    def configure(self, **settings: str) -> None:
        """Re-wires the handler (a cold start) with these settings on top of the defaults."""
        self._settings = {**DEFAULT_SETTINGS, **settings}
        self._clear_handler_environment()
        environment = self.deployment.handler_environment(**self._settings)
        os.environ.update(environment)
        self._environment_names = set(environment)
        handler.wiring.cache_clear()
        wired = handler.wiring()
        self.faults = AwsFaults()
        for client in (
            *wired.ec2_clients.values(),
            *wired.s3_clients.values(),
            wired.dynamodb,
            wired.sns,
            wired.events,
        ):
            self.faults.attach(client)
        for client in wired.s3_clients.values():
            refuse_head_object(client)
        self.ledger.notices.settings = self.assurance_settings()
        wired.ec2_clients[REGION].meta.events.register(
            "after-call.ec2.DescribeStoreImageTasks", self._edit_listing, unique_id="chaos-listing-edit"
        )
        self.lease_seconds = wired.settings.claim_lease_seconds
        self.reserve_seconds = wired.settings.delivery_reserve_seconds

    def assurance_settings(self) -> AssuranceSettings:
        """What the handler's settings turn on of the notices, with the buckets whose policy refuses it."""
        return AssuranceSettings.of(self._settings, refused=REFUSED)

    def _clear_handler_environment(self) -> None:
        for name in self._environment_names:
            os.environ.pop(name, None)
        self._environment_names = set()

    def reset(self) -> None:
        """Empties the world for the next scenario: emulator, clock, table, client tokens, queues,
        faults, ledger."""
        reset_emulator()
        # The clock restarts behind where the last scenario left it: its tokens would never age out.
        dynamodb_tokens.reset()
        self.faults.clear()
        self._listing_edits.clear()
        keys = [{"pk": item["pk"]} for item in self._scan()]
        for start in range(0, len(keys), 25):
            self.dynamodb.batch_write_item(
                RequestItems={
                    self.deployment.table_name: [
                        {"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]
                    ]
                }
            )
        for url in (*self.deployment.queue_urls.values(), self.deployment.hints_dead_letter_url):
            self.sqs.purge_queue(QueueUrl=url)
        empty_archive_buckets()
        self.hints = None
        self.ledger = Ledger(self.assurance_settings())

    def enable_hints(self, faults: HintFaults, polling: Polling) -> None:
        """Hints for this scenario: the emulator sends both kinds (a trail logs CreateStoreImageTask, the
        bucket sends its events to EventBridge), spoiled by `faults`, and Lambda's event source mapping
        reads the hints queue as `polling` says (a fresh one: nothing held from the last scenario)."""
        self.backend.hint_events = HintEvents(cloudtrail=True, s3=True, faults=faults)
        mapping = self.deployment.hints
        assert mapping is not None
        self.hints = EventSourceMapping(self.sqs, mapping.queue_url, mapping.queue_arn, REGION, polling)
        self.ledger.counts["hint_scenarios"] += 1

    def store_started(self, task: StoreTask) -> None:
        """What CreateStoreImageTask would tell the bus of a store the scenario seeded (with hints on)."""
        if self.hints is None:
            return
        hint_events = self.backend.hint_events
        hint_events.store_started(task, ACCOUNT, REGION, None)
        if not hint_events.listed(task, task.start_time):
            self.ledger.hint_faults["early"] += 1

    def forge_object(self, ami_id: str) -> None:
        """Somebody uploads `<ami_id>.bin` into the hinted bucket: S3 tells the bus (an unspoiled hint)."""
        if self.hints is not None:
            self.backend.hint_events.forge(ACCOUNT, REGION, HINTED_BUCKET, CLOCK.now(), ami_id=ami_id)

    def count_hints(self) -> None:
        """The scenario's hints, by what the emulator and the queue did to them, into the ledger's figures."""
        if self.hints is None:
            return
        counts, faults = self.ledger.counts, self.ledger.hint_faults
        for delivery in self.backend.hint_events.log:
            if delivery.fault == "dropped":
                faults["dropped"] += 1
            else:
                counts["hints_delivered"] += 1
            if delivery.fault in ("delayed", "repeated", "forged"):
                faults[delivery.fault] += 1
            if delivery.fault != "repeated":
                counts["hints_sent"] += 1
        for batch in self.hints.batches:
            answered = batch.answer.get("batchItemFailures", []) if isinstance(batch.answer, dict) else []
            counts["hints_retried"] += len(answered)
            if batch.error is None and len(batch.retried) > len(answered):
                faults["redelivered"] += 1

    def listing_given(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Entries a run's listing was given by hand (malformed ones the emulator would refuse): those the
        notifier may record (an AMI id, a start time with its zone, a bucket) are tasks the notices may be
        about."""
        for entry in entries:
            start = entry.get("TaskStartTime")
            if not (
                entry.get("AmiId") and entry.get("Bucket") and isinstance(start, datetime) and start.tzinfo
            ):
                continue
            progress = entry.get("ProgressPercentage")
            task = TaskView(
                entry["AmiId"],
                ec2_timestamp(start),
                entry["Bucket"],
                entry.get("S3objectKey", ""),
                str(entry.get("StoreTaskState", "")),
                progress if isinstance(progress, int) else 0,
            )
            self.ledger.notices.listed(task, CLOCK.now())

    # -- what the world holds ----------------------------------------------------------------------

    @property
    def backend(self) -> StoreTaskBackend:
        return store_tasks_backend(ACCOUNT, REGION)

    @property
    def handler_ec2(self) -> Any:
        return handler.wiring().ec2_clients[REGION]

    @property
    def handler_dynamodb(self) -> Any:
        return handler.wiring().dynamodb

    def cursor(self) -> dict[str, Any]:
        return self._item(CURSOR_PK)

    def _item(self, pk: str) -> dict[str, Any]:
        """One item, as a consistent GetItem answers it, read from moto's table itself (as `_scan`)."""
        item = self._moto_table().get_item(DynamoType({"S": pk}))
        return _plain(item.to_json()["Attributes"]) if item is not None else {}

    def _moto_table(self) -> Any:
        return dynamodb_backends[ACCOUNT][REGION].get_table(self.deployment.table_name)

    def leases_live(self, now: datetime) -> bool:
        """Whether a run holds a lease on pending deliveries (in the cursor's batches, or in the cursor
        itself as an earlier version kept them)."""
        head = self.cursor()
        leases = [int(lease) for lease in (head.get("pending") or {}).values()]
        for batch in head.get(LEASE_BATCHES) or ():
            item = self._item(lease_batch_pk(REGION, int(batch)))
            leases += [int(item["leaseExpiresAt"])] if item else []
        return any(lease > int(now.timestamp()) for lease in leases)

    def _outdated(self, stale_cursor: Mapping[str, Any] | None) -> bool:
        """Whether the cursor a run is served is older than the table's."""
        if stale_cursor is None:
            return False
        served = [
            item
            for items in stale_cursor.get("Responses", {}).values()
            for item in items
            if item.get("pk") == {"S": CURSOR_PK}
        ]
        version = int(served[0]["version"]["N"]) if served else 0
        return version != int(self.cursor().get("version", 0))

    def cursor_answer(self) -> dict[str, Any]:
        """What the cursor's first read (its head and known tasks, one BatchGetItem) answers now; the store
        watches are read after it, fresh (DynamoDbStateStore.load_cursor)."""
        keys = [{"pk": {"S": pk}} for pk in (CURSOR_PK, KNOWN_PK)]
        table = self.deployment.table_name
        return self.dynamodb.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})

    def table(self) -> TableSnapshot:
        cursor: dict[str, Any] = {}
        states: dict[str, str] = {}
        claimed: set[Transition] = set()
        tasks: dict[str, RecordedTask] = {}
        known: dict[str, Any] = {}
        for raw in self._scan():
            item = _plain(raw)
            if item["pk"] == CURSOR_PK:
                cursor = item
                continue
            if item["pk"] == KNOWN_PK:
                known = item
                continue
            if not item["pk"].startswith("TASK#"):
                continue
            key = item["pk"].split("#", 2)[2]
            states[key] = item.get("state", "")
            milestones = frozenset(item.get("announcements") or {})
            for state in milestones - set(NOTICE_KINDS):
                claimed.add(Transition(item["amiId"], item["taskStartTime"], state))
            tasks[key] = RecordedTask(
                item["amiId"], item["taskStartTime"], item.get("bucket", ""), states[key], milestones
            )
        if known:
            cursor = {**cursor, "known": known.get("known", {})}
        return TableSnapshot(cursor, states, frozenset(claimed), tasks)

    def _scan(self) -> list[dict[str, Any]]:
        """Every item, as a consistent Scan answers it, read from moto's table itself: moto's Scan
        serializes its answer at about half a millisecond a value, 5 s for a table of 1,000 claimed
        tasks, and the harness reads the table after every run."""
        return [item.to_json()["Attributes"] for item in self._moto_table().all_items()]

    # -- shaping a run -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def listing_edited(self, edit: ListingEdit) -> Iterator[None]:
        """While active, `edit(results, params)` may change each parsed DescribeStoreImageTasks answer."""
        self._listing_edits.append(edit)
        try:
            yield
        finally:
            self._listing_edits.remove(edit)

    def _edit_listing(self, parsed: dict[str, Any], context: Mapping[str, Any], **_: Any) -> None:
        if not self._listing_edits or "StoreImageTaskResults" not in parsed:
            return
        params = context.get("chaos_params", {})
        for edit in list(self._listing_edits):
            edit(parsed["StoreImageTaskResults"], params)

    @contextlib.contextmanager
    def calls_recorded(self) -> Iterator[list[tuple[str, str]]]:
        """The (service, operation) of every call the handler's clients make meanwhile, in order."""
        made: list[tuple[str, str]] = []

        def note(model: Any, **_: Any) -> None:
            made.append((model.service_model.service_name, model.name))

        wired = handler.wiring()
        clients = (*wired.ec2_clients.values(), wired.dynamodb, wired.sns, wired.events)
        for client in clients:
            client.meta.events.register("before-call.*.*", note, unique_id="chaos-calls")
        try:
            yield made
        finally:
            for client in clients:
                client.meta.events.unregister("before-call.*.*", unique_id="chaos-calls")

    # -- running -----------------------------------------------------------------------------------

    def run(
        self,
        label: str = "run",
        *,
        seconds_left: Callable[[], float] | None = None,
        stale_cursor: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """One invocation of the real handler at the emulator's current time, recorded and checked."""
        now = CLOCK.now()
        record = RunRecord(
            index=len(self.ledger.runs),
            label=label,
            at=now,
            leases_live_at_start=self.leases_live(now),
            visible_start=visible_transitions(self.backend),
            outdated_cursor=self._outdated(stale_cursor),
            tasks_at_start=tasks_view(self.backend),
        )
        context = LambdaContextStub(seconds_left or (lambda: 120.0))
        self._played(record, stale_cursor, lambda: handler.lambda_handler({}, context))
        self.ledger.observe(record, self.table())
        return record

    def run_hints(
        self,
        label: str = "hints",
        *,
        stale_cursor: Mapping[str, Any] | None = None,
        inject: Callable[[], None] | None = None,
    ) -> RunRecord | None:
        """Lambda's event source mapping hands the function a batch of the hints queue now (the batching
        window closed), if one is waiting: recorded and checked like a scheduled run. `inject` aims the
        faults at this run. None when no hint was waiting."""
        mapping = self.hints
        if mapping is None or not _hints_waiting(mapping):
            return None
        record = RunRecord(
            index=len(self.ledger.runs),
            label=label,
            at=CLOCK.now(),
            leases_live_at_start=False,
            visible_start=visible_transitions(self.backend),
            kind=HINTS,
            outdated_cursor=self._outdated(stale_cursor),
            tasks_at_start=tasks_view(self.backend),
        )
        if inject is not None:
            inject()
        context = LambdaContextStub()

        def invoke(event: dict[str, Any]) -> Any:
            record.hint_messages = len(event["Records"])
            return handler.lambda_handler(event, context)

        def deliver() -> dict[str, Any]:
            record.batch = mapping.deliver(invoke)
            answer = record.batch.answer if record.batch is not None else None
            return answer if isinstance(answer, dict) else {}

        self._hint_runs.clear()
        self._played(record, stale_cursor, deliver)
        if record.hint_messages == 0:
            return None  # nothing was waiting after all: no invocation
        if record.batch is not None and record.batch.error is not None:
            record.error = f"the function failed the batch: {record.batch.error}"
        for answered in self._hint_runs:
            if isinstance(answered, str):
                record.error = f"the hint run failed: {answered}"
            else:
                record.hint_report = answered.report.summary()
        self.ledger.observe(record, self.table())
        return record

    def deliver_hints(self, label: str = "hints", limit: int = 20) -> list[RunRecord]:
        """Every batch waiting on the hints queue, one invocation each (at most `limit`)."""
        runs = []
        for _ in range(limit):
            record = self.run_hints(label)
            if record is None:
                break
            runs.append(record)
        return runs

    def _played(
        self, record: RunRecord, stale_cursor: Mapping[str, Any] | None, call: Callable[[], dict[str, Any]]
    ) -> None:
        """Invokes, then notes the faults that fired, what the run left on the subscriber queues, its
        logs and metrics."""
        backend = self.backend
        record.stale_cursor = stale_cursor is not None
        fired_before = Counter(self.faults.injected)
        services_before = Counter(self.faults.injected_into)
        emulator_queued = backend.faults.pending()
        printed = io.StringIO()
        with self._hooked(stale_cursor):
            self._invoke(record, printed, call)
        record.faults = Counter(self.faults.injected) - fired_before
        record.faulted_services = frozenset(Counter(self.faults.injected_into) - services_before)
        emulator_fired = emulator_queued - backend.faults.pending()
        if emulator_fired:
            record.faults["ec2-error"] += emulator_fired
        record.unfired_faults = self.faults.pending() + backend.faults.pending()
        self.faults.faults.clear()
        backend.faults.clear()
        record.ended = CLOCK.now()
        record.visible_end = visible_transitions(backend)
        record.received = {queue: self._drain(queue) for queue in SUBSCRIBER_QUEUES}
        record.view = world_view(backend, ARCHIVE_BUCKETS)
        record.metrics = _json_lines(printed.getvalue(), lambda document: "_aws" in document)
        record.logs = _json_lines(self._log_stream.getvalue(), lambda document: "level" in document)
        record.complete = _complete(record)

    @contextlib.contextmanager
    def _hooked(self, stale_cursor: Mapping[str, Any] | None) -> Iterator[None]:
        """The listing's parameters remembered for the listing edits; the stale cursor served."""
        ec2 = self.handler_ec2
        ec2.meta.events.register(
            "before-call.ec2.DescribeStoreImageTasks", _remember_params, unique_id="chaos-params"
        )
        if stale_cursor is not None:
            self.handler_dynamodb.meta.events.register(
                "before-call.dynamodb.BatchGetItem",
                _stale_answer(stale_cursor),
                unique_id="chaos-stale-cursor",
            )
        try:
            yield
        finally:
            ec2.meta.events.unregister("before-call.ec2.DescribeStoreImageTasks", unique_id="chaos-params")
            if stale_cursor is not None:
                self.handler_dynamodb.meta.events.unregister(
                    "before-call.dynamodb.BatchGetItem", unique_id="chaos-stale-cursor"
                )

    def _invoke(self, record: RunRecord, printed: io.StringIO, call: Callable[[], dict[str, Any]]) -> None:
        """The handler's answer, or how it ended: a crash (injected, or Lambda's timeout) or an error."""
        self._log_stream.seek(0)
        self._log_stream.truncate()
        try:
            with contextlib.redirect_stdout(printed), warnings.catch_warnings():
                # powertools warns when a crashed invocation flushed no metric of its own
                warnings.filterwarnings("ignore", message="No application metrics to publish")
                record.result = call()
            record.error = failed_regions(record.result)
        except SimulatedCrash as crash:
            record.crash = str(crash)
            record.timed_out = isinstance(crash, LambdaTimeout)
        except Exception as error:
            record.error = "".join(traceback.format_exception(error)).strip()

    def run_overlapping(
        self,
        label: str = "overlap",
        *,
        order: str = OVERLAP_SCHEDULED,
        inject: Callable[[], None] | None = None,
    ) -> tuple[RunRecord | None, RunRecord | None]:
        """Two invocations that both read the cursor before either committed: the second one is
        served the cursor as it was before the first run (a stale read). `order` says which runs they
        are (OVERLAP_ORDERS: scheduled or hint runs); `inject` aims faults at the first. A hint run
        with no batch waiting does not happen (None), and then the pair is no overlap."""
        stale = self.cursor_answer()
        first_kind, second_kind = order.split("+")
        if inject is not None and first_kind == SCHEDULED:
            inject()
        first = (
            self.run(f"{label}/first")
            if first_kind == SCHEDULED
            else self.run_hints(f"{label}/first", inject=inject)
        )
        second = (
            self.run(f"{label}/second", stale_cursor=stale)
            if second_kind == SCHEDULED
            else self.run_hints(f"{label}/second", stale_cursor=stale)
        )
        if first is not None and second is not None:
            self.ledger.counts["overlapping_pairs"] += 1
            if HINTS in order:
                self.ledger.counts["hint_overlapping_pairs"] += 1
        return first, second

    def settle(self, max_runs: int = 3, *, wait_seconds: float = 0.0) -> RunRecord:
        """Waits out any lease (and `wait_seconds`, when longer), hands over the hints waiting, and runs,
        without faults, until a run completes."""
        record = None
        for _ in range(max_runs):
            CLOCK.advance(max(self.lease_seconds + 1, wait_seconds))
            self.deliver_hints("settle/hints")
            record = self.run("settle")
            if record.complete:
                return record
        assert record is not None
        self.ledger._violate("never-complete", record, f"no complete run after {max_runs} fault-free runs")
        return record

    def _drain(self, queue: str) -> list[Received]:
        """What the run left on a subscriber queue, in the order it arrived, taken from moto's queue
        itself and deleted: through ReceiveMessage and DeleteMessageBatch, the three queues cost some
        30 ms of moto after every run, more than a quiet run of the handler. Only the harness reads these
        queues, so every message they hold is visible."""
        name = self.deployment.queue_urls[queue].rsplit("/", 1)[-1]
        backend = sqs_backends[ACCOUNT][REGION]
        messages = list(backend.get_queue(name)._messages)
        if not messages:
            return []
        backend.purge_queue(name)
        return [decode(queue, message.body) for message in messages]


def _complete(record: RunRecord) -> bool:
    """Whether the run is complete (the module's docstring). A run that finishes a read an earlier run
    left unfinished does not read the listing's head again: what appeared since is the next run's, so
    such a run does not count as complete. A hint run reads no listing."""
    return (
        record.kind == SCHEDULED
        and not record.outdated_cursor
        and record.crash is None
        and record.error is None
        and not record.faults
        and record.stopped_because is None
        and bool(record.report.get("listingComplete"))
        and not record.report.get("readGoesOn")
        and not record.leases_live_at_start
    )


def _hints_waiting(mapping: EventSourceMapping) -> bool:
    """Whether the hints queue shows a message, or holds one whose visibility timeout has run out."""
    due = mapping.due()
    return (due is not None and due <= CLOCK.now()) or mapping.visible() > 0


def _owes_when_quiet(record: RunRecord) -> bool:
    """A quiet run that nothing spoiled (module docstring: what it owes). Not one served a stale cursor:
    it stayed quiet on the word of a cursor that an overlapping run's claims had already moved on."""
    return (
        record.quiet
        and not record.stale_cursor
        and record.crash is None
        and record.error is None
        and not record.faults
        and record.stopped_because is None
        and not record.leases_live_at_start
    )


def _remember_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["chaos_params"] = dict(params)


def _stale_answer(stale: Mapping[str, Any]) -> Callable[..., tuple[AWSResponse, dict[str, Any]] | None]:
    def answer(params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        # before-call hands over the serialized request, not the call's parameters: read its JSON body.
        body = json.loads(params.get("body") or "{}")
        requested = [request.get("Keys", []) for request in body.get("RequestItems", {}).values()]
        if not any({"pk": {"S": CURSOR_PK}} in keys for keys in requested):
            return None
        return AWSResponse("https://dynamodb.amazonaws.com/", 200, {}, None), copy.deepcopy(dict(stale))

    return answer


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _json_lines(text: str, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    documents = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and keep(document):
            documents.append(document)
    return documents


def _restore_environment(saved: Mapping[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def assert_no_violations(ledger: Ledger, *, allow: Iterable[str] = ()) -> None:
    """Fails with every violation listed, after the end-of-scenario checks."""
    allowed = set(allow)
    found = [violation for violation in ledger.finish() if violation.kind not in allowed]
    assert not found, "invariants broken:\n" + "\n".join(str(violation) for violation in found)


def failed_regions(result: dict[str, Any]) -> str | None:
    """A failing region no longer stops the others; for the campaign it is a crash all the same."""
    failures = result.get("failedRegions") or []
    if not failures:
        return None
    return "; ".join(f"{f['region']}: {f['errorCode']}: {f['message']}" for f in failures)

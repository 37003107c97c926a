"""One emulated account with the notifier deployed with hints, driven on the emulator's clock.

The deployment is the one the demo and the integration tests use (`local.deployment.deploy(...,
hints=True)`): the rules on moto's default bus, the hint queue with its dead-letter queue, and Lambda's
event source mapping, emulated (local/event_source_mapping.py) with the stack's settings (batches of 10, no
batching window, a visibility timeout of six function timeouts). The real handler answers the scheduled
ticks and the mapping's batches.

`run_until()` moves the clock from one moment something happens to the next: an action the scenario
planned (a store starting or ending, a scheduled tick, a waiter's call, a forged object), a hint reaching
the queue (bench/hints/delays.py), a handed-back hint coming back. The mapping hands over one batch at a
time, as soon as the queue holds messages; each hint run keeps the mapping busy for its measured wall time
over the `HINT_RUNS_AT_ONCE` runs the stack lets it have at once, so a flood drains at the pace the handler
allows. A scheduled run does not move the clock (it runs beside the hint runs in AWS).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import io
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3

from ami_store_notifier.settings_function import DEFAULT_TIMEOUT_SECONDS
from bench.emulated import emulated_handler
from bench.hints.delays import DelayedHintEvents, DeliveryModel
from bench.hints.fast_sqs import DirectSqs, fast_sqs
from bench.scenario import BUCKET, DESCRIBE, _remove_subscribers
from infra.hints import BATCH_SIZE, BATCHING_WINDOW, MAX_RECEIVES, visibility_timeout
from infra.setting_checks import HINT_RUNS_AT_ONCE
from local.deployment import HINTS_QUEUE, deploy
from local.ec2_store_tasks import CLOCK, IN_PROGRESS, StoreTask, StoreTaskError
from local.ec2_store_tasks import store_tasks_backend as backend_of
from local.event_source_mapping import EventSourceMapping, Polling
from local.lambda_context import ACCOUNT, REGION, LambdaContextStub

SCHEDULED, HINTS = "scheduled", "hints"
EC2_DESCRIBE = ("EC2", DESCRIBE)
Action = Callable[[], object]
# The stack's event source mapping (infra/hints.py): batches of 10, no batching window, the queue's
# visibility timeout and redrive count, at the function's default timeout.
STACK_POLLING = Polling(
    batch_size=BATCH_SIZE,
    batching_window_seconds=0.0 if BATCHING_WINDOW is None else BATCHING_WINDOW.to_seconds(),
    visibility_timeout_seconds=visibility_timeout(DEFAULT_TIMEOUT_SECONDS).to_seconds(),
    max_receive_count=MAX_RECEIVES,
)


@dataclass(frozen=True)
class Run:
    """One invocation of the handler."""

    kind: str
    at: datetime
    wall: float
    """Seconds the invocation took (the handler's whole run)."""
    ec2_calls: int
    throttled: int
    """DescribeStoreImageTasks requests EC2's bucket refused during the run."""
    messages: int = 0
    handed_back: int = 0
    mode: str = ""

    @property
    def done_at(self) -> datetime:
        return self.at + timedelta(seconds=self.wall)


@dataclass(frozen=True)
class Announced:
    """One announcement the SNS topic took (a PublishBatch entry)."""

    ami_id: str
    state: str
    run: Run


@dataclass
class Waiter:
    """Another caller's `aws ec2 wait store-image-task-complete`: a DescribeStoreImageTasks every 5 s."""

    calls: int = 0
    throttled: int = 0


@dataclass
class HintedAccount:
    handler: Any
    session: Any
    hints: bool
    quiet: bool
    model: DeliveryModel | None
    seed: int
    runs: list[Run] = field(default_factory=list)
    announced: list[Announced] = field(default_factory=list)
    waiter: Waiter = field(default_factory=Waiter)

    def __post_init__(self) -> None:
        deployment = deploy(self.session, region=REGION, hints=True, polling=STACK_POLLING)
        # The topic's subscriber queues and the bus's rule targets go: moto would deliver each
        # announcement synchronously into them (bench/scenario.py says why). The default bus's hint
        # rules and their queue stay: they are the path measured.
        _remove_subscribers(self.session, deployment)
        overrides = {"QUIET_WHEN_IDLE": "true"} if self.quiet else {}
        os.environ.update(deployment.handler_environment(**overrides))
        s3 = self.session.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        if self.hints:  # the bucket's owner turns EventBridge delivery on; without hints nobody did
            s3.put_bucket_notification_configuration(
                Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        self.backend = backend_of(ACCOUNT, REGION)
        self.events = DelayedHintEvents(
            cloudtrail=self.hints, s3=self.hints, model=self.model, seed=self.seed
        )
        self.backend.hint_events = self.events
        assert deployment.hints is not None
        self.mapping: EventSourceMapping = deployment.hints
        self.mapping.sqs = DirectSqs(ACCOUNT, REGION)
        self.sqs = deployment.sqs
        self.queue_url = deployment.queue_urls[HINTS_QUEUE]
        self.dead_letter_url = deployment.hints_dead_letter_url
        self.wired = self.handler.wiring()
        self.wired.sns.meta.events.register("provide-client-params.sns.PublishBatch", self._published)
        self._publishing: list[tuple[str, str]] = []
        self._actions: list[tuple[datetime, int, Action]] = []
        self._order = itertools.count()
        self._mapping_free_at = CLOCK.now()
        self._hints_seen = 0

    # -- what happens ------------------------------------------------------------------------------

    def at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self._actions, (when, next(self._order), action))

    def every_minute(self, first: datetime, until: datetime) -> None:
        """The schedule: a tick each minute from `first` to `until`."""
        tick = first
        while tick <= until:
            self.at(tick, self.scheduled_run)
            tick += timedelta(minutes=1)

    def waiter_beside(self, ami_id: str, first: datetime, until: datetime) -> None:
        """Another caller waiting for `ami_id`'s store: one DescribeStoreImageTasks every 5 s."""

        def call() -> None:
            self.waiter.calls += 1
            try:
                self.backend.describe_store_image_tasks(image_ids=[ami_id])
            except StoreTaskError:
                self.waiter.throttled += 1

        moment = first
        while moment <= until:
            self.at(moment, call)
            moment += timedelta(seconds=5)

    def start_store(self, ami_id: str) -> StoreTask:
        """A store starts now; CloudTrail's record of the call is a hint where a trail logs."""
        task = self.backend.add_task(ami_id, BUCKET, CLOCK.now(), IN_PROGRESS, 0)
        self.events.store_started(task, ACCOUNT, REGION, None)
        return task

    # -- the handler -------------------------------------------------------------------------------

    def scheduled_run(self) -> Run:
        answer, run = self._invoke({}, SCHEDULED)
        regions = answer.get("regions") or [{}]
        run = Run(SCHEDULED, run.at, run.wall, run.ec2_calls, run.throttled, mode=str(regions[0].get("mode")))
        return self._keep(run)

    def _hint_batch(self, event: dict[str, Any]) -> Any:
        answer, run = self._invoke(event, HINTS)
        failures = (answer or {}).get("batchItemFailures") or []
        batch = len(event["Records"])
        self._keep(Run(HINTS, run.at, run.wall, run.ec2_calls, run.throttled, batch, len(failures)))
        self._mapping_free_at = CLOCK.now() + timedelta(seconds=run.wall / HINT_RUNS_AT_ONCE)
        return answer

    def _invoke(self, event: dict[str, Any], kind: str) -> tuple[Any, Run]:
        bucket = self.backend.throttle.bucket(DESCRIBE, CLOCK.now())
        refused = bucket.refused
        self._publishing = []
        gc.freeze()  # the bench's heap (moto, the data) is not the function's: leave it to no collection
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools writes its metrics (EMF) to stdout
            started = time.perf_counter()
            answer = self.handler.lambda_handler(event, LambdaContextStub())
            wall = time.perf_counter() - started
        calls = self.wired.api_calls.calls.get(EC2_DESCRIBE, 0)
        return answer, Run(kind, CLOCK.now(), wall, calls, bucket.refused - refused)

    def _keep(self, run: Run) -> Run:
        self.runs.append(run)
        self.announced += [Announced(ami, state, run) for ami, state in self._publishing]
        self._publishing = []
        return run

    def _published(self, params: dict[str, Any], **_: Any) -> None:
        for entry in params.get("PublishBatchRequestEntries", []):
            detail = json.loads(json.loads(entry["Message"])["default"])
            self._publishing.append((str(detail["amiId"]), str(detail["state"])))

    # -- the clock ---------------------------------------------------------------------------------

    def run_until(self, until: datetime) -> None:
        """Everything that happens up to `until`, in the order it happens."""
        while True:
            moment = min(self._next_moments(), default=until)
            if moment > until:
                CLOCK.set(max(until, CLOCK.now()))
                return
            CLOCK.set(max(moment, CLOCK.now()))  # settles the emulator: stores end, due hints reach the queue
            while self._actions and self._actions[0][0] <= CLOCK.now():
                heapq.heappop(self._actions)[2]()
            if self._mapping_may_invoke() and self.mapping.poll(self._hint_batch) is None:
                self._hints_seen = len(self.events.log)  # the queue was empty when the mapping looked
            if moment == until and not self._mapping_may_invoke():
                return

    def run_until_drained(self, *, after: datetime, limit: timedelta) -> None:
        """Runs to `after`, then on until the hint queue is empty and nothing waits to come back (at most
        to `after + limit`)."""
        self.run_until(after)
        while CLOCK.now() < after + limit and not self.drained():
            self.run_until(CLOCK.now() + timedelta(seconds=10))

    def drained(self) -> bool:
        return (
            self.events.next_due() is None
            and self.mapping.due() is None
            and self.queue_depth(self.queue_url) == 0
        )

    def queue_depth(self, url: str | None) -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def _next_moments(self) -> Iterator[datetime]:
        if self._actions:
            yield self._actions[0][0]
        due = self.events.next_due()
        if due is not None:
            yield due
        if self._mapping_has_work():
            yield max(CLOCK.now(), self._mapping_free_at)
        else:
            back = self.mapping.due()  # a handed-back hint visible again
            if back is not None:
                yield max(back, self._mapping_free_at)

    def _mapping_has_work(self) -> bool:
        """Whether the queue may hold a batch: hints reached it since the mapping last found it empty, or
        the mapping left messages there, or a handed-back hint is due."""
        if len(self.events.log) != self._hints_seen:
            return True
        back = self.mapping.due()
        return back is not None and back <= CLOCK.now()

    def _mapping_may_invoke(self) -> bool:
        return CLOCK.now() >= self._mapping_free_at and self._mapping_has_work()

    # -- figures -----------------------------------------------------------------------------------

    def announcements(self) -> Counter[tuple[str, str]]:
        return Counter((item.ami_id, item.state) for item in self.announced)

    def first_announced(self) -> dict[tuple[str, str], Announced]:
        first: dict[tuple[str, str], Announced] = {}
        for item in self.announced:
            first.setdefault((item.ami_id, item.state), item)
        return first


@contextlib.contextmanager
def hinted_account(
    *, hints: bool = True, quiet: bool = False, model: DeliveryModel | None = None, seed: int = 0
) -> Iterator[HintedAccount]:
    """A fresh moto and emulator with the notifier deployed with hints; the clock at START, the baseline
    not yet run. `hints` False: no trail and no bucket delivery (the rules and queue wait in vain)."""
    with fast_sqs(), emulated_handler() as handler:
        yield HintedAccount(handler, boto3.session.Session(), hints, quiet, model, seed)

"""The notifier's schedule on the emulator clock: the real handler run each simulated minute and on each
batch of the hints queue, with what its subscribers receive printed as it arrives."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ami_store_notifier import handler
from local.demo_report import show
from local.deployment import (
    CHAT_QUEUE,
    RULE_QUEUE,
    TOPIC_FAILED_QUEUE,
    TOPIC_QUEUE,
    VERIFIED_QUEUE,
    LocalDeployment,
    Received,
)
from local.ec2_store_tasks import CLOCK, StoreTaskBackend
from local.lambda_context import LambdaContextStub

SCHEDULE_PERIOD = timedelta(minutes=1)
# How often the emulated event source mapping looks at the hints queue. Without a batching window Lambda
# long-polls and invokes within a second of a message's arrival; a second also covers EventBridge's own
# delivery to the queue (typically well under a second).
HINT_POLL_PERIOD = timedelta(seconds=1)


class NotifierSchedule:
    """The notifier's schedule on the emulator clock: the real handler runs once each simulated minute,
    and what its subscribers receive is printed as it arrives."""

    def __init__(self, deployment: LocalDeployment, tasks: StoreTaskBackend) -> None:
        self._deployment = deployment
        self._tasks = tasks
        self._next_run = CLOCK.now()
        self.received: list[Received] = []
        self.chat: list[dict[str, Any]] = []
        self._hints_sent = 0
        self._happenings: list[tuple[datetime, Callable[[], object]]] = []
        self.hinted: list[timedelta] = []
        """How long after its object appeared each completion announced by a hint run was announced."""

    def sleep(self, seconds: float) -> None:
        """Lets `seconds` of emulator time pass, running the notifier at each minute on the way and
        handing it the hints queue's batches as Lambda's poller would."""
        until = CLOCK.now() + timedelta(seconds=seconds)
        while (step := min(self._next_run, CLOCK.now() + HINT_POLL_PERIOD)) <= until:
            CLOCK.set(step)
            self._happen()
            if step == self._next_run:
                self.run()
            self.deliver_hints()
        CLOCK.set(until)
        self.deliver_hints()

    def at(self, moment: datetime, happening: Callable[[], object]) -> None:
        """Something that happens to the stores at `moment` (a stalled store moving again)."""
        self._happenings.append((moment, happening))

    def _happen(self) -> None:
        due = [item for item in self._happenings if item[0] <= CLOCK.now()]
        self._happenings = [item for item in self._happenings if item[0] > CLOCK.now()]
        for _, happening in due:
            happening()

    def run(self) -> None:
        report = _invoke()
        announced = report["announced"]
        if announced:
            print(f"[{CLOCK.now():%H:%M} UTC] notifier run ({report['mode']}): announced {announced}")
        self._show_received()
        self._next_run = CLOCK.now() + SCHEDULE_PERIOD

    def deliver_hints(self) -> None:
        """One look of the event source mapping at the hints queue; a batch runs the real handler."""
        mapping = self._deployment.hints
        sent = len(self._tasks.hint_events.log)
        if mapping is None or (sent == self._hints_sent and mapping.due() is None):
            return  # only the emulator's hints reach the queue here: none new, none waiting, no look
        self._hints_sent = sent
        batch = self._deployment.poll_hints(_invoke_with_hints)
        if batch is None:
            return
        hints = ", ".join(_hint_label(record) for record in batch.event["Records"])
        retried = f", {len(batch.retried)} handed back" if batch.retried else ""
        print(
            f"[{CLOCK.now():%H:%M:%S} UTC] hint run, SQS batch of {len(batch.message_ids)}: {hints}{retried}"
        )
        for item in self._show_received():
            if item.queue == TOPIC_QUEUE and item.detail.get("state") == "Completed":
                self._show_delay(item)

    def _show_delay(self, item: Received) -> None:
        delivered = self._tasks.hint_events.delivered("object-created")
        object_time = max((d.event_time for d in delivered if d.ami_id == item.detail["amiId"]), default=None)
        if object_time is None:
            return
        announced_at = datetime.fromisoformat(item.detail["observedAt"].replace("Z", "+00:00"))
        delay = announced_at - object_time
        self.hinted.append(delay)
        print(
            f"    {item.detail['s3Uri']} appeared at {object_time:%H:%M:%S} UTC, announced at "
            f"{announced_at:%H:%M:%S} UTC: {delay.total_seconds():.0f} s later (next scheduled run "
            f"{self._next_run:%H:%M:%S} UTC)"
        )

    def _show_received(self) -> list[Received]:
        shown = []
        for queue in (TOPIC_QUEUE, TOPIC_FAILED_QUEUE, RULE_QUEUE, VERIFIED_QUEUE):
            for item in self._deployment.receive(queue):
                self.received.append(item)
                shown.append(item)
                show(item)
        for message in self._deployment.receive_chat():
            self.chat.append(message)
            print(f"    Chat -> {CHAT_QUEUE}: {message['content']['title']}")
        return shown


def _invoke_with_hints(event: dict[str, Any]) -> Any:
    """The real handler, invoked by the event source mapping with a batch of the hints queue."""
    with contextlib.redirect_stdout(io.StringIO()):
        return handler.lambda_handler(event, LambdaContextStub())


def _hint_label(record: dict[str, Any]) -> str:
    event = json.loads(record["body"])
    detail = event["detail"]
    if event["source"] == "aws.s3":
        return f"S3 Object Created {detail['object']['key']} ({event['time'][11:19]} UTC)"
    parameters = json.dumps(detail.get("requestParameters"))
    ami = next((word.strip('",{}') for word in parameters.split() if word.startswith('"ami-')), "?")
    return f"CloudTrail {detail['eventName']} {ami}"


def _invoke() -> dict[str, object]:
    # Powertools writes its JSON logs and metrics to stdout; the demo shows what subscribers get instead.
    with contextlib.redirect_stdout(io.StringIO()):
        result = handler.lambda_handler({}, LambdaContextStub())
    regions = result["regions"]
    assert isinstance(regions, list)
    report: dict[str, object] = regions[0]
    return report

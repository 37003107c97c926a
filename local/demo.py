"""The demo: the real handler, run each simulated minute against an embedded AWS, and what arrives.

It starts moto's server (with the EC2 store-task emulator) on this machine, creates the notifier's
resources and subscribers, starts a few AMI stores, one of which fails, and follows them with the
operator's `ami-store-notifier watch` while the notifier runs each simulated minute: the SNS messages and
EventBridge events that subscribers receive are printed beside watch's progress as they arrive. Hints are
on: the account's trail and the bucket's EventBridge delivery put each store's start and each completed
object on the default bus, whose rules queue them for the notifier (Lambda's event source mapping,
emulated, looks at the queue each simulated second), so a completion is announced seconds after its
object appears, not at the next minute. Time is the emulator's, so the stores' minutes pass in seconds.
No AWS account is touched.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import textwrap
from datetime import datetime, timedelta
from typing import Any

import boto3
from rich.console import Console

from ami_store_notifier import handler
from ami_store_notifier.cli.app import Environment, cli
from ami_store_notifier.domain.announcements import Announcement, email_text
from local import dynamodb_tokens
from local.deployment import (
    CHAT_QUEUE,
    RULE_QUEUE,
    TOPIC_FAILED_QUEUE,
    TOPIC_QUEUE,
    LocalDeployment,
    Received,
    deploy,
)
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, endpoint_url, start_server, store_tasks_backend
from local.lambda_context import ACCOUNT, OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, REGION, LambdaContextStub

BUCKET = "golden-ami-archive"
SCHEDULE_PERIOD = timedelta(minutes=1)
# How often the emulated event source mapping looks at the hints queue. Without a batching window Lambda
# long-polls and invokes within a second of a message's arrival; a second also covers EventBridge's own
# delivery to the queue (typically well under a second).
HINT_POLL_PERIOD = timedelta(seconds=1)
STORES_START_AFTER = timedelta(seconds=20)
EVENTBRIDGE_DELIVERY = '{"EventBridgeConfiguration": {}}'
STORES = (
    # AMI name, minutes the store takes, failure reason (None: it completes)
    ("web-frontend-2026-11", 4, None),
    ("payments-api-2026-11", 7, None),
    ("batch-worker-2026-11", 3, "The AMI's EBS snapshot snap-0f3c9 could not be read (UnsupportedOperation)"),
    ("reporting-2026-11", 10, None),
)


def main() -> int:
    # Request logs of the embedded server and the handler's own JSON logs would drown the output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    handler_level = handler.logger.log_level
    handler.logger.setLevel(logging.WARNING)
    server = start_server()
    dynamodb_tokens.install()
    try:
        _configure_environment(endpoint_url(server))
        return _run()
    finally:
        server.stop()
        handler.logger.setLevel(handler_level)


def _configure_environment(endpoint: str) -> None:
    os.environ.update(OFFLINE_AWS_ENVIRONMENT)
    for name in OFFLINE_UNSET:
        os.environ.pop(name, None)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    print(f"Embedded AWS (moto + EC2 store-task emulator) at {endpoint}\n")


def _run() -> int:
    session = boto3.session.Session()
    deployment = deploy(session, region=REGION, chat=True, hints=True)
    os.environ.update(deployment.handler_environment())
    ec2 = session.client("ec2", region_name=REGION)
    s3 = session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    tasks = store_tasks_backend(ACCOUNT, REGION)
    handler.utc_now = CLOCK.now
    tasks.hint_events.cloudtrail = True  # the account has a trail logging management events
    tasks.hint_events.s3 = True
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration=json.loads(EVENTBRIDGE_DELIVERY)
    )

    print(
        "Deployed: table",
        deployment.table_name,
        "| topic",
        deployment.topic_arn,
        "| bus",
        deployment.bus_name,
    )
    print(f"Subscribers: SQS '{TOPIC_QUEUE}' on the topic, SQS '{TOPIC_FAILED_QUEUE}' on the topic with the")
    print(f"filter policy {{state: [Failed]}}, SQS '{RULE_QUEUE}' behind a bus rule on detail.state,")
    print(f"and SQS '{CHAT_QUEUE}' on the chat topic, where a Slack or Teams channel would read.")
    print("Hints: rules on the default bus queue CloudTrail's CreateStoreImageTask and S3's Object Created")
    print("for ami-*.bin; the bucket's EventBridge delivery is on, as a user turns it on:")
    print(f"$ aws s3api put-bucket-notification-configuration --bucket {BUCKET} \\")
    print(f"      --notification-configuration '{EVENTBRIDGE_DELIVERY}'\n")

    archived = ec2.register_image(Name="old-release-2026-10")["ImageId"]
    tasks.add_task(archived, BUCKET, CLOCK.now() - timedelta(days=2), "Completed")
    print(f"History: {archived} was stored two days ago (the first run must not announce it).")
    schedule = NotifierSchedule(deployment, tasks)
    schedule.run()
    # The stores start between two runs, as they would: their ends fall between runs too, where a hint
    # is announced seconds after the object appears and the schedule alone would wait for its next run.
    schedule.sleep(STORES_START_AFTER.total_seconds())
    stored = []
    for name, minutes, reason in STORES:
        ami = ec2.register_image(Name=name)["ImageId"]
        tasks.plan(ami, duration_seconds=minutes * 60, fail_reason=reason)
        ec2.create_store_image_task(ImageId=ami, Bucket=BUCKET)
        outcome = f"will fail after {minutes} min" if reason else f"takes {minutes} min"
        print(f"CreateStoreImageTask {ami} ({name}) -> s3://{BUCKET}/{ami}.bin, {outcome}")
        stored.append(ami)

    print(f"\n$ ami-store-notifier watch {' '.join(stored)}")
    watched = _watch(stored, schedule)
    print(f"(watch exited with {watched}: 1 means a store failed)\n")
    schedule.run()
    return _summarize(schedule, watched)


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
        self.hinted: list[timedelta] = []
        """How long after its object appeared each completion announced by a hint run was announced."""

    def sleep(self, seconds: float) -> None:
        """Lets `seconds` of emulator time pass, running the notifier at each minute on the way and
        handing it the hints queue's batches as Lambda's poller would."""
        until = CLOCK.now() + timedelta(seconds=seconds)
        while (step := min(self._next_run, CLOCK.now() + HINT_POLL_PERIOD)) <= until:
            CLOCK.set(step)
            if step == self._next_run:
                self.run()
            self.deliver_hints()
        CLOCK.set(until)
        self.deliver_hints()

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
            if item.queue == TOPIC_QUEUE and item.detail["state"] == "Completed":
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
        for queue in (TOPIC_QUEUE, TOPIC_FAILED_QUEUE, RULE_QUEUE):
            for item in self._deployment.receive(queue):
                self.received.append(item)
                shown.append(item)
                _show(item)
        for message in self._deployment.receive_chat():
            self.chat.append(message)
            print(f"    Chat -> {CHAT_QUEUE}: {message['content']['title']}")
        return shown


def _watch(stored: list[str], schedule: NotifierSchedule) -> int:
    env = Environment(clock=CLOCK.now, sleep=schedule.sleep, console=Console(highlight=False))
    try:
        cli.main(["watch", *stored], obj=env, prog_name="ami-store-notifier")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


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


def _show(item: Received) -> None:
    detail = item.detail
    if item.subject is not None:
        print(f'    SNS -> {item.queue}: "{item.subject}"  attributes {item.attributes}')
    else:
        print(f"    EventBridge -> {item.queue}: EC2 AMI Store Task State Change")
    # The last three only a hint knows (who started the store, the object S3 reported): absent otherwise.
    fields = ["amiId", "state", "previousState", "s3Uri", "failureReason", "eventId"]
    fields += ["startedBy", "objectSize", "objectEtag"]
    print(
        textwrap.indent(
            "\n".join(f"{name}: {detail[name]}" for name in fields if detail.get(name)), "        "
        )
    )


def chat_card(message: dict[str, Any]) -> str:
    """The custom notification as the chat client lays it out: title, description, next steps."""
    content = message["content"]
    steps = "\n".join(f"  - {step}" for step in content["nextSteps"])
    keywords = ", ".join(content["keywords"])
    return f"{content['title']}\n{content['description']}\nNext steps:\n{steps}\n[{keywords}]"


def _summarize(schedule: NotifierSchedule, watched: int) -> int:
    received, chat = schedule.received, schedule.chat
    states = sorted({(item.queue, item.detail["state"]) for item in received})
    print("\nWhat each subscriber received:", ", ".join(f"{queue}: {state}" for queue, state in states))
    failed = next((item for item in received if item.detail["state"] == "Failed"), None)
    if failed is not None:
        print("\nAn email subscriber would have read this for the failure:\n")
        print(textwrap.indent(email_text(Announcement.from_detail(failed.detail)), "    "))
    failed_chat = next((message for message in chat if message["content"]["keywords"][0] == "Failed"), None)
    if failed_chat is not None:
        print("\nA Slack or Teams channel would have shown this card for it:\n")
        print(textwrap.indent(chat_card(failed_chat), "    "))
    channels = {(item.queue, item.detail["state"]) for item in received}
    needed = {(queue, state) for queue in (TOPIC_QUEUE, RULE_QUEUE) for state in ("Completed", "Failed")}
    hinted = sorted(delay.total_seconds() for delay in schedule.hinted)
    if not needed <= channels or watched != 1 or len(chat) != len(STORES) or not hinted:
        print(
            "\nDemo FAILED: missing",
            sorted(needed - channels),
            f"watch exit {watched}, chat {len(chat)}, completions announced by hints {len(hinted)}",
            file=sys.stderr,
        )
        return 1
    print(
        f"\nHints announced {len(hinted)} completions {', '.join(f'{s:.0f}' for s in hinted)} s after their "
        "objects appeared; the failure, which writes no object, was found by the scheduled run."
    )
    print(
        "\nDemo finished: watch followed the stores to their end, and Completed and Failed notifications "
        "arrived through SNS, EventBridge and the chat topic."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

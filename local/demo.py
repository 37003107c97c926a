"""The demo: the real handler, run each simulated minute against an embedded AWS, and what arrives.

It starts moto's server (with the EC2 store-task emulator) on this machine, creates the notifier's
resources and subscribers, starts a few AMI stores, one of which fails, and follows them with the
operator's `ami-store-notifier watch` while the notifier runs each simulated minute: the SNS messages and
EventBridge events that subscribers receive are printed beside watch's progress as they arrive. Hints are
on: the account's trail and the bucket's EventBridge delivery put each store's start and each completed
object on the default bus, whose rules queue them for the notifier (Lambda's event source mapping,
emulated, looks at the queue each simulated second), so a completion is announced seconds after its
object appears, not at the next minute. Archive assurance is on: each completed store's object is checked
(one that lands in S3 Glacier is not verified, with the reason), a store into a bucket outside the
approved ones is announced when it starts, a store that stops moving is announced as stalled, and
`ami-store-notifier status` shows the store quota. Time is the emulator's, so the stores' minutes pass in
seconds. No AWS account is touched.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
from rich.console import Console

from ami_store_notifier import handler
from ami_store_notifier.cli.app import Environment, cli
from ami_store_notifier.domain.announcements import DETAIL_TYPE, Announcement, email_text
from ami_store_notifier.domain.notice_texts import notice_email_text
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, Notice, NoticeKind
from local import dynamodb_tokens
from local.deployment import (
    CHAT_QUEUE,
    RULE_QUEUE,
    TOPIC_FAILED_QUEUE,
    TOPIC_QUEUE,
    VERIFIED_QUEUE,
    LocalDeployment,
    Received,
    deploy,
)
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, endpoint_url, start_server, store_tasks_backend
from local.lambda_context import ACCOUNT, OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, REGION, LambdaContextStub

BUCKET = "golden-ami-archive"
# A bucket outside the approved ones and the readable ones: its store is announced as unapproved when it
# starts, and its archive as not verified when it completes.
SCRATCH_BUCKET = "scratch-exports"
ASSURANCE = {
    "READABLE_BUCKETS": BUCKET,
    "APPROVED_BUCKETS": "golden-ami-*",
    # The default is 120 minutes (domain/store_watch.py); the demo's stores last minutes.
    "STALL_AFTER_MINUTES": "5",
}
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
# What the demo's stores meet on the way: an object written straight into S3 Glacier, a store that stops
# moving for a while, a store into the scratch bucket.
LANDS_IN_GLACIER = "payments-api-2026-11"
STALLS = "reporting-2026-11"
STALL_MINUTES = 9
TO_SCRATCH = ("exports-test-2026-11", 6)


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
    os.environ.update(deployment.handler_environment(**ASSURANCE))
    ec2 = session.client("ec2", region_name=REGION)
    s3 = session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=SCRATCH_BUCKET)
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
    print(f"      --notification-configuration '{EVENTBRIDGE_DELIVERY}'")
    print("Archive assurance:", ", ".join(f"{name}={value}" for name, value in ASSURANCE.items()))
    print(f"and SQS '{VERIFIED_QUEUE}' behind the README's cleanup rule (verdict Verified only).\n")

    archived = ec2.register_image(Name="old-release-2026-10")["ImageId"]
    tasks.add_task(archived, BUCKET, CLOCK.now() - timedelta(days=2), "Completed")
    print(f"History: {archived} was stored two days ago (the first run must not announce it).")
    schedule = NotifierSchedule(deployment, tasks)
    schedule.run()
    # The stores start between two runs, as they would: their ends fall between runs too, where a hint
    # is announced seconds after the object appears and the schedule alone would wait for its next run.
    schedule.sleep(STORES_START_AFTER.total_seconds())
    stored = [_start(ec2, tasks, name, minutes, reason, BUCKET) for name, minutes, reason in STORES]
    stored.append(_start(ec2, tasks, *TO_SCRATCH, None, SCRATCH_BUCKET))
    stalled = stored[[name for name, _, _ in STORES].index(STALLS)]
    schedule.at(CLOCK.now() + timedelta(minutes=STALL_MINUTES), lambda: tasks.resume(stalled))
    schedule.sleep(SCHEDULE_PERIOD.total_seconds())
    print(f"\n$ ami-store-notifier status --table {deployment.table_name}")
    _cli(["status", "--table", deployment.table_name], schedule)
    print(f"\n$ ami-store-notifier watch {' '.join(stored)}")
    watched = _watch(stored, schedule)
    print(f"(watch exited with {watched}: 1 means a store failed)\n")
    schedule.sleep(SCHEDULE_PERIOD.total_seconds())
    schedule.run()
    return _summarize(schedule, watched)


def _start(
    ec2: Any, tasks: StoreTaskBackend, name: str, minutes: int, reason: str | None, bucket: str
) -> str:
    ami = ec2.register_image(Name=name)["ImageId"]
    tasks.plan(ami, duration_seconds=minutes * 60, fail_reason=reason)
    if name == LANDS_IN_GLACIER:
        tasks.objects.plan(ami, storage_class="GLACIER")
    ec2.create_store_image_task(ImageId=ami, Bucket=bucket)
    outcome = f"will fail after {minutes} min" if reason else f"takes {minutes} min"
    if name == STALLS:
        tasks.stall(ami)
        outcome += f", but stops moving for {STALL_MINUTES} min first"
    print(f"CreateStoreImageTask {ami} ({name}) -> s3://{bucket}/{ami}.bin, {outcome}")
    return ami


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
                _show(item)
        for message in self._deployment.receive_chat():
            self.chat.append(message)
            print(f"    Chat -> {CHAT_QUEUE}: {message['content']['title']}")
        return shown


def _watch(stored: list[str], schedule: NotifierSchedule) -> int:
    return _cli(["watch", *stored], schedule)


def _cli(arguments: list[str], schedule: NotifierSchedule) -> int:
    """The operator's CLI as a user runs it; its exit status."""
    env = Environment(clock=CLOCK.now, sleep=schedule.sleep, console=Console(highlight=False, width=140))
    try:
        cli.main(arguments, obj=env, prog_name="ami-store-notifier")
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


# What the demo prints of each detail: a state change's, and each notice's own facts.
_SHOWN_FIELDS = {
    # The last three only a hint knows (who started the store, the object S3 reported): absent otherwise.
    None: [
        *("amiId", "state", "previousState", "s3Uri", "failureReason", "eventId"),
        *("startedBy", "objectSize", "objectEtag"),
    ],
    NoticeKind.VERIFICATION: [
        *("amiId", "verdict", "reasons", "s3Uri", "objectSize", "storageClass"),
        *("versionId", "checksum", "bucketVersioning", "restoreNeededAfter"),
    ],
    NoticeKind.UNAPPROVED_BUCKET: ["amiId", "bucket", "approvedBuckets", "startedBy"],
    NoticeKind.STALLED: ["amiId", "progressPercentage", "unchangedSince", "stallAfterMinutes"],
}


def _show(item: Received) -> None:
    detail = item.detail
    if item.subject is not None:
        print(f'    SNS -> {item.queue}: "{item.subject}"  attributes {item.attributes}')
    else:
        detail_type = NOTICE_DETAIL_TYPES[item.notice] if item.notice else DETAIL_TYPE
        print(f"    EventBridge -> {item.queue}: {detail_type}")
    # A stall at 0% is a fact too: only what the detail leaves empty is left out.
    lines = [
        f"{name}: {detail[name]}" for name in _SHOWN_FIELDS[item.notice] if detail.get(name) not in (None, [])
    ]
    print(textwrap.indent("\n".join(lines), "        "))


def chat_card(message: dict[str, Any]) -> str:
    """The custom notification as the chat client lays it out: title, description, next steps."""
    content = message["content"]
    steps = "\n".join(f"  - {step}" for step in content["nextSteps"])
    keywords = ", ".join(content["keywords"])
    return f"{content['title']}\n{content['description']}\nNext steps:\n{steps}\n[{keywords}]"


def _what(item: Received) -> str:
    """What a message announced: a state, or a notice's kind (with a check's verdict)."""
    if item.notice is None:
        return str(item.detail["state"])
    verdict = item.detail.get("verdict")
    return f"{item.notice.value} {verdict}" if verdict else item.notice.value


# What the subscribers must have received for the demo to have shown every part (queue, what).
NEEDED = {
    *((queue, state) for queue in (TOPIC_QUEUE, RULE_QUEUE) for state in ("Completed", "Failed")),
    (TOPIC_QUEUE, "Verification Verified"),
    (TOPIC_QUEUE, "Verification NotVerified"),
    (VERIFIED_QUEUE, "Verification Verified"),
    (TOPIC_QUEUE, "UnapprovedBucket"),
    (TOPIC_QUEUE, "Stalled"),
}


def _summarize(schedule: NotifierSchedule, watched: int) -> int:
    received, chat = schedule.received, schedule.chat
    got = sorted({(item.queue, _what(item)) for item in received})
    print("\nWhat each subscriber received:", ", ".join(f"{queue}: {what}" for queue, what in got))
    _show_emails(received)
    failed_chat = next((message for message in chat if message["content"]["keywords"][0] == "Failed"), None)
    if failed_chat is not None:
        print("\nA Slack or Teams channel would have shown this card for the failure:\n")
        print(textwrap.indent(chat_card(failed_chat), "    "))
    hinted = sorted(delay.total_seconds() for delay in schedule.hinted)
    told = [item for item in received if item.queue == TOPIC_QUEUE]
    once = len({item.detail["eventId"] for item in told}) == len(told)
    if not set(got) >= NEEDED or watched != 1 or len(chat) != len(told) or not hinted or not once:
        print(
            "\nDemo FAILED: missing",
            sorted(NEEDED - set(got)),
            f"watch exit {watched}, chat {len(chat)} of {len(told)}, each once {once}, "
            f"completions announced by hints {len(hinted)}",
            file=sys.stderr,
        )
        return 1
    print(
        f"\nHints announced {len(hinted)} completions {', '.join(f'{s:.0f}' for s in hinted)} s after their "
        "objects appeared; the failure, which writes no object, was found by the scheduled run."
    )
    print(
        "\nDemo finished: watch followed the stores to their end; Completed and Failed notifications, the "
        "archive checks (Verified, and NotVerified with the reason), the unapproved bucket and the stall "
        "arrived once each through SNS, EventBridge and the chat topic, and only the verified archive "
        "reached the cleanup rule."
    )
    return 0


def _show_emails(received: list[Received]) -> None:
    by_what = {_what(item): item for item in received if item.queue == TOPIC_QUEUE}
    for what, title in (
        ("Failed", "the failure"),
        ("Verification NotVerified", "an archive not verified"),
        ("UnapprovedBucket", "the store into an unapproved bucket"),
    ):
        item = by_what.get(what)
        if item is not None:
            print(f"\nAn email subscriber would have read this for {title}:\n")
            print(textwrap.indent(_email(item), "    "))


def _email(item: Received) -> str:
    """The email the topic sends beside the JSON (its `email` message), from the same detail."""
    if item.notice is None:
        return email_text(Announcement.from_detail(item.detail))
    return notice_email_text(Notice.from_detail_json(item.notice, json.dumps(item.detail)))


if __name__ == "__main__":
    sys.exit(main())

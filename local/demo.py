"""The demo: the real handler, run each simulated minute against an embedded AWS, and what arrives.

It starts moto's server (with the EC2 store-task emulator) on this machine, creates the notifier's
resources and subscribers, starts a few AMI stores, one of which fails, and follows them with the
operator's `ami-store-notifier watch` while the notifier runs each simulated minute: the SNS messages and
EventBridge events that subscribers receive are printed beside watch's progress as they arrive. Time is
the emulator's, so the stores' minutes pass in seconds. No AWS account is touched.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import textwrap
from datetime import timedelta
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
from local.ec2_store_tasks import CLOCK, endpoint_url, start_server, store_tasks_backend
from local.lambda_context import ACCOUNT, OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, REGION, LambdaContextStub

BUCKET = "golden-ami-archive"
SCHEDULE_PERIOD = timedelta(minutes=1)
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
    deployment = deploy(session, region=REGION, chat=True)
    os.environ.update(deployment.handler_environment())
    ec2 = session.client("ec2", region_name=REGION)
    session.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    tasks = store_tasks_backend(ACCOUNT, REGION)
    handler.utc_now = CLOCK.now

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
    print(f"and SQS '{CHAT_QUEUE}' on the chat topic, where a Slack or Teams channel would read.\n")

    archived = ec2.register_image(Name="old-release-2026-10")["ImageId"]
    tasks.add_task(archived, BUCKET, CLOCK.now() - timedelta(days=2), "Completed")
    print(f"History: {archived} was stored two days ago (the first run must not announce it).")
    schedule = NotifierSchedule(deployment)
    schedule.run()
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
    return _summarize(schedule.received, schedule.chat, watched)


class NotifierSchedule:
    """The notifier's schedule on the emulator clock: the real handler runs once each simulated minute,
    and what its subscribers receive is printed as it arrives."""

    def __init__(self, deployment: LocalDeployment) -> None:
        self._deployment = deployment
        self._next_run = CLOCK.now()
        self.received: list[Received] = []
        self.chat: list[dict[str, Any]] = []

    def sleep(self, seconds: float) -> None:
        """Lets `seconds` of emulator time pass, running the notifier at each minute on the way."""
        until = CLOCK.now() + timedelta(seconds=seconds)
        while self._next_run <= until:
            CLOCK.set(self._next_run)
            self.run()
        CLOCK.set(until)

    def run(self) -> None:
        report = _invoke()
        announced = report["announced"]
        if announced:
            print(f"[{CLOCK.now():%H:%M} UTC] notifier run ({report['mode']}): announced {announced}")
        for queue in (TOPIC_QUEUE, TOPIC_FAILED_QUEUE, RULE_QUEUE):
            for item in self._deployment.receive(queue):
                self.received.append(item)
                _show(item)
        for message in self._deployment.receive_chat():
            self.chat.append(message)
            print(f"    Chat -> {CHAT_QUEUE}: {message['content']['title']}")
        self._next_run = CLOCK.now() + SCHEDULE_PERIOD


def _watch(stored: list[str], schedule: NotifierSchedule) -> int:
    env = Environment(clock=CLOCK.now, sleep=schedule.sleep, console=Console(highlight=False))
    try:
        cli.main(["watch", *stored], obj=env, prog_name="ami-store-notifier")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


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
    fields = ["amiId", "state", "previousState", "s3Uri", "failureReason", "eventId"]
    print(
        textwrap.indent("\n".join(f"{name}: {detail[name]}" for name in fields if detail[name]), "        ")
    )


def chat_card(message: dict[str, Any]) -> str:
    """The custom notification as the chat client lays it out: title, description, next steps."""
    content = message["content"]
    steps = "\n".join(f"  - {step}" for step in content["nextSteps"])
    keywords = ", ".join(content["keywords"])
    return f"{content['title']}\n{content['description']}\nNext steps:\n{steps}\n[{keywords}]"


def _summarize(received: list[Received], chat: list[dict[str, Any]], watched: int) -> int:
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
    if not needed <= channels or watched != 1 or len(chat) != len(STORES):
        print(
            "\nDemo FAILED: missing",
            sorted(needed - channels),
            f"watch exit {watched}, chat {len(chat)}",
            file=sys.stderr,
        )
        return 1
    print(
        "\nDemo finished: watch followed the stores to their end, and Completed and Failed notifications "
        "arrived through SNS, EventBridge and the chat topic."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

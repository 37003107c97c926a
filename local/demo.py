"""The demo: the real handler, run each simulated minute against an embedded AWS, and what arrives.

It starts moto's server (with the EC2 store-task emulator) on this machine, creates the notifier's
resources and subscribers, starts a few AMI stores, one of which fails, and prints the SNS messages
and EventBridge events that subscribers receive as they arrive. No AWS account is touched.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import textwrap
from datetime import timedelta

import boto3

from ami_store_notifier import handler
from ami_store_notifier.domain.announcements import Announcement, email_text
from local.deployment import RULE_QUEUE, TOPIC_FAILED_QUEUE, TOPIC_QUEUE, Received, deploy
from local.ec2_store_tasks import CLOCK, endpoint_url, start_server, store_tasks_backend
from local.lambda_context import ACCOUNT, OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, REGION, LambdaContextStub

BUCKET = "golden-ami-archive"
SIMULATED_MINUTES = 12
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
    deployment = deploy(session, region=REGION)
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
    print(f"filter policy {{state: [Failed]}}, SQS '{RULE_QUEUE}' behind a bus rule on detail.state.\n")

    archived = ec2.register_image(Name="old-release-2026-10")["ImageId"]
    tasks.add_task(archived, BUCKET, CLOCK.now() - timedelta(days=2), "Completed")
    print(f"History: {archived} was stored two days ago (the first run must not announce it).")
    for name, minutes, reason in STORES:
        ami = ec2.register_image(Name=name)["ImageId"]
        tasks.plan(ami, duration_seconds=minutes * 60, fail_reason=reason)
        ec2.create_store_image_task(ImageId=ami, Bucket=BUCKET)
        outcome = f"will fail after {minutes} min" if reason else f"takes {minutes} min"
        print(f"CreateStoreImageTask {ami} ({name}) -> s3://{BUCKET}/{ami}.bin, {outcome}")
    print()

    received: list[Received] = []
    for minute in range(SIMULATED_MINUTES + 1):
        report = _invoke()
        print(
            f"[{CLOCK.now():%H:%M} UTC, minute {minute:2d}] poll ({report['mode']}): "
            f"{report['tasksSeen']} tasks seen, {report['tasksInProgress']} in progress, "
            f"announced {report['announced'] or 'nothing'}"
        )
        for queue in (TOPIC_QUEUE, TOPIC_FAILED_QUEUE, RULE_QUEUE):
            for item in deployment.receive(queue):
                received.append(item)
                _show(item)
        CLOCK.advance(60)

    return _summarize(received)


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


def _summarize(received: list[Received]) -> int:
    states = sorted({(item.queue, item.detail["state"]) for item in received})
    print("\nWhat each subscriber received:", ", ".join(f"{queue}: {state}" for queue, state in states))
    failed = next((item for item in received if item.detail["state"] == "Failed"), None)
    if failed is not None:
        print("\nAn email subscriber would have read this for the failure:\n")
        print(textwrap.indent(email_text(Announcement.from_detail(failed.detail)), "    "))
    channels = {(item.queue, item.detail["state"]) for item in received}
    needed = {(queue, state) for queue in (TOPIC_QUEUE, RULE_QUEUE) for state in ("Completed", "Failed")}
    if not needed <= channels:
        print("\nDemo FAILED: missing", sorted(needed - channels), file=sys.stderr)
        return 1
    print("\nDemo finished: Completed and Failed notifications arrived through SNS and EventBridge.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

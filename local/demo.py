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

This module holds the scenario's steps; the world they run in is demo_world.py's, the notifier's
schedule demo_schedule.py's, and the printing of what arrived demo_report.py's.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta
from typing import Any

import boto3
from rich.console import Console

from ami_store_notifier import handler
from ami_store_notifier.cli.app import Environment, cli
from local import dynamodb_tokens
from local.demo_report import summarize
from local.demo_schedule import SCHEDULE_PERIOD, NotifierSchedule
from local.demo_world import BUCKET, SCRATCH_BUCKET
from local.demo_world import set_up as set_up_world
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, endpoint_url, start_server
from local.lambda_context import OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET

STORES_START_AFTER = timedelta(seconds=20)
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
    world = set_up_world(boto3.session.Session())
    deployment, tasks, ec2 = world.deployment, world.tasks, world.ec2
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
    return summarize(schedule.received, schedule.chat, schedule.hinted, watched)


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


if __name__ == "__main__":
    sys.exit(main())

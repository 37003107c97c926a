"""The world the demo runs in: the notifier deployed into the embedded AWS with its subscribers, the
buckets, the account's trail and the bucket's EventBridge delivery turned on; and a word on each."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

from ami_store_notifier import handler
from local.deployment import (
    CHAT_QUEUE,
    RULE_QUEUE,
    TOPIC_FAILED_QUEUE,
    TOPIC_QUEUE,
    VERIFIED_QUEUE,
    LocalDeployment,
    deploy,
)
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, store_tasks_backend
from local.lambda_context import ACCOUNT, REGION

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
EVENTBRIDGE_DELIVERY = '{"EventBridgeConfiguration": {}}'


@dataclass(frozen=True)
class World:
    deployment: LocalDeployment
    tasks: StoreTaskBackend
    ec2: Any


def set_up(session: boto3.session.Session) -> World:
    """Deploys the notifier, with chat and hints, and says what is where."""
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
    print(f"and SQS '{VERIFIED_QUEUE}' behind the docs' cleanup rule (verdict Verified only).\n")
    return World(deployment, tasks, ec2)

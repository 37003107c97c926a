"""The naive reference poller the benchmark compares the notifier with.

It does what most home-grown pollers do, and what the best-known public peer (a Health-event
notifier) does with its events: on every run it reads the whole listing with the SDK paginator
(MaxResults 200), looks every task up in its table (one GetItem each, eventually consistent, the
SDK default), writes every task whose state changed (one PutItem each, unconditional), and announces
each finished task with one message per channel: `sns.publish` and `events.put_events` with one
entry. Its first run records what exists without announcing it, as the notifier's does by default.

It has its own table (and key prefix) in the same moto account, and publishes to the notifier's topic
and bus, so subscribers and rules cost the same for both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ami_store_notifier.domain.announcements import DETAIL_TYPE

KEY_PREFIX = "NAIVE#"
FINISHED = frozenset({"Completed", "Failed"})
PAGE_SIZE = 200


@dataclass
class NaiveReport:
    tasks_seen: int = 0
    written: int = 0
    announced: int = 0


class NaivePoller:
    def __init__(
        self,
        *,
        ec2: Any,
        dynamodb: Any,
        sns: Any,
        events: Any,
        table_name: str,
        topic_arn: str,
        event_bus_name: str,
        event_source: str,
        region: str,
        account: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._ec2 = ec2
        self._dynamodb = dynamodb
        self._sns = sns
        self._events = events
        self._table = table_name
        self._topic_arn = topic_arn
        self._bus = event_bus_name
        self._source = event_source
        self._region = region
        self._account = account
        self._clock = clock

    def run(self, *, announce: bool = True) -> NaiveReport:
        report = NaiveReport()
        paginator = self._ec2.get_paginator("describe_store_image_tasks")
        for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
            for task in page.get("StoreImageTaskResults", []):
                report.tasks_seen += 1
                self._handle(task, announce, report)
        return report

    def _handle(self, task: Mapping[str, Any], announce: bool, report: NaiveReport) -> None:
        start = task["TaskStartTime"].isoformat()
        key = {"pk": {"S": f"{KEY_PREFIX}{self._region}#{task['AmiId']}#{start}"}}
        item = self._dynamodb.get_item(TableName=self._table, Key=key).get("Item")
        recorded = item["state"]["S"] if item else None
        state = task["StoreTaskState"]
        if recorded == state:
            return
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **key,
                "amiId": {"S": task["AmiId"]},
                "bucket": {"S": task.get("Bucket", "")},
                "taskStartTime": {"S": start},
                "state": {"S": state},
                "progress": {"N": str(task.get("ProgressPercentage", 0))},
                "updatedAt": {"S": self._clock().isoformat()},
            },
        )
        report.written += 1
        if announce and state in FINISHED:
            self._announce(task, state, recorded, start)
            report.announced += 1

    def _announce(self, task: Mapping[str, Any], state: str, previous: str | None, start: str) -> None:
        detail = {
            "amiId": task["AmiId"],
            "bucket": task.get("Bucket"),
            "s3ObjectKey": task.get("S3objectKey"),
            "taskStartTime": start,
            "state": state,
            "previousState": previous,
            "failureReason": task.get("StoreTaskFailureReason"),
            "region": self._region,
            "account": self._account,
        }
        self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=f"AMI store {state}: {task['AmiId']}",
            Message=json.dumps(detail),
            MessageAttributes={"state": {"DataType": "String", "StringValue": state}},
        )
        self._events.put_events(
            Entries=[
                {
                    "Source": self._source,
                    "DetailType": DETAIL_TYPE,
                    "Resources": [f"arn:aws:ec2:{self._region}::image/{task['AmiId']}"],
                    "Detail": json.dumps(detail),
                    "EventBusName": self._bus,
                }
            ]
        )

"""`status`: the store tasks of each Region from the API, and what the deployed notifier made of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NotRequired, Protocol, TypedDict

from ami_store_notifier.cli.store_quota import StoreQuota, recorded_quota
from ami_store_notifier.domain.model import Cursor, RecordedTask, StoreTask, format_timestamp
from ami_store_notifier.ec2_limits import MAX_RESULTS_PER_PAGE, STORE_QUOTA_GB
from ami_store_notifier.ports import CallBudget, CallBudgetSpentError, TaskSource

ENDED_WITHIN = timedelta(days=1)
# Calls one Region's status may make, out of the 50 requests all callers share (see pacing.py).
CALLS_PER_REGION = 6


class NotifierRecords(Protocol):
    """The deployed notifier's state table, as the state store reads it for one Region."""

    def load_cursor(self) -> Cursor: ...

    def load_records(self, keys: list[str]) -> dict[str, RecordedTask]: ...


@dataclass(frozen=True)
class NotifierView:
    """What the notifier recorded of one task: the state, what it announced, whether a delivery is owed."""

    recorded: str | None
    announced: tuple[str, ...]
    delivery_pending: bool


@dataclass(frozen=True)
class RegionStatus:
    region: str
    in_progress: tuple[StoreTask, ...]
    # Tasks that started within ENDED_WITHIN and have ended: EC2 reports no end time.
    ended: tuple[StoreTask, ...]
    # The listing went on past the calls allowed: older tasks are not shown.
    incomplete: bool
    notifier: Mapping[str, NotifierView] = field(default_factory=dict)
    # What the notifier's table counts against the store quota; None without the table, or its cursor.
    quota: StoreQuota | None = None

    @property
    def tasks(self) -> tuple[StoreTask, ...]:
        return self.in_progress + self.ended


def region_status(source: TaskSource, region: str, now: datetime) -> RegionStatus:
    budget = CallBudget(CALLS_PER_REGION)
    in_progress: list[StoreTask] = []
    ended: list[StoreTask] = []
    try:
        for page in source.pages(MAX_RESULTS_PER_PAGE, budget, in_progress_only=True):
            in_progress += page.tasks
        for page in source.pages(MAX_RESULTS_PER_PAGE, budget):
            recent = [task for task in page.tasks if task.task_start_time >= now - ENDED_WITHIN]
            ended += [task for task in recent if task.state is not None and task.state.is_terminal]
            if len(recent) < len(page.tasks):
                break
    except CallBudgetSpentError:
        return _each_task_once(region, in_progress, ended, incomplete=True)
    return _each_task_once(region, in_progress, ended, incomplete=False)


def _each_task_once(
    region: str, in_progress: list[StoreTask], ended: list[StoreTask], *, incomplete: bool
) -> RegionStatus:
    """Each task once, as last seen: a store that ended between the two listings is in both, and a listing
    that changes while it is paged may repeat one. `with_notifier` sends the keys to BatchGetItem, which
    answers a repeated key with ValidationException "Provided list of item keys contains duplicates"
    (moto too; the API reference does not say so: https://github.com/boto/boto3/issues/4131)."""
    last_ended = {task.key: task for task in ended}
    still_running = {task.key: task for task in in_progress if task.key not in last_ended}
    return RegionStatus(region, tuple(still_running.values()), tuple(last_ended.values()), incomplete)


def with_notifier(status: RegionStatus, records: NotifierRecords) -> RegionStatus:
    keys = [task.key for task in status.tasks]
    recorded = records.load_records(keys)
    cursor = records.load_cursor()
    owed = {delivery.key for delivery in cursor.pending}
    views = {
        key: NotifierView(
            recorded=recorded[key].state.value if key in recorded else None,
            announced=recorded[key].announced if key in recorded else (),
            delivery_pending=key in owed,
        )
        for key in keys
    }
    # A Region the notifier does not poll has no cursor: it counts nothing there, which is not 0 GB.
    quota = recorded_quota(cursor) if cursor.version else None
    return replace(status, notifier=views, quota=quota)


# The shapes `status --json` prints (camelCase, as the AWS APIs and the notifier's events name things).
class NotifierJson(TypedDict):
    recordedState: str | None
    announced: list[str]
    deliveryPending: bool


class TaskJson(TypedDict):
    amiId: str
    state: str
    progressPercentage: int | None
    bucket: str
    s3ObjectKey: str
    taskStartTime: str
    failureReason: str | None
    notifier: NotRequired[NotifierJson]


class StoreQuotaJson(TypedDict):
    gigabytesInProgress: int
    limitGigabytes: int
    storesInProgress: int
    storesOfUnknownSize: int


class RegionJson(TypedDict):
    region: str
    complete: bool
    tasks: list[TaskJson]
    storeQuota: NotRequired[StoreQuotaJson]


class StatusJson(TypedDict):
    regions: list[RegionJson]


def as_json(statuses: list[RegionStatus]) -> StatusJson:
    return {"regions": [_region_json(status) for status in statuses]}


def _region_json(status: RegionStatus) -> RegionJson:
    shown: RegionJson = {
        "region": status.region,
        "complete": not status.incomplete,
        "tasks": [_task_json(task, status.notifier.get(task.key)) for task in status.tasks],
    }
    if status.quota is not None:
        shown["storeQuota"] = {
            "gigabytesInProgress": status.quota.gigabytes,
            "limitGigabytes": STORE_QUOTA_GB,
            "storesInProgress": status.quota.stores,
            "storesOfUnknownSize": status.quota.unsized,
        }
    return shown


def _task_json(task: StoreTask, notifier: NotifierView | None) -> TaskJson:
    shown: TaskJson = {
        "amiId": task.ami_id,
        "state": task.state_name,
        "progressPercentage": task.progress_percentage,
        "bucket": task.bucket,
        "s3ObjectKey": task.s3_object_key,
        "taskStartTime": format_timestamp(task.task_start_time),
        "failureReason": task.failure_reason,
    }
    if notifier is not None:
        shown["notifier"] = {
            "recordedState": notifier.recorded,
            "announced": list(notifier.announced),
            "deliveryPending": notifier.delivery_pending,
        }
    return shown

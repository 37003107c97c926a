"""What the harness reads of the emulator's listing, of S3 and of the state table's task items after each
run, so that a notice can be judged against what was true when the notifier made it
(tests/chaos/notice_ledger.py).

The emulator's clock stands still while the handler runs, and objects appear only when it moves (or when
a scenario writes one between runs): what S3 holds at the end of a run is what the run's HeadObject saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from moto.s3.models import s3_backends

from local.ec2_store_tasks import CLOCK, IN_PROGRESS, LISTING_WINDOW, StoreTaskBackend
from local.lambda_context import ACCOUNT


def ec2_timestamp(moment: datetime) -> str:
    """A start time as EC2 shows it and as the event contract carries it (UTC, milliseconds, Z)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class TaskView:
    """A store task as the listing shows it."""

    ami_id: str
    started: str
    bucket: str
    object_key: str
    state: str
    progress: int

    @property
    def key(self) -> str:
        return f"{self.ami_id}#{self.started}"

    @property
    def in_progress(self) -> bool:
        return self.state == IN_PROGRESS


@dataclass(frozen=True)
class ObjectView:
    """An object as HeadObject describes it: S3 keeps Last-Modified to the second."""

    size: int
    storage_class: str
    last_modified: datetime


@dataclass(frozen=True)
class RecordedTask:
    """A task item of the state table: its state and the milestones it holds announced."""

    ami_id: str
    started: str
    bucket: str
    state: str
    milestones: frozenset[str]


@dataclass(frozen=True)
class FirstRecord:
    bucket: str
    state: str
    announced: bool
    """Whether the claim that created the item announced its state."""


@dataclass(frozen=True)
class WorldView:
    tasks: dict[str, TaskView]
    objects: dict[tuple[str, str], ObjectView]


def world_view(backend: StoreTaskBackend, buckets: tuple[str, ...]) -> WorldView:
    """The tasks the listing shows now, and the objects of `buckets`."""
    return WorldView(tasks_view(backend), objects_view(buckets))


def tasks_view(backend: StoreTaskBackend) -> dict[str, TaskView]:
    """The tasks the listing shows now (not one an early hint's fault hides yet)."""
    now = CLOCK.now()
    oldest = now - LISTING_WINDOW
    hints = backend.hint_events
    tasks = {}
    for task in backend.tasks():
        if task.start_time >= oldest and hints.listed(task, now):
            view = TaskView(
                task.ami_id,
                ec2_timestamp(task.start_time),
                task.bucket,
                task.object_key,
                task.state,
                task.progress_at(now),
            )
            tasks[view.key] = view
    return tasks


def objects_view(buckets: tuple[str, ...]) -> dict[tuple[str, str], ObjectView]:
    """Read from moto's buckets themselves: a ListObjects and a HeadObject per key after every run would
    cost more than the run."""
    s3 = s3_backends[ACCOUNT]["aws"]
    objects = {}
    for name in buckets:
        bucket = s3.buckets.get(name)
        for key, stored in bucket.keys.items() if bucket is not None else ():
            objects[(name, key)] = ObjectView(
                stored.size,
                stored.storage_class or "STANDARD",
                stored.last_modified.replace(microsecond=0, tzinfo=UTC),
            )
    return objects

"""The steps of the archive-assurance scenarios (tests/chaos/assurance_scenarios.py draws them): where each
AMI stores, what its completed stores leave in the bucket, and stores that stall and resume.

Plain data, as every scenario step is (tests/chaos/scenarios.py plays them); what each does to the world is
below, on the emulator's knobs (local/ec2_store_tasks/objects.py and backend.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from local.ec2_store_tasks import COMPLETED, IN_PROGRESS
from tests.chaos.archive_buckets import REFUSED, VAULT
from tests.chaos.harness import ChaosWorld

ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


@dataclass(frozen=True)
class ObjectPlan:
    """What the completed stores of one AMI leave in the bucket (the emulator's `objects.plan`)."""

    ami: int
    left_out: bool = False
    delay_seconds: float = 0.0
    empty: bool = False
    storage_class: str | None = None


@dataclass(frozen=True)
class AssuranceSetup:
    """The archive-assurance side of a scenario: each AMI's bucket (by AMI index; AMIs beyond them, such
    as a shifting listing's, store into VAULT) and the AMIs whose objects are not the default."""

    buckets: tuple[str, ...]
    objects: tuple[ObjectPlan, ...] = ()

    def bucket_of(self, ami: int) -> str:
        return self.buckets[ami] if 0 <= ami < len(self.buckets) else VAULT


@dataclass(frozen=True)
class StallStore:
    """The AMI's store in progress stands still where it is (its end waits until it resumes)."""

    ami: int


@dataclass(frozen=True)
class ResumeStore:
    """The AMI's stalled store moves on."""

    ami: int


@dataclass(frozen=True)
class WriteObject:
    """The object of the AMI's completed store appears now (one left out when the store completed)."""

    ami: int


def prepare_archives(world: ChaosWorld, setup: AssuranceSetup, ami_id: Callable[[int], str]) -> None:
    """The AMIs' object plans, before anything is stored; counted for the campaign's figures."""
    counts = world.ledger.counts
    counts["assurance_scenarios"] += 1
    for plan in setup.objects:
        world.backend.objects.plan(
            ami_id(plan.ami),
            left_out=plan.left_out,
            delay_seconds=plan.delay_seconds,
            empty=plan.empty,
            storage_class=plan.storage_class,
        )
        counts["objects left out"] += plan.left_out
        counts["objects delayed"] += plan.delay_seconds > 0
        counts["objects empty"] += plan.empty
        counts["objects in an archive class"] += plan.storage_class in ARCHIVE_CLASSES
    counts["stores into a refused bucket"] += sum(1 for bucket in setup.buckets if bucket in REFUSED)


def stall_store(world: ChaosWorld, ami_id: str) -> None:
    task = world.backend.task(ami_id)
    if task is not None and task.state == IN_PROGRESS and task.stalled_at is None:
        world.backend.stall(ami_id)
        world.ledger.counts["stores stalled"] += 1


def resume_store(world: ChaosWorld, ami_id: str) -> None:
    task = world.backend.task(ami_id)
    if task is not None and task.state == IN_PROGRESS and task.stalled_at is not None:
        world.backend.resume(ami_id)
        world.ledger.counts["stalls resumed"] += 1


def write_object_late(world: ChaosWorld, ami_id: str) -> None:
    task = world.backend.task(ami_id)
    if task is not None and task.state == COMPLETED and not task.object_written:
        world.backend.write_object(ami_id)
        world.ledger.counts["objects written late"] += 1

"""What `watch` draws: one table narrow enough for 80 columns, and a line per change without a terminal."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from rich.console import Console

from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.views import task_line, watch_table
from ami_store_notifier.domain.model import StoreTask
from tests.fakes import ManualClock


def drawn(tasks: list[FollowedTask], clock: ManualClock, width: int = 80) -> list[str]:
    console = Console(file=io.StringIO(), width=width, record=True, force_terminal=True)
    console.print(watch_table(tasks, clock.now, timedelta(seconds=30)))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_one_region_is_named_in_the_title_and_every_column_fits_80_characters(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    task = FollowedTask.start("eu-west-1", make_task(started_minutes_ago=20, progress=40), clock.now)

    lines = drawn([task], clock)

    assert lines[0] == "AMI store tasks in eu-west-1 at 12:00:00 UTC, next check in 0:00:30"
    assert lines[1].split() == ["AMI", "State", "Progress", "Elapsed", "Rate", "ETA"]
    assert lines[2].split()[-3:] == ["0:20:00", "2.0%/min", "0:30:00"]
    assert all(len(line) <= 80 for line in lines)


def test_several_regions_get_a_region_column(clock: ManualClock, make_task: Callable[..., StoreTask]) -> None:
    east = FollowedTask.start("us-east-1", make_task(), clock.now)
    west = FollowedTask.start("eu-west-1", make_task(), clock.now)

    lines = drawn([east, west], clock, width=100)

    assert lines[0].startswith("AMI store tasks at 12:00:00 UTC")
    assert lines[1].split()[:2] == ["AMI", "Region"]


def test_an_ended_store_is_told_below_the_table_and_in_its_line(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    task = make_task(progress=90)
    ended = FollowedTask.start("us-east-1", task, clock.now).observe(
        replace(task, state_name="Failed", failure_reason="snapshot gone"), clock.now + timedelta(minutes=1)
    )

    lines = drawn([ended], clock)

    assert lines[-1] == f"  {task.ami_id} did not complete: snapshot gone"
    assert task_line(ended, clock.now) == f"{task.ami_id} us-east-1 Failed 90% after 0:02:00: snapshot gone"

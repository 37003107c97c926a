"""`watch` over a fake EC2: it follows the tasks to their end, re-checking only those still running."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.watching import MAX_FOLLOWED, NothingToWatchError, Watcher
from ami_store_notifier.domain.model import StoreTask
from ami_store_notifier.ports import CallBudget, ListingPage
from tests.fakes import FakeTaskSource, ManualClock
from tests.unit.conftest import TimedStores
from tests.world import REGION


@dataclass
class RecordingView:
    shown: list[tuple[datetime, tuple[FollowedTask, ...], timedelta | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def show(self, tasks: Sequence[FollowedTask], now: datetime, next_check: timedelta | None) -> None:
        self.shown.append((now, tuple(tasks), next_check))

    def note(self, text: str, now: datetime) -> None:
        self.notes.append(text)


def watcher(stores: TimedStores, view: RecordingView) -> Watcher:
    return Watcher({REGION: stores.source}, clock=stores.clock, sleep=stores.sleep, view=view)


def test_named_stores_are_followed_to_their_end_with_the_failure_reason(timed_stores: TimedStores) -> None:
    timed_stores.start("ami-0000000000000000a", minutes=20)
    timed_stores.start("ami-0000000000000000b", minutes=8, fail_reason="snapshot unreadable")
    view = RecordingView()

    result = watcher(timed_stores, view).run(["ami-0000000000000000a", "ami-0000000000000000b"])

    assert [task.state for task in result.tasks] == ["Completed", "Failed"]
    assert [task.failure for task in result.failures] == ["snapshot unreadable"]
    assert view.shown[-1][2] is None


def test_without_names_every_task_in_progress_is_followed_and_ended_ones_are_left_out(
    timed_stores: TimedStores, make_task: Callable[..., StoreTask]
) -> None:
    timed_stores.source.put(make_task("Completed", progress=100))
    timed_stores.start("ami-0000000000000000a", minutes=5)

    result = watcher(timed_stores, RecordingView()).run([])

    assert [task.task.ami_id for task in result.tasks] == ["ami-0000000000000000a"]
    assert not result.failures


def test_nothing_in_progress_ends_the_watch_at_once(timed_stores: TimedStores) -> None:
    result = watcher(timed_stores, RecordingView()).run([])

    assert result.tasks == ()
    assert timed_stores.slept == []


def test_a_named_ami_without_a_store_task_is_refused(timed_stores: TimedStores) -> None:
    timed_stores.start("ami-0000000000000000a", minutes=5)

    with pytest.raises(NothingToWatchError, match="ami-0000000000000000f"):
        watcher(timed_stores, RecordingView()).run(["ami-0000000000000000a", "ami-0000000000000000f"])


def test_more_tasks_in_progress_than_watch_follows_are_refused(timed_stores: TimedStores) -> None:
    for number in range(MAX_FOLLOWED + 1):
        timed_stores.start(f"ami-{number:017x}", minutes=5)

    with pytest.raises(NothingToWatchError, match=f"at most {MAX_FOLLOWED}"):
        watcher(timed_stores, RecordingView()).run([])


def test_a_long_store_is_followed_with_few_calls_that_grow_denser_near_its_end(
    timed_stores: TimedStores,
) -> None:
    timed_stores.start("ami-0000000000000000a", minutes=240)

    watcher(timed_stores, RecordingView()).run(["ami-0000000000000000a"])

    hours = sum(timed_stores.slept) / 3600
    assert 4 <= hours < 4.1
    assert timed_stores.source.calls / (hours * 60) < 1
    assert max(timed_stores.slept) == 300
    assert timed_stores.slept[-1] <= 30


def test_tasks_that_ended_are_not_asked_for_again(timed_stores: TimedStores) -> None:
    timed_stores.start("ami-0000000000000000a", minutes=2)
    timed_stores.start("ami-0000000000000000b", minutes=60)
    asked: list[tuple[str, ...]] = []
    by_ami = timed_stores.source.by_ami

    def recorded_by_ami(ami_ids: Sequence[str], budget: CallBudget) -> ListingPage:
        asked.append(tuple(ami_ids))
        return by_ami(ami_ids, budget)

    timed_stores.source.by_ami = recorded_by_ami  # type: ignore[method-assign]

    watcher(timed_stores, RecordingView()).run(["ami-0000000000000000a", "ami-0000000000000000b"])

    first_without_a = next(index for index, ids in enumerate(asked) if ids == ("ami-0000000000000000b",))
    assert all(ids == ("ami-0000000000000000b",) for ids in asked[first_without_a:])


def test_forty_amis_are_rechecked_twenty_to_a_call(timed_stores: TimedStores) -> None:
    names = [f"ami-{number:017x}" for number in range(40)]
    for name in names:
        timed_stores.start(name, minutes=3)

    watcher(timed_stores, RecordingView()).run(names)

    checks = len(timed_stores.slept) + 1
    assert timed_stores.source.calls == 2 * checks


def test_throttling_backs_off_doubling_the_wait_and_then_goes_on(
    timed_stores: TimedStores, source: FakeTaskSource
) -> None:
    timed_stores.start("ami-0000000000000000a", minutes=3)
    source.fail_on_call = {2, 3, 4}
    view = RecordingView()

    result = watcher(timed_stores, view).run(["ami-0000000000000000a"])

    assert result.tasks[0].state == "Completed"
    assert len(view.notes) == 3
    assert timed_stores.slept[1:4] == [30.0, 40.0, 80.0]


def test_a_task_that_disappears_from_the_listing_ends_the_watch_as_not_completed(
    timed_stores: TimedStores, clock: ManualClock
) -> None:
    timed_stores.start("ami-0000000000000000a", minutes=30)
    vanish = timed_stores.sleep

    def deregistered_meanwhile(seconds: float) -> None:
        vanish(seconds)
        timed_stores.plans.clear()
        timed_stores.source.tasks.clear()

    result = Watcher(
        {REGION: timed_stores.source}, clock=clock, sleep=deregistered_meanwhile, view=RecordingView()
    ).run(["ami-0000000000000000a"])

    assert result.tasks[0].state == "NotListed"
    assert len(result.failures) == 1


class RegionWithoutTheAmis:
    """An EC2 that refuses a whole request naming an AMI it does not know, as EC2 may: its refusal names
    the ids as EC2's other actions do ("The image ids '[ami-1, ami-2]' do not exist"), or none."""

    def __init__(self, *, names_them: bool) -> None:
        self.names_them = names_them
        self.calls = 0

    def describe_store_image_tasks(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        named = f" '[{', '.join(request['ImageIds'])}]'" if self.names_them else ""
        raise ClientError(
            {"Error": {"Code": "InvalidAMIID.NotFound", "Message": f"The image ids{named} do not exist"}},
            "DescribeStoreImageTasks",
        )


@pytest.mark.parametrize(
    ("names_them", "calls"),
    [
        (True, 2),  # one refused request a group: every AMI of it named
        (False, (2 * 20 - 1) + (2 * 5 - 1)),  # each group split in halves down to single AMIs
    ],
)
def test_named_amis_of_one_region_are_found_although_another_region_refuses_them(
    timed_stores: TimedStores, names_them: bool, calls: int
) -> None:
    names = [f"ami-{number:017x}" for number in range(25)]
    for name in names:
        timed_stores.start(name, minutes=3)
    elsewhere = RegionWithoutTheAmis(names_them=names_them)
    sources = {REGION: timed_stores.source, "eu-west-1": Ec2TaskSource(elsewhere)}  # type: ignore[arg-type]

    result = Watcher(sources, clock=timed_stores.clock, sleep=timed_stores.sleep, view=RecordingView()).run(
        names
    )

    assert {task.region for task in result.tasks} == {REGION}
    assert not result.failures
    assert elsewhere.calls == calls

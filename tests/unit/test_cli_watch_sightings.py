"""`watch` with S3 beside EC2: a completion is reported seconds after its object appears, once EC2 confirms
it, at no more EC2 calls than EC2's pace alone; failures, and buckets the caller may not read, keep that
pace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import groupby, pairwise

import pytest

from ami_store_notifier.cli.progress import FollowedTask
from ami_store_notifier.cli.sightings import PROBES_PER_ROUND, Sightings
from ami_store_notifier.cli.watching import Watcher
from ami_store_notifier.domain.model import StoreTask
from ami_store_notifier.ports import CallBudget, ListingPage
from tests.fakes import FakeTaskSource, ManualClock
from tests.unit.conftest import StoresInS3, TimedStores
from tests.unit.test_cli_watcher import RecordingView
from tests.world import REGION

AMI = "ami-0000000000000000a"
START = datetime.fromisoformat("2026-11-01T12:00:00+00:00")


def watcher(world: StoresInS3, view: RecordingView, *, with_s3: bool = True) -> Watcher:
    stores = world.stores
    probes = {REGION: world} if with_s3 else None
    return Watcher({REGION: stores.source}, clock=stores.clock, sleep=world.sleep, view=view, probes=probes)


def checks_of(source: FakeTaskSource, clock: ManualClock) -> list[datetime]:
    """The moments of the EC2 checks by ImageIds, filled in as the watch makes them."""
    moments: list[datetime] = []
    by_ami = source.by_ami

    def recorded(ami_ids: Sequence[str], budget: CallBudget) -> ListingPage:
        moments.append(clock.now)
        return by_ami(ami_ids, budget)

    source.by_ami = recorded  # type: ignore[method-assign]
    return moments


def new_world() -> StoresInS3:
    """A second world beside the fixture's, to watch the same stores with EC2's pace alone."""
    return StoresInS3(TimedStores(ManualClock(START), FakeTaskSource()))


def reported_at(view: RecordingView, state: str) -> datetime:
    return next(now for now, tasks, _ in view.shown if tasks[0].state == state)


@pytest.mark.parametrize("ends_after", [timedelta(minutes=3, seconds=3), timedelta(minutes=8, seconds=7)])
def test_a_store_ending_before_its_progress_says_is_reported_seconds_after_its_object_appears(
    stores_in_s3: StoresInS3, ends_after: timedelta
) -> None:
    with_ec2_alone = new_world()
    views = {}
    for world, with_s3 in ((stores_in_s3, True), (with_ec2_alone, False)):
        world.stores.start(AMI, minutes=60)
        world.end_at(AMI, START + ends_after)
        views[with_s3] = RecordingView()
        watcher(world, views[with_s3], with_s3=with_s3).run([AMI])

    assert reported_at(views[True], "Completed") - (START + ends_after) <= timedelta(seconds=15)
    assert reported_at(views[False], "Completed") - (START + ends_after) > timedelta(minutes=1)
    assert stores_in_s3.stores.source.calls <= with_ec2_alone.stores.source.calls


def test_a_completion_before_the_check_that_an_earlier_one_brought_forward_was_due_waits_for_that_moment(
    stores_in_s3: StoresInS3,
) -> None:
    with_ec2_alone = new_world()
    views = {}
    for world, with_s3 in ((stores_in_s3, True), (with_ec2_alone, False)):
        for name, ends_after in (("ami-0000000000000000a", 487), ("ami-0000000000000000b", 517)):
            world.stores.start(name, minutes=60)
            world.end_at(name, START + timedelta(seconds=ends_after))
        views[with_s3] = RecordingView()
        watcher(world, views[with_s3], with_s3=with_s3).run(
            ["ami-0000000000000000a", "ami-0000000000000000b"]
        )

    def reported(view: RecordingView, index: int) -> datetime:
        return next(now for now, tasks, _ in view.shown if tasks[index].state == "Completed")

    assert reported(views[True], 0) - (START + timedelta(seconds=487)) <= timedelta(seconds=15)
    assert reported(views[True], 1) == reported(views[False], 1)
    # EC2 alone found both at one check; the early one for the first leaves one more for the second.
    assert stores_in_s3.stores.source.calls == with_ec2_alone.stores.source.calls + 1


def test_an_object_that_appears_while_ec2_lists_the_store_in_progress_is_not_reported_completed(
    stores_in_s3: StoresInS3, clock: ManualClock
) -> None:
    stores_in_s3.stores.start(AMI, minutes=30)
    appeared = START + timedelta(minutes=10, seconds=3)
    stores_in_s3.object_at(AMI, appeared)
    checks = checks_of(stores_in_s3.stores.source, clock)
    view = RecordingView()

    result = watcher(stores_in_s3, view).run([AMI])

    assert reported_at(view, "Completed") >= START + timedelta(minutes=30)
    first, second, *_ = (moment for moment in checks if moment >= appeared)
    assert first - appeared <= timedelta(seconds=15)
    assert second - first >= timedelta(minutes=1)
    assert result.tasks[0].succeeded


def test_a_bucket_the_caller_may_not_read_is_said_once_and_its_stores_are_checked_at_ec2s_pace(
    stores_in_s3: StoresInS3, clock: ManualClock
) -> None:
    with_ec2_alone = new_world()
    checks, views = {}, {}
    for world, with_s3 in ((stores_in_s3, True), (with_ec2_alone, False)):
        world.stores.start("ami-0000000000000000a", minutes=12)
        world.stores.start("ami-0000000000000000b", minutes=20)
        world.forbidden.add("archive-bucket")
        checks[with_s3] = checks_of(world.stores.source, world.stores.clock)
        views[with_s3] = RecordingView()
        watcher(world, views[with_s3], with_s3=with_s3).run(
            ["ami-0000000000000000a", "ami-0000000000000000b"]
        )

    assert len(views[True].notes) == 1
    assert checks[True] == checks[False]
    assert len(stores_in_s3.looks) == 1


def test_the_note_of_a_bucket_the_caller_may_not_read_names_it_what_s3_said_and_the_permissions_needed(
    stores_in_s3: StoresInS3,
) -> None:
    stores_in_s3.stores.start(AMI, minutes=5)
    stores_in_s3.forbidden.add("archive-bucket")
    view = RecordingView()

    watcher(stores_in_s3, view).run([AMI])

    assert view.notes == [
        "cannot read s3://archive-bucket (403 Forbidden): completions there are found at EC2's pace; "
        "seeing them in seconds needs s3:GetObject on its objects and s3:ListBucket on it"
    ]


def test_a_failure_is_found_at_ec2s_pace_as_without_s3(stores_in_s3: StoresInS3) -> None:
    with_ec2_alone = new_world()
    checks, results = {}, {}
    for world, with_s3 in ((stores_in_s3, True), (with_ec2_alone, False)):
        world.stores.start(AMI, minutes=8, fail_reason="snapshot unreadable")
        checks[with_s3] = checks_of(world.stores.source, world.stores.clock)
        results[with_s3] = watcher(world, RecordingView(), with_s3=with_s3).run([AMI])

    assert [task.failure for task in results[True].failures] == ["snapshot unreadable"]
    assert checks[True] == checks[False]
    assert len(stores_in_s3.looks) > 50


def test_an_object_older_than_the_store_is_an_earlier_stores_and_brings_no_check_forward(
    stores_in_s3: StoresInS3,
) -> None:
    with_ec2_alone = new_world()
    checks = {}
    for world, with_s3 in ((stores_in_s3, True), (with_ec2_alone, False)):
        world.stores.start(AMI, minutes=15)
        world.object_at(AMI, START - timedelta(days=3))
        checks[with_s3] = checks_of(world.stores.source, world.stores.clock)
        watcher(world, RecordingView(), with_s3=with_s3).run([AMI])

    assert checks[True] == checks[False]


def test_while_s3_slows_down_its_looks_back_off_without_a_note_and_the_completion_is_still_found(
    stores_in_s3: StoresInS3,
) -> None:
    stores_in_s3.stores.start(AMI, minutes=30)
    stores_in_s3.slow_downs = 3
    view = RecordingView()

    result = watcher(stores_in_s3, view).run([AMI])

    moments = [moment for moment, _ in stores_in_s3.looks[:4]]
    assert [later - earlier for earlier, later in pairwise(moments)] == [
        timedelta(seconds=seconds) for seconds in (10, 20, 40)
    ]
    assert view.notes == []
    assert result.tasks[0].succeeded


def test_with_more_stores_running_than_a_look_covers_it_covers_those_expected_to_end_soonest(
    stores_in_s3: StoresInS3,
) -> None:
    names = [f"ami-{number:017x}" for number in range(PROBES_PER_ROUND + 5)]
    for minutes, name in enumerate(reversed(names), start=10):
        stores_in_s3.stores.start(name, minutes=minutes)

    watcher(stores_in_s3, RecordingView()).run(names)

    rounds = [
        (moment, {key for _, key in looks})
        for moment, looks in groupby(stores_in_s3.looks, key=lambda look: look[0])
    ]
    assert max(len(keys) for _, keys in rounds) == PROBES_PER_ROUND
    # Once the checks gave each store a pace, the shortest stores are looked for.
    with_estimates = next(keys for moment, keys in rounds if moment >= START + timedelta(minutes=5))
    assert with_estimates == {f"{name}.bin" for name in names[-PROBES_PER_ROUND:]}


def test_a_store_listed_without_a_bucket_is_not_looked_for(
    stores_in_s3: StoresInS3, make_task: Callable[..., StoreTask], clock: ManualClock
) -> None:
    notes: list[str] = []
    sightings = Sightings({REGION: stores_in_s3}, notes.append)

    assert not sightings.look([FollowedTask.start(REGION, make_task(bucket=""), clock.now)], clock.now)
    assert stores_in_s3.looks == []
    assert notes == []

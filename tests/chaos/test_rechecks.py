"""Re-checks by ImageIds beside an AMI deregistered meanwhile: EC2 may refuse the whole request naming
the AMI, refuse it naming none, or leave the AMI out. Each store's end beside it is still announced once,
and the deregistered AMI's task leaves the tracked tasks."""

from __future__ import annotations

import pytest

from ami_store_notifier.report import CALL_BUDGET_SPENT
from local.ec2_store_tasks import CLOCK, COMPLETED, UnknownImageIds
from tests.chaos.harness import ChaosWorld, RunRecord, Transition, assert_no_violations, ec2_timestamp

DESCRIBE = "DescribeStoreImageTasks"


def one_deregistered_and_the_others_completed(world: ChaosWorld, stores: list, answer: UnknownImageIds):
    """The first AMI (in id order, so in the first request of 20 a plain split would ask) deregistered,
    every other store completed, a minute before the next run; returns the completions."""
    world.backend.unknown_image_ids = answer
    gone, *others = stores
    world.backend.deregister(gone.ami_id)
    for task in others:
        world.backend.complete(task.ami_id)
    CLOCK.advance(60)
    return [Transition(task.ami_id, ec2_timestamp(task.start_time), COMPLETED) for task in others]


def run_counting_calls(world: ChaosWorld, label: str) -> tuple[RunRecord, int]:
    before = world.backend.calls[DESCRIBE]
    record = world.run(label)
    return record, world.backend.calls[DESCRIBE] - before


def announced_once(world: ChaosWorld, transitions: list[Transition]) -> bool:
    return all(
        world.ledger.delivery_count(channel, transition) == 1
        for transition in transitions
        for channel in ("sns", "events")
    )


def test_the_ends_beside_a_deregistered_ami_are_announced_by_one_run_when_ec2_names_it(
    chaos, stores_past_the_head
):
    stores = stores_past_the_head(24)
    ended = one_deregistered_and_the_others_completed(chaos, stores, UnknownImageIds.REFUSE_NAMING_THEM)

    record, calls = run_counting_calls(chaos, "one run")

    assert record.complete
    assert calls == 1 + 2 + 1, "the head page, the two requests, the refused one again without the AMI"
    assert announced_once(chaos, ended)
    assert record.report["vanished"] == 1
    assert record.report["tasksInProgress"] == 0
    assert_no_violations(chaos.ledger)


def test_the_ends_beside_a_deregistered_ami_are_announced_by_one_run_when_ec2_leaves_it_out(
    chaos, stores_past_the_head
):
    stores = stores_past_the_head(24)
    ended = one_deregistered_and_the_others_completed(chaos, stores, UnknownImageIds.OMIT)

    record, calls = run_counting_calls(chaos, "one run")

    assert record.complete
    assert calls == 1 + 2
    assert announced_once(chaos, ended)
    assert record.report["vanished"] == 1
    assert_no_violations(chaos.ledger)


@pytest.mark.parametrize("count", [24, 60])
def test_the_ends_beside_a_deregistered_ami_are_announced_within_a_few_runs_when_ec2_names_no_id(
    chaos, stores_past_the_head, count
):
    stores = stores_past_the_head(count)
    ended = one_deregistered_and_the_others_completed(chaos, stores, UnknownImageIds.REFUSE)

    runs = [chaos.run("the first run")]
    while not runs[-1].complete and len(runs) < 5:
        CLOCK.advance(60)
        runs.append(chaos.run("the next run"))

    assert len(runs) <= 3
    assert runs[-1].complete
    assert announced_once(chaos, ended)
    assert sum(run.report["vanished"] for run in runs) == 1
    assert runs[-1].report["tasksInProgress"] == 0
    assert_no_violations(chaos.ledger)


def test_what_a_run_learnt_before_its_calls_ran_out_is_announced_and_not_again(chaos, stores_past_the_head):
    """60 stores are three requests of 20; the refused one needs 9 calls or more to split down to the AMI
    EC2 does not know, and the run has 6 left: it stops on its call budget with what it learnt."""
    stores = stores_past_the_head(60)
    ended = one_deregistered_and_the_others_completed(chaos, stores, UnknownImageIds.REFUSE)

    cut_short, calls = run_counting_calls(chaos, "runs out of calls")
    CLOCK.advance(60)
    chaos.run("the next run")

    assert calls == 10
    assert cut_short.stopped_because == CALL_BUDGET_SPENT
    assert cut_short.report["announced"][COMPLETED] >= 2 * 20, "the two requests EC2 answered, and more"
    assert cut_short.report["vanished"] == 0, "the re-check did not finish: no tracked task departs"
    assert announced_once(chaos, ended)
    assert_no_violations(chaos.ledger)

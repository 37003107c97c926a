"""One fault at every AWS call a busy run makes, of every kind, then recovery, with the invariants checked.

The busy run is a full scan that makes each kind of call the poller has: the cursor read, every
listing page, a re-check by AMI id, the suspects' read, a lease-renewal commit and a claims commit, the
read of a taken-over announcement, both channels and the settling write. A fault hits one call; the
harness then waits out the claim lease (a crashed run's deliveries are taken over only after it) and
runs once more without faults. That run must be complete, and the ledger must show nothing lost,
nothing duplicated that the fault does not explain, and no state moving backwards.
"""

from __future__ import annotations

from collections import Counter

import pytest

from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED
from tests.chaos.harness import ChaosWorld, Transition, assert_no_violations, ec2_timestamp
from tests.chaos.scenarios import CALL_SITES, ami_id, kinds_for, prepare_busy_run

# The calls of the busy run, in the order it makes them (test_the_matrix_covers_every_call... checks it).
BUSY_RUN_CALLS = (
    ("dynamodb", "BatchGetItem", 1),  # the cursor and the tasks it knows
    ("dynamodb", "BatchGetItem", 2),  # the cursor's batches of pending deliveries
    ("ec2", "DescribeStoreImageTasks", 1),  # listing page 1
    ("ec2", "DescribeStoreImageTasks", 2),  # listing page 2
    ("ec2", "DescribeStoreImageTasks", 3),  # listing page 3, down to where the previous safety net began
    ("ec2", "DescribeStoreImageTasks", 4),  # the tasks in progress (task-state filter), page 1
    ("ec2", "DescribeStoreImageTasks", 5),  # the tasks in progress, page 2
    ("ec2", "DescribeStoreImageTasks", 6),  # re-check of a tracked AMI by ImageIds
    ("dynamodb", "BatchGetItem", 3),  # the records of the full scan's suspects
    # The store quota: the two new stores in progress sized; moto knows neither AMI, so the refused
    # request is asked again in halves.
    ("ec2", "DescribeImages", 1),
    ("ec2", "DescribeImages", 2),
    ("ec2", "DescribeImages", 3),
    ("dynamodb", "TransactWriteItems", 1),  # renewing the lease of a refused delivery
    ("dynamodb", "TransactWriteItems", 2),  # the claims and the cursor
    ("dynamodb", "BatchGetItem", 4),  # the stored announcement of the taken-over delivery
    ("sns", "PublishBatch", 1),
    ("events", "PutEvents", 1),
    ("dynamodb", "UpdateItem", 1),  # emptying the delivered batch taken over
    ("dynamodb", "UpdateItem", 2),  # emptying the batch of this run's claims
    ("dynamodb", "UpdateItem", 3),  # dropping both from the cursor's list
)

# Faults after which a delivery may legitimately arrive twice: the channel took it but the run never
# recorded that (SNS before a crash at or after EventBridge, or a delivered batch that was not emptied:
# a crash after emptying the first batch leaves the second).
MAY_REPEAT = {
    ("dynamodb", "UpdateItem", "crash-after"),
    ("sns", "PublishBatch", "crash-after"),
    ("events", "PutEvents", "crash-before"),
    ("events", "PutEvents", "crash-after"),
    ("dynamodb", "UpdateItem", "crash-before"),
    ("dynamodb", "UpdateItem", "throttle"),
    ("dynamodb", "UpdateItem", "server-error"),
    ("dynamodb", "UpdateItem", "timeout"),
}
CHANNEL_SERVICES = {"sns", "events"}
# Calls whose failure the run goes on without: the store quota is an estimate (adapters/image_sizes.py).
OPTIONAL_CALLS = {("ec2", "DescribeImages")}


def test_the_matrix_covers_every_call_the_busy_run_makes(chaos):
    prepare_busy_run(chaos)

    with chaos.calls_recorded() as made:
        record = chaos.run("busy")

    numbered = [
        (service, operation, made[: index + 1].count((service, operation)))
        for index, (service, operation) in enumerate(made)
    ]
    assert numbered == list(BUSY_RUN_CALLS)
    # The campaign draws its faults from CALL_SITES: the same calls, with as many calls of each.
    assert {(service, operation): count for service, operation, count in CALL_SITES} == Counter(made)
    assert record.complete
    assert record.report["mode"] == "full-scan"
    assert record.report["superseded"] == 1
    assert record.report["redelivered"] == 1
    assert_no_violations(chaos.ledger)


MATRIX = [
    pytest.param(service, operation, call, kind, id=f"{service}-{operation}-{call}-{kind}")
    for service, operation, call in BUSY_RUN_CALLS
    for kind in kinds_for(service, operation)
]


@pytest.mark.parametrize(("service", "operation", "call", "kind"), MATRIX)
def test_a_fault_at_any_call_of_a_run_loses_nothing_and_repeats_only_what_the_fault_forces(
    chaos, service, operation, call, kind
):
    prepare_busy_run(chaos)
    chaos.faults.inject(service, operation, kind, call=call)

    faulted = chaos.run("faulted")
    # The first run after the lease may only finish the read the faulted run left; the next is complete.
    recovery = chaos.settle(max_runs=2)

    assert faulted.faults == {kind: 1}, "the fault must hit the call it was aimed at"
    if kind.startswith("crash"):
        assert faulted.crash is not None
    else:
        assert faulted.crash is None
        assert faulted.error is None, faulted.error
    if kind in {"throttle", "server-error", "timeout"}:
        if service in CHANNEL_SERVICES:
            assert faulted.report["publishFailures"] > 0
        elif (service, operation) in OPTIONAL_CALLS:
            assert faulted.stopped_because is None
        else:
            assert faulted.stopped_because == "aws-unavailable"
    if kind == "partial":
        assert faulted.report["publishFailures"] == 1
    if kind == "conflict":
        assert faulted.stopped_because is None, "the write goes through once the transaction is over"
    assert recovery.complete, "a run soon after the lease must complete"
    assert_no_violations(chaos.ledger)
    if (service, operation, kind) not in MAY_REPEAT:
        assert chaos.ledger.counts["duplicates_after_faults"] == 0


def test_a_crash_after_publishing_to_sns_is_redelivered_and_not_lost(chaos):
    prepare_busy_run(chaos)
    chaos.faults.inject("sns", "PublishBatch", "crash-after")

    crashed = chaos.run("crashes after SNS took the batch")
    within_lease = chaos.run("before the lease ends")
    recovery = chaos.settle(max_runs=1)

    completed = Transition(ami_id(1), _started(chaos, 1), COMPLETED)
    failed = Transition(ami_id(2), _started(chaos, 2), FAILED)
    assert crashed.crash == "crash after sns:PublishBatch"
    assert {detail["eventId"] for detail in crashed.delivered["sns"]} == {completed.event_id, failed.event_id}
    assert crashed.delivered["events"] == []
    assert within_lease.delivered == {"sns": [], "events": []}, "the crashed run's lease still holds"
    assert recovery.report["redelivered"] >= 2
    for transition in (completed, failed):
        assert chaos.ledger.delivery_count("sns", transition) == 2, "redelivered: SNS never heard back"
        assert chaos.ledger.delivery_count("events", transition) == 1
    assert_no_violations(chaos.ledger)


def test_a_crash_after_claiming_is_delivered_only_once_the_lease_ends(chaos):
    prepare_busy_run(chaos)
    chaos.faults.inject("dynamodb", "TransactWriteItems", "crash-after", call=2)

    crashed = chaos.run("crashes after the claims commit")
    CLOCK.advance(chaos.lease_seconds - 10)
    early = chaos.run("ten seconds before the lease ends")
    CLOCK.advance(11)
    late = chaos.run("just after the lease ended")

    assert crashed.delivered["sns"] == []
    assert early.leases_live_at_start
    assert {detail["amiId"] for detail in early.delivered["sns"]} <= {ami_id(5)}
    assert late.complete
    assert {detail["amiId"] for detail in late.delivered["sns"]} == {ami_id(1), ami_id(2)}
    assert_no_violations(chaos.ledger)


def test_settling_writes_refused_for_overlapping_transactions_are_written_again_and_nothing_repeats(chaos):
    prepare_busy_run(chaos)
    for call in (1, 3, 5):  # the first attempt of each of the three settling writes
        chaos.faults.inject("dynamodb", "UpdateItem", "conflict", call=call)

    faulted = chaos.run("every settling write meets an overlapping transaction once")
    CLOCK.advance(chaos.lease_seconds + 60)
    later = chaos.run("after the lease")

    assert faulted.faults == {"conflict": 3}
    assert faulted.error is None
    assert faulted.stopped_because is None
    assert later.complete
    assert later.delivered == {"sns": [], "events": []}, "the batches were emptied: nothing is owed"
    assert_no_violations(chaos.ledger)
    assert chaos.ledger.counts["duplicates_after_faults"] == 0


def test_a_transaction_conflict_that_outlasts_the_attempts_ends_the_run_cleanly_and_loses_nothing(chaos):
    prepare_busy_run(chaos)
    for call in range(1, 5):
        chaos.faults.inject("dynamodb", "UpdateItem", "conflict", call=call)

    faulted = chaos.run("the first settling write meets a transaction four times")
    recovery = chaos.settle(max_runs=1)

    assert faulted.faults == {"conflict": 4}
    assert faulted.error is None, "not a region failure"
    assert faulted.stopped_because == "aws-unavailable"
    assert faulted.metric("RunsThrottled") == 0
    assert recovery.complete
    assert recovery.report["redelivered"] > 0, "what was not settled comes again once its lease ends"
    assert_no_violations(chaos.ledger)


def test_a_refused_eventbridge_entry_is_retried_by_the_next_run_without_repeating_sns(chaos):
    prepare_busy_run(chaos)
    chaos.faults.inject("events", "PutEvents", "partial", entry=0)

    refused = chaos.run("EventBridge refuses one entry")
    retried = chaos.run("the next run")

    assert refused.report["publishFailures"] == 1
    assert len(refused.delivered["events"]) == len(refused.delivered["sns"])  # two new, one taken over
    assert retried.complete
    assert retried.delivered["sns"] == []
    assert len(retried.delivered["events"]) == 1
    assert_no_violations(chaos.ledger)


def _started(world: ChaosWorld, ami: int) -> str:
    """The start of the task of `ami` that the busy run announces (the newest store of AMI 3 aside)."""
    task = world.backend.task(ami_id(ami))
    assert task is not None
    return ec2_timestamp(task.start_time)

"""A catch-up after a long absence: thousands of stores ended while the notifier was off. The runs read
them over several invocations of the real handler on moto, which refuses an item over 400 KB as DynamoDB
does, so a known-tasks item that outgrew the limit would fail the run here as it would in AWS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ami_store_notifier.adapters.table_items import known_pk
from ami_store_notifier.domain.known_tasks import ITEM_SIZE_LIMIT_BYTES, MAX_FINISHED_KEPT
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN
from ami_store_notifier.ec2_limits import MAX_RESULTS_PER_PAGE
from bench.catch_up import seed_ended_stores
from bench.meter import item_size
from local.ec2_store_tasks import CLOCK
from local.lambda_context import REGION
from tests.chaos.harness import BUCKET, ChaosWorld, assert_no_violations
from tests.chaos.scenarios import ami_id

STORES = 10_000
pytestmark = pytest.mark.usefixtures("fast_transactions")


def stores_ended_while_away(world: ChaosWorld, count: int, away: timedelta) -> None:
    """The notifier is off for `away`; `count` stores start and end in that time, spread evenly."""
    world.configure(PAGE_SIZE=str(MAX_RESULTS_PER_PAGE))
    world.run("before the absence")
    left_at = CLOCK.now()
    CLOCK.advance(away.total_seconds())
    seed_ended_stores(world.backend, [ami_id(index) for index in range(1, count + 1)], left_at, away, BUCKET)


def known_item(world: ChaosWorld) -> dict:
    return world.dynamodb.get_item(
        TableName=world.deployment.table_name, Key={"pk": {"S": known_pk(REGION)}}, ConsistentRead=True
    ).get("Item", {})


def test_ten_thousand_stores_that_ended_while_the_notifier_was_off_are_announced_once_and_no_run_fails(
    chaos,
):
    stores_ended_while_away(chaos, STORES, away=timedelta(days=2))

    runs, largest = [], 0
    for _ in range(STORES // MAX_CLAIMS_PER_RUN + 3):
        CLOCK.advance(60)
        runs.append(chaos.run("catching up"))
        largest = max(largest, item_size(known_item(chaos)))
        if runs[-1].complete:
            break

    assert all(run.error is None and run.crash is None for run in runs), [run.error for run in runs]
    assert runs[-1].complete, "the catch-up ends with a complete run"
    announced = chaos.ledger.arrivals
    assert len(announced["sns"]) == len(announced["events"]) == STORES
    assert all(
        len(arrivals) == 1 for channel in ("sns", "events") for arrivals in announced[channel].values()
    )
    assert largest <= ITEM_SIZE_LIMIT_BYTES
    assert len(known_item(chaos)["known"]["M"]) <= MAX_FINISHED_KEPT
    assert_no_violations(chaos.ledger)

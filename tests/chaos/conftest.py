"""The chaos suite's fixtures: one ChaosWorld (tests/chaos/harness.py) per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def chaos_world() -> Iterator[Any]:
    """One moto session with the notifier deployed and the handler wired, shared by a test module."""
    from tests.chaos.harness import ChaosWorld

    with ChaosWorld() as world:
        yield world


@pytest.fixture
def chaos(chaos_world: Any) -> Iterator[Any]:
    """The module's ChaosWorld, emptied for this test (and re-wired to the defaults afterwards if the
    test changed a setting)."""
    from tests.chaos.harness import DEFAULT_SETTINGS

    chaos_world.reset()
    yield chaos_world
    if chaos_world.settings != DEFAULT_SETTINGS:
        chaos_world.configure()


@pytest.fixture
def archive_assurance(chaos: Any) -> Any:
    """The module's ChaosWorld with READABLE_BUCKETS, APPROVED_BUCKETS and STALL_AFTER_MINUTES set as the
    assurance family sets them (tests/chaos/archive_buckets.py: which bucket is which)."""
    from tests.chaos.assurance_scenarios import ASSURANCE_SETTINGS

    chaos.configure(**dict(ASSURANCE_SETTINGS))
    return chaos


@pytest.fixture
def lambda_time(chaos: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The run's time as Lambda counts it (tests/chaos/lambda_time.py): each of botocore's backoffs spends
    it, and so does each request of a run kept with `lambda_time_kept`."""
    from botocore.retries.standard import ExponentialBackoff

    from ami_store_notifier.settings_function import DEFAULT_TIMEOUT_SECONDS
    from tests.chaos.lambda_time import LambdaTime

    time = LambdaTime(timeout=DEFAULT_TIMEOUT_SECONDS)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _, context: time.backoff(context))
    return time


@pytest.fixture
def fast_transactions() -> Iterator[None]:
    """moto copies the whole table for each item of a transaction (bench/moto_shims.py): with hundreds of
    task items a run takes minutes. For scenarios with no failing transaction to roll back."""
    from bench.moto_shims import transactions_without_table_copies

    with transactions_without_table_copies() as failed:
        yield
    assert failed == []


# A page holds the newest finished store and the history below the window: a head read stops there, and
# every tracked store is re-checked by ImageIds (cheaper than paging the stores in progress).
RECHECK_PAGE_SIZE = 10


@pytest.fixture
def stores_past_the_head(chaos: Any) -> Any:
    """`stores_past_the_head(count)`: `count` stores in progress since two hours ago, below a head page of
    finished stores, tracked by a baseline run and by a quiet run that re-checks them all by ImageIds;
    returns their tasks."""
    import math
    from datetime import timedelta

    from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL
    from local.ec2_store_tasks import CLOCK, COMPLETED, IN_PROGRESS
    from tests.chaos.harness import BUCKET
    from tests.chaos.scenarios import ami_id

    def track(count: int) -> list[Any]:
        chaos.configure(PAGE_SIZE=str(RECHECK_PAGE_SIZE))
        now = CLOCK.now()
        stores = [
            chaos.backend.add_task(
                ami_id(index), BUCKET, now - timedelta(hours=2) + timedelta(seconds=index), IN_PROGRESS, 10
            )
            for index in range(1, count + 1)
        ]
        for index in range(1, RECHECK_PAGE_SIZE):
            chaos.backend.add_task(
                ami_id(1000 + index), BUCKET, now - timedelta(hours=1, seconds=index), COMPLETED
            )
        chaos.backend.add_task(ami_id(2000), BUCKET, now, COMPLETED)
        chaos.run("baseline: the head page and the pages of the stores in progress")
        CLOCK.advance(60)
        calls = chaos.backend.calls["DescribeStoreImageTasks"]
        tracking = chaos.run("the head page, then every store re-checked by ImageIds")
        assert tracking.complete
        assert chaos.backend.calls["DescribeStoreImageTasks"] - calls == 1 + math.ceil(
            count / MAX_IMAGE_IDS_PER_CALL
        )
        return stores

    return track

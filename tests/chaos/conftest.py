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
def lambda_time(chaos: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The run's time as Lambda counts it (tests/chaos/lambda_time.py): each of botocore's backoffs spends
    it, and so does each request of a run kept with `lambda_time_kept`."""
    from botocore.retries.standard import ExponentialBackoff

    from ami_store_notifier.settings_spec import DEFAULT_TIMEOUT_SECONDS
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

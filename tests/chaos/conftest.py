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

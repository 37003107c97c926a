"""The integration suite's fixtures (the shared moto and emulator ones are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.ec2_store_tasks import StoreTaskBackend


@pytest.fixture
def two_stores(
    ec2: Any,
    store_tasks: StoreTaskBackend,
    new_ami: Callable[[], str],
    bucket: str,
    run_handler: Callable[..., dict[str, Any]],
) -> tuple[str, str]:
    """After a baseline run: one store that will complete in 10 minutes, one that will fail in 5."""
    run_handler()
    completing, failing = new_ami(), new_ami()
    store_tasks.plan(completing, duration_seconds=600)
    store_tasks.plan(failing, duration_seconds=300, fail_reason="AMI snapshot is not in a usable state")
    for ami in (completing, failing):
        ec2.create_store_image_task(ImageId=ami, Bucket=bucket)
    return completing, failing

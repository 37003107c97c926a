"""The real handler module on a fresh in-process moto and the EC2 store-task emulator, on the emulator's
clock (`CLOCK`, restarted at `START`), with the offline environment; put back as it was afterwards."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from moto import mock_aws

from bench.moto_shims import transactions_without_table_copies
from local import dynamodb_tokens
from local.ec2_store_tasks import CLOCK, install, reset
from local.lambda_context import OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
ENVIRONMENT = {**OFFLINE_AWS_ENVIRONMENT, "POWERTOOLS_LOG_LEVEL": "WARNING"}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    for name in OFFLINE_UNSET:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def emulated_handler() -> Iterator[Any]:
    """The real handler module on a fresh moto and emulator, on the emulator's clock at START, logging
    warnings only; put back as it was afterwards."""
    with _environment(ENVIRONMENT):
        from ami_store_notifier import handler  # after the environment: it reads it on import

        install()
        dynamodb_tokens.install()
        reset()
        saved_clock, saved_level = handler.utc_now, handler.logger.log_level
        handler.utc_now = CLOCK.now
        handler.logger.setLevel(logging.WARNING)
        handler.wiring.cache_clear()
        try:
            with mock_aws(), transactions_without_table_copies():
                CLOCK.restart(START)  # after mock_aws() starts: moto's reset restarts the clock too
                yield handler
        finally:
            gc.unfreeze()
            gc.collect()
            handler.wiring.cache_clear()
            handler.utc_now = saved_clock
            handler.logger.setLevel(saved_level)
            reset()

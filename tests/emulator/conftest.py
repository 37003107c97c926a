"""The emulator suite's fixtures: the emulator over HTTP, in moto's ThreadedMotoServer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from local.ec2_store_tasks import start_server
from local.ec2_store_tasks.server import reset_server


@pytest.fixture(scope="module")
def moto_server() -> Iterator[ThreadedMotoServer]:
    started = start_server("127.0.0.1", 0)  # port 0: any free port
    yield started
    started.stop()


@pytest.fixture
def server(emulator: None, moto_server: ThreadedMotoServer) -> Iterator[ThreadedMotoServer]:
    """The server, with moto's state (the store tasks included) reset after each test."""
    yield moto_server
    reset_server(moto_server)

"""The emulator suite's fixtures: the emulator over HTTP, in moto's ThreadedMotoServer, and a DynamoDB
table for the client-token rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from local.deployment import create_table
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


TOKEN_TABLE = "client-tokens"


@pytest.fixture
def dynamodb(mocked_aws: None, boto_session: boto3.session.Session, no_retry: Config) -> Any:
    """A DynamoDB client on a table with one string key, `pk`."""
    client = boto_session.client("dynamodb", config=no_retry)
    create_table(client, TOKEN_TABLE)
    return client

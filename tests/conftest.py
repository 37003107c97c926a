"""Fixtures of the suites that run the real handler against moto and the EC2 store-task emulator
(integration, emulator, infra, chaos, bench). Each suite's own fixtures are in its own conftest.py; the
unit suite runs without this file (`make unit` cuts the conftest search at tests/unit).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from ami_store_notifier import handler
from local import dynamodb_tokens
from local.deployment import LocalDeployment, deploy
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, install, reset, store_tasks_backend
from local.lambda_context import OFFLINE_AWS_ENVIRONMENT, OFFLINE_UNSET, LambdaContextStub
from tests.faults import AwsFaults
from tests.world import ACCOUNT, BUCKET, REGION

# Before anything imports aws_cdk: jsii prints a large end-of-life banner on Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for the tests' own clients: its loader caches the large EC2 model."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OFFLINE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in OFFLINE_UNSET:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator(aws_credentials: None) -> Iterator[None]:
    """The store-task emulator and DynamoDB's client-token rules installed into moto, the emulator's
    state and clock fresh."""
    install()
    dynamodb_tokens.install()
    reset()
    yield
    reset()


@pytest.fixture
def mocked_aws(emulator: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def store_tasks(mocked_aws: None) -> StoreTaskBackend:
    return store_tasks_backend(ACCOUNT, REGION)


@pytest.fixture
def no_retry() -> Config:
    """One attempt, no retry: botocore reads retries={"max_attempts": 1} as one retry (two attempts),
    "total_max_attempts" counts the first attempt."""
    return Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def ec2(mocked_aws: None, boto_session: boto3.session.Session, no_retry: Config) -> Any:
    return boto_session.client("ec2", config=no_retry)


@pytest.fixture
def s3(mocked_aws: None, boto_session: boto3.session.Session) -> Any:
    return boto_session.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def ami_id(ec2: Any) -> str:
    return str(ec2.register_image(Name="golden-image")["ImageId"])


@pytest.fixture
def new_ami(ec2: Any) -> Callable[[], str]:
    """A factory of fresh AMIs in moto EC2."""
    names = iter(range(1, 1_000_000))
    return lambda: str(ec2.register_image(Name=f"golden-{next(names)}")["ImageId"])


@pytest.fixture
def deployment(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> LocalDeployment:
    """The notifier's resources in moto, and the handler configured for them as Lambda would be; with the
    chat topic too for a test marked `chat_notifications`."""
    chat = request.node.get_closest_marker("chat_notifications") is not None
    deployed = deploy(boto3.session.Session(), region=REGION, chat=chat)
    for name, value in deployed.handler_environment().items():
        monkeypatch.setenv(name, value)
    return deployed


@pytest.fixture
def run_handler(
    deployment: LocalDeployment, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., dict[str, Any]]]:
    """Invokes the real handler the way Lambda does, on a cold start, at the emulator's time."""
    monkeypatch.setattr(handler, "utc_now", CLOCK.now)
    handler.wiring.cache_clear()

    def invoke(*, seconds_left: Callable[[], float] = lambda: 120.0) -> dict[str, Any]:
        result: dict[str, Any] = handler.lambda_handler({}, LambdaContextStub(seconds_left))
        return result

    yield invoke
    handler.wiring.cache_clear()


@pytest.fixture
def faults(run_handler: Callable[..., dict[str, Any]]) -> AwsFaults:
    """Faults aimed at the clients of the handler's warm container."""
    injected = AwsFaults()
    wired = handler.wiring()
    for client in (*wired.ec2_clients.values(), wired.dynamodb, wired.sns, wired.events):
        injected.attach(client)
    return injected

"""Fixtures for the EC2 store-task emulator tests (moto, in-process unless a test says otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from local.ec2_store_tasks import StoreTaskBackend, install, reset, store_tasks_backend

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "ami-store-bucket"


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for all clients: its loader caches the (large) EC2 model, so clients build fast."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # faster backends; tests register their own AMIs
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def emulator(aws_credentials: None) -> Iterator[None]:
    """The emulator installed into moto, with empty state before and after the test."""
    install()
    reset()
    yield
    reset()


@pytest.fixture
def mocked_aws(emulator: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def no_retry() -> Config:
    """One attempt, no retry. Beware: botocore reads retries={"max_attempts": 1} as ONE RETRY (two
    attempts); "total_max_attempts" counts the first attempt."""
    return Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def ec2(mocked_aws: None, boto_session: boto3.session.Session, no_retry: Config) -> Any:
    return boto_session.client("ec2", config=no_retry)


@pytest.fixture
def s3(mocked_aws: None, boto_session: boto3.session.Session) -> Any:
    return boto_session.client("s3")


@pytest.fixture
def backend(mocked_aws: None) -> StoreTaskBackend:
    return store_tasks_backend(ACCOUNT, REGION)


@pytest.fixture
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def ami_id(ec2: Any) -> str:
    return str(ec2.register_image(Name="golden-image")["ImageId"])


@pytest.fixture
def new_ami(ec2: Any) -> Any:
    """A factory of fresh AMIs in moto EC2."""
    count = 0

    def make() -> str:
        nonlocal count
        count += 1
        return str(ec2.register_image(Name=f"image-{count}")["ImageId"])

    return make

"""The CLI suite's fixtures: the CLI against the EC2 store-task emulator in server mode, over HTTP, on the
emulator's clock (the CLI's sleeps move it), with what a terminal or a log would show captured."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.ec2.models.amis import Ami
from moto.server import ThreadedMotoServer
from rich.console import Console

from ami_store_notifier import handler
from ami_store_notifier.cli.app import Environment, cli
from local import dynamodb_tokens
from local.deployment import LocalDeployment, deploy
from local.ec2_store_tasks import CLOCK, StoreTaskBackend, endpoint_url, start_server, store_tasks_backend
from local.ec2_store_tasks.server import reset_server
from local.lambda_context import LambdaContextStub
from tests.world import ACCOUNT, BUCKET, REGION

SCREEN_WIDTH = 160


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str
    # What a terminal showed, rendered from the recorded output (empty without a terminal).
    screen: str


@pytest.fixture(scope="module")
def moto_server() -> Iterator[ThreadedMotoServer]:
    started = start_server("127.0.0.1", 0)
    dynamodb_tokens.install()
    yield started
    started.stop()


@pytest.fixture
def served(
    aws_credentials: None, moto_server: ThreadedMotoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Every AWS client of the process (the CLI's, the handler's, the tests') talks to the server."""
    endpoint = endpoint_url(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield endpoint
    reset_server(moto_server)


@pytest.fixture
def ec2(served: str, boto_session: boto3.session.Session) -> Any:
    """The server's EC2 (the suite-wide `new_ami` registers its AMIs here)."""
    return boto_session.client("ec2", endpoint_url=served)


@pytest.fixture
def bucket(served: str, boto_session: boto3.session.Session) -> str:
    boto_session.client("s3", endpoint_url=served).create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def store_tasks(served: str) -> StoreTaskBackend:
    return store_tasks_backend(ACCOUNT, REGION)


@pytest.fixture
def start_store(
    ec2: Any, bucket: str, new_ami: Callable[[], str], store_tasks: StoreTaskBackend
) -> Callable[..., str]:
    def start(*, minutes: float, fail_reason: str | None = None) -> str:
        ami_id = new_ami()
        store_tasks.plan(ami_id, duration_seconds=minutes * 60, fail_reason=fail_reason)
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
        return ami_id

    return start


@pytest.fixture
def sized_ami(
    ec2: Any, store_tasks: StoreTaskBackend, monkeypatch: pytest.MonkeyPatch
) -> Callable[[int], str]:
    """A factory of AMIs of one EBS volume of the given GiB: DescribeImages describes them so (moto gives
    every AMI one 15 GiB volume, whatever it was registered with), and the emulator counts their stores
    so against the store quota."""
    sizes: dict[str, int] = {}
    moto_mappings = Ami.block_device_mappings.fget

    def mappings(ami: Ami) -> list[dict[str, Any]]:
        if ami.id not in sizes:
            return list(moto_mappings(ami))
        volume = {"VolumeSize": sizes[ami.id], "VolumeType": "gp3", "DeleteOnTermination": True}
        return [{"DeviceName": "/dev/sda1", "Ebs": volume}]

    monkeypatch.setattr(Ami, "block_device_mappings", property(mappings))
    names = itertools.count(1)

    def register(gigabytes: int) -> str:
        ami_id = str(ec2.register_image(Name=f"sized-{next(names)}")["ImageId"])
        sizes[ami_id] = gigabytes
        store_tasks.set_image_size(ami_id, gigabytes)
        return ami_id

    return register


@pytest.fixture
def start_sized_store(
    ec2: Any, bucket: str, sized_ami: Callable[[int], str], store_tasks: StoreTaskBackend
) -> Callable[..., str]:
    def start(gigabytes: int, *, minutes: float) -> str:
        ami_id = sized_ami(gigabytes)
        store_tasks.plan(ami_id, duration_seconds=minutes * 60)
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
        return ami_id

    return start


@pytest.fixture
def ending_at(store_tasks: StoreTaskBackend) -> Callable[[str, datetime], Callable[[float], None]]:
    """A sleep for `run_cli` under which the store of an AMI completes at a moment before its planned end
    (EC2's progress need not be even), its object landing in the bucket then."""

    def sleep_for(ami_id: str, moment: datetime) -> Callable[[float], None]:
        def sleep(seconds: float) -> None:
            until = CLOCK.now() + timedelta(seconds=seconds)
            if CLOCK.now() < moment <= until:
                CLOCK.advance((moment - CLOCK.now()).total_seconds())
                store_tasks.complete(ami_id)
            CLOCK.advance((until - CLOCK.now()).total_seconds())

        return sleep

    return sleep_for


@pytest.fixture
def run_cli(served: str) -> Callable[..., CliRun]:
    """Runs `ami-store-notifier ARGS` as the console script does; terminal=True renders a live terminal;
    `sleep` is how the CLI's waits pass (the emulator clock moves by them)."""

    def run(
        args: Sequence[str], *, terminal: bool = False, sleep: Callable[[float], None] = CLOCK.advance
    ) -> CliRun:
        out, err = io.StringIO(), io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=SCREEN_WIDTH, record=terminal)
        env = Environment(
            clock=CLOCK.now,
            sleep=sleep,
            console=console,
            errors=Console(file=err, width=SCREEN_WIDTH),
        )
        try:
            # click writes its own usage errors to the process's stderr.
            with contextlib.redirect_stderr(err):
                cli.main(list(args), obj=env, prog_name="ami-store-notifier")
            exit_code = 0
        except SystemExit as exit_:
            exit_code = int(exit_.code or 0)
        screen = console.export_text() if terminal else ""
        return CliRun(exit_code, out.getvalue(), err.getvalue(), screen)

    return run


@pytest.fixture
def history(
    start_store: Callable[..., str], store_tasks: StoreTaskBackend, new_ami: Callable[[], str]
) -> dict[str, str]:
    """A store ended two days ago, one that failed an hour ago, one completed, one in progress."""
    old = new_ami()
    store_tasks.add_task(old, BUCKET, CLOCK.now() - timedelta(days=2), "Completed")
    failed = start_store(minutes=10, fail_reason="snapshot unreadable")
    completed = start_store(minutes=20)
    running = start_store(minutes=600)
    CLOCK.advance(60 * 30)
    return {"old": old, "failed": failed, "completed": completed, "running": running}


@dataclass(frozen=True)
class DeployedNotifier:
    """The notifier deployed into the server; `run` invokes its real handler as the schedule would."""

    deployment: LocalDeployment

    def run(self) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            handler.lambda_handler({}, LambdaContextStub())


@pytest.fixture
def notifier(served: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DeployedNotifier]:
    deployed = deploy(boto3.session.Session(), region=REGION)
    for name, value in deployed.handler_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(handler, "utc_now", CLOCK.now)
    handler.wiring.cache_clear()
    yield DeployedNotifier(deployed)
    handler.wiring.cache_clear()

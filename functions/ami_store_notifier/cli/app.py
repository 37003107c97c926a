"""The commands: `watch`, `store` and `status`. They parse options, wire adapters, and set exit codes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from ami_store_notifier.adapters.aws import CLIENT_CONFIG, EC2_CLIENT_CONFIG
from ami_store_notifier.adapters.dynamodb_state_store import DynamoDbStateStore
from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.adapters.image_sizes import Ec2ImageSizes
from ami_store_notifier.adapters.s3_objects import S3_PROBE_CONFIG, S3ObjectProbe
from ami_store_notifier.cli.refusals import aws_refusal, connection_refusal, store_refusal
from ami_store_notifier.cli.status import as_json as status_json
from ami_store_notifier.cli.status import region_status, with_notifier
from ami_store_notifier.cli.store_quota import store_warning
from ami_store_notifier.cli.views import LineView, LiveView, status_lines, summary
from ami_store_notifier.cli.watching import NothingToWatchError, Watcher, WatchResult, WatchView
from ami_store_notifier.ports import TransientAwsError

if TYPE_CHECKING:
    from types_boto3_ec2.type_defs import S3ObjectTagTypeDef

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
# What shells report for a program stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
PROGRAM = "ami-store-notifier"


class CommandError(Exception):
    """What the operator must fix or wait for: printed as one line, exit code EXIT_ERROR."""


@dataclass
class Environment:
    """What the commands use of the world; tests and the demo give the emulator's clock and consoles."""

    session: Callable[[], boto3.session.Session] = boto3.session.Session
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep
    console: Console = field(default_factory=Console)
    errors: Console = field(default_factory=lambda: Console(stderr=True))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=PROGRAM, prog_name=PROGRAM)
@click.pass_context
def cli(context: click.Context) -> None:
    """Store AMIs in S3 and follow the store tasks to their end, within EC2's request budget."""
    context.ensure_object(Environment)


@cli.command()
@click.argument("ami_ids", nargs=-1, metavar="[AMI]...")
@click.option(
    "--region", "regions", multiple=True, help="Region to watch (repeatable); default: your AWS config's."
)
@click.pass_obj
def watch(env: Environment, ami_ids: tuple[str, ...], regions: tuple[str, ...]) -> None:
    """Follow store tasks (the AMIs named, or all in progress) to their end with a live table.

    Exit code 0 when all completed, 1 when any failed (the reasons are printed), 2 on an error, 130 when
    stopped with Ctrl-C (the stores go on).
    """
    chosen = _regions(env, regions)
    with _reported(env, chosen):
        _exit_with(_watch(env, chosen, list(dict.fromkeys(ami_ids))))


@cli.command()
@click.argument("ami_id", metavar="AMI")
@click.option("--bucket", required=True, help="S3 bucket in the same Region that receives <AMI>.bin.")
@click.option("--region", help="Region of the AMI and the bucket; default: your AWS config's.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag of the S3 object (repeatable).")
@click.option(
    "--watch", "then_watch", is_flag=True, help="Then follow the store to its end, as `watch` does."
)
@click.option(
    "--table",
    "table_name",
    help="The notifier's state table: warn when its stores in progress leave no room for the AMI.",
)
@click.pass_obj
def store(
    env: Environment,
    ami_id: str,
    bucket: str,
    region: str | None,
    tags: tuple[str, ...],
    then_watch: bool,
    table_name: str | None,
) -> None:
    """Store an AMI in S3 (CreateStoreImageTask), and with --watch follow it to its end.

    Warns first when the AMI's snapshot data would take the stores in progress over EC2's store quota;
    EC2 is asked all the same, and decides.
    """
    (chosen,) = _regions(env, (region,) if region else ())
    with _reported(env, [chosen]):
        session = env.session()
        ec2 = session.client("ec2", region_name=chosen, config=EC2_CLIENT_CONFIG)
        records = _state_store(session, table_name, chosen, env.clock) if table_name else None
        warning = store_warning(ami_id, Ec2ImageSizes(ec2), records)
        if warning is not None:
            env.errors.print(warning, highlight=False, soft_wrap=True)
        try:
            answer = ec2.create_store_image_task(
                ImageId=ami_id, Bucket=bucket, S3ObjectTags=_object_tags(tags)
            )
        except ClientError as error:
            raise CommandError(store_refusal(error, ami_id=ami_id, bucket=bucket, region=chosen)) from error
        env.console.print(
            f"Storing {ami_id} into s3://{bucket}/{answer['ObjectKey']} ({chosen}).", highlight=False
        )
        if then_watch:
            _exit_with(_watch(env, [chosen], [ami_id]))


@cli.command()
@click.option(
    "--region", "regions", multiple=True, help="Region to show (repeatable); default: your AWS config's."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option(
    "--table",
    "table_name",
    help="The notifier's state table: show what it recorded and announced, and the store quota's use.",
)
@click.pass_obj
def status(env: Environment, regions: tuple[str, ...], as_json: bool, table_name: str | None) -> None:
    """Store tasks in progress and those that ended in the last day, per Region."""
    chosen = _regions(env, regions)
    with _reported(env, chosen):
        session = env.session()
        statuses = []
        for region in chosen:
            source = Ec2TaskSource(session.client("ec2", region_name=region, config=EC2_CLIENT_CONFIG))
            found = region_status(source, region, env.clock())
            if table_name:
                found = with_notifier(found, _state_store(session, table_name, region, env.clock))
            statuses.append(found)
        if as_json:
            env.console.out(json.dumps(status_json(statuses), indent=2), highlight=False)
            return
        # Soft wraps only: a screen narrower than a line folds it, and an id or a URI stays whole.
        for line in status_lines(statuses, env.clock()):
            env.console.print(line, soft_wrap=True)


def _watch(env: Environment, regions: Sequence[str], ami_ids: list[str]) -> WatchResult:
    try:
        return _follow(env, regions, ami_ids)
    except KeyboardInterrupt:
        again = " ".join(
            ["ami-store-notifier watch", *ami_ids, *(f"--region {region}" for region in regions)]
        )
        env.errors.print(
            f"Stopped watching; the stores go on in EC2. Follow them again: {again}", highlight=False
        )
        raise SystemExit(EXIT_INTERRUPTED) from None


def _follow(env: Environment, regions: Sequence[str], ami_ids: list[str]) -> WatchResult:
    if env.console.is_terminal:
        with LiveView(env.console, env.clock) as live:
            result = _watcher(env, regions, live).run(ami_ids)
    else:
        result = _watcher(env, regions, LineView(env.console)).run(ami_ids)
    if not result.tasks:
        env.console.print(f"No store tasks in progress in {', '.join(regions)}.")
        return result
    for line in summary(result, env.clock()):
        env.console.print(line, highlight=False, soft_wrap=True)
    return result


def _watcher(env: Environment, regions: Sequence[str], view: WatchView) -> Watcher:
    """EC2 and S3 of each Region: a store's bucket is in the store's Region."""
    session = env.session()
    sources = {
        region: Ec2TaskSource(session.client("ec2", region_name=region, config=EC2_CLIENT_CONFIG))
        for region in regions
    }
    probes = {
        region: S3ObjectProbe(session.client("s3", region_name=region, config=S3_PROBE_CONFIG))
        for region in regions
    }
    return Watcher(sources, clock=env.clock, sleep=env.sleep, view=view, probes=probes)


def _exit_with(result: WatchResult) -> None:
    raise SystemExit(EXIT_FAILED if result.failures else EXIT_COMPLETED)


def _regions(env: Environment, given: Sequence[str]) -> list[str]:
    if given:
        return list(dict.fromkeys(given))
    try:
        configured = env.session().region_name
    except BotoCoreError as error:  # an AWS_PROFILE that does not exist, a broken config file
        raise click.UsageError(str(error)) from error
    if not configured:
        raise click.UsageError("no Region: pass --region, or set AWS_REGION or a profile's region")
    return [configured]


def _object_tags(tags: Sequence[str]) -> list[S3ObjectTagTypeDef]:
    parsed: list[S3ObjectTagTypeDef] = []
    for tag in tags:
        name, equals, value = tag.partition("=")
        if not equals or not name:
            raise click.BadParameter(f"{tag!r} is not KEY=VALUE", param_hint="--tag")
        parsed.append({"Key": name, "Value": value})
    return parsed


def _state_store(
    session: boto3.session.Session, table_name: str, region: str, clock: Callable[[], datetime]
) -> DynamoDbStateStore:
    """The notifier's records of `region`. The table is in the notifier's own Region, the CLI's configured
    one (else the Region shown), and keeps every polled Region's tasks."""
    dynamodb = session.client("dynamodb", region_name=session.region_name or region, config=CLIENT_CONFIG)
    return DynamoDbStateStore(dynamodb, table_name=table_name, region=region, ttl_days=1, clock=clock)


@contextmanager
def _reported(env: Environment, regions: Sequence[str]) -> Iterator[None]:
    """Turns what AWS or the operator got wrong into one line on stderr and exit code 2."""
    where = ", ".join(regions) or "your Region"
    try:
        yield
    except (CommandError, NothingToWatchError) as error:
        _fail(env, str(error))
    except TransientAwsError as error:
        _fail(env, _transient_refusal(error, where))
    except ClientError as error:
        _fail(env, aws_refusal(error, action=error.operation_name, region=where))
    except BotoCoreError as error:
        _fail(env, connection_refusal(error))


def _transient_refusal(error: TransientAwsError, where: str) -> str:
    """Throttling or unavailability that outlasted the retries: what AWS said, where it is known."""
    cause = error.__cause__
    if isinstance(cause, ClientError):
        return aws_refusal(cause, action=cause.operation_name, region=where)
    return str(error)


def _fail(env: Environment, line: str) -> NoReturn:
    env.errors.print(f"error: {line}", highlight=False, soft_wrap=True)
    raise SystemExit(EXIT_ERROR)


def main() -> None:
    cli(prog_name=PROGRAM)

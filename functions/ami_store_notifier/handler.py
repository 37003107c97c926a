"""Lambda entry point: wires settings, clients and adapters to the poller, then reports metrics."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ami_store_notifier.adapters.aws import (
    CLIENT_CONFIG,
    EC2_CLIENT_CONFIG,
    S3_CLIENT_CONFIG,
    ApiCallCounter,
    error_code,
)
from ami_store_notifier.adapters.dynamodb_state_store import DynamoDbStateStore
from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.adapters.hint_call_allowance import HintCallAllowance
from ami_store_notifier.adapters.image_sizes import Ec2ImageSizes
from ami_store_notifier.adapters.publishers import ChatPublisher, EventBridgePublisher, SnsPublisher
from ami_store_notifier.adapters.s3_archive import S3ArchiveReader
from ami_store_notifier.config import Settings, load_settings
from ami_store_notifier.domain.hints import Hint, read_hints, to_retry
from ami_store_notifier.domain.json_values import IncomingJson
from ami_store_notifier.domain.read_plan import Policy
from ami_store_notifier.domain.run_limits import HINT_CALLS_PER_MINUTE
from ami_store_notifier.poller import Poller
from ami_store_notifier.ports import Publisher
from ami_store_notifier.report import NAMESPACE as DEFAULT_NAMESPACE
from ami_store_notifier.report import REGION_FAILURES, RunReport
from ami_store_notifier.report import SERVICE as DEFAULT_SERVICE

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_ec2 import EC2Client
    from types_boto3_events import EventBridgeClient
    from types_boto3_s3 import S3Client
    from types_boto3_sns import SNSClient

# The environment names them in a deployment; the defaults keep local runs and tests consistent.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE)
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE)
_MAX_REPORTED_MESSAGE_CHARS = 500
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
copy_config_to_registered_loggers(source_logger=logger, include={"ami_store_notifier"})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    policy: Policy
    # The function's own Region: the stack's rules bring hints from it alone.
    home_region: str | None
    api_calls: ApiCallCounter
    ec2_clients: dict[str, EC2Client]
    # Only when archive checks are on: the function may read nothing in S3 otherwise.
    s3_clients: dict[str, S3Client]
    dynamodb: DynamoDBClient
    sns: SNSClient
    events: EventBridgeClient


@functools.cache
def wiring() -> Wiring:
    """Parsed and built once per cold start; a bad setting fails here, naming the variable."""
    settings = load_settings()
    api_calls = ApiCallCounter()
    session = boto3.session.Session()
    return Wiring(
        settings=settings,
        policy=Policy(
            announce_states=settings.announce_states,
            announce_existing_on_first_run=settings.announce_existing_on_first_run,
            overlap=settings.listing_overlap,
            full_scan_interval=settings.full_scan_interval,
            claim_lease=settings.claim_lease,
        ),
        home_region=session.region_name,
        api_calls=api_calls,
        ec2_clients={
            region: api_calls.attach(session.client("ec2", region_name=region, config=EC2_CLIENT_CONFIG))
            for region in settings.regions
        },
        s3_clients={
            region: api_calls.attach(session.client("s3", region_name=region, config=S3_CLIENT_CONFIG))
            for region in (settings.regions if settings.readable_buckets else ())
        },
        dynamodb=api_calls.attach(session.client("dynamodb", config=CLIENT_CONFIG)),
        sns=api_calls.attach(session.client("sns", config=CLIENT_CONFIG)),
        events=api_calls.attach(session.client("events", config=CLIENT_CONFIG)),
    )


def pollers(wired: Wiring, *, account: str, seconds_left: Callable[[], float]) -> list[Poller]:
    settings = wired.settings
    publishers: list[Publisher] = [
        SnsPublisher(wired.sns, settings.topic_arn),
        EventBridgePublisher(wired.events, settings.event_bus_name, settings.event_source),
    ]
    if settings.chat_topic_arn is not None:
        publishers.append(ChatPublisher(wired.sns, settings.chat_topic_arn))
    return [
        Poller(
            region=region,
            account=account,
            policy=wired.policy,
            page_size=settings.page_size,
            source=Ec2TaskSource(wired.ec2_clients[region]),
            store=DynamoDbStateStore(
                wired.dynamodb,
                table_name=settings.table_name,
                region=region,
                ttl_days=settings.state_ttl_days,
                clock=utc_now,
            ),
            publishers=publishers,
            clock=utc_now,
            seconds_left=seconds_left,
            delivery_reserve_seconds=settings.delivery_reserve_seconds,
            # Another Region sends its starts to its own default bus, not to this stack's rules: it is polled.
            quiet_when_idle=settings.quiet_when_idle and region == wired.home_region,
            assurance=settings.assurance,
            archives=S3ArchiveReader(wired.s3_clients[region]) if region in wired.s3_clients else None,
            sizes=Ec2ImageSizes(wired.ec2_clients[region]),
        )
        for region in settings.regions
    ]


def hint_allowance(wired: Wiring, region: str) -> HintCallAllowance:
    return HintCallAllowance(
        wired.dynamodb,
        table_name=wired.settings.table_name,
        region=region,
        per_minute=HINT_CALLS_PER_MINUTE,
        clock=utc_now,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
# No cold-start metric: Powertools would publish ColdStart as a custom metric of its own, billed for each
# hour with a cold start, while every log line already carries cold_start and Lambda's REPORT line the
# Init Duration.
@metrics.log_metrics
def lambda_handler(event: IncomingJson, context: LambdaContext) -> Mapping[str, object]:
    """A tick of the schedule polls every Region; a batch of the hints queue (an SQS event) asks about the
    AMIs it names, and answers which of its messages SQS should hand over again."""
    logger.set_correlation_id(str(uuid.uuid4()))
    wired = wiring()
    wired.api_calls.reset()
    account = context.invoked_function_arn.split(":")[4]
    regional = pollers(
        wired, account=account, seconds_left=lambda: context.get_remaining_time_in_millis() / 1000
    )
    if "Records" in event:
        return answer_hints(event["Records"], regional, wired)
    reports: list[dict[str, object]] = []
    failures: list[dict[str, str]] = []
    for poller in regional:
        try:
            reports.append(poll_region(poller, wired.api_calls))
        except Exception as error:
            # One region refusing (an SCP, an opt-in region not enabled, a bug its data triggers) must
            # not keep the regions after it from being polled, run after run. Claims are transactional,
            # so a region stopped midway has committed whole steps or nothing.
            failures.append(region_failed(poller.region, error))
    return {"regions": reports, "failedRegions": failures}


def answer_hints(
    records: list[IncomingJson], regional: list[Poller], wired: Wiring
) -> dict[str, list[dict[str, str]]]:
    """ReportBatchItemFailures' answer: the messages to hand over again (Lambda developer guide, "Handling
    errors for an SQS event source": https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)."""
    hints, unreadable = read_hints(records)
    for message in unreadable:
        logger.warning(
            "Hint message holds no hint; dropped",
            extra={"messageId": message.message_id, "reason": message.reason},
        )
    retry: list[Hint] = []
    for poller in regional:
        mine = [hint for hint in hints if hint.region == poller.region]
        if mine:
            retry += hint_run(poller, mine, wired)
    ignored = len(hints) - sum(1 for hint in hints if hint.region in wired.settings.regions)
    if ignored:
        logger.info("Hints of Regions not polled; dropped", extra={"hints": ignored})
    return {"batchItemFailures": [{"itemIdentifier": hint.message_id} for hint in retry]}


def hint_run(poller: Poller, hints: list[Hint], wired: Wiring) -> list[Hint]:
    """The region's hints to hand over again; all of them when the run failed as a whole."""
    calls_before = wired.api_calls.by_service()
    try:
        with tracer.provider.in_subsegment(f"hints {poller.region}"):
            run = poller.run_hints(hints, hint_allowance(wired, poller.region))
    except Exception as error:
        region_failed(poller.region, error)
        return hints
    run.report.api_calls = wired.api_calls.by_service() - calls_before
    record_metrics(run.report)
    retry = to_retry(hints, run.answers)
    logger.info(
        "Hint run finished",
        extra={"report": run.report.summary(), "hints": len(hints), "retried": len(retry)},
    )
    return retry


def poll_region(poller: Poller, api_calls: ApiCallCounter) -> dict[str, object]:
    calls_before = api_calls.by_service()
    with tracer.provider.in_subsegment(f"poll {poller.region}"):
        report = poller.run()
    # Regions are polled one after the other, so the calls counted meanwhile are this region's.
    report.api_calls = api_calls.by_service() - calls_before
    record_metrics(report)
    reported = report.summary()
    logger.info("Poll finished", extra={"report": reported})
    return reported


def region_failed(region: str, error: Exception) -> dict[str, str]:
    failure = {
        "region": region,
        "errorCode": error_code(error),
        "message": str(error)[:_MAX_REPORTED_MESSAGE_CHARS],
    }
    logger.exception("Region failed; the other regions were polled", extra={"failure": failure})
    metrics.add_metric(name=REGION_FAILURES.name, unit=MetricUnit(REGION_FAILURES.unit.value), value=1)
    return failure


def record_metrics(report: RunReport) -> None:
    for metric, value in report.metric_values():
        metrics.add_metric(name=metric.name, unit=MetricUnit(metric.unit.value), value=value)

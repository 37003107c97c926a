"""What one region's run reports, declared once.

Each field of `RunReport` is a counter or fact of the run. Its metadata says what it means and which
CloudWatch metric it is also published as, if any; the handler's metrics and log summary, and the stack's
alarms, dashboard and docs all read these declarations, so a new counter is one new field here.

CloudWatch bills each custom metric for every hour it is published in, so a figure is a metric only when
an alarm watches it or an operator graphs it over time (announcements, throttled runs); every other
figure is in the run's log summary alone, where Logs Insights queries it at no standing cost. A metric is
published only when non-zero, but for the heartbeat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TypeVar, overload

from ami_store_notifier.domain.model import ReadMode
from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from ami_store_notifier.ports import TransientAwsError

# Where the metrics go: the Powertools service (the `service` dimension) and the CloudWatch namespace.
SERVICE = "ami-store-notifier"
NAMESPACE = "AmiStoreNotifier"
# A run that stops for this reason did not get through to AWS: it does not count as a successful poll.
AWS_UNAVAILABLE = "aws-unavailable"
# A run that made all the DescribeStoreImageTasks calls it may; the next run goes on from there.
CALL_BUDGET_SPENT = "call-budget"
# A run that stopped reading, or publishing, to keep the time it needs to finish before its timeout.
TIME = "time"
# The mode of a scheduled run that asked EC2 nothing (quietWhenIdle, while idle).
QUIET = "quiet"
_Value = TypeVar("_Value")
# The services whose calls are counted in each region's log summary (apiCalls), by botocore's name for each.
API_CALL_SERVICES = {"ec2": "EC2", "dynamodb": "DynamoDB", "sns": "SNS", "events": "EventBridge", "s3": "S3"}


class Unit(StrEnum):
    """CloudWatch units (the names Powertools' MetricUnit takes)."""

    COUNT = "Count"
    GIGABYTES = "Gigabytes"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    meaning: str
    dimensions: tuple[str, ...] = ("service",)
    # Published by every run, zero included: the heartbeat, whose alarm reads silence as a poller that no
    # longer runs. The other metrics are published only when non-zero; their alarms read silence as zero.
    every_run: bool = False
    # Published only from this value up (a gauge that is worth its hours only near its alarm).
    published_from: float = 0


def _described(
    metric: str | None,
    meaning: str,
    *,
    summary: bool = True,
    every_run: bool = False,
    unit: Unit = Unit.COUNT,
    published_from: float = 0,
) -> dict[str, object]:
    """A figure's metadata; `metric` names the metric it is also published as, None for log only."""
    return {
        "metric": metric,
        "meaning": meaning,
        "summary": summary,
        "every_run": every_run,
        "unit": unit,
        "published_from": published_from,
    }


@overload
def _measured(
    metric: str | None,
    meaning: str,
    *,
    summary: bool = True,
    every_run: bool = False,
    unit: Unit = Unit.COUNT,
    published_from: float = 0,
) -> int: ...


@overload
def _measured(
    metric: str | None,
    meaning: str,
    *,
    default: _Value,
    summary: bool = True,
    every_run: bool = False,
    unit: Unit = Unit.COUNT,
    published_from: float = 0,
) -> _Value: ...


def _measured(
    metric: str | None,
    meaning: str,
    *,
    default: object = 0,
    summary: bool = True,
    every_run: bool = False,
    unit: Unit = Unit.COUNT,
    published_from: float = 0,
) -> object:
    """A field of the report, 0 unless `default` says otherwise."""
    described = _described(
        metric, meaning, summary=summary, every_run=every_run, unit=unit, published_from=published_from
    )
    return field(default=default, metadata=described)


@dataclass
class RunReport:
    """One region's run. Fields are in the order of the log summary."""

    region: str
    mode: str = _measured(
        None,
        "How the listing was read: baseline, full-scan or head; quiet when it was not (quietWhenIdle), "
        "hints for a run of the hints queue.",
        default="",
    )
    tasks_seen: int = _measured(
        None, "Entries read: listing pages, the sweep of the tasks in progress, re-checks by AMI."
    )
    listing_complete: bool = _measured(None, "Whether the run read as far as it meant to.", default=False)
    read_goes_on: bool = _measured(
        None, "Whether the run went on with a read an earlier run left unfinished.", default=False
    )
    listing_restarts: int = _measured(
        None,
        "Reads started over from the top because EC2 refused the NextToken an earlier run saved.",
    )
    stopped_because: str | None = _measured(None, "Why the run stopped early, if it did.", default=None)
    claims_committed: int = _measured(None, "Transitions recorded in the table.")
    announced: Counter[str] = field(
        default_factory=Counter,
        # In the log line only: as metrics, a busy account's announcement counters would be published
        # most hours of the month, $0.30 each (the dashboard charts them from the log line instead).
        metadata=_described(None, "Announcements claimed for delivery, by state."),
    )
    redelivered: int = _measured(None, "Deliveries taken over from an earlier run.")
    publish_failures: int = _measured("PublishFailures", "Deliveries a channel refused; retried next run.")
    deliveries_left_unsent: int = _measured(
        None,
        "Deliveries not sent, left for the next run: their channel stayed throttled or unavailable, or "
        "the run's time ran short.",
    )
    tasks_in_progress: int = _measured(None, "Tasks recorded in progress after the run.")
    vanished: int = _measured(None, "Tasks recorded in progress that left the listing.")
    superseded: int = _measured(None, "Tasks in progress replaced by a newer store of the AMI.")
    unparseable_tasks: int = _measured(None, "Listing entries skipped as unreadable.")
    malformed_tasks: int = _measured(None, "Listing entries repaired, or dated in the future.")
    failure_reasons_shortened: int = _measured(None, "Failure reasons cut to fit the channels' limits.")
    unknown_states: int = _measured(None, "Tasks in a state this version does not know.")
    # Not a metric: Lambda's own Duration metric, free, times the invocation as a whole.
    duration_ms: float = _measured(None, "Time the region's run took, in milliseconds.", default=0.0)
    api_calls: Counter[str] = field(
        default_factory=Counter, metadata=_described(None, "API calls the region's run made, by service.")
    )
    successful_polls: int = _measured(
        "SuccessfulPolls",
        "1 when the run reached AWS, 0 when it did not; published by every run (the heartbeat alarm's "
        "metric).",
        default=1,
        summary=False,
        every_run=True,
    )
    runs_throttled: int = _measured(
        "RunsThrottled",
        "1 when AWS still throttled a call after the SDK's retries (the account's shared request budget "
        "was spent); the run stopped and the next one catches up.",
    )
    runs_cut_short: int = _measured(
        None, "1 when the run stopped early (call budget, time, throttling, an overlapping run)."
    )
    hints_asked: int = _measured(None, "AMIs a hint run asked EC2 about, and EC2 answered.")
    starts_without_hint: int = _measured(
        "StartsWithoutHint",
        "Stores the safety net of an idle quietWhenIdle deployment found with no hint before it: the "
        "trail is not delivering CreateStoreImageTask to EventBridge.",
    )
    store_quota_gigabytes: int = _measured(
        "StoreQuotaGigabytes",
        "GiB of EBS snapshot data in the stores in progress, from their AMIs' block device mappings, "
        "against the 1,200 GB EC2 lets an account and Region have in progress (a store beyond it is "
        "refused). Published from half the quota up, where the alarm may soon matter: a metric is billed "
        "for every hour it is published, and stores are in progress most hours of a busy account (the "
        "log line has the figure of every run).",
        unit=Unit.GIGABYTES,
        published_from=STORE_QUOTA_GB // 2,
    )
    stores_without_size: int = _measured(
        None, "Stores in progress whose AMI EC2 did not describe: the quota figure leaves them out."
    )
    archives_checked: int = _measured(None, "Archive checks concluded (Verified or NotVerified).")
    archives_not_verified: int = _measured(None, "Archive checks that said NotVerified.")
    archive_checks_waiting: int = _measured(
        None, "Completed stores whose archive check waits for a later run (object not there yet, S3 busy)."
    )
    stalls_announced: int = _measured(None, "Stores announced as stalled.")
    unapproved_announced: int = _measured(None, "Stores into unapproved buckets announced.")

    def stop_unavailable(self, error: TransientAwsError) -> None:
        self.stop(AWS_UNAVAILABLE)
        if error.throttled:
            self.runs_throttled = 1

    def stop(self, reason: str) -> None:
        if self.stopped_because is None:
            self.stopped_because = reason
            self.runs_cut_short = 1
            if reason == AWS_UNAVAILABLE:
                self.successful_polls = 0

    def metric_values(self) -> list[tuple[Metric, float]]:
        """The metrics this run has something to say in: the heartbeat always, the others when non-zero."""
        counted = [(metric, float(getattr(self, name))) for name, metric in METRICS.items()]
        # A hint run is not a poll: the heartbeat tells of the schedule alone.
        heartbeat = self.mode != ReadMode.HINTS.value
        return [
            (metric, value)
            for metric, value in counted
            if (value and value >= metric.published_from) or (metric.every_run and heartbeat)
        ]

    def summary(self) -> dict[str, object]:
        """The run's log line: every field but those only counted as metrics, in camelCase."""
        shown = (declared for declared in fields(self) if declared.metadata.get("summary", True))
        return {_camel(declared.name): _summarized(getattr(self, declared.name)) for declared in shown}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _summarized(value: object) -> object:
    if isinstance(value, Counter):
        return dict(value)
    return round(value, 1) if isinstance(value, float) else value


def _declared_metrics() -> dict[str, Metric]:
    return {
        declared.name: Metric(
            declared.metadata["metric"],
            declared.metadata["unit"],
            declared.metadata["meaning"],
            every_run=declared.metadata["every_run"],
            published_from=declared.metadata["published_from"],
        )
        for declared in fields(RunReport)
        if declared.metadata.get("metric")
    }


# Every metric the handler emits, by RunReport field, and the others it emits beside the report.
METRICS = _declared_metrics()
# One metric for every region, so one alarm covers them all; the 'Region failed' log line names the region.
REGION_FAILURES = Metric(
    "RegionFailures", Unit.COUNT, "Regions whose poll failed; the 'Region failed' ERROR line names each."
)
ALL_METRICS: tuple[Metric, ...] = (*METRICS.values(), REGION_FAILURES)

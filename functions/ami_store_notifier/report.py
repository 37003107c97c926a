"""What one region's run reports, declared once.

Each field of `RunReport` is a counter or fact of the run. Its metadata says which CloudWatch metric it
becomes, in which unit, and what it means; the handler's metrics and log summary, and the stack's
alarms, dashboard and README all read these declarations, so a new counter is one new field here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from ami_store_notifier.domain.model import TaskState
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
# The services whose calls are counted (ApiCalls<name>), by botocore's name for each.
API_CALL_SERVICES = {"ec2": "EC2", "dynamodb": "DynamoDB", "sns": "SNS", "events": "EventBridge"}


class Unit(StrEnum):
    """CloudWatch units (the names Powertools' MetricUnit takes)."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    meaning: str
    dimensions: tuple[str, ...] = ("service",)


def _measured(
    metric: str | None, meaning: str, *, unit: Unit = Unit.COUNT, default: Any = 0, summary: bool = True
) -> Any:
    return field(
        default=default, metadata={"metric": metric, "unit": unit, "meaning": meaning, "summary": summary}
    )


@dataclass
class RunReport:
    """One region's run. Fields are in the order of the log summary."""

    region: str
    mode: str = _measured(None, "How the listing was read: baseline, full-scan or head.", default="")
    tasks_seen: int = _measured(
        "TasksSeen", "Entries read: listing pages, the sweep of the tasks in progress, re-checks by AMI."
    )
    listing_complete: bool = _measured(None, "Whether the run read as far as it meant to.", default=False)
    read_goes_on: bool = _measured(
        None, "Whether the run went on with a read an earlier run left unfinished.", default=False
    )
    listing_restarts: int = _measured(
        "ListingRestarts",
        "Reads started over from the top because EC2 refused the NextToken an earlier run saved.",
    )
    stopped_because: str | None = _measured(None, "Why the run stopped early, if it did.", default=None)
    claims_committed: int = _measured(None, "Transitions recorded in the table.")
    announced: Counter[str] = field(
        default_factory=Counter,
        metadata={
            "metric": "Announced{state}",
            "unit": Unit.COUNT,
            "meaning": "Announcements claimed for delivery, by state.",
            "summary": True,
        },
    )
    redelivered: int = _measured("Redelivered", "Deliveries taken over from an earlier run.")
    publish_failures: int = _measured("PublishFailures", "Deliveries a channel refused; retried next run.")
    deliveries_left_unsent: int = _measured(
        None,
        "Deliveries not sent, left for the next run: their channel stayed throttled or unavailable, or "
        "the run's time ran short.",
    )
    tasks_in_progress: int = _measured("TasksInProgress", "Tasks recorded in progress after the run.")
    vanished: int = _measured("TasksVanished", "Tasks recorded in progress that left the listing.")
    superseded: int = _measured("TasksSuperseded", "Tasks in progress replaced by a newer store of the AMI.")
    unparseable_tasks: int = _measured("UnparseableTasks", "Listing entries skipped as unreadable.")
    malformed_tasks: int = _measured("MalformedTasks", "Listing entries repaired, or dated in the future.")
    failure_reasons_shortened: int = _measured(
        "FailureReasonsShortened", "Failure reasons cut to fit the channels' limits."
    )
    unknown_states: int = _measured("UnknownTaskStates", "Tasks in a state this version does not know.")
    duration_ms: float = _measured(
        "PollDuration", "Time the region's run took.", unit=Unit.MILLISECONDS, default=0.0
    )
    successful_polls: int = _measured(
        "SuccessfulPolls",
        "1 when the run reached AWS (the heartbeat alarm's metric).",
        default=1,
        summary=False,
    )
    runs_throttled: int = _measured(
        "RunsThrottled",
        "1 when AWS still throttled a call after the SDK's retries (the account's shared request budget "
        "was spent); the run stopped and the next one catches up.",
    )
    runs_cut_short: int = _measured(
        "RunsCutShort",
        "1 when the run stopped early (call budget, time, throttling, an overlapping run).",
        summary=False,
    )

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
        values: list[tuple[Metric, float]] = []
        for declared in fields(self):
            value = getattr(self, declared.name)
            if isinstance(value, Counter):
                values += [(metric, value[state]) for state, metric in ANNOUNCED.items()]
            elif declared.metadata.get("metric"):
                values.append((METRICS[declared.name], float(value)))
        return values

    def summary(self) -> dict[str, Any]:
        """The run's log line: every field but those only counted as metrics, in camelCase."""
        shown = (declared for declared in fields(self) if declared.metadata.get("summary", True))
        return {_camel(declared.name): _summarized(getattr(self, declared.name)) for declared in shown}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _summarized(value: Any) -> Any:
    if isinstance(value, Counter):
        return dict(value)
    return round(value, 1) if isinstance(value, float) else value


def _declared_metrics() -> dict[str, Metric]:
    return {
        declared.name: Metric(
            declared.metadata["metric"], declared.metadata["unit"], declared.metadata["meaning"]
        )
        for declared in fields(RunReport)
        if declared.metadata.get("metric") and "{" not in declared.metadata["metric"]
    }


# Every metric the handler emits, by RunReport field, and the others it emits beside the report.
METRICS = _declared_metrics()
ANNOUNCED = {
    state.value: Metric(f"Announced{state.value}", Unit.COUNT, f"{state.value} announcements claimed.")
    for state in TaskState.known()
}
REGION_FAILURES = Metric(
    "RegionFailures", Unit.COUNT, "A region whose poll failed (its own alarm).", ("service", "region")
)
API_CALLS = {
    service: Metric(f"ApiCalls{service}", Unit.COUNT, f"{service} API calls in the invocation.")
    for service in API_CALL_SERVICES.values()
}
ALL_METRICS: tuple[Metric, ...] = (
    *METRICS.values(),
    *ANNOUNCED.values(),
    REGION_FAILURES,
    *API_CALLS.values(),
)

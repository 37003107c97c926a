"""The poller's dashboard: the metrics report.py declares, Lambda's own, and the latest log summaries.

A dashboard costs $3 a month past an account's first three, however many widgets it has
(https://aws.amazon.com/cloudwatch/pricing/); the `dashboard` setting leaves it out. It graphs only what is
published: the poller's few custom metrics (the heartbeat, failures, the store quota; report.py), and for
the rest Lambda's own metrics of the function (Invocations, Errors, Throttles, Duration), which AWS
publishes at no charge. The figures that are in the run's log line only (announcements, tasks seen and in
progress, API calls, the region's poll duration) are read from the log group by Logs Insights widgets,
billed per GB they scan when the dashboard is viewed, not by the month.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.notices import NoticeKind
from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from ami_store_notifier.report import METRICS, Metric
from infra.store_quota import STORE_QUOTA_ALARM_GB, STORE_QUOTA_METRIC

# The handler's log line for a region's finished poll (handler.py) and the fields of its `report`.
POLL_SUMMARIES_QUERY = (
    "fields @timestamp, report.region, report.mode, report.tasksSeen, report.tasksInProgress, "
    "report.durationMs, report.stoppedBecause\n"
    '| filter message = "Poll finished"\n'
    "| sort @timestamp desc\n"
    "| limit 50"
)
# Announcements by state and notices by kind, from the same log line (`report.announced` counts them).
ANNOUNCED_QUERY = (
    'filter message = "Poll finished"\n| stats '
    + ", ".join(
        f"sum(report.announced.{milestone}) as {milestone}"
        for milestone in (*(state.value for state in TaskState.known()), *(kind.value for kind in NoticeKind))
    )
    + " by bin(1h)"
)
# The store quota of every run, from the log line: the metric is published from half the quota up only.
STORE_QUOTA_QUERY = (
    'filter message = "Poll finished"\n| stats max(report.storeQuotaGigabytes) as GB_in_progress by bin(15m)'
)


def poller_dashboard(
    scope: Construct,
    *,
    name: str,
    metric: Callable[[Metric, str, Duration], cloudwatch.Metric],
    metrics: Sequence[Metric],
    function: lambda_.IFunction,
    log_group: logs.ILogGroup,
    period: Duration,
    timeout: Duration,
) -> cloudwatch.Dashboard:
    """Polls, announcements, failures and duration on one row; the latest poll summaries below.

    ``metrics``: the poller's metrics that the deployment publishes (an empty graph tells nothing)."""
    heartbeat = METRICS["successful_polls"]
    # Every other metric the poller publishes, but the store quota's, is a failure or throttling counter.
    failures = [declared for declared in metrics if declared not in (heartbeat, STORE_QUOTA_METRIC)]
    dashboard = cloudwatch.Dashboard(scope, "Dashboard", dashboard_name=name)
    dashboard.add_widgets(
        cloudwatch.GraphWidget(
            title="Polls",
            left=[
                metric(heartbeat, "Sum", period),
                function.metric_invocations(period=period, statistic="Sum"),
                function.metric_errors(period=period, statistic="Sum"),
                function.metric_throttles(period=period, statistic="Sum"),
            ],
            width=6,
        ),
        cloudwatch.LogQueryWidget(
            title="Announced (the log line; Logs Insights)",
            log_group_names=[log_group.log_group_name],
            query_string=ANNOUNCED_QUERY,
            view=cloudwatch.LogQueryVisualizationType.BAR,
            width=6,
        ),
        cloudwatch.GraphWidget(
            title="Failures",
            left=[metric(each, "Sum", period) for each in failures],
            width=6,
        ),
        cloudwatch.GraphWidget(
            title="Invocation duration (ms)",
            left=[
                function.metric_duration(period=period, statistic=statistic)
                for statistic in ("p50", "p99", "Maximum")
            ],
            left_annotations=[
                cloudwatch.HorizontalAnnotation(value=timeout.to_milliseconds(), label="timeout")
            ],
            width=6,
        ),
    )
    dashboard.add_widgets(
        store_quota_widget(metric, period),
        cloudwatch.LogQueryWidget(
            title="Store quota, every run (the log line; Logs Insights)",
            log_group_names=[log_group.log_group_name],
            query_string=STORE_QUOTA_QUERY,
            view=cloudwatch.LogQueryVisualizationType.LINE,
            width=8,
            height=8,
        ),
        cloudwatch.LogQueryWidget(
            title="Latest poll summaries (the log line; Logs Insights)",
            log_group_names=[log_group.log_group_name],
            query_string=POLL_SUMMARIES_QUERY,
            view=cloudwatch.LogQueryVisualizationType.TABLE,
            width=8,
            height=8,
        ),
    )
    return dashboard


def store_quota_widget(
    metric: Callable[[Metric, str, Duration], cloudwatch.Metric], period: Duration
) -> cloudwatch.GraphWidget:
    """The fullest polled Region's snapshot data in progress, under EC2's quota and the alarm's threshold."""
    return cloudwatch.GraphWidget(
        title="Store quota: GB in progress, from half the quota (fullest Region)",
        left=[metric(STORE_QUOTA_METRIC, "Maximum", period)],
        left_annotations=[
            cloudwatch.HorizontalAnnotation(
                value=STORE_QUOTA_GB, label="EC2's store quota", color=cloudwatch.Color.RED
            ),
            cloudwatch.HorizontalAnnotation(
                value=STORE_QUOTA_ALARM_GB, label="StoreQuota alarm", color=cloudwatch.Color.ORANGE
            ),
        ],
        left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
        width=8,
        height=8,
    )

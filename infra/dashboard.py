"""The poller's dashboard: what report.py declares, graphed."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ami_store_notifier.report import ANNOUNCED, API_CALLS, METRICS, Metric


def poller_dashboard(
    scope: Construct,
    *,
    name: str,
    metric: Callable[[Metric, str, Duration], cloudwatch.Metric],
    function: lambda_.IFunction,
    period: Duration,
) -> cloudwatch.Dashboard:
    """Tasks, announcements, duration, API calls, failures and the listing, on one page."""
    dashboard = cloudwatch.Dashboard(scope, "Dashboard", dashboard_name=name)
    dashboard.add_widgets(
        cloudwatch.GraphWidget(
            title="Store tasks in progress",
            left=[metric(METRICS["tasks_in_progress"], "Maximum", period)],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Announced",
            left=[
                metric(ANNOUNCED["Completed"], "Sum", period),
                metric(ANNOUNCED["Failed"], "Sum", period),
                metric(ANNOUNCED["InProgress"], "Sum", period),
            ],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Poll duration (ms)",
            left=[
                metric(METRICS["duration_ms"], "p50", period),
                metric(METRICS["duration_ms"], "p99", period),
                metric(METRICS["duration_ms"], "Maximum", period),
            ],
            width=8,
        ),
    )
    dashboard.add_widgets(
        cloudwatch.GraphWidget(
            title="API calls",
            left=[metric(calls, "Sum", period) for calls in API_CALLS.values()],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Polls and failures",
            left=[
                metric(METRICS["successful_polls"], "Sum", period),
                metric(METRICS["publish_failures"], "Sum", period),
                metric(METRICS["runs_throttled"], "Sum", period),
                function.metric_errors(period=period, statistic="Sum"),
                function.metric_throttles(period=period, statistic="Sum"),
            ],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Listing",
            left=[
                metric(METRICS["tasks_seen"], "Sum", period),
                metric(METRICS["vanished"], "Sum", period),
                metric(METRICS["superseded"], "Sum", period),
                metric(METRICS["unparseable_tasks"], "Sum", period),
            ],
            width=8,
        ),
    )
    return dashboard

"""Alarms on their own encrypted topic, and a dashboard of what the poller reports."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ami_store_notifier.report import METRICS, REGION_FAILURES, Metric
from infra.alarms import ALARM_PERIOD, AlarmSet
from infra.dashboard import poller_dashboard
from infra.names import DASHBOARD, NamePrefix
from infra.settings import Settings

# The duration alarm fires when a run gets this close to the timeout.
DURATION_ALARM_FRACTION = 0.8
HEARTBEAT_PERIODS = 3


class Monitoring(AlarmSet):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        names: NamePrefix,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
        hub_dead_letter_queue: sqs.IQueue | None,
        polled_regions: Sequence[str],
        namespace: str,
        service: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            names=names,
            purpose="AMI store notifier",
            email=settings.alarm_email,
            removal_policy=removal_policy,
        )
        self._namespace = namespace
        self._service = service
        self._settings = settings

        self.alarms: dict[str, cloudwatch.Alarm] = {
            **self._poller_alarms(function),
            **self._delivery_alarms(dead_letter_queue),
            **(self._hub_forwarding_alarms(hub_dead_letter_queue) if hub_dead_letter_queue else {}),
            **{f"RegionFailures-{region}": self._region_alarm(region) for region in polled_regions},
        }
        self.notify_on(self.alarms.values())

        self.dashboard = poller_dashboard(
            self,
            name=names.name(DASHBOARD, "", stack=Stack.of(self)),
            metric=self.metric,
            function=function,
            period=Duration.minutes(max(5, settings.schedule_minutes)),
        )

    def _poller_alarms(self, function: lambda_.IFunction) -> dict[str, cloudwatch.Alarm]:
        settings = self._settings
        at_least_one = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        return {
            "Errors": self._alarm(
                "ErrorsAlarm",
                "PollerErrors",
                what_happened=(
                    "An invocation of the poller failed as a whole (a bad setting, a crash outside any "
                    "region's poll, or the timeout); it is not retried, the next tick runs again."
                ),
                what_to_do="read the ERROR lines of the poller's log group for the last hour.",
                metric=function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                comparison=at_least_one,
            ),
            "Throttles": self._alarm(
                "ThrottlesAlarm",
                "PollerThrottles",
                what_happened=(
                    "Lambda throttled a poll: the account's unreserved concurrency (or reservedConcurrency) "
                    "was used up. The tick waits in Lambda's queue for one schedule period, then is dropped."
                ),
                what_to_do="check the account's concurrency with aws lambda get-account-settings.",
                metric=function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                comparison=at_least_one,
            ),
            "Duration": self._alarm(
                "DurationAlarm",
                "PollerNearTimeout",
                what_happened=(
                    f"A poll ran longer than {int(DURATION_ALARM_FRACTION * 100)}% of the "
                    f"{settings.function_timeout_seconds} s timeout; runs cut short resume on the next tick."
                ),
                what_to_do="look for throttling and long listings in the poll summaries; raise "
                "functionTimeoutSeconds if it persists.",
                metric=function.metric_duration(period=ALARM_PERIOD, statistic="Maximum"),
                threshold=DURATION_ALARM_FRACTION * settings.function_timeout_seconds * 1000,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            "Heartbeat": self._alarm(
                "HeartbeatAlarm",
                "NoSuccessfulPolls",
                what_happened=(
                    f"No region finished a poll in {HEARTBEAT_PERIODS} schedule periods "
                    f"({HEARTBEAT_PERIODS * settings.schedule_minutes} min): nothing is being announced."
                ),
                what_to_do="check that the schedule rule is enabled, then the other alarms and the logs.",
                metric=self.metric(
                    METRICS["successful_polls"], "Sum", Duration.minutes(settings.schedule_minutes)
                ),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                periods=HEARTBEAT_PERIODS,
                # No data is the failure this alarm exists for: a poller that never runs reports nothing.
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
        }

    def _delivery_alarms(self, dead_letter_queue: sqs.IQueue) -> dict[str, cloudwatch.Alarm]:
        return {
            "DeadLetters": self._dead_letters_alarm(
                "DeadLettersAlarm",
                "ScheduleDeadLetters",
                dead_letter_queue,
                what_happened=(
                    "EventBridge could not hand scheduled ticks to the poller after its retries; they "
                    "were sent to the dead-letter queue (each message says why)."
                ),
                what_to_do="read the queue's messages (aws sqs receive-message) for the error, then "
                "purge it.",
            ),
            "PublishFailures": self._alarm(
                "PublishFailuresAlarm",
                "PublishFailures",
                what_happened=(
                    "SNS or EventBridge refused an announcement; it stays pending and is retried on the "
                    "next run."
                ),
                what_to_do="read the 'Publish refused' warnings in the log group for the reason.",
                metric=self.metric(METRICS["publish_failures"], "Sum", ALARM_PERIOD),
                threshold=0,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
        }

    def _hub_forwarding_alarms(self, dead_letter_queue: sqs.IQueue) -> dict[str, cloudwatch.Alarm]:
        return {
            "HubForwardingDeadLetters": self._dead_letters_alarm(
                "HubForwardingDeadLettersAlarm",
                "HubForwardingDeadLetters",
                dead_letter_queue,
                what_happened=(
                    "EventBridge could not put announcements on the Organization's hub bus after its "
                    "retries; they were sent to the dead-letter queue (each message says why). They "
                    "were delivered on this account's own topic and bus."
                ),
                what_to_do="read the queue's messages (aws sqs receive-message) for the error, fix the "
                "hub bus policy or the forwarder role, then replay them with aws events put-events.",
            ),
        }

    def _region_alarm(self, region: str) -> cloudwatch.Alarm:
        named = "StackRegion" if Token.is_unresolved(region) else region
        return self._alarm(
            f"RegionFailuresAlarm{named}",
            f"RegionFailures-{region}",
            what_happened=(
                f"Polling {region} failed: its tasks are not being announced, while the other regions go on."
            ),
            what_to_do="read the 'Region failed' ERROR line in the log group: its errorCode says why "
            "(UnauthorizedOperation: an SCP or the role; OptInRequired: the region is not enabled).",
            metric=cloudwatch.Metric(
                namespace=self._namespace,
                metric_name=REGION_FAILURES.name,
                dimensions_map={"service": self._service, "region": region},
                statistic="Sum",
                period=ALARM_PERIOD,
            ),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )

    def metric(self, metric: Metric, statistic: str, period: Duration) -> cloudwatch.Metric:
        """One of the poller's own EMF metrics, as report.py declares it."""
        return cloudwatch.Metric(
            namespace=self._namespace,
            metric_name=metric.name,
            dimensions_map={"service": self._service},
            statistic=statistic,
            period=period,
        )

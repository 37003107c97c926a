"""Alarms on their own encrypted topic, and a dashboard of what the poller reports."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.settings import Settings

ALARM_PERIOD = Duration.minutes(5)
# The duration alarm fires when a run gets this close to the timeout.
DURATION_ALARM_FRACTION = 0.8
HEARTBEAT_PERIODS = 3
API_CALL_METRICS = ("ApiCallsEC2", "ApiCallsDynamoDB", "ApiCallsSNS", "ApiCallsEventBridge")


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
        namespace: str,
        service: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._namespace = namespace
        self._service = service
        self._settings = settings
        stack_name = Stack.of(self).stack_name

        self.alarm_key = kms.Key(
            self,
            "AlarmKey",
            description="Encrypts the AMI store notifier alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch publishes alarm notifications itself, so it needs the key: an encrypted topic that
        # CloudWatch cannot use for encryption drops every alarm.
        self.alarm_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        self.alarm_topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="AMI store notifier alarms",
            master_key=self.alarm_key,
            enforce_ssl=True,
        )
        if settings.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        action = cw_actions.SnsAction(self.alarm_topic)

        timeout_ms = settings.function_timeout_seconds * 1000
        schedule_period = Duration.minutes(settings.schedule_minutes)
        self.alarms: dict[str, cloudwatch.Alarm] = {
            "Errors": cloudwatch.Alarm(
                self,
                "ErrorsAlarm",
                alarm_name=f"{stack_name}-PollerErrors",
                alarm_description="The poller function failed (an error or a timeout).",
                metric=function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "Throttles": cloudwatch.Alarm(
                self,
                "ThrottlesAlarm",
                alarm_name=f"{stack_name}-PollerThrottles",
                alarm_description=(
                    "A poll was throttled: with reserved concurrency 1 this means a run was still going "
                    "when the next one was due."
                ),
                metric=function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "Duration": cloudwatch.Alarm(
                self,
                "DurationAlarm",
                alarm_name=f"{stack_name}-PollerNearTimeout",
                alarm_description=(
                    f"A poll ran longer than {int(DURATION_ALARM_FRACTION * 100)}% of the "
                    f"{settings.function_timeout_seconds} s timeout."
                ),
                metric=function.metric_duration(period=ALARM_PERIOD, statistic="Maximum"),
                threshold=DURATION_ALARM_FRACTION * timeout_ms,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "DeadLetters": cloudwatch.Alarm(
                self,
                "DeadLettersAlarm",
                alarm_name=f"{stack_name}-ScheduleDeadLetters",
                alarm_description="Scheduled invocations could not be delivered; they are in the DLQ.",
                metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "PublishFailures": cloudwatch.Alarm(
                self,
                "PublishFailuresAlarm",
                alarm_name=f"{stack_name}-PublishFailures",
                alarm_description="An announcement could not be delivered to SNS or EventBridge.",
                metric=self.metric("PublishFailures", "Sum", ALARM_PERIOD),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "Heartbeat": cloudwatch.Alarm(
                self,
                "HeartbeatAlarm",
                alarm_name=f"{stack_name}-NoSuccessfulPolls",
                alarm_description=(
                    f"No successful poll in {HEARTBEAT_PERIODS} schedule periods "
                    f"({HEARTBEAT_PERIODS * settings.schedule_minutes} min): the notifier is not working."
                ),
                metric=self.metric("SuccessfulPolls", "Sum", schedule_period),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=HEARTBEAT_PERIODS,
                datapoints_to_alarm=HEARTBEAT_PERIODS,
                # No data is the failure this alarm exists for: a poller that never runs reports nothing.
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
        }
        for alarm in self.alarms.values():
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

        self.dashboard = self._dashboard(stack_name, function)

    def metric(self, name: str, statistic: str, period: Duration) -> cloudwatch.Metric:
        """One of the poller's own EMF metrics."""
        return cloudwatch.Metric(
            namespace=self._namespace,
            metric_name=name,
            dimensions_map={"service": self._service},
            statistic=statistic,
            period=period,
        )

    def _dashboard(self, stack_name: str, function: lambda_.IFunction) -> cloudwatch.Dashboard:
        period = Duration.minutes(max(5, self._settings.schedule_minutes))
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=stack_name)
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Store tasks in progress",
                left=[self.metric("TasksInProgress", "Maximum", period)],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Announced",
                left=[
                    self.metric("AnnouncedCompleted", "Sum", period),
                    self.metric("AnnouncedFailed", "Sum", period),
                    self.metric("AnnouncedInProgress", "Sum", period),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Poll duration (ms)",
                left=[
                    self.metric("PollDuration", "p50", period),
                    self.metric("PollDuration", "p99", period),
                    self.metric("PollDuration", "Maximum", period),
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API calls",
                left=[self.metric(name, "Sum", period) for name in API_CALL_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Polls and failures",
                left=[
                    self.metric("SuccessfulPolls", "Sum", period),
                    self.metric("PublishFailures", "Sum", period),
                    function.metric_errors(period=period, statistic="Sum"),
                    function.metric_throttles(period=period, statistic="Sum"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Listing",
                left=[
                    self.metric("TasksSeen", "Sum", period),
                    self.metric("TasksVanished", "Sum", period),
                    self.metric("TasksSuperseded", "Sum", period),
                    self.metric("UnparseableTasks", "Sum", period),
                ],
                width=8,
            ),
        )
        return dashboard

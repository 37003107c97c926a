"""The poller: its role, function, log group, schedule and the schedule's dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ami_store_notifier.report import NAMESPACE
from ami_store_notifier.setting_parsers import to_environment
from ami_store_notifier.settings_spec import HANDLER_SETTINGS
from infra.announcements import Announcements
from infra.archive_access import acknowledge_every_archive_object, reading_archives
from infra.asset import HANDLER
from infra.chat import ChatNotifications
from infra.checkov import skip_checkov
from infra.dead_letter_queue import dead_letter_queue
from infra.notifier_function import LOG_RETENTION, notifier_function, writing_own_logs
from infra.settings import Settings


class Poller(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        table: dynamodb.ITable,
        announcements: Announcements,
        chat: ChatNotifications | None,
        polled_regions: Sequence[str],
        metrics_service: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._metrics_service = metrics_service
        self._chat = chat
        self.log_group = logs.LogGroup(
            self,
            "PollerLogs",
            retention=LOG_RETENTION[settings.log_retention_days],
            removal_policy=removal_policy,
        )
        self.dead_letter_queue = dead_letter_queue(self, "ScheduleDeadLetterQueue", holds="schedule ticks")
        self.role = self._role(table, announcements, polled_regions)
        self.function = self._function(self._environment(table, announcements, polled_regions))
        self.schedule = self._schedule()

    def _role(
        self, table: dynamodb.ITable, announcements: Announcements, polled_regions: Sequence[str]
    ) -> iam.Role:
        """Exactly the calls the poller makes, each on the one resource it touches."""
        role = iam.Role(
            self,
            "PollerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="AMI store notifier poller",
        )
        statements = [
            iam.PolicyStatement(
                sid="ListStoreImageTasks",
                actions=["ec2:DescribeStoreImageTasks"],
                resources=["*"],  # the action has no resource-level permissions
                # Only the Regions this deployment polls (aws:RequestedRegion, IAM global condition keys).
                conditions={"StringEquals": {"aws:RequestedRegion": list(polled_regions)}},
            ),
            iam.PolicyStatement(
                sid="SizeStoresForTheQuota",
                # The AMIs of the stores in progress, whose snapshot sizes add up to the StoreQuotaGigabytes
                # metric. Like the listing, DescribeImages names no resource type, so it can only be
                # granted on '*' (Service Authorization Reference, Amazon EC2,
                # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html);
                # and only in the Regions polled.
                actions=["ec2:DescribeImages"],
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": list(polled_regions)}},
            ),
            *reading_archives(self, self._settings.readable_buckets),
            iam.PolicyStatement(
                sid="TaskStateItems",
                # TransactWriteItems is authorized per contained action: the poller's transactions
                # hold PutItem and UpdateItem. No Scan, Query, DeleteItem or BatchWriteItem: delivered
                # batches are emptied, and the table's TTL removes them.
                actions=[
                    "dynamodb:BatchGetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                resources=[table.table_arn],
            ),
            iam.PolicyStatement(
                sid="PutAnnouncementEvents",
                actions=["events:PutEvents"],
                resources=[announcements.bus_arn],
            ),
            writing_own_logs(self.log_group),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        announcements.encryption.allow_publishing(role, announcements.topic)
        if self._chat is not None:
            self._chat.allow_publishing(role)
        traced = (
            " X-Ray's PutTraceSegments and PutTelemetryRecords (added by active tracing, the `tracing` "
            "setting) apply to no resource either."
            if self._settings.tracing
            else ""
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "ec2:DescribeStoreImageTasks and ec2:DescribeImages have no resource-level permissions: "
                    "they can only be granted on '*', and are limited to the polled Regions "
                    f"(aws:RequestedRegion).{traced} Every other statement names its resources."
                ),
            ),
        )
        acknowledge_every_archive_object(role, self._settings.readable_buckets)
        return role

    def _function(self, environment: Mapping[str, str]) -> lambda_.Function:
        s = self._settings
        function = notifier_function(
            self,
            "Poller",
            description="Polls EC2 DescribeStoreImageTasks and announces finished AMI store tasks",
            handler=HANDLER,
            role=self.role,
            log_group=self.log_group,
            environment=environment,
            powertools_layer_override=s.powertools_layer_arn,
            # 120 s: a poll makes at most 10 Describe calls per region plus a few table and delivery
            # calls, normally done in seconds; the headroom covers throttling back-off and a burst of a
            # thousand transitions (claims in 20 steps, 100 publish batches per channel). The claim
            # lease is this plus 60 s.
            timeout=Duration.seconds(s.function_timeout_seconds),
            memory_mb=s.function_memory_mb,
            tracing=s.tracing,
            # None by default, for the accounts that cannot reserve any (notifier_function's CKV_AWS_115
            # acknowledgment), and overlapping runs are safe without it: only one run can move the cursor,
            # so the other announces nothing twice. reservedConcurrency sets it for accounts that have room.
            reserved_concurrency=s.reserved_concurrency,
        )
        # A failed poll is not retried by Lambda: a tick carries no data, so the next scheduled tick does
        # the same work with fresh state, while a retry (Lambda waits 1 minute, then 2) would overlap
        # it and spend EC2's shared rate budget twice. An event throttled by Lambda waits in the
        # async queue for at most one schedule period, when the next tick supersedes it.
        function.configure_async_invoke(retry_attempts=0, max_event_age=self.schedule_period_capped(360))
        skip_checkov(
            function,
            "CKV_AWS_116",
            "No dead-letter queue: a failed poll is not retried and a tick carries no data, so there is "
            "nothing to replay; the next tick does the same work, and Lambda's Errors metric counts failed "
            "polls.",
        )
        return function

    def _environment(
        self, table: dynamodb.ITable, announcements: Announcements, polled_regions: Sequence[str]
    ) -> dict[str, str]:
        """Every handler setting of settings_spec.py, written as the handler reads it back."""
        s = self._settings
        from_resources = {
            "TABLE_NAME": table.table_name,
            "TOPIC_ARN": announcements.topic.topic_arn,
            "EVENT_BUS_NAME": announcements.bus_name,
            "CLAIM_LEASE_SECONDS": str(s.claim_lease_seconds),
            "REGIONS": ",".join(polled_regions),
        }
        if self._chat is not None:
            from_resources["CHAT_TOPIC_ARN"] = self._chat.topic.topic_arn
        # What the stack sets from its resources (no context key) is all above, or left unset.
        from_settings = {
            setting.variable: to_environment(getattr(s, setting.field))
            for setting in HANDLER_SETTINGS
            if setting.key is not None
            and setting.variable is not None
            and setting.variable not in from_resources
        }
        return {
            **from_resources,
            **from_settings,
            # The deployment's own metrics: the alarms and the dashboard read this `service` dimension.
            "POWERTOOLS_SERVICE_NAME": self._metrics_service,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # Without active tracing nobody records the handler's segments: Powertools' Tracer is turned
            # off rather than left to patch boto3 for nothing.
            **({} if s.tracing else {"POWERTOOLS_TRACE_DISABLED": "true"}),
        }

    def schedule_period_capped(self, most_minutes: int) -> Duration:
        """One schedule period, within the at least 60 s and at most `most_minutes` an event age allows."""
        return Duration.minutes(max(1, min(self._settings.schedule_minutes, most_minutes)))

    def _schedule(self) -> events.Rule:
        # An EventBridge rule rather than EventBridge Scheduler: it has target retries and a dead-letter
        # queue too, and moto's CloudFormation creates it (it skips AWS::Scheduler::Schedule), so the
        # deploy test covers the real wiring.
        period = Duration.minutes(self._settings.schedule_minutes)
        rule = events.Rule(
            self,
            "Schedule",
            description="Runs the AMI store notifier poller",
            schedule=events.Schedule.rate(period),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.function,
                # EventBridge retries only what failed to be handed over (throttled or unavailable
                # Lambda API), with back-off, for as long as the tick is younger than one period: by
                # then the next tick does the same work. What is left goes to the dead-letter queue.
                retry_attempts=3,
                max_event_age=self.schedule_period_capped(1440),
                dead_letter_queue=self.dead_letter_queue,
            )
        )
        return rule

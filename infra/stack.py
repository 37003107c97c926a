"""The one stack: state table, poller function, schedule, notification topic, event bus, operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import (
    Acknowledgment,
    Annotations,
    Aws,
    CfnOutput,
    Duration,
    Environment,
    IStackSynthesizer,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ami_store_notifier.settings_spec import HANDLER_SETTINGS, to_environment
from infra.asset import CODE_EXCLUDES, FUNCTION_CODE_DIR, HANDLER, POWERTOOLS_LAYER_PARAMETER
from infra.monitoring import Monitoring
from infra.settings import Settings, unknown_keys

SERVICE_NAME = "ami-store-notifier"
METRICS_NAMESPACE = "AmiStoreNotifier"
TABLE_PARTITION_KEY = "pk"
TABLE_TTL_ATTRIBUTE = "expiresAt"

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class AmiStoreNotifierStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        context: Mapping[str, object] | None = None,
        description: str | None = None,
        env: Environment | None = None,
        synthesizer: IStackSynthesizer | None = None,
        analytics_reporting: bool | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=settings.stack_name,
            description=description,
            env=env,
            synthesizer=synthesizer,
            analytics_reporting=analytics_reporting,
        )
        self.settings = settings
        # Whether cdk destroy keeps what holds data or keys: kept unless the deployment is disposable.
        self.removal_policy = RemovalPolicy.RETAIN if settings.retain_on_delete else RemovalPolicy.DESTROY
        for key in unknown_keys(context or {}):
            Annotations.of(self).add_warning_v2(
                f"ami-store-notifier:unknown-context-{key}",
                f"Context key {key!r} is not a setting of this app (a typo?); "
                "see the README's Deployment settings",
            )

        self.table = self._state_table()
        self.topic_key, self.topic = self._notification_topic()
        self.bus, self.bus_name, self.bus_arn = self._event_bus()
        self.log_group = logs.LogGroup(
            self,
            "PollerLogs",
            retention=_RETENTION[settings.log_retention_days],
            removal_policy=self.removal_policy,
        )
        self.dead_letter_queue = self._dead_letter_queue()
        self.role = self._poller_role()
        self.function = self._poller_function()
        self.schedule = self._schedule()
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            settings=settings,
            function=self.function,
            dead_letter_queue=self.dead_letter_queue,
            polled_regions=self.polled_regions,
            namespace=METRICS_NAMESPACE,
            service=SERVICE_NAME,
            removal_policy=self.removal_policy,
        )
        self._outputs()

    # --- state -----------------------------------------------------------------------------------------

    def _state_table(self) -> dynamodb.Table:
        # aws_dynamodb.Table (AWS::DynamoDB::Table), not TableV2: moto's CloudFormation cannot create
        # AWS::DynamoDB::GlobalTable, and the deploy test runs there.
        return dynamodb.Table(
            self,
            "StateTable",
            partition_key=dynamodb.Attribute(name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The AWS managed key: DynamoDB uses it on the caller's behalf, so the poller needs no KMS
            # permission for the table.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=self.removal_policy,
        )

    # --- announcement targets --------------------------------------------------------------------------

    def _notification_topic(self) -> tuple[kms.Key, sns.Topic]:
        key = kms.Key(
            self,
            "NotificationKey",
            description="Encrypts the AMI store notification topic",
            enable_key_rotation=True,
            removal_policy=self.removal_policy,
        )
        topic = sns.Topic(
            self,
            "NotificationTopic",
            display_name="AMI store task notifications",
            master_key=key,
            enforce_ssl=True,
        )
        if self.settings.notification_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.settings.notification_email))
        return key, topic

    def _event_bus(self) -> tuple[events.IEventBus, str, str]:
        """The bus, its name for the handler and its ARN for the policy and the outputs."""
        imported = self.settings.imported_bus
        if imported is not None:
            arn = self.settings.event_bus_arn
            assert arn is not None
            return events.EventBus.from_event_bus_arn(self, "EventBus", arn), imported.name, arn
        # Bus names are unique per account and Region: named after the stack, so that two stacks (two
        # stackName values) in one account and Region never collide.
        new_bus = events.EventBus(
            self,
            "EventBus",
            event_bus_name=self.settings.event_bus_name or f"{self.settings.stack_name}-events",
        )
        # Fn::GetAtt Name, not Ref: moto's CloudFormation resolves a Ref to a bus to an object, which
        # would break the function's environment in the deploy test. Both are the name on AWS.
        name = cast(events.CfnEventBus, new_bus.node.default_child).attr_name
        return new_bus, name, new_bus.event_bus_arn

    # --- poller ----------------------------------------------------------------------------------------

    def _poller_role(self) -> iam.Role:
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
                conditions={"StringEquals": {"aws:RequestedRegion": list(self.polled_regions)}},
            ),
            iam.PolicyStatement(
                sid="TaskStateItems",
                # TransactWriteItems is authorized per contained action: the poller's transactions
                # hold PutItem and UpdateItem. No Scan, Query, DeleteItem or BatchWriteItem.
                actions=[
                    "dynamodb:BatchGetItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                resources=[self.table.table_arn],
            ),
            iam.PolicyStatement(
                sid="PublishNotifications",
                actions=["sns:Publish"],  # also authorizes PublishBatch
                resources=[self.topic.topic_arn],
            ),
            iam.PolicyStatement(
                sid="EncryptNotifications",
                # What publishing to a topic with server-side encryption needs from its key.
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=[self.topic_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="PutAnnouncementEvents",
                actions=["events:PutEvents"],
                resources=[self.bus_arn],
            ),
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                # The log group exists (it is created here), so no logs:CreateLogGroup.
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            ),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "ec2:DescribeStoreImageTasks has no resource-level permissions, and X-Ray's "
                    "PutTraceSegments/PutTelemetryRecords (added by active tracing) apply to no resource: "
                    "both can only be granted on '*'. Every other statement names its one resource."
                ),
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason=(
                    "kms:GenerateDataKey* is what SNS documents for publishers to a topic with server-side "
                    "encryption; it is granted on the notification topic's key only."
                ),
            ),
        )
        return role

    @property
    def polled_regions(self) -> tuple[str, ...]:
        """The configured Regions, or the stack's own (a token until deployment)."""
        return self.settings.regions or (Aws.REGION,)

    def _powertools_layer_arn(self) -> str:
        """AWS's own record of its layer for the pinned Powertools version, read where the stack deploys.

        An SSM-typed CloudFormation parameter (Powertools docs, "Lambda Layer": the public parameters
        under /aws/service/powertools/) resolves in the deployment's own Region and partition, so the ARN
        is right everywhere, and it follows the version pinned in infra/asset.py, which is the version
        the tests run. powertoolsLayerArn overrides it.
        """
        if self.settings.powertools_layer_arn is not None:
            return self.settings.powertools_layer_arn
        return ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER)

    def _poller_function(self) -> lambda_.Function:
        s = self.settings
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", self._powertools_layer_arn()
        )
        function = lambda_.Function(
            self,
            "Poller",
            description="Polls EC2 DescribeStoreImageTasks and announces finished AMI store tasks",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            # The folder as it is: no bundling (no Docker here) and no third-party packages to install,
            # since boto3 comes with the runtime and Powertools with the layer.
            code=lambda_.Code.from_asset(str(FUNCTION_CODE_DIR), exclude=CODE_EXCLUDES),
            layers=[layer],
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            # None by default: Lambda refuses a reservation that leaves the account less than its minimum
            # unreserved concurrency (Lambda quotas; accounts whose quota is 10 cannot reserve any), and
            # overlapping runs are safe without it: only one run can move the cursor, so the other
            # announces nothing twice. reservedConcurrency sets it for accounts that have room.
            reserved_concurrent_executions=s.reserved_concurrency,
            # 120 s: a poll makes a handful of paged Describe calls per region plus a few table and
            # delivery calls, normally done in seconds; the headroom covers throttling back-off and a
            # full 31-day listing of thousands of tasks. The claim lease is this plus 60 s.
            timeout=Duration.seconds(s.function_timeout_seconds),
            # 256 MB: the work is I/O bound (API calls), so more memory buys little; Lambda allots CPU
            # in proportion to memory, and 256 MB gives the cold start (boto3, Powertools with the X-Ray
            # SDK) more CPU than the 128 MB minimum, at a small cost for one short run a minute.
            memory_size=s.function_memory_mb,
            environment=self._environment(),
        )
        # A failed poll is not retried by Lambda: a tick carries no data, so the next scheduled tick does
        # the same work with fresh state, while a retry (Lambda waits 1 minute, then 2) would overlap
        # it and spend EC2's shared rate budget twice. An event throttled by Lambda waits in the
        # async queue for at most one schedule period, when the next tick supersedes it. Failed polls
        # are counted by the Errors alarm; no dead-letter queue, since a tick has nothing to replay.
        function.configure_async_invoke(retry_attempts=0, max_event_age=self.schedule_period_capped(360))
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=(
                    "The runtime is pinned to Python 3.13 on purpose: the Powertools managed layer it "
                    "loads is the python313-arm64 build, which must match the runtime. Moving to 3.14 "
                    "means switching the runtime and the layer together, as a deliberate upgrade."
                ),
            )
        )
        return function

    def _environment(self) -> dict[str, str]:
        """Every handler setting of settings_spec.py, written as the handler reads it back."""
        s = self.settings
        from_resources = {
            "TABLE_NAME": self.table.table_name,
            "TOPIC_ARN": self.topic.topic_arn,
            "EVENT_BUS_NAME": self.bus_name,
            "CLAIM_LEASE_SECONDS": str(s.claim_lease_seconds),
            "REGIONS": ",".join(self.polled_regions),
        }
        from_settings = {
            setting.variable: to_environment(getattr(s, setting.field))
            for setting in HANDLER_SETTINGS
            if setting.variable is not None and setting.variable not in from_resources
        }
        return {
            **from_resources,
            **from_settings,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

    def schedule_period_capped(self, most_minutes: int) -> Duration:
        """One schedule period, within the at least 60 s and at most `most_minutes` an event age allows."""
        return Duration.minutes(max(1, min(self.settings.schedule_minutes, most_minutes)))

    def _dead_letter_queue(self) -> sqs.Queue:
        """Ticks that EventBridge could not hand to Lambda after its retries."""
        queue = sqs.Queue(
            self,
            "ScheduleDeadLetterQueue",
            # SSE-SQS: EventBridge can send to it without a key policy of ours (SSE-KMS with the AWS
            # managed aws/sqs key would refuse EventBridge; EventBridge user guide, dead-letter queues).
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason=(
                    "This queue is itself a dead-letter queue: the schedule rule's target names it in its "
                    "DeadLetterConfig, a use cdk-nag recognizes only for Lambda and SQS redrive policies."
                ),
            )
        )
        return queue

    def _schedule(self) -> events.Rule:
        # An EventBridge rule rather than EventBridge Scheduler: it has target retries and a dead-letter
        # queue too, and moto's CloudFormation creates it (it skips AWS::Scheduler::Schedule), so the
        # deploy test covers the real wiring.
        period = Duration.minutes(self.settings.schedule_minutes)
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

    # --- outputs ---------------------------------------------------------------------------------------

    def _outputs(self) -> None:
        CfnOutput(self, "TopicArn", value=self.topic.topic_arn, description="Notification topic")
        CfnOutput(self, "EventBusName", value=self.bus_name, description="Bus the events are put on")
        CfnOutput(self, "EventBusArn", value=self.bus_arn, description="Bus the events are put on")
        CfnOutput(self, "TableName", value=self.table.table_name, description="Task state table")
        CfnOutput(self, "FunctionName", value=self.function.function_name, description="Poller function")
        CfnOutput(self, "LogGroupName", value=self.log_group.log_group_name, description="Poller logs")
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.alarm_topic.topic_arn, description="Alarms")
        CfnOutput(
            self,
            "DeadLetterQueueUrl",
            value=self.dead_letter_queue.queue_url,
            description="Scheduled ticks EventBridge could not hand to the poller",
        )

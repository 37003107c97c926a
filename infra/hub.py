"""The hub of the Organization-wide mode: one bus and one topic for every account and Region.

Every notifier deployed with `hubEventBusArn` forwards its announcements here. The bus takes them from
the accounts of one Organization only, and only this product's events; an archive keeps them for replay;
a relay publishes each to the hub's encrypted topic as the notifiers publish to their own, with the
account's name where the hub may read it.
"""

from __future__ import annotations

from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnOutput,
    Duration,
    IStackSynthesizer,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ami_store_notifier.domain.planning import CHAT_CHANNEL, RELAY_CHANNEL
from infra.alarms import ALARM_PERIOD, AlarmSet
from infra.announcements import ANNOUNCED_DETAIL_TYPES, announcement_pattern
from infra.chat import ChatNotifications
from infra.dead_letter_queue import dead_letter_queue
from infra.encrypted_topic import TopicEncryption
from infra.names import ARCHIVE, BUS, NamePrefix
from infra.notifier_function import LOG_RETENTION, notifier_function, writing_own_logs
from infra.regions import ARCHIVE_PART
from infra.settings import Settings

RELAY_HANDLER = "ami_store_notifier.hub_relay.lambda_handler"
RELAY_TIMEOUT = Duration.seconds(30)


def hub_names(scope: Construct) -> NamePrefix:
    """The hub's fixed names start with its stack's name, which hubStackName sets."""
    return NamePrefix(Stack.of(scope).stack_name, made_from="hubStackName")


class Hub(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, organization_id: str
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        names = hub_names(self)
        self.bus = events.EventBus(self, "EventBus", event_bus_name=names.name(BUS, "events", stack=stack))
        self._let_the_organization_put(organization_id, settings.event_source)
        retention = settings.hub_archive_retention_days
        self.archive = self.bus.archive(
            "Archive",
            archive_name=names.name(ARCHIVE, "announcements", stack=stack),
            description="Every AMI store announcement of the Organization, for replay",
            event_pattern=announcement_pattern(settings.event_source),
            retention=Duration.days(retention) if retention else None,
        )
        # Left out, by a condition on the Region, where EventBridge has no archive and replay.
        ARCHIVE_PART.leave_out_where_missing(self.archive)
        # One customer managed key for the hub's topics (customerManagedKey; the relay publishes to them,
        # CloudWatch to the alarm topic), or none (infra/encrypted_topic.py).
        self.encryption = TopicEncryption(
            self,
            "NotificationKey",
            customer_managed_key=settings.with_customer_managed_key,
            purpose="Organization's AMI store notifier hub's",
        )
        self.key = self.encryption.key
        self.topic = self.encryption.topic(
            self,
            "Notification",
            display_name="AMI store task notifications (Organization)",
            email=settings.notification_email,
        )
        self.relay_log_group = logs.LogGroup(
            self,
            "RelayLogs",
            retention=LOG_RETENTION[settings.log_retention_days],
            removal_policy=settings.removal_policy,
        )
        self.relay_dead_letter_queue = dead_letter_queue(
            self, "RelayDeadLetterQueue", holds="announcements the relay could not publish"
        )
        # The Organization's chat channels (the notifiers of this app leave theirs out, app.py).
        self.chat = (
            ChatNotifications(self, "Chat", settings=settings, names=names, encryption=self.encryption)
            if settings.chat_notifications
            else None
        )
        self.relay = self._relay(settings, organization_id)
        self.rule_dead_letter_queue = dead_letter_queue(
            self, "RuleDeadLetterQueue", holds="announcements EventBridge could not hand to the relay"
        )
        self.rule = events.Rule(
            self,
            "ToTopic",
            description="Hands every announcement on the hub bus to the relay, which publishes it",
            event_bus=self.bus,
            # The notices too (an unapproved bucket in any account reaches the security team at the hub):
            # the relay reads each by its detail-type (hub_relay.py).
            event_pattern=announcement_pattern(settings.event_source),
            targets=self._relay_targets(),
        )

    def _relay_targets(self) -> list[events.IRuleTarget]:
        """One invocation per channel and announcement: each is retried on its own, so a refusal on one
        channel never repeats the message on the other."""
        relayed: list[events.IRuleTarget] = [
            targets.LambdaFunction(
                self.relay, retry_attempts=8, dead_letter_queue=self.rule_dead_letter_queue
            )
        ]
        if self.chat is not None:
            relayed.append(
                targets.LambdaFunction(
                    self.relay,
                    event=events.RuleTargetInput.from_object(
                        {
                            RELAY_CHANNEL: CHAT_CHANNEL,
                            "detail-type": events.EventField.from_path("$.detail-type"),
                            "detail": events.EventField.from_path("$.detail"),
                        }
                    ),
                    retry_attempts=8,
                    dead_letter_queue=self.rule_dead_letter_queue,
                )
            )
        return relayed

    def _let_the_organization_put(self, organization_id: str, event_source: str) -> None:
        """Every account of the Organization may put this product's events, and nobody else anything
        (EventBridge user guide: cross-account buses, aws:PrincipalOrgID, and the events:source and
        events:detail-type condition keys of PutEvents)."""
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationAccountsPutAnnouncements",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={
                    "StringEquals": {"aws:PrincipalOrgID": organization_id},
                    "ForAllValues:StringEquals": {
                        "events:source": [event_source],
                        "events:detail-type": list(ANNOUNCED_DETAIL_TYPES),
                    },
                },
            )
        )

    def _relay(self, settings: Settings, organization_id: str) -> lambda_.Function:
        role = iam.Role(
            self,
            "RelayRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="AMI store notifier hub relay",
        )
        for statement in (
            iam.PolicyStatement(
                sid="ReadAccountNames",
                # Answered only in the management account or for a delegated administrator; elsewhere
                # the relay shows account ids (AWS Organizations API reference, DescribeAccount).
                actions=["organizations:DescribeAccount"],
                # Account ARNs carry the management account's id, which the hub need not know.
                resources=[f"arn:{Aws.PARTITION}:organizations::*:account/{organization_id}/*"],
            ),
            writing_own_logs(self.relay_log_group),
        ):
            role.add_to_policy(statement)
        self.encryption.allow_publishing(role, self.topic)
        if self.chat is not None:
            self.chat.allow_publishing(role)
        if settings.tracing:
            Validations.of(role).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                    reason="X-Ray's PutTraceSegments/PutTelemetryRecords (added by active tracing, the "
                    "`tracing` setting) apply to no resource: they can only be granted on '*'.",
                )
            )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:account/"
                f"{organization_id}/*]",
                reason="DescribeAccount on the accounts of this Organization only; their ARNs carry the "
                "management account's id, unknown to the hub.",
            ),
        )
        function = notifier_function(
            self,
            "Relay",
            description="Publishes each announcement of the Organization's hub bus to the hub's topic",
            handler=RELAY_HANDLER,
            role=role,
            log_group=self.relay_log_group,
            environment={
                "TOPIC_ARN": self.topic.topic_arn,
                **({"CHAT_TOPIC_ARN": self.chat.topic.topic_arn} if self.chat is not None else {}),
                "POWERTOOLS_SERVICE_NAME": "ami-store-notifier-hub",
            },
            powertools_layer_override=settings.powertools_layer_arn,
            timeout=RELAY_TIMEOUT,
            memory_mb=256,
            tracing=settings.tracing,
            # A relay that failed is retried twice by Lambda, then the event waits in this queue.
            dead_letter_queue=self.relay_dead_letter_queue,
        )
        function.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6))
        return function


class HubMonitoring(AlarmSet):
    def __init__(self, scope: Construct, construct_id: str, *, hub: Hub, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            names=hub_names(scope),
            purpose="AMI store notifier hub",
            email=settings.alarm_email,
            docs_url=settings.docs_url,
            encryption=hub.encryption,
        )
        # The hub's alarms whatever `alarms` says: the Organization's announcements all pass through
        # here, and no heartbeat would see a relay that fails.
        self.alarms = {
            "RelayErrors": self._alarm(
                "RelayErrorsAlarm",
                "RelayErrors",
                what_happened="The hub's relay failed to publish an announcement; Lambda retries it twice.",
                what_to_do="read the ERROR lines of the relay's log group.",
                metric=hub.relay.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                threshold=0,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                # Lambda publishes Errors only for periods with invocations: no data, no failed relay.
                missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            "RelayDeadLetters": self._dead_letters_alarm(
                "RelayDeadLettersAlarm",
                "RelayDeadLetters",
                hub.relay_dead_letter_queue,
                what_happened="Announcements the relay could not publish after its retries were kept in "
                "its dead-letter queue.",
                what_to_do="read the queue's messages for the events, fix the cause, then publish them "
                "again with aws events put-events on the hub bus.",
            ),
            "HubRuleDeadLetters": self._dead_letters_alarm(
                "HubRuleDeadLettersAlarm",
                "HubRuleDeadLetters",
                hub.rule_dead_letter_queue,
                what_happened="EventBridge could not hand announcements to the relay after its retries; "
                "they were sent to the rule's dead-letter queue (each message says why).",
                what_to_do="read the queue's messages (aws sqs receive-message) for the error.",
            ),
        }
        self.notify_on(self.alarms.values())


class AmiStoreNotifierHub(Stack):
    """The hub stack, for the Organization's central account (docs/deploying/organization.md)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        organization_id: str,
        synthesizer: IStackSynthesizer | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=settings.hub_stack_name,
            description="AMI Store Notifier hub: the Organization's announcements on one bus and one topic",
            synthesizer=synthesizer,
            analytics_reporting=False,
        )
        self.hub = Hub(self, "Default", settings=settings, organization_id=organization_id)
        self.monitoring = HubMonitoring(self, "Monitoring", hub=self.hub, settings=settings)
        outputs = {
            "HubEventBusArn": (self.hub.bus.event_bus_arn, "Give it to every notifier as hubEventBusArn"),
            "HubEventBusName": (self.hub.bus.event_bus_name, "Write your rules against this bus"),
            "TopicArn": (self.hub.topic.topic_arn, "Subscribe to announcements of the whole Organization"),
            "ArchiveName": (self.hub.archive.archive_name, "Replay announcements from here"),
            "RelayDeadLetterQueueUrl": (
                self.hub.relay_dead_letter_queue.queue_url,
                "Announcements the relay could not publish",
            ),
            "RuleDeadLetterQueueUrl": (
                self.hub.rule_dead_letter_queue.queue_url,
                "Announcements EventBridge could not hand to the relay",
            ),
            "AlarmTopicArn": (self.monitoring.alarm_topic.topic_arn, "Alarms"),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(
                self,
                name,
                value=value,
                description=description,
                condition=ARCHIVE_PART.condition(self) if name == "ArchiveName" else None,
            )

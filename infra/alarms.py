"""Alarms that notify their own topic, which only this stack's alarms may publish to.

Every alarm keeps its meaning under missing data, which is how CloudWatch sees a metric nobody published:
a counter's silence is no failure (`notBreaching`: the poller publishes counters only when non-zero), the
heartbeat's silence is the failure (`breaching`), and a dead-letter queue that falls asleep keeps its state
(`ignore`, see `_dead_letters_alarm`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.encrypted_topic import TopicEncryption
from infra.names import ALARM, NamePrefix

ALARM_PERIOD = Duration.minutes(5)
# The runbook, from the repository's root: one section per alarm, whose anchor is the alarm's short name
# (`## PollerErrors {#PollerErrors}`). Every alarm's description ends with its link: into the site where the
# team hosts it (`docsUrl`: MkDocs serves docs/runbook.md at runbook/), or else to the page in the repository.
RUNBOOK_PAGE = "docs/runbook.md"
RUNBOOK_PATH_ON_THE_SITE = "runbook/"
# CloudWatch's limit on AlarmDescription (PutMetricAlarm API reference).
MAX_DESCRIPTION_LENGTH = 1024


def runbook_link(name: str, docs_url: str | None) -> str:
    """The runbook section of the alarm named `name` (without the stack name), on the site at `docs_url`
    or, without one, in the repository."""
    page = RUNBOOK_PAGE if docs_url is None else f"{docs_url.rstrip('/')}/{RUNBOOK_PATH_ON_THE_SITE}"
    return f"{page}#{name}"


class AlarmSet(Construct):
    """The alarm topic (`AlarmTopic`, encrypted as `encryption` says) and the alarms made with `_alarm`:
    named after the deployment's `names`, described with what happened and what to do, and (`notify_on`)
    notifying the topic when they fire and when they recover."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: NamePrefix,
        purpose: str,
        email: str | None,
        docs_url: str | None,
        encryption: TopicEncryption,
    ) -> None:
        super().__init__(scope, construct_id)
        self._names = names
        self._docs_url = docs_url
        self._alarm_names: list[str] = []
        # The deployment's customer managed key, or None: then the topic is not encrypted at rest, since
        # CloudWatch cannot publish through SNS's AWS managed key (infra/encrypted_topic.py).
        self.alarm_key = encryption.key
        self.alarm_topic = encryption.topic(
            self, "Alarm", display_name=f"{purpose} alarms", email=email, published_by_aws_service=True
        )

    def notify_on(self, alarms: Iterable[cloudwatch.Alarm]) -> None:
        self._let_these_alarms_publish(self._alarm_names)
        action = cw_actions.SnsAction(self.alarm_topic)
        for alarm in alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

    def _let_these_alarms_publish(self, alarm_names: Sequence[str]) -> None:
        """CloudWatch publishes alarm notifications itself, so the topic and its key (if any) must let it.

        A topic policy replaces SNS's default policy (the TLS-only deny CDK writes is one), so without
        this statement CloudWatch is refused ("... is not authorized to perform: SNS:Publish") and every
        alarm fires into nothing. aws:SourceAccount and aws:SourceArn (this stack's alarms) guard against
        the confused deputy: no other alarm, of this account or another, can publish here (CloudWatch
        user guide, "Setting up Amazon SNS notifications": preventing confused deputy issues).
        """
        stack = Stack.of(self)
        # ARNs built from the names, not the alarms' GetAtt: the key policy is part of the key, which the
        # topic and so the alarms depend on.
        alarm_arns = [
            stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in alarm_names
        ]
        from_this_stacks_alarms = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": alarm_arns},
        }
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions=from_this_stacks_alarms,
            )
        )
        if self.alarm_key is None:
            return
        # What an encrypted topic needs from its key for a publishing service, with the same
        # confused-deputy conditions (SNS developer guide, "Enable compatibility between event sources
        # from AWS services and encrypted topics", steps 2 and 3). The key is shared by the stack's other
        # topics, whose publishers are its roles, granted by identity: this statement lets in only
        # CloudWatch acting for this stack's alarms.
        self.alarm_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=from_this_stacks_alarms,
            )
        )

    def _alarm(
        self,
        construct_id: str,
        name: str,
        *,
        what_happened: str,
        what_to_do: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        missing: cloudwatch.TreatMissingData,
        periods: int = 1,
    ) -> cloudwatch.Alarm:
        """`missing` is required: what the silence of `metric` means is decided for each alarm."""
        alarm_name = self._names.name(ALARM, name, stack=Stack.of(self))
        self._alarm_names.append(alarm_name)
        description = (
            f"{what_happened} What to do: {what_to_do} (Runbook: {runbook_link(name, self._docs_url)})"
        )
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise ValueError(f"{name}'s description is longer than CloudWatch's {MAX_DESCRIPTION_LENGTH}")
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=alarm_name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
        )

    def _dead_letters_alarm(
        self, construct_id: str, name: str, queue: sqs.IQueue, *, what_happened: str, what_to_do: str
    ) -> cloudwatch.Alarm:
        """Fires when a dead-letter queue holds messages, and recovers once it is emptied.

        A dead-letter queue is silent for days, and SQS publishes metrics only for active queues: "Amazon
        SQS considers a queue active for up to six hours if it contains any messages, or if any action
        accesses it", and once inactive, metrics resume only after a delay of up to 15 minutes (SQS
        developer guide, "Available CloudWatch metrics for Amazon SQS",
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
        So the first message after a quiet spell may reach CloudWatch only after the alarm has evaluated
        its period: an alarm on messages *arriving* (NumberOfMessagesSent) can miss it for good. The
        backlog (ApproximateNumberOfMessagesVisible) is published every minute while the queue is
        active, so the alarm fires a few minutes late at worst. Missing data keeps the alarm's state
        (`ignore`): a queue that falls asleep with messages still in it stays in ALARM, and only data
        points showing it empty, after someone purged it, bring it back to OK.
        """
        return self._alarm(
            construct_id,
            name,
            what_happened=what_happened,
            what_to_do=what_to_do,
            metric=queue.metric_approximate_number_of_messages_visible(
                period=ALARM_PERIOD, statistic="Maximum"
            ),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.IGNORE,
        )

"""Hints (the `hints` setting): AWS's own events that a store may have started or ended, queued for the
poller, which asks EC2 about the AMIs they name (functions/ami_store_notifier/domain/hints.py).

- Two rules on the account's default event bus, where events from AWS services arrive and only there
  ("Events from AWS services", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html):
  CloudTrail's `CreateStoreImageTask` call and S3's `Object Created` for an AMI's object, with the patterns
  the handler declares (`STORE_STARTED_PATTERN`, `OBJECT_CREATED_PATTERN`). A rule created without an
  event bus name is the default bus's, so no bus ARN is written and the template is the same in every
  partition. The patterns use `exists: false` and `wildcard` ("Comparison operators for use in event
  patterns", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html:
  both have event bus support; no Region is documented without them, China's and GovCloud's included, but
  a Region that lacked `wildcard` would refuse the rule, failing the deployment rather than dropping hints).
- The hint queue both rules target, and one dead-letter queue that is both the rules' targets' (what
  EventBridge could not send to the queue) and the queue's redrive target (what the poller failed
  `MAX_RECEIVES` times). Both are encrypted with SSE-SQS, which EventBridge sends to without a key policy,
  and refuse requests without TLS. The queue policies let EventBridge send only on behalf of the two rules.
- An event source mapping that runs the poller with the queue's batches, at most `HINT_RUNS_AT_ONCE` at
  once, the function reporting the messages it could not use (`batchItemFailures`).

The poller's role may receive and delete the queue's messages and read its attributes, as the event
source mapping needs (Lambda developer guide, "Creating and configuring an Amazon SQS event source
mapping", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), and nothing more: a
hint run asks EC2 with DescribeStoreImageTasks, which the role already has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as rule_refs
from constructs import Construct

from ami_store_notifier.domain.hints import OBJECT_CREATED_PATTERN, STORE_STARTED_PATTERN
from infra.checkov import skip_checkov
from infra.dead_letter_queue import SSE_SQS, dead_letter_queue
from infra.setting_checks import HINT_RUNS_AT_ONCE
from infra.settings import Settings

EVENTS = "events.amazonaws.com"

# Each batch the poller gets. Lambda invokes as soon as messages are there only without a batching window,
# and a window is required above 10 messages ("when you set BatchSize to a value greater than 10, you must
# set MaximumBatchingWindowInSeconds to at least 1", Lambda API reference, CreateEventSourceMapping). With
# any window, "If you're using a batch window and your SQS queue contains very low traffic, Lambda might
# wait for up to 20 seconds before invoking your function. This is true even if you set a batch window lower
# than 20 seconds" (Lambda developer guide, "Using Lambda with Amazon SQS",
# https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). A hint is that low traffic: one object
# appears, and a 20 s wait alone would miss the 10 s p95 from object to announcement. So 10 messages (the
# most without a window), no window: a batch's AMIs fit one DescribeStoreImageTasks call by ImageIds (20).
BATCH_SIZE = 10
BATCHING_WINDOW: Duration | None = None
# Receives before a message goes to the dead-letter queue: "Set the maxReceiveCount on the source queue's
# redrive policy to at least 5" (Lambda developer guide, "Understanding SQS retries",
# https://docs.aws.amazon.com/lambda/latest/dg/sqs-retries.html), since a throttled batch is received too.
# Above the handler's own retries (a hint ahead of EC2 is handed over again up to MAX_HINT_RECEIVES, 3),
# so that only runs that fail as a whole, or throttled ones, dead-letter a hint. No more: each receive after
# the first waits a visibility timeout (12 minutes by default), and by the fifth the schedule and the safety
# net have long read what the hint pointed at.
MAX_RECEIVES = 5
# "set the source queue's visibility timeout to at least six times the configuration timeout on your
# function. The extra time allows Lambda to retry if your function is throttled while processing a previous
# batch" (services-sqs-configure.html); Lambda refuses a mapping whose function timeout exceeds it. Plus the
# batching window, which the messages spend received but not yet handed to the function.
VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT = 6
# A hint is worth minutes; a day outlasts the longest way to the dead-letter queue (MAX_RECEIVES visibility
# timeouts of a 900 s function: 7.5 hours), so that a hint the poller keeps failing is dead-lettered (and
# alarmed) rather than expiring unseen. The dead-letter queue keeps 14 days, longer than this, as SQS
# advises: a dead-lettered message keeps its enqueue time ("Using dead-letter queues in Amazon SQS",
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
RETENTION = Duration.days(1)
# EventBridge's own limit of an event's age for a rule target (RetryPolicy, 60 s to 24 hours).
MOST_EVENT_AGE = Duration.hours(24)


class Hints(Construct):
    """The rules, the hint queue with its dead-letter queue, and the mapping that runs the poller."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        function: lambda_.IFunction,
        role: iam.IRole,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            holds="hints EventBridge could not put on the hint queue, and hints the poller failed "
            f"{MAX_RECEIVES} times",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
            visibility_timeout=visibility_timeout(settings.function_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVES, queue=self.dead_letter_queue
            ),
        )
        skip_checkov(self.queue, "CKV_AWS_27", SSE_SQS)
        # A hint older than one safety net has been superseded by the net itself, which lists every task
        # in progress; EventBridge retries a failed send (with back-off) for no longer.
        event_age = Duration.minutes(
            max(1, min(settings.full_scan_interval_minutes, int(MOST_EVENT_AGE.to_minutes())))
        )
        target = HintQueueTarget(self.queue, self.dead_letter_queue, max_event_age=event_age)
        self.store_started = events.Rule(
            self,
            "StoreStarted",
            description="Puts CloudTrail's CreateStoreImageTask calls on the AMI store notifier's hint queue",
            event_pattern=event_pattern(STORE_STARTED_PATTERN),
            targets=[target],
        )
        self.object_created = events.Rule(
            self,
            "ObjectCreated",
            description=(
                "Puts S3's Object Created events of AMI objects on the AMI store notifier's hint queue"
            ),
            event_pattern=event_pattern(OBJECT_CREATED_PATTERN),
            targets=[target],
        )
        self.rules = (self.store_started, self.object_created)
        for queue in (self.queue, self.dead_letter_queue):
            queue.add_to_resource_policy(self._sent_by_the_rules(queue))
        self.role_statement = iam.PolicyStatement(
            sid="ReceiveHints",
            actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            resources=[self.queue.queue_arn],
        )
        role.add_to_principal_policy(self.role_statement)
        self.mapping = lambda_.EventSourceMapping(
            self,
            "Mapping",
            target=function,
            event_source_arn=self.queue.queue_arn,
            batch_size=BATCH_SIZE,
            max_batching_window=BATCHING_WINDOW,
            report_batch_item_failures=True,
            max_concurrency=HINT_RUNS_AT_ONCE,
        )
        # Lambda checks the role when the mapping is created: the grant must exist by then. The function,
        # which the mapping refers to, already waits for the role's policy; this says so for the mapping.
        self.mapping.node.add_dependency(role)

    def _sent_by_the_rules(self, queue: sqs.IQueue) -> iam.PolicyStatement:
        """EventBridge may send to ``queue`` on behalf of the two rules only (aws:SourceArn: EventBridge
        user guide, "Using resource-based policies for Amazon EventBridge", Amazon SQS permissions)."""
        return iam.PolicyStatement(
            sid="SentByTheHintRules",
            principals=[iam.ServicePrincipal(EVENTS)],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": [rule.rule_arn for rule in self.rules]}},
        )


def visibility_timeout(function_timeout_seconds: int) -> Duration:
    window = 0 if BATCHING_WINDOW is None else int(BATCHING_WINDOW.to_seconds())
    return Duration.seconds(VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT * function_timeout_seconds + window)


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """A pattern of the handler's declarations, as CDK takes it (`detail-type` is `detail_type`)."""
    return events.EventPattern(**{key.replace("-", "_"): value for key, value in pattern.items()})


@jsii.implements(events.IRuleTarget)
class HintQueueTarget:
    """The hint queue as a rule's target, with the dead-letter queue and the retry policy.

    Not CDK's SqsQueue target: that one grants EventBridge sqs:GetQueueAttributes and sqs:GetQueueUrl as
    well, and one statement per rule; the queue policies here grant sqs:SendMessage alone, to both rules."""

    def __init__(self, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue, *, max_event_age: Duration) -> None:
        self._queue = queue
        self._dead_letter_queue = dead_letter_queue
        self._max_event_age = max_event_age

    def bind(self, rule: rule_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        del rule, id  # the same target for both rules
        return events.RuleTargetConfig(
            arn=self._queue.queue_arn,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letter_queue.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_event_age_in_seconds=int(self._max_event_age.to_seconds())
            ),
            target_resource=self._queue,
        )

"""A dead-letter queue for an EventBridge rule target."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.checkov import skip_checkov

# Why a queue EventBridge sends to is encrypted with SSE-SQS, for checkov's CKV_AWS_27.
SSE_SQS = (
    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check does not count: EventBridge "
    "sends to it without a key policy of ours, while SSE-KMS with the AWS managed aws/sqs key would "
    "refuse EventBridge (EventBridge user guide, dead-letter queues)."
)


def dead_letter_queue(scope: Construct, construct_id: str, *, holds: str) -> sqs.Queue:
    """A queue for what EventBridge could not hand to a rule's target after its retries (`holds` says
    what, for cdk-nag's acknowledgment)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    skip_checkov(queue, "CKV_AWS_27", SSE_SQS)
    Validations.of(queue).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-SQS3",
            reason=(
                f"This queue is itself a dead-letter queue ({holds}): a rule's target names it in its "
                "DeadLetterConfig, a use cdk-nag recognizes only for Lambda and SQS redrive policies."
            ),
        )
    )
    return queue

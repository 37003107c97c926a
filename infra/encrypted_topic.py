"""A deployment's SNS topics, encrypted at rest as `customerManagedKey` chooses, refusing plain HTTP.

With the setting on, one customer managed key encrypts every topic of the stack: a key costs $1 a month
whatever it encrypts (https://aws.amazon.com/kms/pricing/), and one key policy can let each publisher in
with its own conditions. With it off, no key is made:

- a topic only this stack's roles publish to (announcements, chat) uses SNS's AWS managed key
  `alias/aws/sns`, which costs nothing a month. Its key policy, which only AWS can change (KMS developer
  guide, "Change a key policy", https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying.html),
  lets every principal of the account use the key through SNS (`kms:ViaService` sns, `kms:CallerAccount`),
  so a publisher needs `sns:Publish` and no KMS permission of its own;
- a topic an AWS service publishes to (the alarm topic: CloudWatch) cannot use that key: "To allow these
  event sources to work with encrypted topics ... use a customer managed KMS key" whose policy names the
  service (SNS developer guide, "Enable compatibility between event sources from AWS services and
  encrypted topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
  So that topic is left without encryption at rest, which SNS allows: it carries alarm names, states and
  descriptions, no announcement, and still refuses publishing without TLS.

No topic of the stack is published to by EventBridge (the hub forwarding targets a bus, the hub's rule a
Lambda function): one that were would need the customer managed key, as the alarm topic does.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.cfn_resources import cfn_resource_of
from infra.checkov import skip_checkov

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
# Automatic rotation stays on, at the longest period KMS allows (RotationPeriodInDays 90-2560, KMS API
# reference, EnableKeyRotation): each rotation's new backing key adds $1 a month to the key (KMS pricing,
# the first two rotations), so yearly rotation would make the key $2 a month in its second year and $3 from
# its third. The key protects messages only while SNS holds them before delivering them, minutes to hours,
# so the age of its key material matters little.
KEY_ROTATION = Duration.days(2560)


class TopicEncryption:
    """How a deployment's topics are encrypted: with ``key``, its one customer managed key, or without
    one (None) as the module says. `topic` makes each topic, `allow_publishing` lets a role publish."""

    def __init__(
        self,
        scope: Construct,
        key_id: str,
        *,
        customer_managed_key: bool,
        purpose: str,
    ) -> None:
        self.key: kms.Key | None = (
            kms.Key(
                scope,
                key_id,
                description=f"Encrypts the {purpose} topics",
                enable_key_rotation=True,
                rotation_period=KEY_ROTATION,
                # Deleted with the stack, or when a later release drops it, whatever retainOnDelete says:
                # the key protects messages only while SNS holds them, and a retained key bills $1 a month
                # until someone schedules its deletion (KMS pricing), in every account of an Organization.
                removal_policy=RemovalPolicy.DESTROY,
            )
            if customer_managed_key
            else None
        )
        self._roles_granted_the_key: set[str] = set()

    def topic(
        self,
        scope: Construct,
        name: str,
        *,
        display_name: str,
        email: str | None,
        published_by_aws_service: bool = False,
    ) -> sns.Topic:
        """`<name>Topic` in `scope`, with `email` subscribed when given. With `enforce_ssl` CDK writes a
        topic policy, which replaces SNS's default one: a service that must publish needs a statement of
        its own. `published_by_aws_service`: an AWS service publishes to it, which the AWS managed key
        does not let in (the module's docstring)."""
        topic = sns.Topic(
            scope, f"{name}Topic", display_name=display_name, master_key=self.key, enforce_ssl=True
        )
        if self.key is None and published_by_aws_service:
            self._acknowledge_no_encryption_at_rest(topic)
        elif self.key is None:
            cfn_resource_of(topic).add_property_override("KmsMasterKeyId", AWS_MANAGED_SNS_KEY)
        if email:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    @staticmethod
    def _acknowledge_no_encryption_at_rest(topic: sns.Topic) -> None:
        reason = (
            "customerManagedKey is false: CloudWatch can publish to an encrypted topic only through a "
            "customer managed key whose policy names it (SNS developer guide, 'Enable compatibility between "
            "event sources from AWS services and encrypted topics'), not through SNS's AWS managed key. The "
            "topic carries alarm names, states and descriptions, no announcement, and refuses publishing "
            "without TLS."
        )
        # cdk-nag 3's AwsSolutions pack has no rule on a topic's encryption at rest; checkov has.
        skip_checkov(topic, "CKV_AWS_26", reason)

    def allow_publishing(self, role: iam.Role, topic: sns.ITopic, *, sid_prefix: str = "") -> None:
        """What a role of this stack needs to publish to one of these topics: sns:Publish (which also
        authorizes PublishBatch) on the topic and, with the customer managed key, the key's data-key actions
        SNS documents for publishers to an encrypted topic, granted once per role."""
        role.add_to_policy(
            iam.PolicyStatement(
                sid=f"{sid_prefix}PublishNotifications", actions=["sns:Publish"], resources=[topic.topic_arn]
            )
        )
        if self.key is None or role.node.path in self._roles_granted_the_key:
            return
        self._roles_granted_the_key.add(role.node.path)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptNotifications",
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=[self.key.key_arn],
            )
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason="kms:GenerateDataKey* is what SNS documents for publishers to a topic with "
                "server-side encryption; it is granted on the key of this stack's topics only.",
            )
        )

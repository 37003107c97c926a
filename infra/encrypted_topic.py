"""An SNS topic encrypted with a rotating key of its own and refusing publishing without TLS."""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


def encrypted_topic(
    scope: Construct,
    name: str,
    *,
    purpose: str,
    display_name: str,
    email: str | None,
    removal_policy: RemovalPolicy,
) -> tuple[kms.Key, sns.Topic]:
    """`<name>Key` and `<name>Topic` in `scope`, with `email` subscribed when given. With `enforce_ssl`
    CDK writes a topic policy, which replaces SNS's default one: a service that must publish needs a
    statement of its own."""
    key = kms.Key(
        scope,
        f"{name}Key",
        description=f"Encrypts the {purpose}",
        enable_key_rotation=True,
        removal_policy=removal_policy,
    )
    topic = sns.Topic(scope, f"{name}Topic", display_name=display_name, master_key=key, enforce_ssl=True)
    if email:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return key, topic


def allow_publishing(role: iam.Role, topic: sns.ITopic, key: kms.IKey, *, sid_prefix: str = "") -> None:
    """What a publisher to an encrypted topic needs: sns:Publish (which also authorizes PublishBatch) on
    the topic, and the key's data-key actions SNS documents for server-side encryption."""
    role.add_to_policy(
        iam.PolicyStatement(
            sid=f"{sid_prefix}PublishNotifications", actions=["sns:Publish"], resources=[topic.topic_arn]
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid=f"{sid_prefix}EncryptNotifications",
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=[key.key_arn],
        )
    )
    Validations.of(role).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            reason="kms:GenerateDataKey* is what SNS documents for publishers to a topic with server-side "
            "encryption; it is granted on that topic's key only.",
        )
    )

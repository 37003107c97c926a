"""An SNS topic encrypted with a rotating key of its own and refusing publishing without TLS."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
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

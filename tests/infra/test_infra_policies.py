"""The stack's resource policies evaluated as AWS evaluates them (tests/infra/policy.py), not by shape.

moto's CloudFormation creates no topic or queue policy and moto evaluates no key policy, so these are
the only tests that show CloudWatch can deliver an alarm and EventBridge can dead-letter a tick.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    DENY,
    EVENTS,
    IMPLICIT_DENY,
    OTHER_ACCOUNT,
    REGION,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate,
)
from tests.infra.support import Synthesized

CLOUDWATCH = "cloudwatch.amazonaws.com"


@pytest.fixture(scope="module")
def resolved(synth: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(synth.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))


def alarm_arns(resolved: ResolvedTemplate) -> list[str]:
    return [
        resolved.resolve({"Fn::GetAtt": [logical_id, "Arn"]})
        for logical_id, resource in resolved.template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]


def alarm_publishing(
    topic_arn: str, alarm_arn: str, *, account: str = ACCOUNT, tls: bool = True, action: str = "SNS:Publish"
) -> Request:
    """CloudWatch acting for an alarm: the request context CloudWatch's documentation says it carries."""
    return Request(
        action=action,
        resource=topic_arn,
        service=CLOUDWATCH,
        context={"aws:SourceArn": alarm_arn, "aws:SourceAccount": account, "aws:SecureTransport": tls},
    )


@pytest.fixture(scope="module")
def alarm_topic(synth: Synthesized, resolved: ResolvedTemplate) -> tuple[str, dict[str, Any]]:
    topic_id = synth.logical_id(synth.stack.notifier.monitoring.alarm_topic)
    topic_arn = resolved.resolve({"Ref": topic_id})
    return topic_arn, resolved.attached_policy("AWS::SNS::TopicPolicy", "Topics", topic_id)


@pytest.fixture(scope="module")
def alarm_key_policy(synth: Synthesized, resolved: ResolvedTemplate) -> dict[str, Any]:
    """The deployment's one key, which the alarm topic shares with the notification topic."""
    assert synth.stack.notifier.monitoring.alarm_key is not None
    key_id = synth.logical_id(synth.stack.notifier.monitoring.alarm_key)
    return dict(resolved.resource(key_id)["Properties"]["KeyPolicy"])


# --- the alarm topic and its key ----------------------------------------------------------------------


def test_every_alarm_of_the_stack_may_publish_to_the_alarm_topic(alarm_topic, resolved) -> None:
    topic_arn, policy = alarm_topic
    arns = alarm_arns(resolved)
    assert len(arns) == 5
    for arn in arns:
        assert evaluate(policy, alarm_publishing(topic_arn, arn)) == ALLOW, arn


def test_every_alarm_of_the_stack_may_encrypt_with_the_alarm_topics_key(alarm_key_policy, resolved) -> None:
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/any"
    for arn in alarm_arns(resolved):
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            request = alarm_publishing(key_arn, arn, action=action)
            assert evaluate(alarm_key_policy, request) == ALLOW, (arn, action)


def test_an_alarm_of_another_account_may_not_publish_nor_use_the_key(
    alarm_topic, alarm_key_policy, resolved
) -> None:
    topic_arn, policy = alarm_topic
    for arn in alarm_arns(resolved):
        foreign = arn.replace(ACCOUNT, OTHER_ACCOUNT)
        assert evaluate(policy, alarm_publishing(topic_arn, foreign, account=OTHER_ACCOUNT)) == IMPLICIT_DENY
        key_request = alarm_publishing("key", foreign, account=OTHER_ACCOUNT, action="kms:GenerateDataKey")
        assert evaluate(alarm_key_policy, key_request) == IMPLICIT_DENY


def test_another_alarm_of_the_same_account_may_not_publish(alarm_topic) -> None:
    topic_arn, policy = alarm_topic
    stranger = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:SomeoneElses-PollerErrors"
    assert evaluate(policy, alarm_publishing(topic_arn, stranger)) == IMPLICIT_DENY


def test_publishing_to_the_alarm_topic_without_tls_is_refused_even_for_the_stacks_alarms(
    alarm_topic, resolved
) -> None:
    topic_arn, policy = alarm_topic
    assert evaluate(policy, alarm_publishing(topic_arn, alarm_arns(resolved)[0], tls=False)) == DENY


def test_no_other_service_may_publish_to_the_alarm_topic(alarm_topic, resolved) -> None:
    topic_arn, policy = alarm_topic
    request = Request(
        action="sns:Publish",
        resource=topic_arn,
        service=EVENTS,
        context={"aws:SourceAccount": ACCOUNT, "aws:SecureTransport": True},
    )
    assert evaluate(policy, request) == IMPLICIT_DENY


def test_the_account_still_administers_the_alarm_key(alarm_key_policy) -> None:
    admin = Request(
        action="kms:PutKeyPolicy",
        resource=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/any",
        principal_arn=f"arn:aws:iam::{ACCOUNT}:role/Admin",
    )
    assert evaluate(alarm_key_policy, admin) == ALLOW
    stranger = replace(admin, principal_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/Admin")
    assert evaluate(alarm_key_policy, stranger) == IMPLICIT_DENY


# --- the schedule's dead-letter queue -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_letter_queue(synth: Synthesized, resolved: ResolvedTemplate) -> tuple[str, dict[str, Any]]:
    queue_id = synth.logical_id(synth.stack.notifier.poller.dead_letter_queue)
    queue_arn = resolved.resolve({"Fn::GetAtt": [queue_id, "Arn"]})
    return queue_arn, resolved.attached_policy("AWS::SQS::QueuePolicy", "Queues", queue_id)


def dead_lettering(queue_arn: str, rule_arn: str, *, tls: bool = True) -> Request:
    return Request(
        action="sqs:SendMessage",
        resource=queue_arn,
        service=EVENTS,
        context={"aws:SourceArn": rule_arn, "aws:SourceAccount": ACCOUNT, "aws:SecureTransport": tls},
    )


def test_the_schedule_rule_may_dead_letter_its_ticks(synth, resolved, dead_letter_queue) -> None:
    queue_arn, policy = dead_letter_queue
    rule_arn = resolved.resolve(
        {"Fn::GetAtt": [synth.logical_id(synth.stack.notifier.poller.schedule), "Arn"]}
    )
    assert evaluate(policy, dead_lettering(queue_arn, rule_arn)) == ALLOW
    assert evaluate(policy, dead_lettering(queue_arn, rule_arn, tls=False)) == DENY


def test_no_other_rule_may_send_to_the_dead_letter_queue(dead_letter_queue) -> None:
    queue_arn, policy = dead_letter_queue
    other_rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/SomeOtherRule"
    assert evaluate(policy, dead_lettering(queue_arn, other_rule)) == IMPLICIT_DENY


# --- the evaluator itself -----------------------------------------------------------------------------

STATEMENT = {
    "Effect": "Allow",
    "Principal": {"Service": CLOUDWATCH},
    "Action": "sns:Publish",
    "Resource": "arn:aws:sns:eu-west-1:111111111111:topic",
    "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:App-*"}},
}


def test_the_evaluator_denies_a_request_missing_a_condition_key() -> None:
    request = Request(action="sns:Publish", resource=STATEMENT["Resource"], service=CLOUDWATCH)
    assert evaluate({"Statement": [STATEMENT]}, request) == IMPLICIT_DENY


def test_the_evaluator_matches_actions_without_case_and_arns_part_by_part() -> None:
    arn = "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:App-Errors"
    request = alarm_publishing(STATEMENT["Resource"], arn, action="SNS:PUBLISH")
    assert evaluate({"Statement": [STATEMENT]}, request) == ALLOW
    across_parts = "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:App-x:y"
    assert (
        evaluate({"Statement": [STATEMENT]}, alarm_publishing(STATEMENT["Resource"], across_parts)) == ALLOW
    )
    wrong_region = arn.replace("eu-west-1", "us-east-1")
    assert evaluate({"Statement": [STATEMENT]}, alarm_publishing(STATEMENT["Resource"], wrong_region)) == (
        IMPLICIT_DENY
    )


def test_the_evaluator_refuses_to_judge_what_it_does_not_know() -> None:
    unknown = {**STATEMENT, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    with pytest.raises(NotImplementedError, match="IpAddress"):
        evaluate({"Statement": [unknown]}, alarm_publishing(STATEMENT["Resource"], "arn"))
    with pytest.raises(NotImplementedError, match="NotPrincipal"):
        evaluate({"Statement": [{**STATEMENT, "NotPrincipal": "*"}]}, alarm_publishing("r", "arn"))

"""The hub stack of the Organization-wide mode, synthesized and its policies evaluated as AWS would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ami_store_notifier.domain.announcements import DETAIL_TYPE
from infra.announcements import ANNOUNCED_DETAIL_TYPES
from tests.infra.policy import (
    ALLOW,
    IMPLICIT_DENY,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate,
    evaluate_identity_policy,
)
from tests.infra.support import ORGANIZATION_ID, Synthesized

HUB_ACCOUNT = "999999999999"
SPOKE_ROLE = "arn:aws:iam::111111111111:role/AmiStoreNotifier-ForwarderRole"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def resolved(hub: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(hub.template_json, Deployment(HUB_ACCOUNT, REGION, "AmiStoreNotifierHub"))


def only(resolved: ResolvedTemplate, resource_type: str) -> dict[str, Any]:
    (found,) = [
        resolved.resource(logical_id)
        for logical_id, resource in resolved.template["Resources"].items()
        if resource["Type"] == resource_type
    ]
    return found


def hub_topic_arn(resolved: ResolvedTemplate) -> str:
    (logical_id,) = [
        logical_id
        for logical_id, resource in resolved.template["Resources"].items()
        if resource["Type"] == "AWS::SNS::Topic" and "Organization" in resource["Properties"]["DisplayName"]
    ]
    return str(resolved.resolve({"Ref": logical_id}))


def putting(
    bus_arn: str,
    *,
    organization: str = ORGANIZATION_ID,
    source: str = "ami-store-notifier",
    detail_type: str = DETAIL_TYPE,
) -> Request:
    """A spoke's forwarder putting one event, with the context keys PutEvents carries."""
    return Request(
        "events:PutEvents",
        bus_arn,
        principal_arn=SPOKE_ROLE,
        context={
            "aws:PrincipalOrgID": organization,
            "events:source": [source],
            "events:detail-type": [detail_type],
        },
    )


def test_the_hub_bus_takes_this_products_announcements_from_the_organization_and_nothing_wider(
    resolved: ResolvedTemplate,
) -> None:
    bus_policy = only(resolved, "AWS::Events::EventBusPolicy")["Properties"]
    policy = {"Statement": [bus_policy["Statement"]]}
    bus_arn = f"arn:aws:events:{REGION}:{HUB_ACCOUNT}:event-bus/AmiStoreNotifierHub-events"

    assert bus_policy["EventBusName"] == "AmiStoreNotifierHub-events"
    assert evaluate(policy, putting(bus_arn)) == ALLOW
    assert evaluate(policy, putting(bus_arn, organization="o-someoneelse")) == IMPLICIT_DENY
    assert evaluate(policy, putting(bus_arn, source="acme.billing")) == IMPLICIT_DENY
    assert evaluate(policy, putting(bus_arn, detail_type="Something Else")) == IMPLICIT_DENY
    assert evaluate(policy, Request("events:PutRule", bus_arn, principal_arn=SPOKE_ROLE)) == IMPLICIT_DENY


def test_the_archive_keeps_every_announcement_for_the_configured_days(resolved: ResolvedTemplate) -> None:
    archive = only(resolved, "AWS::Events::Archive")["Properties"]

    assert archive["RetentionDays"] == 365
    assert archive["EventPattern"] == {
        "source": ["ami-store-notifier"],
        "detail-type": list(ANNOUNCED_DETAIL_TYPES),
    }


def test_the_hub_rule_hands_announcements_to_the_relay_with_retries_and_a_dead_letter_queue(
    resolved: ResolvedTemplate,
) -> None:
    rule = only(resolved, "AWS::Events::Rule")["Properties"]
    (target,) = rule["Targets"]
    function = only(resolved, "AWS::Lambda::Function")["Properties"]

    assert rule["EventBusName"] == "AmiStoreNotifierHub-events"
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert "Arn" in target["DeadLetterConfig"]
    assert function["Handler"] == "ami_store_notifier.hub_relay.lambda_handler"
    assert "TargetArn" in function["DeadLetterConfig"]
    assert set(function["Environment"]["Variables"]) >= {"TOPIC_ARN"}


def relay_policy(hub: Synthesized, resolved: ResolvedTemplate) -> dict[str, Any]:
    """Every statement the relay's role is given, as one identity policy."""
    role_id = hub.logical_id(hub.stack.hub.relay.role)
    return {
        "Statement": [
            statement for policy in resolved.role_policies(role_id) for statement in policy["Statement"]
        ]
    }


def test_the_relay_may_publish_to_the_hub_topic_and_read_names_of_this_organizations_accounts_only(
    hub: Synthesized, resolved: ResolvedTemplate
) -> None:
    policy = relay_policy(hub, resolved)
    topic_arn = hub_topic_arn(resolved)
    relay = "arn:aws:sts::999999999999:assumed-role/relay/fn"

    def decide(action: str, resource: str) -> str:
        return evaluate_identity_policy(policy, Request(action, resource, principal_arn=relay))

    assert decide("sns:Publish", topic_arn) == ALLOW
    assert decide("sns:Publish", topic_arn + "-other") == IMPLICIT_DENY
    member = f"arn:aws:organizations::123456789012:account/{ORGANIZATION_ID}/111111111111"
    stranger = "arn:aws:organizations::123456789012:account/o-someoneelse/111111111111"
    assert decide("organizations:DescribeAccount", member) == ALLOW
    assert decide("organizations:DescribeAccount", stranger) == IMPLICIT_DENY
    assert decide("organizations:ListAccounts", "*") == IMPLICIT_DENY


def test_without_an_organization_id_the_app_has_the_notifiers_stack_only(synth: Synthesized) -> None:
    assert not (synth.outdir / "AmiStoreNotifierHub.template.json").exists()


# --- chat at the hub ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resolved_chat(hub_chat: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(hub_chat.template_json, Deployment(HUB_ACCOUNT, REGION, "AmiStoreNotifierHub"))


def test_with_chat_the_hub_rule_invokes_the_relay_once_more_per_announcement_for_the_chat_topic(
    hub_chat: Synthesized, resolved_chat: ResolvedTemplate
) -> None:
    rule = only(resolved_chat, "AWS::Events::Rule")["Properties"]
    to_topic, to_chat = rule["Targets"]
    function = only(resolved_chat, "AWS::Lambda::Function")["Properties"]
    assert hub_chat.stack.hub.chat is not None
    chat_topic = resolved_chat.resolve({"Ref": hub_chat.logical_id(hub_chat.stack.hub.chat.topic)})

    assert to_topic["Arn"] == to_chat["Arn"]
    assert "InputTransformer" not in to_topic
    assert to_chat["InputTransformer"]["InputPathsMap"] == {
        "detail-type": "$.detail-type",
        "detail": "$.detail",
    }
    assert (
        to_chat["InputTransformer"]["InputTemplate"]
        == '{"channel":"chat","detail-type":<detail-type>,"detail":<detail>}'
    )
    assert to_chat["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert to_chat["DeadLetterConfig"] == to_topic["DeadLetterConfig"]
    assert function["Environment"]["Variables"]["CHAT_TOPIC_ARN"] == chat_topic


def test_the_relay_may_publish_to_the_hub_chat_topic(
    hub_chat: Synthesized, resolved_chat: ResolvedTemplate
) -> None:
    assert hub_chat.stack.hub.chat is not None
    chat_topic = resolved_chat.resolve({"Ref": hub_chat.logical_id(hub_chat.stack.hub.chat.topic)})
    relay = f"arn:aws:sts::{HUB_ACCOUNT}:assumed-role/relay/fn"

    decision = evaluate_identity_policy(
        relay_policy(hub_chat, resolved_chat), Request("sns:Publish", chat_topic, principal_arn=relay)
    )

    assert decision == ALLOW


def test_with_the_hub_the_chat_channels_are_the_hubs_and_the_apps_notifier_keeps_only_its_chat_topic(
    hub_chat: Synthesized,
) -> None:
    notifier = json.loads((hub_chat.outdir / "AmiStoreNotifier.template.json").read_text())
    kinds = [resource["Type"] for resource in notifier["Resources"].values()]
    (slack,) = [
        resource["Properties"]
        for resource in hub_chat.template_json["Resources"].values()
        if resource["Type"] == "AWS::Chatbot::SlackChannelConfiguration"
    ]

    assert slack["ConfigurationName"] == {
        "Fn::Join": ["", ["AmiStoreNotifierHub-", {"Ref": "AWS::Region"}, "-slack"]]
    }
    assert not [kind for kind in kinds if kind.startswith("AWS::Chatbot::")]
    assert "ChatTopicArn" in notifier["Outputs"]

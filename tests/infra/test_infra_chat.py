"""Chat notifications in the stack: the chat topic the poller may publish to, and the Slack and Microsoft
Teams channel configurations that show it, notifications only."""

from __future__ import annotations

from typing import Any

import pytest

from ami_store_notifier.config import load_settings as load_handler_settings
from infra.settings import SettingsError
from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    OTHER_ACCOUNT,
    REGION,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate,
    evaluate_identity_policy,
    evaluate_trust_policy,
)
from tests.infra.support import CHAT, Synthesized, build_app

CHATBOT = "chatbot.amazonaws.com"


@pytest.fixture(scope="module")
def resolved(chat: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(chat.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))


def chat_topic_id(chat: Synthesized) -> str:
    assert chat.stack.notifier.chat is not None
    return chat.logical_id(chat.stack.notifier.chat.topic)


def poller_environment(synthesized: Synthesized) -> dict[str, Any]:
    variables: dict[str, Any] = synthesized.only("AWS::Lambda::Function")[1]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def test_without_chat_notifications_there_is_no_chat_topic_channel_or_variable(synth: Synthesized) -> None:
    assert synth.stack.notifier.chat is None
    assert "CHAT_TOPIC_ARN" not in poller_environment(synth)
    assert "ChatTopicArn" not in synth.template_json["Outputs"]
    assert not synth.resources("AWS::Chatbot::SlackChannelConfiguration")
    assert not synth.resources("AWS::Chatbot::MicrosoftTeamsChannelConfiguration")


def test_the_chat_topic_shares_the_deployments_one_rotating_key_and_is_an_output(chat: Synthesized) -> None:
    """One customer managed key for every topic: a key costs $1 a month whatever it encrypts."""
    topic_id = chat_topic_id(chat)
    topic = chat.resources("AWS::SNS::Topic")[topic_id]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    notification_key = chat.logical_id(chat.stack.notifier.announcements.key)

    assert key_id == notification_key
    assert list(chat.resources("AWS::KMS::Key")) == [key_id]
    assert chat.resources("AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True
    assert chat.template_json["Outputs"]["ChatTopicArn"]["Value"] == {"Ref": topic_id}


def test_the_poller_is_given_the_chat_topic_in_a_form_its_own_parser_accepts(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    variables = poller_environment(chat)
    assert variables["CHAT_TOPIC_ARN"] == {"Ref": chat_topic_id(chat)}

    environment = {name: str(resolved.resolve(value)) for name, value in variables.items()}
    settings = load_handler_settings(environment)

    assert settings.chat_topic_arn == resolved.resolve({"Ref": chat_topic_id(chat)})


def test_the_poller_may_publish_to_the_chat_topic_with_its_key_and_to_no_other_topic(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    notifier = chat.stack.notifier
    role_id = chat.logical_id(notifier.poller.role)
    (policy,) = resolved.role_policies(role_id)
    chat_topic = resolved.resolve({"Ref": chat_topic_id(chat)})
    chat_key = resolved.resolve({"Fn::GetAtt": [chat.logical_id(notifier.chat.key), "Arn"]})
    alarm_topic = resolved.resolve({"Ref": chat.logical_id(notifier.monitoring.alarm_topic)})
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/session"

    def decide(action: str, resource: str) -> str:
        return evaluate_identity_policy(policy, Request(action, resource, principal_arn=session))

    assert decide("sns:Publish", chat_topic) == ALLOW
    assert decide("kms:GenerateDataKey", chat_key) == ALLOW
    assert decide("sns:Publish", alarm_topic) == IMPLICIT_DENY
    assert decide("sns:Subscribe", chat_topic) == IMPLICIT_DENY


def test_publishing_to_the_chat_topic_without_tls_is_refused(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    topic_id = chat_topic_id(chat)
    policy = resolved.attached_policy("AWS::SNS::TopicPolicy", "Topics", topic_id)
    publish = Request(
        "sns:Publish",
        resolved.resolve({"Ref": topic_id}),
        principal_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/session",
        context={"aws:SecureTransport": False},
    )

    assert evaluate(policy, publish) == DENY


def test_the_slack_and_teams_channels_read_the_chat_topic_and_may_run_nothing(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    (slack,) = chat.resources("AWS::Chatbot::SlackChannelConfiguration").values()
    (teams,) = chat.resources("AWS::Chatbot::MicrosoftTeamsChannelConfiguration").values()
    topic = {"Ref": chat_topic_id(chat)}
    deny_all = resolved.resolve(slack["Properties"]["GuardrailPolicies"][0])

    # Configuration names are unique per account: the Region is in them (infra/names.py).
    assert resolved.resolve(slack["Properties"]["ConfigurationName"]) == f"AmiStoreNotifier-{REGION}-slack"
    assert (slack["Properties"]["SlackWorkspaceId"], slack["Properties"]["SlackChannelId"]) == (
        CHAT["slackWorkspaceId"],
        CHAT["slackChannelId"],
    )
    assert resolved.resolve(teams["Properties"]["ConfigurationName"]) == f"AmiStoreNotifier-{REGION}-teams"
    assert teams["Properties"]["TeamsChannelId"] == CHAT["teamsChannelId"]
    assert slack["Properties"]["SnsTopicArns"] == teams["Properties"]["SnsTopicArns"] == [topic]
    assert deny_all == "arn:aws:iam::aws:policy/AWSDenyAll"
    assert resolved.resolve(teams["Properties"]["GuardrailPolicies"]) == [deny_all]
    assert teams["Properties"]["UserRoleRequired"] is False


def test_the_channel_role_is_for_the_chat_service_only_and_has_no_permissions(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    notifier = chat.stack.notifier
    assert notifier.chat is not None
    assert notifier.chat.channel_role is not None
    role_id = chat.logical_id(notifier.chat.channel_role)
    role = chat.resources("AWS::IAM::Role")[role_id]["Properties"]
    role_arn = resolved.resolve({"Fn::GetAtt": [role_id, "Arn"]})

    def assume(service: str) -> str:
        return evaluate_trust_policy(
            role["AssumeRolePolicyDocument"], Request("sts:AssumeRole", role_arn, service)
        )

    assert assume(CHATBOT) == ALLOW
    assert assume("lambda.amazonaws.com") == IMPLICIT_DENY
    assert "ManagedPolicyArns" not in role
    assert resolved.role_policies(role_id) == []
    (slack,) = chat.resources("AWS::Chatbot::SlackChannelConfiguration").values()
    assert resolved.resolve(slack["Properties"]["IamRoleArn"]) == role_arn


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"chatNotifications": "true", "slackWorkspaceId": "T0123ABCD"},
            "slackWorkspaceId needs slackChannelId",
        ),
        (
            {"slackWorkspaceId": "T0123ABCD", "slackChannelId": "C0456EFGH"},
            "slackWorkspaceId needs chatNotifications",
        ),
        (
            {"chatNotifications": "true", "teamsChannelId": CHAT["teamsChannelId"]},
            "teamsChannelId needs teamsTenantId, teamsTeamId",
        ),
        ({**CHAT, "slackChannelId": "#ami-stores"}, "slackChannelId must be a Slack channel id"),
        ({**CHAT, "slackWorkspaceId": "acme"}, "slackWorkspaceId must be a Slack workspace id"),
        (
            {**CHAT, "teamsTenantId": "acme.onmicrosoft.com"},
            "teamsTenantId must be a Microsoft Teams tenant id",
        ),
        ({**CHAT, "teamsChannelId": "19:ab12cd34ef@thread.tacv2"}, "teamsChannelId must be a URL-encoded"),
        (
            {key: value for key, value in CHAT.items() if key != "chatChannelRegion"},
            "slackWorkspaceId needs chatChannelRegion as well: AWS's chat service takes a Slack channel once "
            "per account",
        ),
        ({**CHAT, "chatChannelRegion": "cn-north-1"}, "chatChannelRegion cn-north-1 has no chat service"),
    ],
)
def test_an_incomplete_or_malformed_channel_setting_stops_synthesis_naming_it(
    context: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{message}"):
        build_app(context, nag=False)


def test_the_chat_keys_policy_lets_this_accounts_grants_work_and_nobody_elses(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    """KMS honours the poller's identity grant only because the key policy delegates to the account (AWS
    KMS developer guide, "Default key policy"): a key policy without it would refuse the poller."""
    notifier = chat.stack.notifier
    assert notifier.chat is not None
    key_id = chat.logical_id(notifier.chat.key)
    key_policy = resolved.resource(key_id)["Properties"]["KeyPolicy"]
    key_arn = resolved.resolve({"Fn::GetAtt": [key_id, "Arn"]})
    poller = Request(
        "kms:GenerateDataKey", key_arn, principal_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/s"
    )
    stranger = Request(
        "kms:GenerateDataKey", key_arn, principal_arn=f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/x/s"
    )

    assert evaluate(key_policy, poller) == ALLOW
    assert evaluate(key_policy, stranger) == IMPLICIT_DENY


def test_the_chat_service_is_given_nothing_on_the_key_since_sns_decrypts_before_delivering(
    chat: Synthesized, resolved: ResolvedTemplate
) -> None:
    """SNS "decrypts messages only when they are sent" (SNS developer guide, "Encryption at rest"): a
    subscriber such as the chat service never touches the key. Only publishers that are AWS services
    need the key policy: CloudWatch, for the alarm topic that shares the key; the chat topic's publishers
    are this stack's functions, granted by identity."""
    notifier = chat.stack.notifier
    assert notifier.chat is not None
    key_policy = resolved.resource(chat.logical_id(notifier.chat.key))["Properties"]["KeyPolicy"]
    service_principals = [
        statement["Principal"]["Service"]
        for statement in key_policy["Statement"]
        if "Service" in statement.get("Principal", {})
    ]
    assert service_principals == ["cloudwatch.amazonaws.com"]

"""Chat notifications: the topic the poller publishes custom notifications to, and the Slack or Microsoft
Teams channel configurations of Amazon Q Developer in chat applications that render them."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.encrypted_topic import allow_publishing, encrypted_topic
from infra.settings import Settings

# An AWS managed policy that denies every action: as the channels' guardrail, nobody can run commands
# from the chat, whatever the channel role or a member's own role allows (the chat service's guardrail
# policies cap what any command may do).
NOTIFICATIONS_ONLY_GUARDRAIL = "AWSDenyAll"


class ChatNotifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        name_prefix: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key, self.topic = encrypted_topic(
            self,
            "Chat",
            purpose="AMI store chat notification topic",
            display_name="AMI store task chat notifications",
            email=None,
            removal_policy=removal_policy,
        )
        self._name_prefix = name_prefix
        self._guardrail = iam.ManagedPolicy.from_aws_managed_policy_name(NOTIFICATIONS_ONLY_GUARDRAIL)
        self.channel_role: iam.Role | None = None
        self.slack: chatbot.SlackChannelConfiguration | None = None
        self.teams: chatbot.CfnMicrosoftTeamsChannelConfiguration | None = None
        if settings.slack_workspace_id and settings.slack_channel_id:
            self.slack = self._slack(settings.slack_workspace_id, settings.slack_channel_id)
        if settings.teams_tenant_id and settings.teams_team_id and settings.teams_channel_id:
            self.teams = self._teams(
                settings.teams_tenant_id, settings.teams_team_id, settings.teams_channel_id
            )

    def allow_publishing(self, role: iam.Role) -> None:
        """What a function that publishes the chat messages needs (its statements named apart)."""
        allow_publishing(role, self.topic, self.key, sid_prefix="Chat")

    def _role(self) -> iam.Role:
        """One role for the channels, without policies: they only show what SNS delivers to them."""
        if self.channel_role is None:
            self.channel_role = iam.Role(
                self,
                "ChannelRole",
                assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
                description="AMI store chat channels: notifications only, no permissions",
            )
        return self.channel_role

    def _slack(self, workspace_id: str, channel_id: str) -> chatbot.SlackChannelConfiguration:
        return chatbot.SlackChannelConfiguration(
            self,
            "SlackChannel",
            # Configuration names are unique per account: named after the stack.
            slack_channel_configuration_name=f"{self._name_prefix}-slack",
            slack_workspace_id=workspace_id,
            slack_channel_id=channel_id,
            notification_topics=[self.topic],
            role=self._role(),
            guardrail_policies=[self._guardrail],
        )

    def _teams(
        self, tenant_id: str, team_id: str, channel_id: str
    ) -> chatbot.CfnMicrosoftTeamsChannelConfiguration:
        return chatbot.CfnMicrosoftTeamsChannelConfiguration(
            self,
            "TeamsChannel",
            configuration_name=f"{self._name_prefix}-teams",
            iam_role_arn=self._role().role_arn,
            teams_tenant_id=tenant_id,
            team_id=team_id,
            teams_channel_id=channel_id,
            sns_topic_arns=[self.topic.topic_arn],
            guardrail_policies=[self._guardrail.managed_policy_arn],
            user_role_required=False,
        )

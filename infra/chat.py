"""Chat notifications: the topic the poller publishes custom notifications to, and the Slack or Microsoft
Teams channel configurations of Amazon Q Developer in chat applications that render them."""

from __future__ import annotations

from aws_cdk import Aws, Fn, Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.encrypted_topic import TopicEncryption
from infra.names import SLACK_CHANNEL, TEAMS_CHANNEL, NamePrefix
from infra.regions import only_where, stack_condition
from infra.settings import Settings

# An AWS managed policy that denies every action: as the channels' guardrail, nobody can run commands
# from the chat, whatever the channel role or a member's own role allows (the chat service's guardrail
# policies cap what any command may do).
NOTIFICATIONS_ONLY_GUARDRAIL = "AWSDenyAll"
CHAT_CHANNEL_CONDITION = "InChatChannelRegion"


class ChatNotifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        names: NamePrefix,
        encryption: TopicEncryption,
    ) -> None:
        super().__init__(scope, construct_id)
        # Encrypted as the deployment's other topics (its customer managed key, or SNS's AWS managed key).
        # The key needs no statement for the chat service: SNS "decrypts messages only when they are sent"
        # (SNS developer guide, "Encryption at rest",
        # https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html), so a subscriber
        # never uses the key; only AWS services that publish do, and this topic's publishers are our
        # own functions, granted by identity (allow_publishing).
        self._encryption = encryption
        self.key = encryption.key
        self.topic = encryption.topic(
            self, "Chat", display_name="AMI store task chat notifications", email=None
        )
        self._names = names
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
        if settings.chat_channel_region is not None:
            self._only_in(settings.chat_channel_region)

    def _only_in(self, region: str) -> None:
        """The channel configurations and their role exist only in the stack deployed in ``region``, by a
        condition on the Region: AWS's chat service takes a channel once per account ("Slack channel ...
        has already been configured for AWS account"), so the same template deployed in a second Region
        must not configure it again. Elsewhere the chat topic stays, for a channel of your own.
        chatChannelRegion is checked to be a Region with the chat service (CHAT_CHANNELS_PART)."""
        channels = [part for part in (self.channel_role, self.slack, self.teams) if part is not None]
        in_region = stack_condition(self, CHAT_CHANNEL_CONDITION, Fn.condition_equals(Aws.REGION, region))
        only_where(in_region, *channels)

    def allow_publishing(self, role: iam.Role) -> None:
        """What a function that publishes the chat messages needs (its statements named apart)."""
        self._encryption.allow_publishing(role, self.topic, sid_prefix="Chat")

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
            slack_channel_configuration_name=self._names.name(SLACK_CHANNEL, "slack", stack=Stack.of(self)),
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
            configuration_name=self._names.name(TEAMS_CHANNEL, "teams", stack=Stack.of(self)),
            iam_role_arn=self._role().role_arn,
            teams_tenant_id=tenant_id,
            team_id=team_id,
            teams_channel_id=channel_id,
            sns_topic_arns=[self.topic.topic_arn],
            guardrail_policies=[self._guardrail.managed_policy_arn],
            user_role_required=False,
        )

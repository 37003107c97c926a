"""Where announcements are sent besides the bus: the notification email, and the chat topic with its
Slack or Microsoft Teams channel configuration.
"""

from __future__ import annotations

from ami_store_notifier.setting_parsers import REGION_PATTERN, Setting, boolean, email_address, matching

_GUID = r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
# The pattern CloudFormation documents for AWS::Chatbot::MicrosoftTeamsChannelConfiguration TeamsChannelId.
_TEAMS_CHANNEL = r"[a-zA-Z0-9\-_=+/.,]*%3[aA][a-zA-Z0-9\-_=+/.,]*%40[a-zA-Z0-9\-_=+/.,]*"

NOTIFICATION_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="notificationEmail",
        variable=None,
        parse=email_address,
        shown_default="none",
        allowed="an email address",
        meaning="Subscribes the address to the notification topic (confirm the email AWS sends).",
    ),
    Setting(
        key="chatNotifications",
        variable=None,
        parse=boolean,
        default=False,
        allowed="`true`/`false`",
        meaning="Also publishes every announcement, as an Amazon Q Developer in chat applications custom "
        "notification (title, description, next steps, one thread per task), to a chat topic (output "
        "`ChatTopicArn`) for a Slack or Teams channel configuration: the settings below create one, or add "
        "the topic to one of your own.",
    ),
    Setting(
        key="slackWorkspaceId",
        variable=None,
        parse=matching(r"[0-9A-Z]{1,255}", "a Slack workspace id (T...)"),
        shown_default="none",
        allowed="the workspace id the chat console shows once the workspace is authorized (`T...`)",
        meaning="With `slackChannelId`: creates the Slack channel configuration for the chat topic "
        "(notifications only: its guardrail policy denies every action).",
    ),
    Setting(
        key="slackChannelId",
        variable=None,
        parse=matching(r"[A-Za-z0-9]{1,255}", "a Slack channel id (C...)"),
        shown_default="none",
        allowed="a Slack channel id (`C...`; invite the app to a private channel)",
        meaning="The Slack channel that receives the chat notifications.",
    ),
    Setting(
        key="teamsTenantId",
        variable=None,
        parse=matching(_GUID, "a Microsoft Teams tenant id (a GUID)"),
        shown_default="none",
        allowed="a GUID",
        meaning="With `teamsTeamId` and `teamsChannelId`: creates the Microsoft Teams channel configuration "
        "for the chat topic (notifications only). The team must be configured in the chat console first.",
    ),
    Setting(
        key="teamsTeamId",
        variable=None,
        parse=matching(_GUID, "a Microsoft Teams team id (a GUID)"),
        shown_default="none",
        allowed="a GUID",
        meaning="The Microsoft Teams team of the channel.",
    ),
    Setting(
        key="teamsChannelId",
        variable=None,
        parse=matching(_TEAMS_CHANNEL, "a URL-encoded Microsoft Teams channel id (19%3A...%40thread.tacv2)"),
        shown_default="none",
        allowed="the channel id from the channel's link, URL-encoded (`19%3A...%40thread.tacv2`)",
        meaning="The Microsoft Teams channel that receives the chat notifications.",
    ),
    Setting(
        key="chatChannelRegion",
        variable=None,
        parse=matching(REGION_PATTERN.pattern, "a Region name"),
        shown_default="none",
        allowed="a Region name, where the chat service exists (not China or GovCloud)",
        meaning="Needed with the Slack or Teams settings: the one Region whose stack creates the channel "
        "configurations. AWS's chat service takes a channel once per account, so the same stack deployed "
        "in a second Region must not configure it again; there the chat topic is created without a "
        "channel (docs/deploying/chat.md).",
    ),
)

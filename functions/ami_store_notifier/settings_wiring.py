"""The handler's variables that the stack sets from its own resources and settings, never from context."""

from __future__ import annotations

from ami_store_notifier.setting_parsers import Setting, WholeNumber, matching, required_text

_topic_arn = matching(r"arn:aws[a-z\-]*:sns:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,256}", "an SNS topic ARN")

WIRING_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key=None,
        variable="TABLE_NAME",
        parse=required_text,
        required=True,
        allowed="a table name",
        meaning="The state table (partition key `pk`, TTL attribute `expiresAt`).",
    ),
    Setting(
        key=None,
        variable="TOPIC_ARN",
        parse=_topic_arn,
        required=True,
        allowed="an SNS topic ARN",
        meaning="The topic announcements are published to.",
    ),
    Setting(
        key=None,
        variable="CHAT_TOPIC_ARN",
        parse=_topic_arn,
        shown_default="none: no chat notifications",
        allowed="an SNS topic ARN",
        meaning="The chat topic custom notifications are published to (set when `chatNotifications` is on).",
    ),
    Setting(
        key=None,
        variable="EVENT_BUS_NAME",
        parse=required_text,
        required=True,
        allowed="a bus name or ARN",
        meaning="The bus events are put on.",
    ),
    Setting(
        key=None,
        variable="CLAIM_LEASE_SECONDS",
        parse=WholeNumber(30, 24 * 3600),
        default=300,
        meaning="How long a claimed delivery is left to its run before another run takes it over; must "
        "exceed the function timeout (the stack sets `functionTimeoutSeconds` + 60).",
    ),
)

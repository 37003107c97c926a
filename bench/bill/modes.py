"""The deployments the bill prices, declared once: each is CDK context given to the real app.

A new mode is one more `Mode` here, with the context that turns it on; its quantities then come from its
own template and from runs of the handler with its environment (with hints, hint runs too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

NOTIFIER, SPOKE, HUB = "notifier", "spoke", "hub"
"""Which template of the synthesized app a mode is priced from: the app's notifier stack, the StackSet's
spoke template, or the hub stack."""

ORG_ACCOUNTS = 100
ORG_REGIONS = 2
"""The Organization the bill prices: spokes in 100 accounts and 2 Regions, and one hub."""

_HUB_ACCOUNT = "999999999999"
ORGANIZATION: Mapping[str, str] = {
    "organizationId": "o-a1b2c3d4e5",
    "hubEventBusArn": f"arn:aws:events:us-east-1:{_HUB_ACCOUNT}:event-bus/AmiStoreNotifierHub-events",
    "spokeOrganizationalUnits": "ou-ab12-cdefgh34",
    "spokeRegions": "us-east-1,eu-west-1",
    "spokeAssetBucketPrefix": "acme-ami-store-notifier",
    "managementAccountId": _HUB_ACCOUNT,
}
CHAT: Mapping[str, str] = {
    "chatNotifications": "true",
    "slackWorkspaceId": "T0123ABCD",
    "slackChannelId": "C0456EFGH",
    "chatChannelRegion": "us-east-1",
}
LEAN: Mapping[str, str] = {"alarms": "heartbeat", "dashboard": "false", "customerManagedKey": "false"}
"""The issue's lean setting: the heartbeat alarm only, no dashboard, no customer managed key."""
HINTS: Mapping[str, str] = {"hints": "true"}
"""Issue 20's hints, with the default settings otherwise. Priced where both hints arrive: a trail logs
management events (CloudTrail's first copy of them is free, not priced here) and the bucket's EventBridge
delivery is on."""
QUIET: Mapping[str, str] = {**HINTS, "quietWhenIdle": "true"}
"""Issue 20's quiet when idle, which needs hints."""


@dataclass(frozen=True)
class Mode:
    key: str
    title: str
    context: Mapping[str, str] = field(default_factory=dict)
    template: str = NOTIFIER
    single_account: bool = True
    """Priced within the account's three free dashboards and SQS's million free requests; the
    Organization's accounts are priced beyond them (its member accounts have dashboards of their own, and
    consolidated billing gives the whole Organization one free tier)."""
    target_usd: float | None = None
    """The most a month per account and Region the issue allows (a PASS/FAIL target), if any."""
    judged_at: int | None = None
    """The stores a month the target is judged at; None: the largest N the bill prices."""


MODES: tuple[Mode, ...] = (
    # $2.00 until the StoreQuota alarm the archive-assurance issue asks for, $0.10 at CloudWatch's price:
    # nothing else a default deployment pays moved by more than a few tenths of a cent.
    Mode("default", "Single account, default settings", target_usd=2.10),
    Mode("chat", "Single account, chat notifications on (one Slack channel)", CHAT),
    Mode(
        "lean",
        "Single account, lean (" + ", ".join(f"{k}={v}" for k, v in LEAN.items()) + ")",
        LEAN,
        target_usd=0.50,
        # The lean setting is for an account that stores little: its floor is the heartbeat metric and
        # alarm ($0.40), and 10,000 stores a month add their writes and publishes (about $0.20).
        judged_at=100,
    ),
    # No target: the issue asks only that the docs say what they cost. Hints are off by default.
    Mode("hints", "Single account, hints on (the trail's starts and the bucket's objects)", HINTS),
    Mode("quiet", "Single account, quiet when idle (hints on)", QUIET),
    Mode(
        "spoke",
        "Organization-wide: a StackSet spoke (one account and Region)",
        ORGANIZATION,
        SPOKE,
        single_account=False,
        target_usd=1.50,
    ),
    Mode(
        "hub",
        "Organization-wide: the hub (N: the stores of all its spokes together)",
        ORGANIZATION,
        HUB,
        single_account=False,
    ),
)
BY_KEY = {mode.key: mode for mode in MODES}

"""Which bus announcements go on, and the Organization-wide mode: the hub that collects every
account's announcements, and the StackSet and management-account spokes that forward to it.
"""

from __future__ import annotations

from ami_store_notifier.setting_parsers import (
    Setting,
    WholeNumber,
    boolean,
    matching,
    organizational_units,
    regions,
    stack_name,
)

BUS_ARN_PATTERN = (
    r"arn:(?P<partition>aws[a-z\-]*):events:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12})"
    r":event-bus/(?P<name>[A-Za-z0-9._\-/]{1,256})"
)
_bus_arn = matching(
    BUS_ARN_PATTERN, "an EventBridge bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)"
)


def _not_default(value: str) -> str | None:
    if value == "default":
        return (
            "names a bus to create and cannot be 'default': to announce on the default bus set "
            "eventBusArn to its ARN"
        )
    return None


ORGANIZATION_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="eventBusArn",
        variable=None,
        parse=_bus_arn,
        shown_default="none: a new custom bus",
        allowed="`arn:aws:events:<region>:<account>:event-bus/<name>`, the default bus included",
        meaning="Announce on an existing bus instead of a new one. The handler is given the bus's name, "
        "so the bus must be in the stack's account and region: the stack is pinned to them, and synthesis "
        "stops when the CLI's credentials point elsewhere.",
    ),
    Setting(
        key="eventBusName",
        variable=None,
        parse=matching(r"[A-Za-z0-9._\-]{1,256}", "1-256 letters, digits or . _ -", reserved=_not_default),
        shown_default="`<stackName>-events`",
        allowed="1-256 of letters, digits, `. _ -`; not `default`",
        meaning="Name of the new bus. Not together with `eventBusArn`.",
    ),
    Setting(
        key="hubEventBusArn",
        variable=None,
        parse=_bus_arn,
        shown_default="none: no forwarding",
        allowed="the hub stack's `HubEventBusArn` output",
        meaning="Organization-wide mode: a rule on this notifier's bus forwards every announcement to the "
        "hub's bus, through a role that may put events on that bus only (docs/deploying/organization.md).",
    ),
    Setting(
        key="organizationId",
        variable=None,
        parse=matching(r"o-[a-z0-9]{10,32}", "an AWS Organizations id (o-...)"),
        shown_default="none: no hub",
        allowed="`o-` then 10-32 lowercase letters or digits",
        meaning="Organization-wide mode: also synthesizes the hub stack (`hubStackName`), whose bus takes "
        "announcements from every account of this Organization and nothing wider "
        "(docs/deploying/organization.md).",
    ),
    Setting(
        key="hubStackName",
        variable=None,
        parse=stack_name,
        default="AmiStoreNotifierHub",
        allowed="letter, then letters, digits, `-` (max 128)",
        meaning="The hub stack's name; its bus is `<hubStackName>-events` and its archive "
        "`<hubStackName>-announcements`, whose 48-character limit allows at most 34 characters here "
        "(synthesis says so).",
    ),
    Setting(
        key="hubArchiveRetentionDays",
        variable=None,
        parse=WholeNumber(0, 3650),
        default=365,
        meaning="Days the hub's archive keeps every announcement for replay (0: for ever).",
    ),
    Setting(
        key="spokeOrganizationalUnits",
        variable=None,
        parse=organizational_units,
        default=(),
        shown_default="none: no StackSet",
        allowed="comma-separated string or JSON list of `ou-...` ids (or the root `r-...`)",
        meaning="Organization-wide rollout: also synthesizes the StackSet stack, which deploys the notifier "
        "(forwarding to `hubEventBusArn`) to every account of these units, now and as accounts join "
        "(docs/deploying/organization.md). Needs `organizationId`, `hubEventBusArn`, `spokeRegions` and "
        "`spokeAssetBucketPrefix`.",
    ),
    Setting(
        key="spokeRegions",
        variable=None,
        parse=regions,
        default=(),
        shown_default="none",
        allowed="comma-separated string or JSON list of region names",
        meaning="The Regions the StackSet deploys the notifier to, in each account, and those of the "
        "management account's spokes. Each spoke polls only its own Region (`regions` does not reach it).",
    ),
    Setting(
        key="spokeAssetBucketPrefix",
        variable=None,
        parse=matching(r"[a-z0-9][a-z0-9.-]{2,40}", "3-41 lowercase letters, digits, . or -"),
        shown_default="none",
        allowed="3-41 of lowercase letters, digits, `. -`",
        meaning="The StackSet's code is served from buckets `<prefix>-<region>` (one per spoke Region, "
        "readable by the Organization), which the `AmiStoreNotifierSpokeAssets-<region>` stacks create.",
    ),
    Setting(
        key="spokeFailureTolerancePercentage",
        variable=None,
        parse=WholeNumber(0, 100),
        default=10,
        meaning="StackSet operations (not automatic deployments to accounts that join later): the share of "
        "a Region's accounts that may fail, rounded down (10 % of fewer than 10 accounts is 0), before "
        "CloudFormation stops the operation in that Region (docs/deploying/organization.md).",
    ),
    Setting(
        key="spokeMaxConcurrentPercentage",
        variable=None,
        parse=WholeNumber(1, 100),
        default=25,
        meaning="StackSet operations (not automatic deployments to accounts that join later): the share of "
        "a Region's accounts deployed at once, rounded down but at least 1, however many fail "
        "(`SOFT_FAILURE_TOLERANCE`); Regions in parallel (docs/deploying/organization.md).",
    ),
    Setting(
        key="stackSetDelegatedAdmin",
        variable=None,
        parse=boolean,
        default=False,
        allowed="`true`/`false`",
        meaning="`true` when you deploy the StackSet from a delegated administrator account rather than "
        "the management account (CallAs DELEGATED_ADMIN).",
    ),
    Setting(
        key="spokeManagementAccount",
        variable=None,
        parse=boolean,
        default=True,
        allowed="`true`/`false`",
        meaning="Organization-wide rollout: also synthesizes the management account's spokes, stacks "
        "`AmiStoreNotifierManagementSpoke-<region>` (one per spoke Region), since a service-managed StackSet "
        "never deploys to the management account. Deploy them with that account's credentials; `false` "
        "when it runs no workloads (docs/deploying/organization.md).",
    ),
    Setting(
        key="managementAccountId",
        variable=None,
        parse=matching(r"\d{12}", "a 12-digit AWS account id"),
        shown_default="none",
        allowed="the Organization's management account id (12 digits)",
        meaning="Needed with `spokeManagementAccount`: the management account's spokes are pinned to it, "
        "so that the CDK CLI refuses to deploy them with another account's credentials (from a delegated "
        "administrator in a targeted unit, that account would get a second spoke).",
    ),
)

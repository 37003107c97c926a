"""Every setting, declared once: its CDK context key, the handler's environment variable, how a value is
parsed and checked, its default and what it means.

Four readers use these declarations: the handler's config (`config.py`, from the environment), the
CDK settings (`infra/settings.py`, from context), the stack's environment wiring (which variables
the function gets, and how each value is written), and the README's tables (`make docs`). A value
can come from JSON (cdk.json) or from a string (`-c key=value`, an environment variable), so every
parser takes both, and a bad value raises a `SettingError` whose message starts with the name it
was read under: the context key at synth time, the variable at run time.
"""

from __future__ import annotations

from ami_store_notifier.domain.known_tasks import MAX_OVERLAP_MINUTES
from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.store_watch import DEFAULT_STALL_AFTER_MINUTES
from ami_store_notifier.ec2_limits import MAX_RESULTS_PER_PAGE
from ami_store_notifier.setting_parsers import (
    REGION_PATTERN,
    OneOfNumbers,
    Setting,
    WholeNumber,
    boolean,
    bucket_names,
    bucket_names_or_prefixes,
    matching,
    organizational_units,
    regions,
    required_text,
    task_states,
)

MAX_PAGE_SIZE = MAX_RESULTS_PER_PAGE
# The heartbeat alarm looks at three schedule periods, and CloudWatch evaluates at most one day of data.
MAX_SCHEDULE_MINUTES = 480
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)


def _not_aws(value: str) -> str | None:
    return "must not start with 'aws.' (reserved for AWS)" if value.startswith("aws.") else None


def _not_default(value: str) -> str | None:
    if value == "default":
        return (
            "names a bus to create and cannot be 'default': to announce on the default bus set "
            "eventBusArn to its ARN"
        )
    return None


BUS_ARN_PATTERN = (
    r"arn:(?P<partition>aws[a-z\-]*):events:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12})"
    r":event-bus/(?P<name>[A-Za-z0-9._\-/]{1,256})"
)
_EMAIL = r"[^@\s,]+@[^@\s,]+\.[^@\s,]+"
_GUID = r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
# The pattern CloudFormation documents for AWS::Chatbot::MicrosoftTeamsChannelConfiguration TeamsChannelId.
_TEAMS_CHANNEL = r"[a-zA-Z0-9\-_=+/.,]*%3[aA][a-zA-Z0-9\-_=+/.,]*%40[a-zA-Z0-9\-_=+/.,]*"

# --- the settings --------------------------------------------------------------------------------------

DEFAULT_TIMEOUT_SECONDS = 120
# The `alarms` setting's values: every alarm, or the heartbeat alone.
ALL_ALARMS = "all"
HEARTBEAT_ALARM_ONLY = "heartbeat"

SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="stackName",
        variable=None,
        parse=matching(r"[A-Za-z][A-Za-z0-9-]{0,127}", "a CloudFormation stack name"),
        default="AmiStoreNotifier",
        allowed="letter, then letters, digits, `-` (max 128)",
        meaning="CloudFormation stack name; also prefixes every fixed name: the bus and the schema registry "
        "(`<stackName>-events`), the alarms (`<stackName>-<Alarm>`), and, with the Region since their names "
        "are unique per account, the dashboard (`<stackName>-<region>`) and the chat channel configurations "
        "(`<stackName>-<region>-slack`/`-teams`); and it is the `service` dimension of the deployment's own "
        "metrics. At most 57 characters: a longer one makes the schema registry's name too long, and "
        "synthesis says so.",
    ),
    Setting(
        key="scheduleMinutes",
        variable=None,
        parse=WholeNumber(1, MAX_SCHEDULE_MINUTES),
        default=1,
        meaning="Minutes between polls (EventBridge rule `rate(...)`). The heartbeat alarm looks at 3 "
        "periods, and CloudWatch evaluates at most one day, hence 480.",
    ),
    Setting(
        key="regions",
        variable="REGIONS",
        parse=regions,
        default=(),
        shown_default="the stack's region",
        allowed="comma-separated string or JSON list of region names",
        meaning="Regions whose store tasks are polled, all in the stack's partition. The poller's "
        "`ec2:DescribeStoreImageTasks` grant is limited to them (`aws:RequestedRegion`); one "
        "`RegionFailures` alarm covers them all, and the log line it points to names the Region. Events "
        "carry their region.",
    ),
    Setting(
        key="eventSource",
        variable="EVENT_SOURCE",
        parse=matching(r"[A-Za-z0-9._\-/]{1,256}", "1-256 letters, digits or . _ - /", reserved=_not_aws),
        default="ami-store-notifier",
        allowed="1-256 of letters, digits, `. _ - /`; not starting with `aws.`",
        meaning="`source` of the EventBridge events.",
    ),
    Setting(
        key="announceStates",
        variable="ANNOUNCE_STATES",
        parse=task_states,
        default=(TaskState.COMPLETED, TaskState.FAILED),
        allowed="any of `InProgress`, `Completed`, `Failed` (case-insensitive), comma-separated or JSON list",
        meaning="Task states that are announced; add `InProgress` to announce starts.",
    ),
    Setting(
        key="announceExistingOnFirstRun",
        variable="ANNOUNCE_EXISTING_ON_FIRST_RUN",
        parse=boolean,
        default=False,
        allowed="`true`/`false` (also `yes`/`no`, `1`/`0`, `on`/`off`)",
        meaning="Whether the first poll announces tasks that had already finished before the notifier "
        "was deployed.",
    ),
    Setting(
        key="pageSize",
        variable="PAGE_SIZE",
        parse=WholeNumber(1, MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
        meaning="`MaxResults` of each `DescribeStoreImageTasks` page.",
    ),
    Setting(
        key="listingOverlapMinutes",
        variable="LISTING_OVERLAP_MINUTES",
        # The known-tasks item keeps the finished tasks of this window: see known_tasks.py for its bound.
        parse=WholeNumber(1, MAX_OVERLAP_MINUTES),
        default=15,
        meaning="How far back before the newest task already seen the incremental listing keeps reading.",
    ),
    Setting(
        key="fullScanIntervalMinutes",
        variable="FULL_SCAN_INTERVAL_MINUTES",
        parse=WholeNumber(1, 7 * 24 * 60),
        default=60,
        meaning="Minutes between safety nets: every task in progress listed, the head read down to the "
        "previous net.",
    ),
    Setting(
        key="hints",
        variable=None,
        parse=boolean,
        default=False,
        allowed="`true`/`false`",
        meaning="Rules on the default bus hand CloudTrail's `CreateStoreImageTask` and S3's `Object "
        "Created` for `ami-*.bin` to a queue, whose batches run the poller for the AMIs they name: an end is "
        "announced seconds after its object appears. A hint is only a reason to ask EC2. Starts need a trail "
        "logging management events, ends need the bucket's EventBridge delivery on; the queue's dead-letter "
        "alarm is $0.10 a month.",
    ),
    Setting(
        key="quietWhenIdle",
        variable="QUIET_WHEN_IDLE",
        parse=boolean,
        default=False,
        allowed="`true`/`false`; needs `hints`",
        meaning="While no store is in progress, scheduled runs ask EC2 nothing until the safety net "
        "(`fullScanIntervalMinutes`) is due, relying on the trail's start hints. A store the safety net "
        "finds without a hint is counted (`StartsWithoutHint`) and alarmed: the trail is not delivering.",
    ),
    Setting(
        key="readableBuckets",
        variable="READABLE_BUCKETS",
        parse=bucket_names,
        default=(),
        shown_default="none (no archive checks)",
        allowed="at most 25 bucket names, comma-separated or a list",
        meaning="Turns on archive checks: after each store completes, one `HeadObject` checks its object "
        "and an `EC2 AMI Store Archive Verification` event says `Verified` or `NotVerified` with the "
        "reason. The function may read these buckets only (`s3:GetObject`, `s3:ListBucket` and the "
        "bucket's versioning, Object Lock and lifecycle configuration); a store into any other bucket is "
        "`NotVerified`: not among the buckets this deployment may read.",
    ),
    Setting(
        key="approvedBuckets",
        variable="APPROVED_BUCKETS",
        parse=bucket_names_or_prefixes,
        default=(),
        shown_default="none (off)",
        allowed="at most 25 bucket names, or beginnings ending in `*` (`archive-*`)",
        meaning="Turns on the unapproved-bucket alert: a store into a bucket not listed is announced the "
        "first time the notifier sees it, as an `EC2 AMI Store Into Unapproved Bucket` event (with who "
        "started it when `hints` is on).",
    ),
    Setting(
        key="stallAfterMinutes",
        variable="STALL_AFTER_MINUTES",
        parse=WholeNumber(0, 7 * 24 * 60),
        default=DEFAULT_STALL_AFTER_MINUTES,
        allowed="0 (off) to 10080",
        meaning="A store whose progress the notifier has watched stay the same this long is announced "
        "once as stalled (`EC2 AMI Store Task Stalled`). Only the notifier's own observations count: a "
        "pause of the notifier restarts the clock.",
    ),
    Setting(
        key="deliveryReserveSeconds",
        variable="DELIVERY_RESERVE_SECONDS",
        parse=WholeNumber(1, 600),
        default=20,
        allowed="1-600, less than `functionTimeoutSeconds`",
        meaning="Time kept back at the end of each run to finish deliveries.",
    ),
    Setting(
        key="stateTtlDays",
        variable="STATE_TTL_DAYS",
        parse=WholeNumber(32, 3650),
        default=45,
        meaning="Days a task's record is kept in the table (TTL attribute `expiresAt`); longer than EC2's "
        "31-day listing.",
    ),
    Setting(
        key="functionTimeoutSeconds",
        variable=None,
        parse=WholeNumber(10, 900),
        default=DEFAULT_TIMEOUT_SECONDS,
        meaning="Poller timeout. The claim lease (`CLAIM_LEASE_SECONDS`) is this plus 60 s; the dashboard "
        "marks it on the poller's duration graph.",
    ),
    Setting(
        key="functionMemoryMb",
        variable=None,
        parse=WholeNumber(128, 10240),
        default=256,
        meaning="Poller memory size.",
    ),
    Setting(
        key="logRetentionDays",
        variable=None,
        parse=OneOfNumbers(LOG_RETENTION_DAYS),
        default=90,
        meaning="Retention of the poller's log group (the periods CloudWatch Logs accepts).",
    ),
    Setting(
        key="notificationEmail",
        variable=None,
        parse=matching(_EMAIL, "an email address"),
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
        "channel (README, Chat).",
    ),
    Setting(
        key="alarmEmail",
        variable=None,
        parse=matching(_EMAIL, "an email address"),
        shown_default="none",
        allowed="an email address",
        meaning="Subscribes the address to the alarm topic.",
    ),
    Setting(
        key="alarms",
        variable=None,
        parse=matching(f"{ALL_ALARMS}|{HEARTBEAT_ALARM_ONLY}", f"{ALL_ALARMS} or {HEARTBEAT_ALARM_ONLY}"),
        default=ALL_ALARMS,
        allowed=f"`{ALL_ALARMS}`, `{HEARTBEAT_ALARM_ONLY}`",
        meaning="The notifier's alarms, $0.10 a month each (CloudWatch pricing). `all`: "
        "`NoSuccessfulPolls` (the heartbeat), `PollerErrors`, `PublishFailures`, `RegionFailures`, "
        "`StoreQuota` (90% of EC2's 1,200 GB of stores in progress), and "
        "`HubForwardingDeadLetters` with `hubEventBusArn`. `heartbeat`: `NoSuccessfulPolls` only, which "
        "still fires when the poller stops running, is throttled, times out or fails in every Region, but "
        "not for failures that leave some runs or Regions working (README, Runbook). The hub keeps its own "
        "alarms either way.",
    ),
    Setting(
        key="dashboard",
        variable=None,
        parse=boolean,
        shown_default="`true`; `false` in StackSet spokes",
        allowed="`true`/`false`",
        meaning="The CloudWatch dashboard `<stackName>-<region>`, $3 a month past an account's first three "
        "(CloudWatch pricing). Unset, it is left out of the StackSet's spokes and the management account's "
        "spokes, whose announcements the hub shows; set, it applies to them too.",
    ),
    Setting(
        key="customerManagedKey",
        variable=None,
        parse=boolean,
        shown_default="`true`; `false` in StackSet spokes",
        allowed="`true`/`false`",
        meaning="`true`: one customer managed KMS key, $1 a month (KMS pricing), encrypts every topic of the "
        "stack (the hub's too). `false`: the notification and chat topics, which only this stack's roles "
        "publish to, use SNS's AWS managed key `alias/aws/sns` (no monthly charge), and the alarm topic, "
        "which carries only alarm names and states, is not encrypted at rest: CloudWatch can publish to an "
        "encrypted topic only through a customer managed key whose policy names it. Unset, it is `false` in "
        "the StackSet's spokes and the management account's spokes, to keep each within $1.50 a month; set, "
        "it applies to them too.",
    ),
    Setting(
        key="tracing",
        variable=None,
        parse=boolean,
        default=False,
        allowed="`true`/`false`",
        meaning="AWS X-Ray active tracing of the poller and the hub's relay, with the X-Ray permissions it "
        "needs: a trace per run, 43,800 a month at one run a minute, $5 per million past X-Ray's free tier.",
    ),
    Setting(
        key="eventBusArn",
        variable=None,
        parse=matching(
            BUS_ARN_PATTERN, "an EventBridge bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)"
        ),
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
        parse=matching(
            BUS_ARN_PATTERN, "an EventBridge bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)"
        ),
        shown_default="none: no forwarding",
        allowed="the hub stack's `HubEventBusArn` output",
        meaning="Organization-wide mode: a rule on this notifier's bus forwards every announcement to the "
        "hub's bus, through a role that may put events on that bus only (README, Organization-wide).",
    ),
    Setting(
        key="organizationId",
        variable=None,
        parse=matching(r"o-[a-z0-9]{10,32}", "an AWS Organizations id (o-...)"),
        shown_default="none: no hub",
        allowed="`o-` then 10-32 lowercase letters or digits",
        meaning="Organization-wide mode: also synthesizes the hub stack (`hubStackName`), whose bus takes "
        "announcements from every account of this Organization and nothing wider (README, "
        "Organization-wide).",
    ),
    Setting(
        key="hubStackName",
        variable=None,
        parse=matching(r"[A-Za-z][A-Za-z0-9-]{0,127}", "a CloudFormation stack name"),
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
        "(README, Organization-wide). Needs `organizationId`, `hubEventBusArn`, `spokeRegions` and "
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
        "CloudFormation stops the operation in that Region (README, Organization-wide).",
    ),
    Setting(
        key="spokeMaxConcurrentPercentage",
        variable=None,
        parse=WholeNumber(1, 100),
        default=25,
        meaning="StackSet operations (not automatic deployments to accounts that join later): the share of "
        "a Region's accounts deployed at once, rounded down but at least 1, however many fail "
        "(`SOFT_FAILURE_TOLERANCE`); Regions in parallel (README, Organization-wide).",
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
        "when it runs no workloads (README, Organization-wide).",
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
    Setting(
        key="powertoolsLayerArn",
        variable=None,
        parse=matching(
            r"arn:aws[a-z\-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:layer:[A-Za-z0-9_\-]{1,140}:\d{1,8}",
            "a Lambda layer version ARN (arn:aws:lambda:...:layer:NAME:N)",
        ),
        shown_default="AWS's layer for the pinned Powertools",
        allowed="a Lambda layer version ARN",
        meaning="Layer to load instead of AWS's own build of the Powertools version the tests pin "
        "(`POWERTOOLS_VERSION` in `infra/asset.py`), which the stack reads at deploy time from the public "
        "parameter `/aws/service/powertools/python/arm64/python3.13/<version>` of the deployment's "
        "region and partition. Needed where AWS publishes no such parameter (README, Regions); a layer "
        "version of the deployment's own Region, which StackSet spokes can load only when it is shared with "
        "the Organization (`aws lambda add-layer-version-permission --principal '*' --organization-id ...`). "
        "(`powertoolsLayerVersion` is no longer read: synthesis stops and says so.)",
    ),
    Setting(
        key="reservedConcurrency",
        variable=None,
        parse=WholeNumber(1, 1000),
        shown_default="none",
        meaning="Concurrency reserved for the poller. Not needed for correctness (see Deploying), and "
        "refused by Lambda in accounts without room for it.",
    ),
    Setting(
        key="retainOnDelete",
        variable=None,
        parse=boolean,
        default=True,
        allowed="`true`/`false`",
        meaning="`false` makes a disposable deployment: `cdk destroy` then deletes the table, the log "
        "group and the key (after KMS's 30-day waiting period).",
    ),
    # Set by the stack from its own resources and settings, not by context.
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
        parse=matching(r"arn:aws[a-z\-]*:sns:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,256}", "an SNS topic ARN"),
        required=True,
        allowed="an SNS topic ARN",
        meaning="The topic announcements are published to.",
    ),
    Setting(
        key=None,
        variable="CHAT_TOPIC_ARN",
        parse=matching(r"arn:aws[a-z\-]*:sns:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,256}", "an SNS topic ARN"),
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

CONTEXT_SETTINGS = tuple(setting for setting in SETTINGS if setting.key is not None)
HANDLER_SETTINGS = tuple(setting for setting in SETTINGS if setting.variable is not None)

"""Every deployment setting, read from CDK context, parsed and checked in one place.

Each setting is declared once, in `functions/ami_store_notifier/settings_spec.py`, with its context key,
the handler's variable, its parser and default; the handler reads the same declarations from its
environment, so a value accepted here is accepted there. A bad value stops synthesis with a
`SettingsError` whose message names the context key, before any resource is defined. What depends on
two settings, or on where the stack deploys, is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from aws_cdk import RemovalPolicy

from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.partitions import partition_of
from ami_store_notifier.setting_parsers import SettingError, is_absent
from ami_store_notifier.settings_spec import BUS_ARN_PATTERN, CONTEXT_SETTINGS, HEARTBEAT_ALARM_ONLY
from infra.regions import CHAT_CHANNELS_PART, WITHOUT_POWERTOOLS_PARAMETER

# Context keys that earlier versions read: refused with what replaces them, so an old cdk.json fails loudly.
RETIRED_KEYS = {
    "powertoolsLayerVersion": (
        "powertoolsLayerVersion is no longer read: the layer is now AWS's own published layer for the "
        "Powertools version the tests pin, looked up in the deployment's region and partition. Remove the "
        "key, or set powertoolsLayerArn to a full layer version ARN to override"
    ),
}


# What a spoke takes for a setting left unset, where it differs from a single account's default. The hub
# shows the Organization's announcements, so a spoke's own dashboard ($3 a month past an account's first
# three) tells nobody more; and a customer managed key ($1 a month) would take a spoke past its $1.50 a
# month (the heartbeat metric $0.30, six alarms $0.60, Lambda and logs about $0.10, and StoreQuotaGigabytes
# at most $0.30, published only in the hours a store is in progress), while SNS's AWS managed key serves the
# topic only the poller publishes to (infra/encrypted_topic.py).
@dataclass(frozen=True)
class SpokeDefaults:
    dashboard: bool = False
    customer_managed_key: bool = False


SPOKE_DEFAULTS = SpokeDefaults()

# Synthesis's name for a bad setting: it names a context key.
SettingsError = SettingError
KNOWN_KEYS = frozenset(setting.key for setting in CONTEXT_SETTINGS if setting.key is not None)
_BUS_ARN = re.compile(BUS_ARN_PATTERN)


@dataclass(frozen=True)
class Settings:
    """One attribute per context setting of `settings_spec.py` (a test keeps the two in step)."""

    stack_name: str
    schedule_minutes: int
    regions: tuple[str, ...]  # empty: the stack's own region
    event_source: str
    announce_states: tuple[TaskState, ...]
    announce_existing_on_first_run: bool
    page_size: int
    listing_overlap_minutes: int
    full_scan_interval_minutes: int
    hints: bool
    quiet_when_idle: bool
    readable_buckets: tuple[str, ...]  # empty: no archive checks, and no S3 permission
    approved_buckets: tuple[str, ...]  # names, or beginnings ending in `*`; empty: no alert
    stall_after_minutes: int  # 0: no stall notices
    delivery_reserve_seconds: int
    state_ttl_days: int
    function_timeout_seconds: int
    function_memory_mb: int
    log_retention_days: int
    notification_email: str | None
    chat_notifications: bool
    slack_workspace_id: str | None
    slack_channel_id: str | None
    teams_tenant_id: str | None
    teams_team_id: str | None
    teams_channel_id: str | None
    chat_channel_region: str | None
    alarm_email: str | None
    alarms: str  # ALL_ALARMS or HEARTBEAT_ALARM_ONLY
    dashboard: bool | None  # None: not set, the mode's default (SPOKE_DEFAULTS)
    customer_managed_key: bool | None  # likewise
    tracing: bool
    event_bus_arn: str | None
    event_bus_name: str | None
    hub_event_bus_arn: str | None
    organization_id: str | None
    hub_stack_name: str
    hub_archive_retention_days: int
    spoke_organizational_units: tuple[str, ...]
    spoke_regions: tuple[str, ...]
    spoke_asset_bucket_prefix: str | None
    spoke_failure_tolerance_percentage: int
    spoke_max_concurrent_percentage: int
    stack_set_delegated_admin: bool
    spoke_management_account: bool
    management_account_id: str | None
    powertools_layer_arn: str | None
    reserved_concurrency: int | None
    retain_on_delete: bool

    @property
    def removal_policy(self) -> RemovalPolicy:
        """What `cdk destroy` does with what holds data or keys: kept unless the deployment is disposable."""
        return RemovalPolicy.RETAIN if self.retain_on_delete else RemovalPolicy.DESTROY

    def without_chat_channels(self) -> Settings:
        """These settings without the Slack and Teams channel configurations, for a notifier whose chat
        topic is read elsewhere: a spoke (a channel configuration works only in an account where the
        workspace or team was authorized by hand), or any notifier of an app with the hub, whose channels
        show the whole Organization's announcements once."""
        return replace(
            self,
            slack_workspace_id=None,
            slack_channel_id=None,
            teams_tenant_id=None,
            teams_team_id=None,
            teams_channel_id=None,
            chat_channel_region=None,
        )

    @property
    def heartbeat_alarm_only(self) -> bool:
        return self.alarms == HEARTBEAT_ALARM_ONLY

    @property
    def with_dashboard(self) -> bool:
        """Whether the notifier has its dashboard: unless set to false (as a spoke's is, unless set)."""
        return self.dashboard is not False

    @property
    def with_customer_managed_key(self) -> bool:
        """Whether the topics share a customer managed key: unless set to false (as a spoke's is)."""
        return self.customer_managed_key is not False

    def with_spoke_defaults(self) -> Settings:
        """These settings as a spoke (of the StackSet, or the management account's) reads them: what was
        left unset takes the spokes' default (SPOKE_DEFAULTS), what was set applies as it is."""
        return replace(
            self,
            dashboard=SPOKE_DEFAULTS.dashboard if self.dashboard is None else self.dashboard,
            customer_managed_key=(
                SPOKE_DEFAULTS.customer_managed_key
                if self.customer_managed_key is None
                else self.customer_managed_key
            ),
        )

    @property
    def claim_lease_seconds(self) -> int:
        """A claim outlives the longest invocation by a minute, so a live run never loses its claim."""
        return self.function_timeout_seconds + 60

    @property
    def regions_partition(self) -> str | None:
        """The partition of the configured Regions (one for all, checked when parsed); None without."""
        return partition_of(self.regions[0]) if self.regions else None

    @property
    def imported_bus(self) -> ImportedBus | None:
        """``event_bus_arn`` taken apart: the handler is given the name, the stack must share the rest."""
        if self.event_bus_arn is None:
            return None
        match = _BUS_ARN.fullmatch(self.event_bus_arn)
        assert match is not None  # checked when parsed
        return ImportedBus(
            partition=match.group("partition"),
            region=match.group("region"),
            account=match.group("account"),
            name=match.group("name"),
        )


@dataclass(frozen=True)
class ImportedBus:
    partition: str
    region: str
    account: str
    name: str


def load_settings(get: Callable[[str], object]) -> Settings:
    """Parse every setting; ``get`` returns a context value or None (``node.try_get_context``)."""
    for key, replacement in RETIRED_KEYS.items():
        if not is_absent(get(key)):
            raise SettingsError(replacement)
    settings = Settings(
        **{
            setting.field: setting.read(get(setting.key), setting.key)
            for setting in CONTEXT_SETTINGS
            if setting.key
        }
    )
    if settings.delivery_reserve_seconds >= settings.function_timeout_seconds:
        raise SettingsError(
            f"deliveryReserveSeconds ({settings.delivery_reserve_seconds}) must be less than "
            f"functionTimeoutSeconds ({settings.function_timeout_seconds}): the reserve is kept back "
            "from the end of each run"
        )
    if settings.event_bus_arn is not None and settings.event_bus_name is not None:
        raise SettingsError(
            "eventBusName names a new bus and eventBusArn an existing one: set only one of them"
        )
    _check_one_partition(settings)
    _check_hints(settings)
    _check_rollout(settings)
    _check_chat(settings)
    _check_powertools_layer_for_spokes(settings)
    return settings


# The hint runs the queue's event source mapping may have at once: its ScalingConfig MaximumConcurrency, at
# the least Lambda allows (2; Lambda API reference, ScalingConfig), so that hint runs cannot multiply the
# account's DescribeStoreImageTasks calls (infra/hints.py). The scheduled run may be running beside them.
HINT_RUNS_AT_ONCE = 2
RUNS_AT_ONCE_WITH_HINTS = HINT_RUNS_AT_ONCE + 1


def _check_hints(settings: Settings) -> None:
    """Quiet when idle relies on the start hints; and hint runs need room in a reservation.

    An event source mapping does not know the function's reserved concurrency: a batch it hands over
    beyond the reservation is throttled, its messages return to the queue after the visibility timeout,
    and each such receive counts toward the queue's maxReceiveCount (Lambda developer guide, "Configuring
    scaling behavior for SQS event source mappings"; AWS knowledge center, "lambda-sqs-scaling": do not
    set maximum concurrency above the function's reserved concurrency). With the scheduled run holding
    one of a reservation of 1 or 2, hints would be throttled into the dead-letter queue and fire
    HintDeadLetters for nothing."""
    if settings.quiet_when_idle and not settings.hints:
        raise SettingsError(
            "quietWhenIdle needs hints: true: a quiet scheduled run learns of a new store from the "
            "CloudTrail start hint, which only the hints' rules and queue deliver"
        )
    reserved = settings.reserved_concurrency
    if settings.hints and reserved is not None and reserved < RUNS_AT_ONCE_WITH_HINTS:
        raise SettingsError(
            f"reservedConcurrency ({reserved}) leaves no room for hints: the hint queue runs the poller "
            f"up to {HINT_RUNS_AT_ONCE} times at once beside the scheduled run, so reserve at least "
            f"{RUNS_AT_ONCE_WITH_HINTS}, or leave reservedConcurrency unset (throttled hint batches return "
            "to the queue and end in its dead-letter queue)"
        )


def _check_powertools_layer_for_spokes(settings: Settings) -> None:
    """A layer version lives in one Region, and a function can load only a layer of its own Region
    (Lambda developer guide, "Adding layers to functions"): spokes in several Regions need AWS's parameter
    in each of them."""
    if not settings.spoke_regions:
        return
    lacking = [region for region in settings.spoke_regions if region in WITHOUT_POWERTOOLS_PARAMETER]
    if lacking:
        raise SettingsError(
            f"spokeRegions lists {', '.join(lacking)}, where AWS publishes no parameter for the Powertools "
            "layer, and one powertoolsLayerArn cannot serve several Regions: deploy the notifier there "
            "on its own with powertoolsLayerArn"
        )
    if settings.powertools_layer_arn is not None and len(settings.spoke_regions) > 1:
        raise SettingsError(
            "powertoolsLayerArn names a layer of one Region, but spokeRegions lists several: leave it "
            "unset, so that each spoke reads AWS's layer of its own Region"
        )


# Each chat service's channel configuration needs all of its ids (AWS::Chatbot::*ChannelConfiguration).
CHAT_CHANNEL_KEYS = {
    "Slack": ("slackWorkspaceId", "slackChannelId"),
    "Microsoft Teams": ("teamsTenantId", "teamsTeamId", "teamsChannelId"),
}


def _check_chat(settings: Settings) -> None:
    """A channel configuration needs every id of its service, and the chat topic it subscribes to."""
    for service, keys in CHAT_CHANNEL_KEYS.items():
        given = [key for key in keys if getattr(settings, _field(key)) is not None]
        if not given:
            continue
        missing = [key for key in keys if key not in given]
        if missing:
            raise SettingsError(f"{given[0]} needs {', '.join(missing)} as well ({service})")
        if not settings.chat_notifications:
            raise SettingsError(
                f"{given[0]} needs chatNotifications: true (the {service} channel reads its topic)"
            )
        _check_chat_channel_region(settings, given[0], service)


def _check_chat_channel_region(settings: Settings, first_given: str, service: str) -> None:
    """A channel is configured in one Region's stack only, where the chat service exists."""
    region = settings.chat_channel_region
    if region is None:
        raise SettingsError(
            f"{first_given} needs chatChannelRegion as well: AWS's chat service takes a {service} channel "
            "once per account, so only the stack in that Region configures it"
        )
    if not CHAT_CHANNELS_PART.available_in(region):
        raise SettingsError(
            f"chatChannelRegion {region} has no chat service: "
            f"{CHAT_CHANNELS_PART.what} exist in none of China's and GovCloud's Regions"
        )


def _field(key: str) -> str:
    return next(setting.field for setting in CONTEXT_SETTINGS if setting.key == key)


def _check_rollout(settings: Settings) -> None:
    """The StackSet needs to know what to deploy where, and whom the code buckets are for."""
    if not settings.spoke_organizational_units:
        return
    needed = {
        "organizationId": settings.organization_id,
        "hubEventBusArn": settings.hub_event_bus_arn,
        "spokeRegions": settings.spoke_regions or None,
        "spokeAssetBucketPrefix": settings.spoke_asset_bucket_prefix,
    }
    missing = [key for key, value in needed.items() if value is None]
    if missing:
        raise SettingsError(f"spokeOrganizationalUnits needs {', '.join(missing)} as well")
    if settings.spoke_management_account and settings.management_account_id is None:
        raise SettingsError(
            "spokeManagementAccount needs managementAccountId as well: the management account's spokes are "
            "pinned to it (set spokeManagementAccount to false when that account runs no workloads)"
        )


def unknown_keys(context: Mapping[str, object]) -> list[str]:
    """Context keys shaped like ours (plain camelCase) that no setting reads: most likely typos."""
    return sorted(k for k in context if re.fullmatch(r"[a-z][A-Za-z0-9]*", k) and k not in KNOWN_KEYS)


def check_deployment_target(settings: Settings, account: str | None, region: str | None) -> None:
    """Refuses settings the handler could not honour where the stack is deployed.

    ``account`` and ``region`` are where the stack goes, when known at synth time (the CLI sets
    CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION from the credentials it finds)."""
    bus = settings.imported_bus
    if bus is not None:
        # The handler gets the bus's name and puts events in its own account and Region.
        if account is not None and account != bus.account:
            raise SettingsError(
                f"eventBusArn is a bus of account {bus.account}, but the stack deploys to account {account}: "
                "the poller can only announce on a bus of its own account and region"
            )
        if region is not None and region != bus.region:
            raise SettingsError(
                f"eventBusArn is a bus in {bus.region}, but the stack deploys to {region}: the poller "
                "can only announce on a bus of its own account and region"
            )
    _check_powertools_layer_where_deployed(settings, region)
    partition = settings.regions_partition
    if region is not None and partition is not None and partition != partition_of(region):
        raise SettingsError(
            f"regions ({', '.join(settings.regions)}) are in partition {partition}, "
            f"but the stack deploys to {region} ({partition_of(region)}): credentials of one partition "
            "cannot call another"
        )


def _check_powertools_layer_where_deployed(settings: Settings, region: str | None) -> None:
    layer = settings.powertools_layer_arn
    if region is None:
        return
    if layer is None and region in WITHOUT_POWERTOOLS_PARAMETER:
        raise SettingsError(
            f"powertoolsLayerArn is needed to deploy to {region}: AWS publishes no parameter for the "
            "Powertools layer there; give the ARN of a Powertools layer version in that Region"
        )
    if layer is not None and layer.split(":")[3] != region:
        raise SettingsError(
            f"powertoolsLayerArn is a layer in {layer.split(':')[3]}, but the stack deploys to {region}: "
            "a function can load only a layer of its own Region"
        )


def _check_one_partition(settings: Settings) -> None:
    partitions = {region: partition_of(region) for region in settings.regions}
    if len(set(partitions.values())) > 1:
        listed = ", ".join(f"{region} ({partition})" for region, partition in partitions.items())
        raise SettingsError(
            f"regions must all be in one partition, the stack's: one function's credentials cannot call "
            f"another partition; got {listed}"
        )
    bus = settings.imported_bus
    partition = settings.regions_partition
    if bus is not None and partition is not None and bus.partition != partition:
        raise SettingsError(
            f"eventBusArn is in partition {bus.partition}, but regions are in {partition}: set both in the "
            "stack's partition"
        )

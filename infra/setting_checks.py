"""What one setting cannot say alone: the checks of settings against each other, when they are loaded,
and against where the stack deploys, at synthesis. A refused combination raises a `SettingError` naming
the context keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ami_store_notifier.domain.partitions import partition_of
from ami_store_notifier.setting_parsers import SettingError
from ami_store_notifier.settings_spec import CONTEXT_SETTINGS
from infra.regions import CHAT_CHANNELS_PART, WITHOUT_POWERTOOLS_PARAMETER

if TYPE_CHECKING:
    from infra.settings import Settings


def check_settings(settings: Settings) -> None:
    """Refuses settings that contradict each other (``load_settings`` calls it on what it parsed)."""
    if settings.delivery_reserve_seconds >= settings.function_timeout_seconds:
        raise SettingError(
            f"deliveryReserveSeconds ({settings.delivery_reserve_seconds}) must be less than "
            f"functionTimeoutSeconds ({settings.function_timeout_seconds}): the reserve is kept back "
            "from the end of each run"
        )
    if settings.event_bus_arn is not None and settings.event_bus_name is not None:
        raise SettingError(
            "eventBusName names a new bus and eventBusArn an existing one: set only one of them"
        )
    _check_one_partition(settings)
    _check_hints(settings)
    _check_rollout(settings)
    _check_chat(settings)
    _check_powertools_layer_for_spokes(settings)


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
        raise SettingError(
            "quietWhenIdle needs hints: true: a quiet scheduled run learns of a new store from the "
            "CloudTrail start hint, which only the hints' rules and queue deliver"
        )
    reserved = settings.reserved_concurrency
    if settings.hints and reserved is not None and reserved < RUNS_AT_ONCE_WITH_HINTS:
        raise SettingError(
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
        raise SettingError(
            f"spokeRegions lists {', '.join(lacking)}, where AWS publishes no parameter for the Powertools "
            "layer, and one powertoolsLayerArn cannot serve several Regions: deploy the notifier there "
            "on its own with powertoolsLayerArn"
        )
    if settings.powertools_layer_arn is not None and len(settings.spoke_regions) > 1:
        raise SettingError(
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
            raise SettingError(f"{given[0]} needs {', '.join(missing)} as well ({service})")
        if not settings.chat_notifications:
            raise SettingError(
                f"{given[0]} needs chatNotifications: true (the {service} channel reads its topic)"
            )
        _check_chat_channel_region(settings, given[0], service)


def _check_chat_channel_region(settings: Settings, first_given: str, service: str) -> None:
    """A channel is configured in one Region's stack only, where the chat service exists."""
    region = settings.chat_channel_region
    if region is None:
        raise SettingError(
            f"{first_given} needs chatChannelRegion as well: AWS's chat service takes a {service} channel "
            "once per account, so only the stack in that Region configures it"
        )
    if not CHAT_CHANNELS_PART.available_in(region):
        raise SettingError(
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
        raise SettingError(f"spokeOrganizationalUnits needs {', '.join(missing)} as well")
    if settings.spoke_management_account and settings.management_account_id is None:
        raise SettingError(
            "spokeManagementAccount needs managementAccountId as well: the management account's spokes are "
            "pinned to it (set spokeManagementAccount to false when that account runs no workloads)"
        )


def check_deployment_target(settings: Settings, account: str | None, region: str | None) -> None:
    """Refuses settings the handler could not honour where the stack is deployed.

    ``account`` and ``region`` are where the stack goes, when known at synth time (the CLI sets
    CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION from the credentials it finds)."""
    bus = settings.imported_bus
    if bus is not None:
        # The handler gets the bus's name and puts events in its own account and Region.
        if account is not None and account != bus.account:
            raise SettingError(
                f"eventBusArn is a bus of account {bus.account}, but the stack deploys to account {account}: "
                "the poller can only announce on a bus of its own account and region"
            )
        if region is not None and region != bus.region:
            raise SettingError(
                f"eventBusArn is a bus in {bus.region}, but the stack deploys to {region}: the poller "
                "can only announce on a bus of its own account and region"
            )
    _check_powertools_layer_where_deployed(settings, region)
    partition = settings.regions_partition
    if region is not None and partition is not None and partition != partition_of(region):
        raise SettingError(
            f"regions ({', '.join(settings.regions)}) are in partition {partition}, "
            f"but the stack deploys to {region} ({partition_of(region)}): credentials of one partition "
            "cannot call another"
        )


def _check_powertools_layer_where_deployed(settings: Settings, region: str | None) -> None:
    layer = settings.powertools_layer_arn
    if region is None:
        return
    if layer is None and region in WITHOUT_POWERTOOLS_PARAMETER:
        raise SettingError(
            f"powertoolsLayerArn is needed to deploy to {region}: AWS publishes no parameter for the "
            "Powertools layer there; give the ARN of a Powertools layer version in that Region"
        )
    if layer is not None and layer.split(":")[3] != region:
        raise SettingError(
            f"powertoolsLayerArn is a layer in {layer.split(':')[3]}, but the stack deploys to {region}: "
            "a function can load only a layer of its own Region"
        )


def _check_one_partition(settings: Settings) -> None:
    partitions = {region: partition_of(region) for region in settings.regions}
    if len(set(partitions.values())) > 1:
        listed = ", ".join(f"{region} ({partition})" for region, partition in partitions.items())
        raise SettingError(
            f"regions must all be in one partition, the stack's: one function's credentials cannot call "
            f"another partition; got {listed}"
        )
    bus = settings.imported_bus
    partition = settings.regions_partition
    if bus is not None and partition is not None and bus.partition != partition:
        raise SettingError(
            f"eventBusArn is in partition {bus.partition}, but regions are in {partition}: set both in the "
            "stack's partition"
        )

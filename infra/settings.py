"""Every deployment setting, read from CDK context, parsed and checked in one place.

A value can come from ``cdk.json``'s ``context`` (JSON types) or from ``cdk synth -c key=value`` (always a
string), so each parser accepts both. A bad value stops synthesis with a :class:`SettingsError` whose
message names the context key, before any resource is defined.

The handler (``functions/ami_store_notifier/config.py``) checks its environment again on each cold start;
the ranges here are the same, so a value accepted at synth time is also accepted at run time.
The table in the README's "Deployment settings" table documents these keys; a test keeps the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# The same shapes the handler accepts (functions/ami_store_notifier/config.py).
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_EVENT_SOURCE = re.compile(r"^[A-Za-z0-9._\-/]{1,256}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_BUS_NAME = re.compile(r"^[A-Za-z0-9._\-]{1,256}$")
_BUS_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z\-]*):events:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12})"
    r":event-bus/(?P<name>[A-Za-z0-9._\-/]{1,256})$"
)
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

TASK_STATES = ("InProgress", "Completed", "Failed")
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
MAX_PAGE_SIZE = 200
# The heartbeat alarm looks at three schedule periods, and CloudWatch evaluates at most one day of data.
MAX_SCHEDULE_MINUTES = 480
_LAYER_ARN = re.compile(
    r"^arn:aws[a-z\-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:layer:[A-Za-z0-9_\-]{1,140}:\d{1,8}$"
)
# Keys that earlier versions read: refused with what replaces them, so an old cdk.json fails loudly.
RETIRED_KEYS = {
    "powertoolsLayerVersion": (
        "powertoolsLayerVersion is no longer read: the layer is now AWS's own published layer for the "
        "Powertools version the tests pin, looked up in the deployment's region and partition. Remove the "
        "key, or set powertoolsLayerArn to a full layer version ARN to override"
    ),
}


class SettingsError(ValueError):
    """A context value is missing or malformed; the message names the context key."""


@dataclass(frozen=True)
class Settings:
    """The parsed deployment settings; defaults are the values used when the key is absent."""

    stack_name: str = "AmiStoreNotifier"
    schedule_minutes: int = 1
    regions: tuple[str, ...] = ()  # empty: the stack's own region
    event_source: str = "ami-store-notifier"
    announce_states: tuple[str, ...] = ("Completed", "Failed")
    announce_existing_on_first_run: bool = False
    page_size: int = MAX_PAGE_SIZE
    listing_overlap_minutes: int = 15
    full_scan_interval_minutes: int = 60
    delivery_reserve_seconds: int = 20
    state_ttl_days: int = 45
    function_timeout_seconds: int = 120
    function_memory_mb: int = 256
    log_retention_days: int = 90
    notification_email: str | None = None
    alarm_email: str | None = None
    event_bus_arn: str | None = None
    event_bus_name: str | None = None
    powertools_layer_arn: str | None = None
    reserved_concurrency: int | None = None
    retain_on_delete: bool = True

    @property
    def claim_lease_seconds(self) -> int:
        """A claim outlives the longest invocation by a minute, so a live run never loses its claim."""
        return self.function_timeout_seconds + 60

    @property
    def imported_bus(self) -> ImportedBus | None:
        """``event_bus_arn`` taken apart: the handler is given the name, the stack must share the rest."""
        if self.event_bus_arn is None:
            return None
        match = _BUS_ARN.match(self.event_bus_arn)
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


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str
    meaning: str


# The documented keys, in the order of the README table.
SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("stackName", "AmiStoreNotifier", "CloudFormation stack name."),
    SettingSpec("scheduleMinutes", "1", f"Minutes between polls (1-{MAX_SCHEDULE_MINUTES})."),
    SettingSpec("regions", "the stack's region", "Regions to poll: comma-separated string or JSON list."),
    SettingSpec("eventSource", "ami-store-notifier", "`source` of the EventBridge events."),
    SettingSpec("announceStates", "Completed,Failed", "Task states to announce."),
    SettingSpec("announceExistingOnFirstRun", "false", "Announce tasks already finished on the first poll."),
    SettingSpec("pageSize", str(MAX_PAGE_SIZE), "MaxResults of each DescribeStoreImageTasks page."),
    SettingSpec("listingOverlapMinutes", "15", "How far the incremental listing reaches back."),
    SettingSpec("fullScanIntervalMinutes", "60", "Minutes between full 31-day listings."),
    SettingSpec("deliveryReserveSeconds", "20", "Time kept back at the end of a run for deliveries."),
    SettingSpec("stateTtlDays", "45", "Days a task's record is kept (DynamoDB TTL)."),
    SettingSpec("functionTimeoutSeconds", "120", "Poller timeout; also sets the claim lease (timeout + 60)."),
    SettingSpec("functionMemoryMb", "256", "Poller memory size."),
    SettingSpec("logRetentionDays", "90", "Retention of the poller's log group."),
    SettingSpec("notificationEmail", "none", "Email address subscribed to the notification topic."),
    SettingSpec("alarmEmail", "none", "Email address subscribed to the alarm topic."),
    SettingSpec("eventBusArn", "none (a new bus)", "Existing bus to announce on (same account and region)."),
    SettingSpec("eventBusName", "generated", "Name of the new bus (only without `eventBusArn`)."),
    SettingSpec(
        "powertoolsLayerArn",
        "AWS's layer for the pinned Powertools",
        "Layer version ARN to use instead (same Powertools major, python3.13, arm64).",
    ),
    SettingSpec("reservedConcurrency", "none", "Concurrency reserved for the poller (see the README first)."),
    SettingSpec("retainOnDelete", "true", "Keep the table, log group and keys when the stack is deleted."),
)
KNOWN_KEYS = frozenset(spec.key for spec in SPECS)


def load_settings(get: Callable[[str], object]) -> Settings:
    """Parse every setting; ``get`` returns a context value or None (``node.try_get_context``)."""
    for key, replacement in RETIRED_KEYS.items():
        if not _absent(get(key)):
            raise SettingsError(replacement)
    defaults = Settings()
    timeout = _integer(get, "functionTimeoutSeconds", defaults.function_timeout_seconds, low=10, high=900)
    settings = Settings(
        stack_name=_matching(
            get, "stackName", defaults.stack_name, _STACK_NAME, "a CloudFormation stack name"
        ),
        schedule_minutes=_integer(
            get, "scheduleMinutes", defaults.schedule_minutes, low=1, high=MAX_SCHEDULE_MINUTES
        ),
        regions=_regions(get),
        event_source=_event_source(get, defaults.event_source),
        announce_states=_announce_states(get, defaults.announce_states),
        announce_existing_on_first_run=_boolean(
            get, "announceExistingOnFirstRun", defaults.announce_existing_on_first_run
        ),
        page_size=_integer(get, "pageSize", defaults.page_size, low=1, high=MAX_PAGE_SIZE),
        listing_overlap_minutes=_integer(
            get, "listingOverlapMinutes", defaults.listing_overlap_minutes, low=1, high=24 * 60
        ),
        full_scan_interval_minutes=_integer(
            get, "fullScanIntervalMinutes", defaults.full_scan_interval_minutes, low=1, high=7 * 24 * 60
        ),
        delivery_reserve_seconds=_integer(
            get, "deliveryReserveSeconds", defaults.delivery_reserve_seconds, low=1, high=600
        ),
        state_ttl_days=_integer(get, "stateTtlDays", defaults.state_ttl_days, low=32, high=3650),
        function_timeout_seconds=timeout,
        function_memory_mb=_integer(
            get, "functionMemoryMb", defaults.function_memory_mb, low=128, high=10240
        ),
        log_retention_days=_log_retention(get, defaults.log_retention_days),
        notification_email=_optional_matching(get, "notificationEmail", _EMAIL, "an email address"),
        alarm_email=_optional_matching(get, "alarmEmail", _EMAIL, "an email address"),
        event_bus_arn=_optional_matching(
            get,
            "eventBusArn",
            _BUS_ARN,
            "an EventBridge bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)",
        ),
        event_bus_name=_bus_name(get),
        powertools_layer_arn=_optional_matching(
            get,
            "powertoolsLayerArn",
            _LAYER_ARN,
            "a Lambda layer version ARN (arn:aws:lambda:...:layer:NAME:N)",
        ),
        reserved_concurrency=_optional_integer(get, "reservedConcurrency", low=1, high=1000),
        retain_on_delete=_boolean(get, "retainOnDelete", defaults.retain_on_delete),
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
    return settings


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
    if region is not None and settings.regions and partition_of(settings.regions[0]) != partition_of(region):
        raise SettingsError(
            f"regions ({', '.join(settings.regions)}) are in partition {partition_of(settings.regions[0])}, "
            f"but the stack deploys to {region} ({partition_of(region)}): credentials of one partition "
            "cannot call another"
        )


def partition_of(region: str) -> str:
    """The partition of a Region name (AWS General Reference, "ARN format": aws, aws-cn, aws-us-gov...)."""
    for prefix, partition in _PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


_PARTITION_PREFIXES = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-isof-", "aws-iso-f"),
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
    if bus is not None and settings.regions and bus.partition != partition_of(settings.regions[0]):
        raise SettingsError(
            f"eventBusArn is in partition {bus.partition}, but regions are in "
            f"{partition_of(settings.regions[0])}: set both in the stack's partition"
        )


def unknown_keys(context: Mapping[str, object]) -> list[str]:
    """Context keys shaped like ours (plain camelCase) that no setting reads: most likely typos."""
    return sorted(k for k in context if re.fullmatch(r"[a-z][A-Za-z0-9]*", k) and k not in KNOWN_KEYS)


def _absent(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _integer(get: Callable[[str], object], key: str, default: int, *, low: int, high: int) -> int:
    raw = get(key)
    if _absent(raw):
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise SettingsError(f"{key} must be a whole number, got {raw!r}")
    if isinstance(raw, str):
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingsError(f"{key} must be a whole number, got {raw!r}") from None
    else:
        value = raw
    if not low <= value <= high:
        raise SettingsError(f"{key} must be between {low} and {high}, got {value}")
    return value


def _optional_integer(get: Callable[[str], object], key: str, *, low: int, high: int) -> int | None:
    if _absent(get(key)):
        return None
    return _integer(get, key, low, low=low, high=high)


def _boolean(get: Callable[[str], object], key: str, default: bool) -> bool:
    raw = get(key)
    if _absent(raw):
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE:
        return True
    if isinstance(raw, str) and raw.strip().lower() in _FALSE:
        return False
    raise SettingsError(f"{key} must be true or false, got {raw!r}")


def _string_list(get: Callable[[str], object], key: str) -> list[str] | None:
    raw = get(key)
    if _absent(raw):
        return None
    if isinstance(raw, str):
        parts = raw.split(",")
    elif isinstance(raw, list) and all(isinstance(part, str) for part in raw):
        parts = list(raw)
    else:
        raise SettingsError(f"{key} must be a comma-separated string or a list of strings, got {raw!r}")
    items = list(dict.fromkeys(part.strip() for part in parts if part.strip()))
    if not items:
        raise SettingsError(f"{key} must name at least one value, got {raw!r}")
    return items


def _matching(
    get: Callable[[str], object], key: str, default: str, pattern: re.Pattern[str], what: str
) -> str:
    value = _optional_matching(get, key, pattern, what)
    return default if value is None else value


def _optional_matching(
    get: Callable[[str], object], key: str, pattern: re.Pattern[str], what: str
) -> str | None:
    raw = get(key)
    if _absent(raw):
        return None
    if not isinstance(raw, str) or not pattern.fullmatch(raw.strip()):
        raise SettingsError(f"{key} must be {what}, got {raw!r}")
    return raw.strip()


def _regions(get: Callable[[str], object]) -> tuple[str, ...]:
    items = _string_list(get, "regions")
    if items is None:
        return ()
    bad = [item for item in items if not _REGION.fullmatch(item)]
    if bad:
        raise SettingsError(f"regions must list region names such as us-east-1, got {', '.join(bad)!s}")
    return tuple(items)


def _event_source(get: Callable[[str], object], default: str) -> str:
    value = _matching(get, "eventSource", default, _EVENT_SOURCE, "1-256 letters, digits or . _ - /")
    if value.startswith("aws."):
        raise SettingsError(f"eventSource must not start with 'aws.' (reserved for AWS), got {value!r}")
    return value


def _announce_states(get: Callable[[str], object], default: tuple[str, ...]) -> tuple[str, ...]:
    items = _string_list(get, "announceStates")
    if items is None:
        return default
    canonical = {state.lower(): state for state in TASK_STATES}
    unknown = [item for item in items if item.lower() not in canonical]
    if unknown:
        raise SettingsError(
            f"announceStates may list only {', '.join(TASK_STATES)}, got {', '.join(unknown)}"
        )
    return tuple(dict.fromkeys(canonical[item.lower()] for item in items))


def _log_retention(get: Callable[[str], object], default: int) -> int:
    value = _integer(get, "logRetentionDays", default, low=1, high=max(LOG_RETENTION_DAYS))
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
        raise SettingsError(f"logRetentionDays must be one of {allowed}, got {value}")
    return value


def _bus_name(get: Callable[[str], object]) -> str | None:
    value = _optional_matching(get, "eventBusName", _BUS_NAME, "1-256 letters, digits or . _ -")
    if value == "default":
        raise SettingsError(
            "eventBusName names a bus to create and cannot be 'default': to announce on the default bus "
            "set eventBusArn to its ARN"
        )
    return value

"""The deployment's settings as the stack reads them: parsed from CDK context into one model.

Each setting is declared once, in the modules `functions/ami_store_notifier/settings_spec.py` assembles,
with its context key, the handler's variable, its parser and default; the handler reads the same
declarations from its environment, so a value accepted here is accepted there. A bad value stops
synthesis with a `SettingsError` whose message names the context key, before any resource is defined.
Retired and unknown keys are `context_keys.py`'s; what depends on two settings, or on where the stack
deploys, is checked in `setting_checks.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from aws_cdk import RemovalPolicy

from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.domain.partitions import partition_of
from ami_store_notifier.setting_parsers import SettingError
from ami_store_notifier.settings_monitoring import HEARTBEAT_ALARM_ONLY
from ami_store_notifier.settings_organization import BUS_ARN_PATTERN
from ami_store_notifier.settings_spec import CONTEXT_SETTINGS
from infra.context_keys import refuse_retired_keys
from infra.setting_checks import check_settings


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
    docs_url: str | None
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
    refuse_retired_keys(get)
    # Each value has its field's type, which the declarations do not tell the type checker.
    values: dict[str, Any] = {
        setting.field: setting.read(get(setting.key), setting.key)
        for setting in CONTEXT_SETTINGS
        if setting.key
    }
    settings = Settings(**values)
    check_settings(settings)
    return settings

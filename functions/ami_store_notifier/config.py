"""Settings read from the environment once per cold start.

Every variable is parsed and checked by its declaration in `settings_spec.py`, the same one the CDK
stack reads, so a deployment with a bad value fails on its first invocation with one message that
names the variable, instead of misbehaving later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ami_store_notifier.assurance import AssurancePolicy
from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.setting_parsers import SettingError
from ami_store_notifier.settings_spec import HANDLER_SETTINGS

# The handler's name for a bad setting: it names an environment variable.
ConfigError = SettingError


@dataclass(frozen=True)
class Settings:
    """One attribute per handler setting of `settings_spec.py` (a test keeps the two in step)."""

    table_name: str
    topic_arn: str
    chat_topic_arn: str | None
    event_bus_name: str
    regions: tuple[str, ...]
    event_source: str
    announce_states: frozenset[TaskState]
    announce_existing_on_first_run: bool
    page_size: int
    listing_overlap_minutes: int
    full_scan_interval_minutes: int
    quiet_when_idle: bool
    readable_buckets: tuple[str, ...]
    approved_buckets: tuple[str, ...]
    stall_after_minutes: int
    claim_lease_seconds: int
    delivery_reserve_seconds: int
    state_ttl_days: int

    @property
    def listing_overlap(self) -> timedelta:
        return timedelta(minutes=self.listing_overlap_minutes)

    @property
    def full_scan_interval(self) -> timedelta:
        return timedelta(minutes=self.full_scan_interval_minutes)

    @property
    def assurance(self) -> AssurancePolicy:
        return AssurancePolicy(
            readable_buckets=frozenset(self.readable_buckets) if self.readable_buckets else None,
            approved_buckets=self.approved_buckets,
            stall_after=timedelta(minutes=self.stall_after_minutes) if self.stall_after_minutes else None,
        )

    @property
    def claim_lease(self) -> timedelta:
        return timedelta(seconds=self.claim_lease_seconds)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    # Each value has its field's type, which the declarations do not tell the type checker.
    values: dict[str, Any] = {
        setting.field: setting.read(env.get(setting.variable), setting.variable)
        for setting in HANDLER_SETTINGS
        if setting.variable is not None
    }
    values["regions"] = values["regions"] or (_lambda_region(env),)
    values["announce_states"] = frozenset(values["announce_states"])
    return Settings(**values)


def _lambda_region(env: Mapping[str, str]) -> str:
    """Without REGIONS, the function watches its own region (Lambda sets AWS_REGION)."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("REGIONS is not set and neither is AWS_REGION: name at least one region")
    return region

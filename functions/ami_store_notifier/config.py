"""Settings read from the environment once per cold start.

Every variable is parsed and checked here, so a deployment with a bad value fails on its first
invocation with one message that names the variable, instead of misbehaving later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ami_store_notifier.domain.model import TaskState

MAX_PAGE_SIZE = 200
_REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_EVENT_SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9._\-/]{1,256}$")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    topic_arn: str
    event_bus_name: str
    regions: tuple[str, ...]
    event_source: str = "ami-store-notifier"
    announce_states: frozenset[TaskState] = frozenset({TaskState.COMPLETED, TaskState.FAILED})
    announce_existing_on_first_run: bool = False
    page_size: int = MAX_PAGE_SIZE
    listing_overlap_seconds: int = 15 * 60
    full_scan_interval_seconds: int = 60 * 60
    claim_lease_seconds: int = 300
    delivery_reserve_seconds: int = 20
    state_ttl_days: int = 45


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    default_region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
    return Settings(
        table_name=_required(env, "TABLE_NAME"),
        topic_arn=_topic_arn(env),
        event_bus_name=_required(env, "EVENT_BUS_NAME"),
        regions=_regions(env, default_region),
        event_source=_event_source(env),
        announce_states=_announce_states(env),
        announce_existing_on_first_run=_boolean(env, "ANNOUNCE_EXISTING_ON_FIRST_RUN", default=False),
        page_size=_integer(env, "PAGE_SIZE", default=MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE),
        listing_overlap_seconds=60
        * _integer(env, "LISTING_OVERLAP_MINUTES", default=15, low=1, high=24 * 60),
        full_scan_interval_seconds=60
        * _integer(env, "FULL_SCAN_INTERVAL_MINUTES", default=60, low=1, high=7 * 24 * 60),
        claim_lease_seconds=_integer(env, "CLAIM_LEASE_SECONDS", default=300, low=30, high=24 * 3600),
        delivery_reserve_seconds=_integer(env, "DELIVERY_RESERVE_SECONDS", default=20, low=1, high=600),
        state_ttl_days=_integer(env, "STATE_TTL_DAYS", default=45, low=32, high=3650),
    )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required but not set")
    return value


def _topic_arn(env: Mapping[str, str]) -> str:
    value = _required(env, "TOPIC_ARN")
    if not re.fullmatch(r"arn:aws[a-z\-]*:sns:[a-z0-9\-]+:\d{12}:[A-Za-z0-9_\-]{1,256}", value):
        raise ConfigError(f"TOPIC_ARN must be an SNS topic ARN, got {value!r}")
    return value


def _regions(env: Mapping[str, str], default_region: str) -> tuple[str, ...]:
    raw = env.get("REGIONS", "").strip() or default_region
    if not raw:
        raise ConfigError("REGIONS is not set and neither is AWS_REGION: name at least one region")
    regions = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    bad = [region for region in regions if not _REGION_PATTERN.fullmatch(region)]
    if bad or not regions:
        raise ConfigError(f"REGIONS must be a comma-separated list of region names, got {raw!r}")
    return regions


def _event_source(env: Mapping[str, str]) -> str:
    value = env.get("EVENT_SOURCE", "").strip() or "ami-store-notifier"
    if not _EVENT_SOURCE_PATTERN.fullmatch(value) or value.startswith("aws."):
        raise ConfigError(
            f"EVENT_SOURCE must be 1-256 characters and must not start with 'aws.', got {value!r}"
        )
    return value


def _announce_states(env: Mapping[str, str]) -> frozenset[TaskState]:
    raw = env.get("ANNOUNCE_STATES", "").strip()
    if not raw:
        return frozenset({TaskState.COMPLETED, TaskState.FAILED})
    known = {state.value.lower(): state for state in TaskState.known()}
    states = set()
    for part in raw.split(","):
        name = part.strip().lower()
        if name not in known:
            allowed = ", ".join(state.value for state in TaskState.known())
            raise ConfigError(f"ANNOUNCE_STATES may list only {allowed}, got {part.strip()!r}")
        states.add(known[name])
    return frozenset(states)


def _boolean(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {env[name]!r}")


def _integer(env: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value

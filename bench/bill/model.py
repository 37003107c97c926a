"""The itemized monthly bill of one deployment in one account and Region, and of the Organization.

Every item is a quantity a month times a unit price (bench/bill/prices.py). The quantities come from the
mode's synthesized template (`Counted`) and the measured runs of its handler (`Profile`), through the
month's workload (bench/bill/usage.py). Free tiers are not deducted (they are per account, shared with
everything else it runs, and one for a whole Organization under consolidated billing), except that a
single account's dashboard is shown within CloudWatch's three free dashboards and beyond them, and a single
account's SQS requests (the hint queue's, with hints) within SQS's million free requests and beyond them.
The Organization's spokes and hub are priced beyond every free tier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bench.bill.modes import ORG_ACCOUNTS, ORG_REGIONS, Mode
from bench.bill.prices import FREE_DASHBOARDS, FREE_SQS_REQUESTS, PRICES, Price
from bench.bill.profile import HINT_OBJECT, Profile
from bench.bill.templates import Counted, Function
from bench.bill.usage import (
    DAYS,
    Assumptions,
    Share,
    hint_shares,
    messages,
    metric_months,
    per_store,
    poller_shares,
    queue_polls,
    seconds,
    total,
)

GB = 1024**3
KEEP_FOREVER_MONTHS = 12
"""Logs or archived events kept forever are priced as a year's worth (they grow without end)."""
# Lambda's own lines per invocation in its text log format ("Using the Lambda logs"): the XRAY line only
# with active tracing. The request id is a UUID; figures as a small function reports them.
_REQUEST = "c0ffee00-0000-4000-8000-000000000000"
PLATFORM_LINES = (
    f"START RequestId: {_REQUEST} Version: $LATEST\n"
    f"END RequestId: {_REQUEST}\n"
    f"REPORT RequestId: {_REQUEST}\tDuration: 25.02 ms\tBilled Duration: 26 ms\tMemory Size: 256 MB\t"
    "Max Memory Used: 94 MB\t\n"
)
XRAY_LINE = (
    "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 3d752xmpl1bbe37e\tSampled: true\t\n"
)


@dataclass(frozen=True)
class Item:
    price: Price
    quantity: float
    free: float = 0.0
    """Of the quantity, what a free tier covers (the account's three free dashboards, SQS's million free
    requests)."""

    @property
    def usd(self) -> float:
        return max(0.0, self.quantity - self.free) * self.price.unit_usd

    @property
    def usd_beyond_free(self) -> float:
        return self.quantity * self.price.unit_usd


@dataclass(frozen=True)
class Bill:
    mode: Mode
    stores: int
    """Store tasks a month in the polled account and Region (for the hub: of every spoke together)."""
    items: tuple[Item, ...]

    @property
    def usd(self) -> float:
        return sum(item.usd for item in self.items)

    @property
    def usd_beyond_free(self) -> float:
        return sum(item.usd_beyond_free for item in self.items)


def _function_items(function: Function, shares: list[Share], a: Assumptions) -> list[Item]:
    invocations = sum(share.runs for share in shares)
    # A function invoked less often than environments are recycled starts cold at most once a call.
    cold_starts = min(a.cold_starts, invocations)
    gb_seconds = (seconds(shares, a) + cold_starts * a.init_seconds) * function.memory_mb / 1024
    platform = len((PLATFORM_LINES + (XRAY_LINE if function.tracing else "")).encode())
    logged = (total(shares, "log_bytes") + invocations * platform) / GB
    kept = function.log_retention_days / DAYS if function.log_retention_days else KEEP_FOREVER_MONTHS
    sns = {variable: messages(shares, variable) for variable in function.topics}
    return [
        Item(PRICES["lambda-requests"], invocations),
        Item(PRICES[f"lambda-{function.architecture}"], gb_seconds),
        Item(PRICES["logs-ingestion"], logged),
        # Stored compressed, an unknown ratio: the uncompressed bytes are an upper bound.
        Item(PRICES["logs-storage"], logged * kept),
        Item(PRICES["xray-traces"], invocations if function.tracing else 0.0),
        Item(PRICES["sns-publish"], total(shares, "sns_requests")),
        Item(
            PRICES["sns-email"],
            sum(sns[v] * topic.email_subscriptions for v, topic in function.topics.items()),
        ),
        Item(PRICES["sns-https"], sum(sns[v] * topic.chat_channels for v, topic in function.topics.items())),
        # SNS asks KMS for a data key per message to an encrypted topic (at most; it may reuse keys).
        Item(PRICES["kms-requests"], sum(sns[v] for v, topic in function.topics.items() if topic.encrypted)),
    ]


def _resource_items(mode: Mode, counted: Counted) -> list[Item]:
    dashboards = counted.dashboards
    free = min(dashboards, FREE_DASHBOARDS) if mode.single_account else 0
    return [
        Item(PRICES["kms-key"], counted.kms_keys),
        Item(PRICES["cloudwatch-alarm"], counted.alarm_metrics),
        Item(PRICES["cloudwatch-alarm-high"], counted.high_resolution_alarm_metrics),
        Item(PRICES["cloudwatch-dashboard"], dashboards, free),
        Item(PRICES["events-schedule"], counted.runs_per_month),
        # The dead-letter queues take messages only when a delivery fails for good: none in a normal month.
        Item(PRICES["sqs-requests"], 0.0),
    ]


def _hint_items(mode: Mode, counted: Counted, hints: list[Share], a: Assumptions) -> list[Item]:
    """What the hints' path costs beside the hint runs themselves: SQS requests (EventBridge's SendMessage
    of each hint, and for each batch, one hint each, the mapping's ReceiveMessage and DeleteMessageBatch;
    and, the most by far, Lambda's polling of the queue all month), and S3's Object Created events.
    Hint runs ask EC2 with DescribeStoreImageTasks, which is not billed; CloudTrail's start events reach
    the default bus free (AWS management events), and EventBridge delivers to a queue of the same account
    free. A single account's requests are priced within SQS's million free requests, the polling first."""
    polls = queue_polls(counted.polled_queues, a)
    if polls == 0:
        return []
    sent = sum(share.runs for share in hints)
    requests = 3 * sent
    free = min(FREE_SQS_REQUESTS, polls + requests) if mode.single_account else 0.0
    objects = sum(share.runs for share in hints if share.kind == HINT_OBJECT)
    return [
        Item(PRICES["sqs-requests"], requests, max(0.0, free - polls)),
        Item(PRICES["sqs-polling"], polls, min(free, polls)),
        Item(PRICES["events-data"], objects),
    ]


def _table_items(counted: Counted, profile: Profile, stores: float, shares: list[Share]) -> list[Item]:
    if counted.poller is None:
        return []
    ttl_days = float(counted.poller.environment.get("STATE_TTL_DAYS", DAYS))
    stored = (profile.table_bytes + profile.table_bytes_per_store * stores * ttl_days / DAYS) / GB
    return [
        Item(PRICES["dynamodb-read"], total(shares, "read_units")),
        Item(PRICES["dynamodb-write"], total(shares, "write_units")),
        Item(PRICES["dynamodb-storage"], stored),
        Item(PRICES["dynamodb-pitr"], stored if counted.point_in_time_recovery else 0.0),
    ]


def _archive_items(counted: Counted, profile: Profile, events: float) -> list[Item]:
    if counted.archive_retention_days is None:
        return []
    finish = profile.kinds["finish"]
    archived = events * finish.event_bytes / max(1, finish.events) / GB
    kept = counted.archive_retention_days / DAYS or KEEP_FOREVER_MONTHS
    return [Item(PRICES["events-archive"], archived), Item(PRICES["events-archive-storage"], archived * kept)]


def bill(mode: Mode, counted: Counted, profile: Profile, stores: int, a: Assumptions) -> Bill:
    """One deployment's month with `stores` store tasks (for the hub: those of every spoke it hears)."""
    items = _resource_items(mode, counted)
    events = stores * per_store(profile, lambda figures: figures.mean("events"), a)
    if counted.poller is not None:
        hints = hint_shares(profile, stores, a) if counted.polled_queues else []
        shares = poller_shares(profile, counted.runs_per_month, stores, a) + hints
        items += _function_items(counted.poller, shares, a)
        items += _table_items(counted, profile, stores, shares)
        items.append(Item(PRICES["cloudwatch-metric"], metric_months(shares, stores, a)))
        # Each announcement is one custom event on the bus, and one more for each bus it is forwarded to.
        items.append(
            Item(PRICES["events-custom"], total(shares, "events") * (1 + counted.forwarding_targets))
        )
        items += _hint_items(mode, counted, hints, a)
    if counted.relay is not None and profile.relay is not None:
        relayed = [Share("relay", events * counted.relay_targets, profile.relay)]
        items += _function_items(counted.relay, relayed, a)
        items += _archive_items(counted, profile, events)
    return Bill(mode, stores, tuple(_merged(items)))


def _merged(items: Iterable[Item]) -> list[Item]:
    """One item per price, in the price table's order."""
    found: dict[str, Item] = {}
    for item in items:
        seen = found.get(item.price.key, Item(item.price, 0.0))
        found[item.price.key] = Item(item.price, seen.quantity + item.quantity, seen.free + item.free)
    return [found[key] for key in PRICES if key in found]


@dataclass(frozen=True)
class Organization:
    spoke: Bill
    hub: Bill

    @property
    def spokes(self) -> int:
        return ORG_ACCOUNTS * ORG_REGIONS

    @property
    def usd(self) -> float:
        return self.spokes * self.spoke.usd + self.hub.usd


SIZES = (100, 10_000)
"""Store tasks a month in one account and Region."""


@dataclass(frozen=True)
class Measured:
    """Everything the bills are computed from."""

    counted: dict[str, Counted]
    """By mode key: the mode's template, counted."""
    profiles: dict[str, Profile]
    """By mode key: runs of the handler with that mode's environment (the hub's: its spokes' runs and the
    relay's)."""
    assumptions: Assumptions
    unknown_settings: dict[str, list[str]]
    """By mode key: keys of its context the app has no setting for (its template is the default's)."""


@dataclass(frozen=True)
class Bills:
    modes: tuple[Mode, ...]
    by_mode: dict[str, dict[int, Bill]]
    """Mode key -> N -> the bill."""
    organization: dict[int, Organization]
    measured: Measured


def bills(modes: Iterable[Mode], measured: Measured, sizes: Iterable[int] = SIZES) -> Bills:
    modes = tuple(modes)
    sizes = tuple(sizes)
    a = measured.assumptions

    def one(mode: Mode, stores: int) -> Bill:
        return bill(mode, measured.counted[mode.key], measured.profiles[mode.key], stores, a)

    by_mode = {mode.key: {n: one(mode, n) for n in sizes} for mode in modes}
    keys = {mode.key: mode for mode in modes}
    organization = {}
    if "spoke" in keys and "hub" in keys:
        spokes = ORG_ACCOUNTS * ORG_REGIONS
        organization = {n: Organization(by_mode["spoke"][n], one(keys["hub"], spokes * n)) for n in sizes}
    return Bills(modes, by_mode, organization, measured)


def targets(found: Bills) -> list[tuple[str, bool, str]]:
    """(name, passed, detail) for each mode with a target, judged at its N (by default the largest)."""
    checks = []
    for mode in found.modes:
        if mode.target_usd is None:
            continue
        by_n = found.by_mode[mode.key]
        judged_n = mode.judged_at if mode.judged_at in by_n else max(by_n)
        judged = by_n[judged_n]
        where = (
            "within the account's three free dashboards and SQS's million free requests"
            if mode.single_account
            else "no free tier"
        )
        detail = ", ".join(f"${bill.usd:,.2f} at N={n:,}" for n, bill in sorted(by_n.items()))
        if mode.single_account and judged.usd_beyond_free != judged.usd:
            detail += f" (${judged.usd_beyond_free:,.2f} beyond the free tiers)"
        unknown = found.measured.unknown_settings.get(mode.key)
        if unknown:
            detail += f"; the app has no setting {', '.join(unknown)}: priced as the default deployment"
        checks.append(
            (
                f"{mode.title}: at most ${mode.target_usd:.2f} a month per account and Region at "
                f"{judged_n:,} stores a month, everything included ({where})",
                judged.usd <= mode.target_usd and not unknown,
                detail,
            )
        )
    return checks

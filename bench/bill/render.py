"""The bill as markdown: the benchmark report's section, and the cost page's section (docs/cost.md)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.bill.model import Bill, Bills, Item
from bench.bill.modes import ORG_ACCOUNTS, ORG_REGIONS
from bench.bill.prices import FREE_DASHBOARDS, FREE_SQS_REQUESTS, PRICES, READ_ON, REGION, Price
from bench.bill.usage import MINUTES
from infra.encrypted_topic import KEY_ROTATION

TIMES = "\N{MULTIPLICATION SIGN}"
README_START = "<!-- cost:start -->"
README_END = "<!-- cost:end -->"
README_COMMAND = "python -m bench.bill"
FREE_OF = {
    "cloudwatch-dashboard": f"the free {FREE_DASHBOARDS}",
    "sqs-requests": "SQS's free million",
    "sqs-polling": "SQS's free million",
}
"""What the `free` part of an item is, by price."""
FREE_TIERS = f"{FREE_DASHBOARDS} free dashboards, {FREE_SQS_REQUESTS / 1e6:.0f}M free SQS requests"


def usd(value: float) -> str:
    """Dollars: cents from $0.10 up, hundredths of a cent below (the small items are the point)."""
    if value == 0 or value >= 0.1:
        return f"${value:,.2f}"
    return f"${value:.4f}" if value >= 0.00005 else "< $0.0001"


def _amount(value: float) -> str:
    """A unit price as the pricing page gives it: cents at least ($0.20), more digits where it has them."""
    text = f"{value:.10f}".rstrip("0")
    decimals = len(text.split(".")[1])
    return f"${value:,.2f}" if decimals <= 2 else f"${text}"


def _plural(unit: str) -> str:
    return unit[:-1] + "ies" if unit.endswith("y") else unit + "s"


def _price(price: Price) -> str:
    if price.per == 1:
        return f"{_amount(price.usd)} per {price.unit}"
    return f"{_amount(price.usd)} per {price.per:,} {_plural(price.unit)}".replace("1,000,000", "million")


def _quantity(value: float) -> str:
    if value == 0 or value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _cells(items: Sequence[Item]) -> list[str]:
    cells = []
    for item in items:
        beyond = f" ({usd(item.usd_beyond_free)} beyond {FREE_OF[item.price.key]})" if item.free else ""
        cells += [_quantity(item.quantity), usd(item.usd) + beyond]
    return cells


def itemized(by_n: dict[int, Bill]) -> list[str]:
    """One mode's items at each N: those with a quantity at some N."""
    sizes = sorted(by_n)
    first = by_n[sizes[0]]
    columns = ["Item", "Unit price"] + [f"{label} N={n:,}" for n in sizes for label in ("Quantity,", "$,")]
    rows = []
    for position, item in enumerate(first.items):
        at = [by_n[n].items[position] for n in sizes]
        if any(each.quantity for each in at):
            rows.append([f"{item.price.service}: {item.price.what}", _price(item.price), *_cells(at)])
    rows.append(["**Total**", ""] + [cell for n in sizes for cell in ("", f"**{usd(by_n[n].usd)}**")])
    return _table(columns, rows)


def _totals(found: Bills) -> list[str]:
    sizes = sorted(next(iter(found.by_mode.values())))
    rows = []
    for mode in found.modes:
        by_n = found.by_mode[mode.key]
        cells = [mode.title] + [usd(by_n[n].usd) for n in sizes]
        beyond = by_n[sizes[-1]].usd_beyond_free
        judged = mode.judged_at if mode.judged_at in by_n else sizes[-1]
        target = f"≤ {usd(mode.target_usd)} at N={judged:,}" if mode.target_usd is not None else "—"
        rows.append([*cells, usd(beyond) if mode.single_account else "(priced beyond)", target])
    columns = ["Deployment (one account and Region)"] + [f"N={n:,}" for n in sizes]
    return _table([*columns, f"N={sizes[-1]:,} beyond the free tiers ({FREE_TIERS})", "Target"], rows)


def _organization(found: Bills) -> list[str]:
    spokes = ORG_ACCOUNTS * ORG_REGIONS
    rows = [
        [
            f"{n:,}",
            usd(org.spoke.usd),
            usd(spokes * org.spoke.usd),
            f"{org.hub.stores:,}",
            usd(org.hub.usd),
            f"**{usd(org.usd)}**",
        ]
        for n, org in sorted(found.organization.items())
    ]
    columns = ["N per spoke", "One spoke", f"{spokes} spokes", "Stores the hub relays", "Hub", "Organization"]
    return _table(columns, rows)


def _assumptions(found: Bills) -> list[str]:
    a = found.measured.assumptions
    unknown = found.measured.unknown_settings
    lines = [
        f"- Prices: {REGION} list prices read {READ_ON} (table below). Free tiers are not deducted: they are "
        "per account and shared with whatever else it runs, and an Organization under consolidated billing "
        f"has one for all its accounts. The exceptions: a single account's dashboard is priced within "
        f"CloudWatch's {FREE_DASHBOARDS} free dashboards, and its SQS requests (the hint queue's) within "
        f"SQS's {FREE_SQS_REQUESTS:,} free requests a month, and both are shown beyond them; the "
        "Organization's spokes and hub beyond them, since member accounts have dashboards of their own "
        "and the Organization one free tier.",
        "- From the templates (synthesized, cdk-nag off): KMS keys, alarms (per alarm metric), "
        "dashboards, the schedule (runs a month over 730 hours), each function's memory, architecture, "
        "tracing, log retention and environment, the topics it publishes to and their encryption, "
        "subscriptions and chat channels, the hub forwarding and relay targets, the archive, the table's "
        "point-in-time recovery. From runs of the real handler on moto with each mode's environment "
        "(bench/bill/runs.py): the custom metrics of its EMF blobs, its log bytes, DynamoDB units, API "
        "calls, SNS requests (64 KB chunks) and messages, EventBridge events, the table's bytes.",
        f"- Assumed: a store runs {a.store_minutes:.0f} minutes and {a.failed_share:.0%} of stores fail; "
        f"{a.cold_starts:.0f} cold starts a month "
        f"(INIT {a.init_seconds * 1000:.0f} ms, the handler's measured import, billed since August 2025); "
        f"Lambda time = the handler's own time + {a.latency_per_call_s * 1000:.0f} ms per AWS call; stores "
        "arrive at random (metric hours and busy minutes follow from that); logs and archived events stored "
        "uncompressed (an upper bound); a deployment runs one Region.",
        f"- The customer managed key rotates every {KEY_ROTATION.to_days():,.0f} days, the longest KMS "
        "allows: each of a key's first two rotations adds $1 a month (KMS pricing), so it costs $1 a month "
        "for its first seven years.",
        "- Dead-letter queues (SQS, "
        + ", ".join(f"{key} {counted.dead_letter_queues}" for key, counted in found.measured.counted.items())
        + f"; {_price(PRICES['sqs-requests'])}) take messages only when a delivery fails for good: $0 in a "
        "normal month, as the scheduled rule's invocations (free).",
        *_hints(found),
    ]
    lines += [
        f"- The app has no setting {', '.join(keys)}: the {key} row is priced as the default deployment."
        for key, keys in unknown.items()
    ]
    return lines


def _hints(found: Bills) -> list[str]:
    """How the hints' path is priced, when a mode has it."""
    hinted = [key for key, counted in found.measured.counted.items() if counted.polled_queues]
    if not hinted:
        return []
    a = found.measured.assumptions
    per_minute = a.queue_pollers * a.receives_per_poller_minute
    return [
        f"- Hints ({', '.join(hinted)}): priced where both arrive (a trail logs management events; the "
        "bucket's EventBridge delivery is on). Each store's CloudTrail start and each completed store's S3 "
        "Object Created (a failure writes no object) is a hint, and each hint a batch of its own, which runs "
        "the real handler (measured: `hint-start`, `hint-object`; its per-minute call allowance is one "
        "DynamoDB write; DescribeStoreImageTasks is not billed). The scheduled runs beside them are measured "
        "as they then are (a hint run has claimed the start or the end; quiet when idle, a run with nothing "
        "in progress asks EC2 nothing). SQS: EventBridge's SendMessage for each hint, the mapping's "
        "ReceiveMessage and DeleteMessageBatch for each batch, and Lambda's polling of the queue all month, "
        f"messages or not: assumed {a.queue_pollers} pollers {TIMES} {a.receives_per_poller_minute:g} "
        f"requests a minute (20 s long polls, each empty receive billed), {per_minute:g} a minute, "
        f'{per_minute * MINUTES:,.0f} a month (Lambda developer guide, "Configuring scaling behavior for '
        'SQS event source mappings": five concurrent batches at low traffic, the optimization to two not '
        "available with maximum concurrency, which the mapping sets). CloudTrail's start events reach the "
        "default bus free (AWS management events) and EventBridge delivers to the queue free (same "
        "account); S3's Object Created events are AWS opt-in data events, billed.",
    ]


def _prices() -> list[str]:
    rows = [[price.service, price.what, _price(price), price.url] for price in PRICES.values()]
    return _table(["Service", "Item", "Price", "Source"], rows)


def report_section(found: Bills) -> list[str]:
    lines = [
        "## The bill: everything a deployment costs a month",
        "",
        *_assumptions(found),
        "",
        *_totals(found),
    ]
    if found.organization:
        lines += [
            "",
            f"Organization: spokes in {ORG_ACCOUNTS} accounts {TIMES} {ORG_REGIONS} Regions, and the hub "
            "(relaying every spoke's announcements):",
            "",
            *_organization(found),
        ]
    for mode in found.modes:
        lines += ["", f"### {mode.title}", "", *itemized(found.by_mode[mode.key])]
    return [*lines, "", "### Prices", "", *_prices()]


def readme_section(found: Bills) -> str:
    """What docs/cost.md holds between its cost markers, generated by `python -m bench.bill`."""
    default = found.by_mode["default"]
    sizes = sorted(default)
    lines = [
        README_START,
        f"<!-- generated by `{README_COMMAND}` from bench/bill/measured.json: edit the model, not this -->",
        "",
        f"A deployment costs {usd(default[sizes[0]].usd)} a month in one account and Region at "
        f"{sizes[0]:,} store tasks a month, and {usd(default[sizes[-1]].usd)} at {sizes[-1]:,}: everything "
        f"included, at {REGION} list prices ({READ_ON}), free tiers not deducted but its dashboard within "
        f"the account's {FREE_DASHBOARDS} free ones.",
    ]
    lines += _readme_hints(found, sizes)
    if found.organization:
        org = found.organization[sizes[-1]]
        lines.append(
            f"Organization-wide, {ORG_ACCOUNTS} accounts {TIMES} {ORG_REGIONS} Regions cost {usd(org.usd)} a "
            f"month at {sizes[-1]:,} store tasks per account and Region ({usd(org.spoke.usd)} per spoke, "
            f"{usd(org.hub.usd)} for the hub)."
        )
    lines += [
        "",
        *_totals(found),
        "",
        "Itemized, with every price and its source: `PYTHONPATH=functions .venv/bin/python -m bench.bill "
        "--from-snapshot` (seconds; without the flag it measures again, about 2 minutes), and in "
        '`make bench`\'s report ("The bill").',
        README_END,
    ]
    return "\n".join(lines)


def _readme_hints(found: Bills, sizes: list[int]) -> list[str]:
    """What hints and quiet when idle add, when the bill prices them."""
    if not {"default", "hints", "quiet"} <= found.by_mode.keys():
        return []
    default, hints, quiet = (found.by_mode[key][sizes[-1]] for key in ("default", "hints", "quiet"))
    polling = next(item for item in hints.items if item.price.key == "sqs-polling")
    quieter = quiet.usd - hints.usd
    than = "more" if quieter >= 0 else "less"
    return [
        f"Hints add {usd(hints.usd - default.usd)} a month at {sizes[-1]:,} store tasks within SQS's free "
        f"million requests, {usd(hints.usd_beyond_free - default.usd_beyond_free)} beyond them (Lambda "
        f"polls the hint queue about {polling.quantity:,.0f} times a month, messages or not); quiet "
        f"when idle costs {usd(abs(quieter))} {than} than hints alone (an alarm "
        "more, less Lambda time): what it saves is EC2 calls, which are not billed.",
    ]


def readme_part(text: str) -> str | None:
    """The cost page's section (docs/cost.md), markers included, or None when it has no markers."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return None
    return text[start : end + len(README_END)]

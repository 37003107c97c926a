"""The archive verification section and its PASS/FAIL targets, from the two passes' figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ami_store_notifier.assurance import MAX_ARCHIVE_CHECKS_PER_RUN
from ami_store_notifier.settings_function import DEFAULT_MEMORY_MB
from bench.bill.prices import PRICES, Price
from bench.bill.usage import Assumptions
from bench.verification.measure import Pass, VerificationResults

PER = 1_000
"""The section's figures are per this many completions."""
S3_OPERATIONS = ("HeadObject", "GetBucketVersioning", "GetBucketLifecycleConfiguration")
DESCRIBE = ("EC2", "DescribeStoreImageTasks")
SERVICE_ORDER = ("S3", "EC2", "DynamoDB", "SNS", "EventBridge")
LATENCY_PER_CALL_SECONDS = Assumptions().latency_per_call_s

Check = tuple[str, bool, str]


@dataclass(frozen=True)
class Added:
    """One priced item the checks add, per `PER` completions."""

    what: str
    price: Price
    quantity: float

    @property
    def usd(self) -> float:
        return self.quantity * self.price.unit_usd


def _per(results: VerificationResults, value: float) -> float:
    return value * PER / results.plan.completions


def _operations(results: VerificationResults) -> list[tuple[str, str]]:
    """Every operation either pass called, S3's three and EC2's two always, by service then name."""
    found = set(results.checks_off.calls) | set(results.checks_on.calls)
    found |= {("S3", operation) for operation in S3_OPERATIONS} | {DESCRIBE, ("EC2", "DescribeImages")}
    return sorted(found, key=lambda call: (SERVICE_ORDER.index(call[0]), call[1]))


def _lambda_seconds(run: Pass) -> float:
    """Lambda time as the bill models it: the handler's own time plus a fixed latency per AWS call."""
    return run.own_cpu_seconds + LATENCY_PER_CALL_SECONDS * run.calls.total()


def added_items(results: VerificationResults) -> list[Added]:
    off, on = results.checks_off, results.checks_on
    s3 = sum(on.count("S3", operation) - off.count("S3", operation) for operation in S3_OPERATIONS)
    gb_seconds = (_lambda_seconds(on) - _lambda_seconds(off)) * DEFAULT_MEMORY_MB / 1024
    return [
        Added(
            "S3 requests (HeadObject and the bucket's two reads)", PRICES["s3-requests"], _per(results, s3)
        ),
        Added(
            "SNS publish requests", PRICES["sns-publish"], _per(results, on.sns_requests - off.sns_requests)
        ),
        Added("EventBridge events", PRICES["events-custom"], _per(results, on.events - off.events)),
        Added("DynamoDB WRU", PRICES["dynamodb-write"], _per(results, on.write_units - off.write_units)),
        Added("DynamoDB RRU", PRICES["dynamodb-read"], _per(results, on.read_units - off.read_units)),
        Added(
            f"Lambda GB-seconds ({DEFAULT_MEMORY_MB} MB, arm64)",
            PRICES["lambda-arm64"],
            _per(results, gb_seconds),
        ),
    ]


# -- targets -----------------------------------------------------------------------------------------


def verification_targets(results: VerificationResults) -> list[Check]:
    off, on = results.checks_off, results.checks_on
    completions = len(on.completed)
    heads = on.recorded.heads
    asked = Counter(heads[key] for key in on.completed.values())
    describe_off, describe_on = off.calls[DESCRIBE], on.calls[DESCRIBE]
    return [
        (
            "verification: exactly one HeadObject per completion",
            completions == results.plan.completions
            and heads.total() == completions
            and asked[1] == completions
            and not off.recorded.heads,
            f"{heads.total():,} HeadObject calls for {completions:,} completions: {asked[1]:,} objects asked "
            f"once, {completions - asked[1] - asked[0]:,} more than once, {asked[0]:,} never; checks off "
            f"{off.recorded.heads.total()}",
        ),
        (
            "verification: no extra EC2 calls (DescribeStoreImageTasks equal with and without checks)",
            describe_on == describe_off,
            f"{describe_off:,} calls without, {describe_on:,} with; DescribeImages (the store quota, both "
            f"passes) {off.count('EC2', 'DescribeImages'):,} and {on.count('EC2', 'DescribeImages'):,}",
        ),
        (
            "verification: every completion verified exactly once",
            completions == results.plan.completions
            and _once(on.recorded.on_bus, on.completed)
            and _once(on.recorded.on_topic, on.completed)
            and not off.recorded.on_bus
            and not off.recorded.on_topic,
            f"EventBridge {_spread(on.recorded.on_bus, on.completed)}; SNS "
            f"{_spread(on.recorded.on_topic, on.completed)}; verdicts {_verdicts(on)}; checks off: "
            f"{off.recorded.on_bus.total()} events, {off.recorded.on_topic.total()} SNS messages",
        ),
    ]


def _once(announced: Counter[str], completed: dict[str, str]) -> bool:
    return set(announced) == set(completed) and all(count == 1 for count in announced.values())


def _spread(announced: Counter[str], completed: dict[str, str]) -> str:
    times = Counter(announced[ami] for ami in completed)
    twice = sum(count for seen, count in times.items() if seen > 1)
    strangers = len(set(announced) - set(completed))
    return f"{times[1]:,} once, {twice} more than once, {times[0]} never, {strangers} not of a completion"


def _verdicts(run: Pass) -> str:
    return (
        ", ".join(f"{verdict} {count:,}" for verdict, count in sorted(run.recorded.verdicts.items()))
        or "none"
    )


# -- the section -------------------------------------------------------------------------------------


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _number(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def _usd(value: float, decimals: int) -> str:
    return f"${value:,.{decimals}f}"


def _price(price: Price) -> str:
    """As the pricing page quotes it: "$0.0004 per 1,000 requests"."""
    amount = f"{price.usd:.10f}".rstrip("0").rstrip(".")
    return f"${amount} per {price.unit}" if price.per == 1 else f"${amount} per {price.per:,} {price.unit}s"


def _signed(value: float, decimals: int = 0) -> str:
    return f"{value:+,.{decimals}f}" if round(value, decimals) else "0"


def _row(what: str, off: float, on: float, decimals: int = 0) -> list[str]:
    return [what, _number(off, decimals), _number(on, decimals), _signed(on - off, decimals)]


def _requests_part(results: VerificationResults) -> list[str]:
    off, on = results.checks_off, results.checks_on

    def row(what: str, measure: Callable[[Pass], float], decimals: int = 0) -> list[str]:
        return _row(what, _per(results, measure(off)), _per(results, measure(on)), decimals)

    rows = [
        _row(
            f"{service} {operation}",
            _per(results, off.count(service, operation)),
            _per(results, on.count(service, operation)),
        )
        for service, operation in _operations(results)
    ]
    rows += [
        row("DynamoDB WRU", lambda run: run.write_units, 1),
        row("DynamoDB RRU", lambda run: run.read_units, 1),
        row("SNS requests billed (64 KB chunks)", lambda run: run.sns_requests),
        row("EventBridge events billed (64 KB chunks)", lambda run: run.events),
        row("Handler time, s: the runs' wall time summed", lambda run: run.wall_seconds, 2),
        row("Handler time, s: the runs' CPU time summed", lambda run: run.cpu_seconds, 2),
        row("Handler's own CPU time, s (moto's left out)", lambda run: run.own_cpu_seconds, 2),
        row("Lambda time as the bill models it, s", _lambda_seconds, 2),
    ]

    def added_ms(measure: Callable[[Pass], float]) -> str:
        return f"{(measure(on) - measure(off)) * 1000 / results.plan.completions:+.2f} ms"

    return [
        f"### Requests and time per {PER:,} completions",
        "",
        *_table(("What", "Checks off", "Checks on", "Added"), rows),
        "",
        f"Added handler time per completion: {added_ms(lambda run: run.cpu_seconds)} of CPU time under "
        f"moto ({added_ms(lambda run: run.own_cpu_seconds)} the handler's own), "
        f"{added_ms(lambda run: run.wall_seconds)} of wall time; {added_ms(_lambda_seconds)} as the bill "
        f"models Lambda time (the handler's own time + {LATENCY_PER_CALL_SECONDS * 1000:.0f} ms per AWS "
        "call). The passes run one after the other: wall time counts whatever else the machine ran "
        f"meanwhile, CPU time does not. Verdicts: {_verdicts(on)}.",
    ]


def _cost_part(results: VerificationResults) -> list[str]:
    items = added_items(results)
    rows = [
        [
            item.what,
            _number(item.quantity, 1),
            _price(item.price),
            _usd(item.usd, 6),
            _usd(item.usd * PER, 2),
        ]
        for item in items
    ]
    total = sum(item.usd for item in items)
    rows.append(["**Total**", "", "", f"**{_usd(total, 6)}**", f"**{_usd(total * PER, 2)}**"])
    return [
        f"### Added cost per {PER:,} completions",
        "",
        *_table(
            (
                "Item",
                "Added quantity",
                "Unit price",
                f"USD per {PER:,} completions",
                "USD per million completions",
            ),
            rows,
        ),
    ]


def verification_section(results: VerificationResults) -> list[str]:
    plan, off, on = results.plan, results.checks_off, results.checks_on
    completing_runs = on.count("S3", "GetBucketLifecycleConfiguration")
    return [
        "## Archive verification cost",
        "",
        f"Two passes of the real handler on moto and the emulator (`bench.scenario.World`), each over "
        f"{plan.completions:,} stores that complete: {plan.stores_per_minute} start each simulated minute "
        f"and run {plan.store_seconds:g} s, among {plan.history:,} stores that ended earlier in the 31-day "
        f"listing; one scheduled run a minute, {on.runs} runs counted after the baseline. The emulator "
        "writes each completed store's object into moto S3. Checks off: READABLE_BUCKETS unset; checks "
        "on: it names the stores' bucket. Every figure is per "
        f"{PER:,} completions. The bucket's versioning and lifecycle are read once per bucket and run with "
        f"a completion ({completing_runs} runs here): fewer completions per run, more of these reads per "
        f"completion. A run checks at most {MAX_ARCHIVE_CHECKS_PER_RUN} archives; the rest wait for the "
        "next run (not reached here).",
        "",
        *_requests_part(results),
        "",
        *_cost_part(results),
        "",
        f"Notes: S3 bills its requests to the bucket's owner, which may be another account than the "
        "notifier's; the price is S3 Standard's (an object already in Standard-IA or Glacier Instant "
        "Retrieval costs more per request). Lambda time is the bill's model, not S3's own latency, which "
        "moto does not have: the checks are made one after the other within the run. Chat notifications, "
        "when on, add one more SNS message per verification. DescribeImages sizes the stores in progress "
        "for the store quota in every deployment, checks on or off. moto adjustments as in the sections "
        f"above (the topic's subscribers removed). Section time {results.seconds:.0f} s (passes "
        f"{off.seconds:.0f} s and {on.seconds:.0f} s).",
        *(f"- Note: {note}" for note in off.notes + on.notes),
    ]


def verification_markdown(results: VerificationResults) -> str:
    """The section and its targets, as `make bench` and `make bench-verification` print them."""
    targets = [
        f"- **{'PASS' if passed else 'FAIL'}** {name}: {detail}"
        for name, passed, detail in verification_targets(results)
    ]
    return "\n".join([*verification_section(results), "", "### Targets", "", *targets]) + "\n"

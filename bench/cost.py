"""The report's monthly cost of each poller at the default schedule: the prices assumed, the figures a month
adds up to, and its section."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.budget import EC2_BUCKET
from bench.figures import Figures, SizeFigures
from bench.tables import NAIVE, OURS, markdown_table, number

POLLS_PER_MONTH = 43_200  # one poll a minute, 30 days
LAMBDA_MEMORY_GB = 256 / 1024
LAMBDA_GB_SECOND_USD = 0.0000133334  # us-east-1, arm64
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
RRU_USD = 0.125 / 1_000_000  # DynamoDB on-demand, us-east-1
WRU_USD = 0.625 / 1_000_000
ASSUMED_LATENCY_PER_CALL_S = 0.010
"""Sensitivity: Lambda time if each AWS call took 10 ms (the poller's own time plus 10 ms per call)."""
COST_SIZES = (100, 10_000)


@dataclass(frozen=True)
class Monthly:
    ec2_calls: float
    ec2_burst: float
    dynamodb_calls: float
    read_units: float
    write_units: float
    publish_calls: float
    lambda_seconds: float
    lambda_seconds_slow: float

    @property
    def dynamodb_usd(self) -> float:
        return self.read_units * RRU_USD + self.write_units * WRU_USD

    def lambda_usd(self, seconds: float) -> float:
        return seconds * LAMBDA_MEMORY_GB * LAMBDA_GB_SECOND_USD + POLLS_PER_MONTH * LAMBDA_REQUEST_USD


def _per_task(data: dict[str, Figures], measure: Callable[[Figures], float]) -> float:
    """What one task adds over the head polls it replaces: it appears, then it finishes."""
    head = measure(data["steady-head"]) if "steady-head" in data else measure(data["steady-mean"])
    return measure(data["new-1"]) - head + measure(data["k=1"]) - head


def monthly(data: dict[str, Figures], tasks_per_month: int) -> Monthly | None:
    needed = ("steady-mean", "steady-max", "new-1", "k=1")
    if any(key not in data for key in needed):
        return None
    steady = data["steady-mean"]

    def month(measure: Callable[[Figures], float]) -> float:
        return POLLS_PER_MONTH * measure(steady) + tasks_per_month * _per_task(data, measure)

    def seconds(item: Figures) -> float:
        return item.wall_ms / 1000

    def slow_seconds(item: Figures) -> float:
        return item.client_ms / 1000 + ASSUMED_LATENCY_PER_CALL_S * item.total_calls()

    return Monthly(
        ec2_calls=month(lambda item: item.service("EC2")),
        ec2_burst=max(
            data["steady-max"].service("EC2"), data["new-1"].service("EC2"), data["k=1"].service("EC2")
        ),
        dynamodb_calls=month(lambda item: item.service("DynamoDB")),
        read_units=month(lambda item: item.read_units),
        write_units=month(lambda item: item.write_units),
        publish_calls=month(Figures.publishes),
        lambda_seconds=month(seconds),
        lambda_seconds_slow=month(slow_seconds),
    )


COST_COLUMNS = (
    "Account",
    "Who",
    "EC2 calls/month",
    "Max EC2 calls in one poll",
    "DynamoDB requests/month",
    "RRU/month",
    "WRU/month",
    "DynamoDB $/month",
    "Lambda GB-s/month",
    "Lambda $/month",
    "Lambda $/month at 10 ms/call",
    "SNS+EventBridge calls/month",
)


def _usd(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def cost_rows(sizes: dict[int, SizeFigures]) -> list[dict[str, str]]:
    rows = []
    for n in COST_SIZES:
        if n not in sizes:
            continue
        for who, data in ((OURS, sizes[n].ours), (NAIVE, sizes[n].naive)):
            month = monthly(data, n)
            if month is None:
                continue
            rows.append(
                {
                    "Account": f"{n:,} store tasks/month (N≈{n:,})" if who == OURS else "",
                    "Who": who,
                    "EC2 calls/month": number(round(month.ec2_calls)),
                    "Max EC2 calls in one poll": number(month.ec2_burst),
                    "DynamoDB requests/month": number(round(month.dynamodb_calls)),
                    "RRU/month": number(round(month.read_units)),
                    "WRU/month": number(round(month.write_units)),
                    "DynamoDB $/month": _usd(month.dynamodb_usd),
                    "Lambda GB-s/month": number(round(month.lambda_seconds * LAMBDA_MEMORY_GB)),
                    "Lambda $/month": _usd(month.lambda_usd(month.lambda_seconds)),
                    "Lambda $/month at 10 ms/call": _usd(month.lambda_usd(month.lambda_seconds_slow)),
                    "SNS+EventBridge calls/month": number(round(month.publish_calls)),
                }
            )
    return rows


def cost_section(costs: list[dict[str, str]]) -> list[str]:
    lines = [
        "## Cost per month at the default schedule",
        "",
        f"{POLLS_PER_MONTH:,} polls a month (one a minute). An account with T store tasks a month has N ≈ T "
        f"in the 31-day window and about T / {POLLS_PER_MONTH:,} transitions per poll, so almost every poll "
        "is a k=0 poll: month = 43,200 x (k=0 mean per poll, hourly safety net included) + T x (the "
        '"1 new task" poll + the "k=1" poll - 2 head polls). '
        'Lambda and DynamoDB only, to compare the two pollers: what a deployment costs in all is "The bill" '
        "below. Prices assumed (us-east-1, list prices, "
        "free tiers ignored): Lambda arm64 $0.0000133334 per GB-s and $0.20 per million requests at 256 MB; "
        "DynamoDB on-demand $0.125 per million RRU and $0.625 per million WRU. Lambda duration is an "
        "**estimate from the moto wall time**; the next column is a sensitivity: the poller's own time "
        "(Client ms) plus 10 ms per AWS call, as if each call took 10 ms in AWS. EC2 calls cost no money "
        "but come out of the account's "
        f"shared DescribeStoreImageTasks token bucket ({EC2_BUCKET.capacity} tokens, "
        f"{EC2_BUCKET.refill_per_second}/s refill). SNS and EventBridge bill per message/event whatever the "
        "batching, so only their call counts are shown.",
        "",
    ]
    if not costs:
        return [
            *lines,
            f"(Needs N = {' or '.join(f'{n:,}' for n in COST_SIZES)} with the single-task polls.)",
        ]
    return [*lines, markdown_table(COST_COLUMNS, costs)]

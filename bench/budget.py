"""The rate budget and latency part of the report: EC2's DescribeStoreImageTasks bucket, per N.

Issue 10's targets: the notifier is never throttled by its own calls, makes at most
MAX_DESCRIBE_CALLS_PER_RUN listing calls in any run, averages at most 1.1 per poll in the steady hour
at N = 30,000 (safety net included), leaves a waiter calling every 5 seconds unthrottled, costs at most
4 write units per transition at k = 1,000, and announces a store's end within two schedule periods.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ami_store_notifier.domain.run_limits import MAX_DESCRIBE_CALLS_PER_RUN
from ami_store_notifier.ec2_limits import STORE_TASK_BUCKETS
from bench.scenario import POLL_SECONDS, WAITER_SECONDS
from bench.tables import markdown_table
from bench.timeline import LATENCY_STORES, RateBudget

STEADY_TARGET_N = 30_000
STEADY_CALLS_PER_POLL = 1.1
WRU_PER_TRANSITION = 4
WRU_TARGET_K = 1_000
LATENCY_LIMIT_SECONDS = 2 * POLL_SECONDS
EC2_BUCKET = STORE_TASK_BUCKETS["DescribeStoreImageTasks"]
"""DescribeStoreImageTasks' own request bucket, as the emulator keeps it (the documented size and refill)."""

COLUMNS = (
    "N",
    "Listing calls per run, max",
    "Listing calls per poll, steady hour",
    "Lowest tokens",
    "Own calls throttled",
    "Waiter calls",
    "Waiter calls throttled",
    "Latency median s",
    "Latency p95 s",
    "Latency max s",
    f"WRU per transition, k={WRU_TARGET_K:,}",
)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None
    """None: not checked (the size was not run)."""
    detail: str


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `fraction` of them at or below."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def _seconds(values: Sequence[float], measure: str) -> str:
    if not values:
        return "—"
    value = {
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "max": max(values),
    }[measure]
    return f"{value:,.1f}"


def _steady_mean(budget: RateBudget) -> float | None:
    return statistics.fmean(budget.steady_calls) if budget.steady_calls else None


def rows(budgets: Mapping[int, RateBudget], wru_per_transition: Mapping[int, float]) -> list[dict[str, str]]:
    table = []
    for n, budget in sorted(budgets.items()):
        steady = _steady_mean(budget)
        wru = wru_per_transition.get(n)
        table.append(
            {
                "N": f"{n:,}",
                "Listing calls per run, max": str(max(budget.calls_per_run, default=0)),
                "Listing calls per poll, steady hour": f"{steady:.2f}" if steady is not None else "—",
                "Lowest tokens": f"{budget.lowest_tokens:.1f}" if budget.lowest_tokens is not None else "—",
                "Own calls throttled": str(budget.own_throttled),
                "Waiter calls": f"{budget.waiter_calls:,}",
                "Waiter calls throttled": str(budget.waiter_throttled),
                "Latency median s": _seconds(budget.latencies, "median"),
                "Latency p95 s": _seconds(budget.latencies, "p95"),
                "Latency max s": _seconds(budget.latencies, "max"),
                f"WRU per transition, k={WRU_TARGET_K:,}": f"{wru:.2f}" if wru is not None else "—",
            }
        )
    return table


def checks(budgets: Mapping[int, RateBudget], wru_per_transition: Mapping[int, float]) -> list[Check]:
    found = []
    for n, budget in sorted(budgets.items()):
        most = max(budget.calls_per_run, default=0)
        found += [
            Check(
                f"N={n:,}: never throttled by its own calls",
                budget.own_throttled == 0,
                f"{budget.own_throttled} of {sum(budget.calls_per_run):,} listing calls refused; lowest "
                f"{budget.lowest_tokens:.1f} tokens"
                if budget.lowest_tokens is not None
                else "no call made",
            ),
            Check(
                f"N={n:,}: at most {MAX_DESCRIBE_CALLS_PER_RUN} listing calls in any run",
                most <= MAX_DESCRIBE_CALLS_PER_RUN,
                f"max {most} over {len(budget.calls_per_run)} runs",
            ),
            Check(
                f"N={n:,}: a waiter calling every {WAITER_SECONDS} s all the steady hour is never throttled",
                budget.waiter_calls > 0 and budget.waiter_throttled == 0,
                f"{budget.waiter_throttled} of {budget.waiter_calls:,} calls refused",
            ),
            _latency_check(n, budget),
        ]
        if n in wru_per_transition:
            wru = wru_per_transition[n]
            found.append(
                Check(
                    f"N={n:,} k={WRU_TARGET_K:,}: at most {WRU_PER_TRANSITION} write units per transition",
                    wru <= WRU_PER_TRANSITION,
                    f"{wru:.2f}",
                )
            )
    steady = budgets.get(STEADY_TARGET_N)
    mean = _steady_mean(steady) if steady else None
    found.append(
        Check(
            f"N={STEADY_TARGET_N:,} steady hour: at most {STEADY_CALLS_PER_POLL} listing calls per poll on "
            "average, the safety net included",
            None if mean is None else mean <= STEADY_CALLS_PER_POLL,
            f"{mean:.3f} over {len(steady.steady_calls)} polls"
            if steady and mean is not None
            else f"N={STEADY_TARGET_N:,} not in --sizes",
        )
    )
    return found


def _latency_check(n: int, budget: RateBudget) -> Check:
    latencies = budget.latencies
    worst = max(latencies, default=None)
    return Check(
        f"N={n:,}: every store's end announced within {LATENCY_LIMIT_SECONDS} s (one-minute schedule)",
        worst is not None and worst <= LATENCY_LIMIT_SECONDS and budget.unannounced == 0,
        f"{len(latencies)} stores: median {_seconds(latencies, 'median')} s, "
        f"p95 {_seconds(latencies, 'p95')} s, max {_seconds(latencies, 'max')} s; "
        f"{budget.unannounced} not announced",
    )


def section(table: list[dict[str, str]]) -> list[str]:
    """The report's rate budget and latency section, around the table of `rows`."""
    return [
        "## Rate budget and latency",
        "",
        f"EC2's DescribeStoreImageTasks bucket ({EC2_BUCKET.capacity} tokens, refilled "
        f"{EC2_BUCKET.refill_per_second} a second, per account and Region) is on for the notifier and for a "
        f"waiter that calls every {WAITER_SECONDS} s all the steady hour, as "
        "`aws ec2 wait store-image-task-complete` does. "
        "Listing calls per run count every poll of the timing pass, set-up polls included; lowest tokens "
        "is the bucket's level just after its most crowded call. Latency: "
        f"{LATENCY_STORES} stores end at random moments of a half hour of one-minute polls; the time "
        "from each end (the emulator's clock) to the poll that recorded it. Write units per transition: "
        f"the k={WRU_TARGET_K:,} poll's WRU over k.",
        "",
        markdown_table(COLUMNS, table),
    ]

"""From measured polls to the report: per-size tables, targets, monthly cost, cold start, notes."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench import budget
from bench.bill.model import Bills
from bench.bill.model import targets as bill_targets
from bench.bill.render import report_section as bill_section
from bench.catch_up import CatchUp, catch_up_section, catch_up_target
from bench.hints.scenarios import HintsResults
from bench.hints.section import hints_section, hints_targets
from bench.scenario import (
    FAILED_EVERY,
    IN_PROGRESS_AMONG_NEWEST,
    IN_PROGRESS_TASKS,
    LATENCY_STORES,
    WAITER_SECONDS,
    Plan,
    Poll,
    SizeRun,
)
from bench.static import AssetSize, ImportTime
from local.ec2_store_tasks.throttling import STORE_TASK_BUCKETS

# -- prices and constants (stated in the report as assumptions) -----------------------------------------

POLLS_PER_MONTH = 43_200  # one poll a minute, 30 days
LAMBDA_MEMORY_GB = 256 / 1024
LAMBDA_GB_SECOND_USD = 0.0000133334  # us-east-1, arm64
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
RRU_USD = 0.125 / 1_000_000  # DynamoDB on-demand, us-east-1
WRU_USD = 0.625 / 1_000_000
ASSUMED_LATENCY_PER_CALL_S = 0.010
"""Sensitivity: Lambda time if each AWS call took 10 ms (the poller's own time plus 10 ms per call)."""
# DescribeStoreImageTasks' own request bucket, as the emulator keeps it (the documented size and refill).
EC2_BUCKET_TOKENS = STORE_TASK_BUCKETS["DescribeStoreImageTasks"].capacity
EC2_BUCKET_REFILL = STORE_TASK_BUCKETS["DescribeStoreImageTasks"].refill_per_second
COST_SIZES = (100, 10_000)
TARGET_N = 10_000
MEMORY_GROWTH_LIMIT = 1.5
MEMORY_REFERENCE_MIN_N = 1_000

SERVICES = ("EC2", "DynamoDB", "SNS", "EventBridge")
SHORT_NAMES = {
    "DescribeStoreImageTasks": "Describe",
    "GetItem": "Get",
    "BatchGetItem": "BatchGet",
    "TransactWriteItems": "TxWrite",
    "UpdateItem": "Update",
    "PutItem": "Put",
    "PublishBatch": "PublishBatch",
    "Publish": "Publish",
    "PutEvents": "PutEvents",
}
COLUMNS = (
    "Scenario",
    "Who",
    "Polls",
    "EC2 calls",
    "DynamoDB calls",
    "SNS calls",
    "EventBridge calls",
    "RRU",
    "WRU",
    "Wall ms",
    "Client ms",
    "Peak KiB",
    "Cursor KiB",
)
OURS, NAIVE, RATIO = "ours", "naive", "naive ÷ ours"
TIMES = "\N{MULTIPLICATION SIGN}"


# -- figures -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One poll, or an aggregate of polls (mean, max or median of each figure)."""

    polls: int
    calls: dict[tuple[str, str], float]
    describe_kinds: dict[str, float]
    read_units: float
    write_units: float
    moto_units: float
    wall_ms: float
    client_ms: float
    units_by_kind: dict[tuple[str, str], float] = field(default_factory=dict)
    peak_kib: float | None = None
    cursor_kib: float | None = None
    largest_cursor_kib: float = 0.0

    def service(self, name: str) -> float:
        return sum(count for (service, _), count in self.calls.items() if service == name)

    def total_calls(self) -> float:
        return sum(self.calls.values())

    def publishes(self) -> float:
        return self.service("SNS") + self.service("EventBridge")


Aggregate = Callable[[Sequence[float]], float]


def _optional(values: Sequence[float | None], aggregate: Aggregate) -> float | None:
    present = [value for value in values if value is not None]
    return aggregate(present) if present else None


def figures(polls: Sequence[Poll], aggregate: Aggregate = statistics.fmean) -> Figures:
    keys = {key for poll in polls for key in poll.calls}
    kinds = {kind for poll in polls for kind in poll.describe_kinds}
    unit_kinds = {kind for poll in polls for kind in poll.units_by_kind}
    return Figures(
        polls=len(polls),
        calls={key: aggregate([poll.calls.get(key, 0) for poll in polls]) for key in keys},
        describe_kinds={
            kind: aggregate([poll.describe_kinds.get(kind, 0) for poll in polls]) for kind in kinds
        },
        read_units=aggregate([poll.read_units for poll in polls]),
        write_units=aggregate([poll.write_units for poll in polls]),
        moto_units=aggregate([poll.moto_reported_units for poll in polls]),
        wall_ms=aggregate([poll.wall_seconds * 1000 for poll in polls]),
        client_ms=aggregate([poll.client_seconds * 1000 for poll in polls]),
        units_by_kind={
            kind: aggregate([poll.units_by_kind.get(kind, 0) for poll in polls]) for kind in unit_kinds
        },
        largest_cursor_kib=aggregate([poll.largest_cursor_write / 1024 for poll in polls]),
        cursor_kib=_optional(
            [p.cursor_bytes / 1024 if p.cursor_bytes is not None else None for p in polls], aggregate
        ),
    )


def with_memory(timed: Figures, traced: Sequence[Poll], aggregate: Aggregate) -> Figures:
    peaks = [poll.peak_bytes / 1024 for poll in traced if poll.peak_bytes is not None]
    timed.peak_kib = aggregate(peaks) if peaks else None
    return timed


# -- scenarios ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    source: str
    aggregate: Aggregate = statistics.fmean
    mode: str | None = None
    """Only the handler's polls in this mode (the naive poller has one kind of poll: all of them)."""


def scenarios(plan: Plan) -> list[Scenario]:
    rows = [
        Scenario("baseline", "Baseline: first run (set-up)", "baseline"),
        Scenario("steady-mean", "k=0 steady: mean per poll over the hour", "steady"),
        Scenario("steady-max", "k=0 steady: max per poll over the hour", "steady", max),
        Scenario("steady-head", "k=0 head poll (median of the hour's)", "steady", statistics.median, "head"),
        Scenario("steady-full", "k=0 safety net poll (hourly)", "steady", statistics.fmean, "full-scan"),
    ]
    if plan.single_task_polls:
        rows += [
            Scenario("new-1", "1 new task appears (in progress)", "new-1"),
            Scenario("k=1", "k=1: that task completes", "k=1"),
        ]
    for k in plan.transitions:
        if k > IN_PROGRESS_TASKS:
            rows.append(Scenario(f"new-{k}", f"{k:,} new tasks appear (set-up of k={k:,})", f"new-{k}"))
        rows.append(Scenario(f"k={k}", f"k={k:,} transitions", f"k={k}"))
    if any(k > IN_PROGRESS_TASKS for k in plan.transitions):
        rows.append(
            Scenario("after-burst", "k=0 right after the burst (nothing newer started)", "after-burst")
        )
    if plan.long_running:
        rows.append(
            Scenario(
                "long-running",
                f"k=0 with {plan.long_running} long-running stores behind the head page (mean of 3)",
                "long-running",
            )
        )
    return rows


def _select(polls: Sequence[Poll], scenario: Scenario, *, ours: bool) -> list[Poll]:
    if ours and scenario.mode is not None:
        return [poll for poll in polls if poll.mode == scenario.mode]
    return list(polls)


@dataclass
class SizeFigures:
    n: int
    ours: dict[str, Figures] = field(default_factory=dict)
    naive: dict[str, Figures] = field(default_factory=dict)
    naive_steady_polls: int = 0
    naive_memory: bool = False


def size_figures(plan: Plan, timing: SizeRun, memory: SizeRun | None) -> SizeFigures:
    result = SizeFigures(timing.n, naive_steady_polls=len(timing.naive.get("steady", [])))
    result.naive_memory = memory is not None and bool(memory.naive)
    for scenario in scenarios(plan):
        for ours, timed_runs, traced_runs, target in (
            (True, timing.ours, memory.ours if memory else {}, result.ours),
            (False, timing.naive, memory.naive if memory else {}, result.naive),
        ):
            polls = _select(timed_runs.get(scenario.source, []), scenario, ours=ours)
            if not polls:
                continue
            # The naive poller's steady polls are all alike: its head/full rows show its mean poll.
            aggregate = scenario.aggregate if ours or scenario.mode is None else statistics.fmean
            traced = _select(traced_runs.get(scenario.source, []), scenario, ours=ours)
            target[scenario.key] = with_memory(figures(polls, aggregate), traced, aggregate)
    return result


# -- formatting --------------------------------------------------------------------------------------


def number(value: float | None, *, decimals: int = 2) -> str:
    if value is None:
        return "n/m"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}"


def ratio(naive: float | None, ours: float | None) -> str:
    if naive is None or ours is None:
        return "—"
    if ours == 0:
        return "—" if naive == 0 else "∞"
    times = naive / ours
    return f"{TIMES}{times:,.1f}" if times < 100 else f"{TIMES}{times:,.0f}"


def _service_cell(data: Figures, service: str) -> str:
    total = data.service(service)
    ops = sorted((op, count) for (name, op), count in data.calls.items() if name == service and count)
    if service == "EC2":
        by_id = data.describe_kinds.get("by-id", 0)
        if by_id:
            pages = number(data.describe_kinds.get("listing", 0))
            return f"{number(total)} = {pages} pages + {number(by_id)} by id"
        return number(total)
    if not ops or (service == "EventBridge" and [op for op, _ in ops] == ["PutEvents"]):
        return number(total)
    parts = " + ".join(f"{SHORT_NAMES.get(op, op)} {number(count)}" for op, count in ops)
    return (
        f"{number(total)} = {parts}"
        if len(ops) > 1
        else f"{number(total)} {SHORT_NAMES.get(ops[0][0], ops[0][0])}"
    )


def _wall(value: float) -> str:
    return number(value, decimals=1) if value < 100 else number(round(value))


def figure_cells(data: Figures) -> dict[str, str]:
    return {
        "Polls": str(data.polls),
        "EC2 calls": _service_cell(data, "EC2"),
        "DynamoDB calls": _service_cell(data, "DynamoDB"),
        "SNS calls": _service_cell(data, "SNS"),
        "EventBridge calls": _service_cell(data, "EventBridge"),
        "RRU": number(data.read_units),
        "WRU": number(data.write_units),
        "Wall ms": _wall(data.wall_ms),
        "Client ms": _wall(data.client_ms),
        "Peak KiB": number(data.peak_kib, decimals=0) if data.peak_kib is not None else "n/m",
        "Cursor KiB": number(data.cursor_kib, decimals=1) if data.cursor_kib is not None else "—",
    }


def ratio_cells(naive: Figures, ours: Figures) -> dict[str, str]:
    cells = {"Polls": ""}
    for service in SERVICES:
        cells[f"{service} calls"] = ratio(naive.service(service), ours.service(service))
    cells["RRU"] = ratio(naive.read_units, ours.read_units)
    cells["WRU"] = ratio(naive.write_units, ours.write_units)
    cells["Wall ms"] = ratio(naive.wall_ms, ours.wall_ms)
    cells["Client ms"] = ratio(naive.client_ms, ours.client_ms)
    cells["Peak KiB"] = ratio(naive.peak_kib, ours.peak_kib)
    cells["Cursor KiB"] = "—"
    return cells


def size_rows(plan: Plan, data: SizeFigures) -> list[dict[str, str]]:
    rows = []
    for scenario in scenarios(plan):
        ours = data.ours.get(scenario.key)
        if ours is None:
            continue
        naive = data.naive.get(scenario.key)
        rows.append({"Scenario": scenario.title, "Who": OURS, **figure_cells(ours)})
        if naive is not None:
            rows.append({"Scenario": "", "Who": NAIVE, **figure_cells(naive)})
            rows.append({"Scenario": "", "Who": RATIO, **ratio_cells(naive, ours)})
    return rows


def markdown_table(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row.get(column, "") for column in columns) + " |" for row in rows]
    return "\n".join(lines)


# -- targets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str


def _check(name: str, passed: bool, detail: str) -> Target:
    return Target(name, "PASS" if passed else "FAIL", detail)


def targets(plan: Plan, sizes: dict[int, SizeFigures]) -> list[Target]:
    found: list[Target] = []
    at = sizes.get(TARGET_N)
    steady_names = (
        f"N={TARGET_N:,} steady: ≤ 2 EC2 calls per poll on average (safety net included)",
        f"N={TARGET_N:,} steady: ≤ 2 DynamoDB requests per poll (every poll)",
        f"N={TARGET_N:,} steady: no publishes",
        f"N={TARGET_N:,} steady: wall time at least 10 times lower than the naive reference",
    )
    if at is None or "steady-mean" not in at.ours:
        found += [Target(name, "SKIP", f"N={TARGET_N:,} not in --sizes") for name in steady_names]
    else:
        mean, worst = at.ours["steady-mean"], at.ours["steady-max"]
        head = at.ours.get("steady-head")
        head_ec2 = number(head.service("EC2")) if head else "n/a"
        full = at.ours.get("steady-full")
        found.append(
            _check(
                steady_names[0],
                mean.service("EC2") <= 2,
                f"{number(mean.service('EC2'))} per poll over {mean.polls} polls "
                f"(head polls {head_ec2}, "
                f"safety net {number(full.service('EC2')) if full else 'none in the hour'})",
            )
        )
        found.append(
            _check(
                steady_names[1],
                worst.service("DynamoDB") <= 2,
                f"max {number(worst.service('DynamoDB'))}, mean {number(mean.service('DynamoDB'))} per poll",
            )
        )
        published = sum(worst.service(name) for name in ("SNS", "EventBridge"))
        found.append(
            _check(
                steady_names[2], published == 0, f"max {number(published)} SNS + EventBridge calls per poll"
            )
        )
        naive = at.naive.get("steady-mean")
        if naive is None:
            found.append(Target(steady_names[3], "SKIP", "the naive poller was not run"))
        else:
            times = naive.wall_ms / mean.wall_ms if mean.wall_ms else math.inf
            found.append(
                _check(
                    steady_names[3],
                    times >= 10,
                    f"ours {_wall(mean.wall_ms)} ms vs naive {_wall(naive.wall_ms)} ms per poll: "
                    f"{TIMES}{times:,.0f} (own time {_wall(mean.client_ms)} vs {_wall(naive.client_ms)} ms)",
                )
            )
    found += _transition_targets(plan, sizes)
    found += _memory_targets(sizes)
    return found


def _transition_targets(plan: Plan, sizes: dict[int, SizeFigures]) -> list[Target]:
    found = []
    ks = ([1] if plan.single_task_polls else []) + list(plan.transitions)
    for n, data in sorted(sizes.items()):
        for k in ks:
            ours = data.ours.get(f"k={k}")
            if ours is None:
                continue
            want = math.ceil(k / 10)
            sns, events = ours.service("SNS"), ours.service("EventBridge")
            found.append(
                _check(
                    f"N={n:,} k={k:,}: ceil(k/10) = {want} SNS and {want} EventBridge calls",
                    sns == want and events == want,
                    f"SNS {number(sns)}, EventBridge {number(events)}",
                )
            )
    return found


def _memory_targets(sizes: dict[int, SizeFigures]) -> list[Target]:
    found = []
    large = sorted(n for n in sizes if n >= MEMORY_REFERENCE_MIN_N)
    for key, what in (("steady-head", "head poll"), ("steady-full", "safety net poll")):
        name = (
            f"memory of the {what} does not grow with N "
            f"(at most {MEMORY_GROWTH_LIMIT} times the peak at the smallest N ≥ {MEMORY_REFERENCE_MIN_N:,})"
        )
        peaks = {n: sizes[n].ours[key].peak_kib for n in large if key in sizes[n].ours}
        measured = {n: peak for n, peak in peaks.items() if peak is not None}
        if len(measured) < 2:
            found.append(
                Target(name, "SKIP", f"needs two sizes ≥ {MEMORY_REFERENCE_MIN_N:,} with a memory pass")
            )
            continue
        smallest = measured[min(measured)]
        growth = max(measured.values()) / smallest
        detail = ", ".join(f"N={n:,}: {number(peak, decimals=0)} KiB" for n, peak in sorted(measured.items()))
        found.append(_check(name, growth <= MEMORY_GROWTH_LIMIT, f"{detail} ({TIMES}{growth:.2f})"))
    return found


# -- monthly cost ------------------------------------------------------------------------------------


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


# -- the whole report --------------------------------------------------------------------------------


@dataclass
class Results:
    plan: Plan
    timing: dict[int, SizeRun]
    memory: dict[int, SizeRun]
    import_time: ImportTime | None
    asset: AssetSize | None
    seconds: float
    command: str = "PYTHONPATH=functions .venv/bin/python -m bench"
    catch_up: CatchUp | None = None
    bill: Bills | None = None
    hints: HintsResults | None = None


@dataclass
class Report:
    sizes: dict[int, SizeFigures]
    tables: dict[int, list[dict[str, str]]]
    targets: list[Target]
    costs: list[dict[str, str]]
    markdown: str

    @property
    def failed(self) -> bool:
        return any(target.status == "FAIL" for target in self.targets)


def build_report(results: Results) -> Report:
    plan = results.plan
    sizes = {n: size_figures(plan, results.timing[n], results.memory.get(n)) for n in sorted(results.timing)}
    tables = {n: size_rows(plan, data) for n, data in sizes.items()}
    budgets = {n: run.budget for n, run in results.timing.items()}
    wru = wru_per_transition(sizes)
    checks = targets(plan, sizes) + [
        Target(check.name, "SKIP", check.detail)
        if check.passed is None
        else _check(check.name, check.passed, check.detail)
        for check in budget.checks(budgets, wru)
    ]
    if results.catch_up is not None:
        checks.append(_check(*catch_up_target(results.catch_up)))
    if results.hints is not None:
        checks += [_check(*check) for check in hints_targets(results.hints)]
    if results.bill is not None:
        checks += [_check(*check) for check in bill_targets(results.bill)]
    costs = cost_rows(sizes)
    budget_table = budget.rows(budgets, wru)
    text = render(results, sizes, tables, checks, costs, budget_table)
    return Report(sizes, tables, checks, costs, text)


def wru_per_transition(sizes: dict[int, SizeFigures]) -> dict[int, float]:
    scenario = f"k={budget.WRU_TARGET_K}"
    return {
        n: data.ours[scenario].write_units / budget.WRU_TARGET_K
        for n, data in sizes.items()
        if scenario in data.ours
    }


def render(
    results: Results,
    sizes: dict[int, SizeFigures],
    tables: dict[int, list[dict[str, str]]],
    checks: list[Target],
    costs: list[dict[str, str]],
    budget_table: list[dict[str, str]],
) -> str:
    plan = results.plan
    out = [
        "# Benchmark: AMI Store Notifier against a naive poller",
        "",
        f"Generated by `{results.command}` (`make bench`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; sizes {', '.join(f'{n:,}' for n in sorted(sizes))}; "
        f"the whole run took {results.seconds / 60:.1f} min. Everything runs in one process: the real "
        "handler (`lambda_handler`, Powertools included) against in-process moto (`mock_aws`) and the "
        "EC2 store-task emulator; no network, no AWS account.",
        "",
        *_method(plan, sizes),
    ]
    for n, rows in tables.items():
        data = sizes[n]
        out += [
            "",
            f"## N = {n:,} store tasks in the 31-day window",
            "",
            f"Naive poller: {data.naive_steady_polls} steady poll(s) measured"
            + (
                ""
                if data.naive_steady_polls >= plan.steady_polls
                else " (each of its polls reads everything: they are alike)"
            )
            + "; its memory "
            + (
                "was measured."
                if data.naive_memory
                else f"was not measured at this size (only up to N={plan.naive_memory_max_n:,})."
            ),
            "",
            markdown_table(COLUMNS, rows),
        ]
    out += ["", *_budget_section(budget_table)]
    out += ["", "## Peak memory per N (tracemalloc, KiB)", "", *_memory_table(sizes)]
    if results.catch_up is not None:
        out += ["", *catch_up_section(results.catch_up)]
    if results.hints is not None:
        out += ["", *hints_section(results.hints)]
    out += ["", "## Targets", ""]
    out += [f"- **{target.status}** {target.name}: {target.detail}" for target in checks]
    out += ["", *_cost_section(costs)]
    if results.bill is not None:
        out += ["", *bill_section(results.bill)]
    out += ["", *_cold_start(results.import_time, results.asset)]
    out += ["", "## Findings", "", *_findings(plan, sizes, results)]
    return "\n".join(out) + "\n"


def _budget_section(table: list[dict[str, str]]) -> list[str]:
    return [
        "## Rate budget and latency",
        "",
        f"EC2's DescribeStoreImageTasks bucket ({EC2_BUCKET_TOKENS} tokens, refilled {EC2_BUCKET_REFILL} a "
        "second, per account and Region) is on for the notifier and for a waiter that calls every "
        f"{WAITER_SECONDS} s all the steady hour, as `aws ec2 wait store-image-task-complete` does. "
        "Listing calls per run count every poll of the timing pass, set-up polls included; lowest tokens "
        "is the bucket's level just after its most crowded call. Latency: "
        f"{LATENCY_STORES} stores end at random moments of a half hour of one-minute polls; the time "
        "from each end (the emulator's clock) to the poll that recorded it. Write units per transition: "
        f"the k={budget.WRU_TARGET_K:,} poll's WRU over k.",
        "",
        markdown_table(budget.COLUMNS, table),
    ]


def _method(plan: Plan, sizes: dict[int, SizeFigures]) -> list[str]:
    ks = ", ".join(f"{k:,}" for k in plan.transitions)
    return [
        "## How it was measured",
        "",
        "- **Data.** N tasks spread evenly over the 31-day listing window (the oldest 4 h inside it, so N "
        f"stays N all run long), listed newest first. {IN_PROGRESS_TASKS} are in progress, every other one "
        f"among the newest {IN_PROGRESS_AMONG_NEWEST}; of the rest about 1 in {FAILED_EVERY} failed and the "
        'others completed. (The brief\'s "about half Completed, a few percent Failed" cannot hold with '
        "three states and a few tens in progress; the mix changes no figure: neither poller filters by "
        "state.)",
        f"- **Timeline.** Baseline poll; then {plan.steady_polls} polls one simulated minute apart with "
        "nothing changing (the emulator clock advances 60 s before each; the default safety net every 60 "
        "minutes falls inside the hour and counts in its mean); then one new task appears and completes "
        f"(the per-task cost of the monthly figures; N ≤ {plan.single_task_max_n:,}); then for k = {ks}: k "
        "tracked in-progress tasks finish between two polls (about 3 % fail). For k larger than the tasks in "
        "progress, k new tasks start within 10 minutes and one poll records them first (its own row), and "
        f"one more poll follows the transitions with nothing new. Last, {plan.long_running} long-running "
        "stores: they start, 210 newer tasks arrive over 21 minutes, and 3 polls are measured (handler "
        "only).",
        "- **API calls** are counted with a botocore `before-call` hook on each poller's clients, the same "
        "for both; for the handler they are checked against its own `wiring().api_calls` every poll. EC2 "
        "cells split listing pages from re-checks by ImageIds when there are any. Abbreviations: Get = "
        "GetItem, BatchGet = BatchGetItem, TxWrite = TransactWriteItems, Update = UpdateItem, Put = PutItem; "
        "EC2 calls are DescribeStoreImageTasks, EventBridge calls PutEvents.",
        "- **RRU/WRU** are DynamoDB on-demand request units, **computed from item sizes**. moto does return "
        "`ConsumedCapacity` when asked (a `provide-client-params` hook adds `ReturnConsumedCapacity=TOTAL` "
        "to every call), but with placeholders: GetItem and UpdateItem always 0.5, BatchGetItem one per key, "
        "TransactWriteItems nothing. The bench reads each touched item from moto's table before and after "
        "the call and applies DynamoDB's rules: a strongly consistent read costs 1 RRU per 4 KB (eventually "
        "consistent half that, transactional twice, at least one unit even for a missing item); a write "
        "1 WRU per 1 KB of the larger of the old and new item (transactional twice).",
        "- **Wall ms**: one invocation (`lambda_handler` for ours, `run()` for the naive poller) under "
        "in-process moto, less the time in the bench's own capacity hooks (the bench freezes its own heap "
        "with `gc.freeze()` before each invocation, so the collector does not walk moto's and the data's "
        "objects, as it would not in Lambda). **Client ms**: the same less "
        "the time moto spent answering the calls, i.e. the poller's own work (SDK serialisation and parsing "
        "included). In AWS a call takes milliseconds of network and service time that moto replaces by its "
        "own, different, costs (see the findings): compare pollers on the same row, not rows with AWS.",
        "- **Peak KiB**: tracemalloc peak of the memory allocated during the invocation and held by the "
        "poller: tracing starts right before the invocation, the peak is read "
        "each time a call enters moto and reset when it returns, and what moto keeps (items it stores, its "
        "copies of requests) is subtracted, so moto's own work is left out. tracemalloc slows Python "
        "several times, so memory comes from a second pass of the same deterministic timeline (call counts "
        "are checked to match). For k bursts that pass runs at the smallest N only (that memory depends on "
        "k, not N) and for the handler only. ru_maxrss was not used: it never goes down within a process.",
        "- **Cursor KiB**: size of the handler's cursor item (one per region) after the poll, as DynamoDB "
        "counts it (item limit 400 KB).",
        "- **moto adjustments** (bench only, product untouched): the subscriber queues are unsubscribed and "
        "the rule's targets removed (moto fans out synchronously and each SQS delivery scans the whole "
        "queue, "
        "quadratic in messages; AWS fans out after the publish returns); moto's TransactWriteItems backup "
        "of the whole table once per item of the transaction is skipped (no transaction fails here; one "
        "that did would stop the bench).",
        "- Every row is one poll unless it says mean/max/median; the naive poller has one kind of poll, so "
        "its head/safety net rows show its mean poll. Ratios are naive ÷ ours (∞: ours made none; n/m: not "
        "measured).",
    ]


def _memory_table(sizes: dict[int, SizeFigures]) -> list[str]:
    columns = ("N", "Head poll (median)", "Full re-read poll", "k=0 max", "Baseline", "Naive poll (mean)")
    rows = []
    for n, data in sizes.items():

        def peak(where: dict[str, Figures], key: str) -> str:
            item = where.get(key)
            return (
                number(item.peak_kib, decimals=0) if item is not None and item.peak_kib is not None else "n/m"
            )

        rows.append(
            {
                "N": f"{n:,}",
                "Head poll (median)": peak(data.ours, "steady-head"),
                "Full re-read poll": peak(data.ours, "steady-full"),
                "k=0 max": peak(data.ours, "steady-max"),
                "Baseline": peak(data.ours, "baseline"),
                "Naive poll (mean)": peak(data.naive, "steady-mean"),
            }
        )
    return [markdown_table(columns, rows)]


def _cost_section(costs: list[dict[str, str]]) -> list[str]:
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
        f"shared DescribeStoreImageTasks token bucket ({EC2_BUCKET_TOKENS} tokens, "
        f"{EC2_BUCKET_REFILL}/s refill). SNS and EventBridge bill per message/event whatever the batching, "
        "so "
        "only their call counts are shown.",
        "",
    ]
    if not costs:
        return [
            *lines,
            f"(Needs N = {' or '.join(f'{n:,}' for n in COST_SIZES)} with the single-task polls.)",
        ]
    return [*lines, markdown_table(COST_COLUMNS, costs)]


def _cold_start(imports: ImportTime | None, asset: AssetSize | None) -> list[str]:
    lines = ["## Cold start: import time and code size", ""]
    if imports is not None:
        heavy = ", ".join(f"{name} {ms:.0f} ms" for name, ms in imports.heaviest)
        lines += [
            f'- `python -X importtime -c "import ami_store_notifier.handler"` (PYTHONPATH=functions, fresh '
            f"process, median of {imports.runs} runs after one warm-up): our own modules "
            f"(ami_store_notifier.*) **{imports.ours_ms:.1f} ms**; the handler module with everything it "
            f"imports {imports.handler_cumulative_ms:.0f} ms; all imports of the process "
            f"{imports.total_ms:.0f} ms. Heaviest packages (summed self time): {heavy}. Resident memory "
            f"after the import: {imports.max_rss_mib:.0f} MiB (VmHWM of that process). Measured on this "
            "machine's Python 3.11 (Lambda runs 3.13 on arm64: expect different absolute figures).",
        ]
    if asset is not None:
        lines.append(
            f"- Code asset: functions/ zipped as the CDK asset ships it (DEFLATE, without __pycache__, *.pyc "
            f"and tests): **{asset.zipped_bytes / 1024:.1f} KiB** zipped, {asset.files} files, "
            f"{asset.uncompressed_bytes / 1024:.1f} KiB unzipped. boto3 comes with the runtime and "
            "Powertools "
            "with the managed layer, so neither is in the asset."
        )
    return lines


def _plural(count: float, word: str) -> str:
    return f"{number(count)} {word}{'' if count == 1 else 's'}"


def _units_by_kind(item: Figures) -> str:
    kinds = sorted({kind for _, kind in item.units_by_kind})
    return "; ".join(
        f"{kind} items {number(item.units_by_kind.get(('read', kind), 0))} RRU + "
        f"{number(item.units_by_kind.get(('write', kind), 0))} WRU"
        for kind in kinds
    )


def _k_finding(n: int, k: int, item: Figures) -> str:
    pages = item.describe_kinds.get("listing", 0)
    by_id = item.describe_kinds.get("by-id", 0)
    ops = ", ".join(
        f"{op} {number(count)}"
        for (service, op), count in sorted(item.calls.items())
        if service == "DynamoDB"
    )
    return (
        f"- N={n:,} k={k:,}: {_plural(item.service('EC2'), 'EC2 call')} ({_plural(pages, 'listing page')}, "
        f"{_plural(by_id, 're-check')} by ImageIds); DynamoDB {ops}; {number(item.read_units)} RRU and "
        f"{number(item.write_units)} WRU ({_units_by_kind(item)}); cursor item up to "
        f"{number(item.largest_cursor_kib, decimals=1)} KiB during the poll, "
        f"{number(item.cursor_kib, decimals=1)} KiB after it; own time {_wall(item.client_ms)} ms of "
        f"{_wall(item.wall_ms)} ms wall."
    )


def _findings(plan: Plan, sizes: dict[int, SizeFigures], results: Results) -> list[str]:
    lines = []
    for n, data in sizes.items():
        full = data.ours.get("steady-full")
        if full is not None:
            burst = full.service("EC2")
            over = ": more than the bucket holds" if burst > EC2_BUCKET_TOKENS else ""
            lines.append(
                f"- N={n:,}: the hourly safety net makes {_plural(burst, 'EC2 call')} in one burst{over}; "
                f"{number(full.wall_ms / 1000, decimals=2)} s under moto."
            )
        for k in plan.transitions:
            item = data.ours.get(f"k={k}")
            if item is not None:
                lines.append(_k_finding(n, k, item))
        after = data.ours.get("after-burst")
        if after is not None:
            lines.append(
                f"- N={n:,} right after the burst, nothing new: {_plural(after.service('EC2'), 'EC2 call')}, "
                f"{number(after.read_units)} RRU (cursor {number(after.cursor_kib, decimals=1)} KiB): "
                "until a newer task moves the high-water mark, every head poll re-reads the burst, which "
                "sits inside the overlap window."
            )
        longer = data.ours.get("long-running")
        if longer is not None:
            lines.append(
                f"- N={n:,} with {plan.long_running} long-running stores out of the head page: "
                f"{_plural(longer.service('EC2'), 'EC2 call')} per poll "
                f"({_plural(longer.describe_kinds.get('listing', 0), 'listing page')} + "
                f"{_plural(longer.describe_kinds.get('by-id', 0), 're-check')} by ImageIds, up to 20 AMIs "
                f"each), {_plural(longer.service('DynamoDB'), 'DynamoDB call')}, every poll while they run."
            )
        steady = data.ours.get("steady-mean")
        naive = data.naive.get("steady-mean")
        if steady is not None and naive is not None:
            seconds = naive.client_ms / 1000 + ASSUMED_LATENCY_PER_CALL_S * naive.total_calls()
            ours_seconds = steady.client_ms / 1000 + ASSUMED_LATENCY_PER_CALL_S * steady.total_calls()
            lines.append(
                f"- N={n:,}: at 10 ms per AWS call a naive poll would last about {seconds:,.1f} s "
                f"({number(round(naive.total_calls()))} calls), ours {ours_seconds:,.2f} s on average."
            )
        if steady is not None:
            lines.append(
                f"- N={n:,}: moto reported {number(steady.moto_units)} capacity units per steady poll for "
                "the "
                f"handler; the size model gives {number(steady.read_units + steady.write_units)}."
            )
    for n in sorted(results.timing):
        notes = results.timing[n].notes + (results.memory[n].notes if n in results.memory else [])
        lines += [f"- N={n:,}: call counter mismatch: {note}" for note in notes]
        if n in results.memory:
            lines += [
                f"- N={n:,}: {note}" for note in _pass_differences(results.timing[n], results.memory[n])
            ]
    seconds = {n: run.seconds for n, run in results.timing.items()}
    traced = {n: run.seconds for n, run in results.memory.items()}
    lines.append(
        "- Bench time per size (timing pass / memory pass): "
        + ", ".join(f"N={n:,} {seconds[n]:.0f} s / {traced.get(n, 0):.0f} s" for n in sorted(seconds))
        + f"; total {results.seconds:.0f} s ({results.seconds / 60:.1f} min)."
    )
    return lines


def _pass_differences(timing: SizeRun, memory: SizeRun) -> list[str]:
    """Scenarios whose calls differ between the passes, up to the first one the memory pass skipped
    (what follows a skipped burst starts from another state)."""
    found = []
    for scenario, polls in timing.ours.items():
        traced = memory.ours.get(scenario)
        if traced is None:
            break
        if [poll.calls for poll in polls] != [poll.calls for poll in traced]:
            found.append(f"the memory pass made different calls than the timing pass in '{scenario}'")
    return found

"""Smoke test of the benchmark (`make bench`) at a tiny size: it runs and its report is complete.

Performance is never asserted here: the figures come from a shared machine and moto. The test checks
that every column is present on every row and that every ratio is computed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bench import watch as watch_bench
from bench import watch_latency
from bench.budget import COLUMNS as BUDGET_COLUMNS
from bench.cost import COST_COLUMNS
from bench.plan import Plan
from bench.report import Report, build_report
from bench.runner import run_benchmark
from bench.tables import COLUMNS, NAIVE, OURS, RATIO

TIMES = "\N{MULTIPLICATION SIGN}"
RATIO_CELL = re.compile(rf"^({TIMES}[\d,]+(\.\d)?|∞|—)$")
NUMERIC_COLUMNS = ("EC2 calls", "DynamoDB calls", "SNS calls", "EventBridge calls", "RRU", "WRU", "Wall ms")


@pytest.fixture(scope="module")
def report() -> Report:
    plan = Plan(
        sizes=(100,),
        steady_polls=3,
        transitions=(10,),
        full_scan_minutes=2,
        long_running=20,
        naive_steady_max=2,
        catch_up_stores=300,
        hints=None,  # the hints section has its own smoke test (test_hints_smoke.py)
    )
    return build_report(run_benchmark(plan, log=lambda _: None, import_runs=1))


def test_every_row_has_every_column(report: Report) -> None:
    rows = report.tables[100]
    assert rows
    for row in rows:
        assert set(row) == set(COLUMNS)
        assert row["Who"] in (OURS, NAIVE, RATIO)
    ours = [row for row in rows if row["Who"] == OURS]
    assert all(row[column] for row in ours for column in COLUMNS if column != "Scenario" or row is ours[0])
    assert all(row["Peak KiB"] != "n/m" for row in ours), "the memory pass measures every row of ours"


def test_each_scenario_is_reported(report: Report) -> None:
    titles = [row["Scenario"] for row in report.tables[100] if row["Scenario"]]
    for expected in (
        "Baseline",
        "k=0 steady: mean",
        "k=0 steady: max",
        "head poll",
        "safety net",
        "k=1:",
        "k=10",
    ):
        assert any(expected in title for title in titles), expected
    assert any("long-running" in title for title in titles)


def test_ratios_are_computed_against_the_naive_poller(report: Report) -> None:
    rows = report.tables[100]
    ratios = [row for row in rows if row["Who"] == RATIO]
    assert len(ratios) == len([row for row in rows if row["Who"] == NAIVE]) > 0
    for row in ratios:
        for column in NUMERIC_COLUMNS:
            assert RATIO_CELL.match(row[column]), (column, row[column])
    steady = rows[[row["Scenario"] for row in rows].index("k=0 steady: mean per poll over the hour") + 2]
    assert steady["Who"] == RATIO
    assert steady["DynamoDB calls"].startswith(TIMES), "the naive poller reads the table once per task"


def test_targets_costs_and_cold_start_are_in_the_markdown(report: Report) -> None:
    statuses = {target.status for target in report.targets}
    assert statuses <= {"PASS", "FAIL", "SKIP"}
    assert any(target.name.startswith("N=100 k=10") for target in report.targets)
    assert report.costs
    assert all(set(row) == set(COST_COLUMNS) for row in report.costs)
    text = report.markdown
    headings = (
        "## N = 100",
        "## Rate budget and latency",
        "## Targets",
        "## Cost per month",
        "## Cold start",
    )
    for heading in (*headings, "## Findings"):
        assert heading in text
    assert "| " + " | ".join(COLUMNS) + " |" in text
    assert "| " + " | ".join(BUDGET_COLUMNS) + " |" in text
    assert any(target.name.startswith("N=100: at most 10 listing calls") for target in report.targets)
    assert "our own modules" in text
    assert "KiB** zipped" in text


def test_the_watch_benchmark_reports_every_column_for_a_short_watch(emulator: None) -> None:
    figures = watch_bench.run(1, 30)
    table = watch_bench.report([figures]).splitlines()

    assert figures.calls == figures.checks > 0
    assert len(table[-1].split("|")) == len(table[-3].split("|"))
    assert table[-1].rstrip("| ").endswith(("PASS", "FAIL"))


def test_the_watch_benchmark_reports_how_soon_a_completion_shows_with_s3_and_with_ec2_alone(
    emulator: None,
) -> None:
    store = watch_latency.Store(timedelta(seconds=67), stuck=True)
    figures = watch_latency.run(watch_latency.Scenario("one stuck store", ((store,),)))
    rows = [line for line in watch_latency.report([figures]).splitlines() if line.startswith("| one stuck")]

    assert figures.with_s3.head_calls > 0
    assert figures.with_s3.delays[0] <= watch_latency.TARGET.total_seconds() < figures.ec2_alone.delays[0]
    assert rows[0].rstrip("| ").endswith("PASS")


def test_the_catch_up_prints_the_largest_item_written_and_its_target(report: Report) -> None:
    assert "## Catch-up after an absence" in report.markdown
    assert re.search(r"^\| KNOWN \| [\d,]+ \| [\d.]+% \|$", report.markdown, re.MULTILINE)
    (target,) = [target for target in report.targets if "catch-up of 300 stores" in target.name]
    assert target.status == "PASS", target.detail

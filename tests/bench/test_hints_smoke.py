"""Smoke test of the benchmark's hints section (bench/hints/, issue 20's targets) at tiny sizes.

Every scenario runs through the real handler, the emulated rules, queue and event source mapping; the
section prints its tables; and each target's PASS or FAIL follows from the figures (changing a figure
across its limit flips it). Performance is never asserted: the figures come from a shared machine.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import pytest

from ami_store_notifier.domain.run_limits import MAX_DESCRIBE_CALLS_PER_RUN
from bench.hints.plan import HintsPlan
from bench.hints.scenarios import HintsResults, measure_hints
from bench.hints.section import hints_section
from bench.hints.targets import (
    COMPLETION_P95_SECONDS,
    FAILURE_P95_SECONDS,
    IDLE_HOUR_EC2_CALLS,
    hints_targets,
)
from bench.plan import Plan
from bench.report import Results, build_report

TINY = HintsPlan(
    latency_stores=8, quiet_sizes=(100,), quiet_hours=2, burst_stores=20, flood_objects=100, flood_seconds=10
)
TARGETS = (
    "a completion is announced within 10 s p95",
    "a failure is announced within 60 s p95",
    "quiet when idle at N=100: at most 2 EC2 calls per idle hour",
    "a burst of 20 completions within 5 s: never throttled",
    "a burst of 20 completions within 5 s: at most 10 EC2 calls in any run",
    "a burst of 20 completions within 5 s: every completion announced exactly once",
    "a flood of 100 forged ami-….bin objects in 10 s: announces nothing",
    "a flood of 100 forged ami-….bin objects in 10 s: at most the per-run budget",
)


@pytest.fixture(scope="module")
def results() -> HintsResults:
    return measure_hints(TINY, log=lambda _: None)


def _verdict(results: HintsResults, target: str) -> bool:
    (passed,) = [passed for name, passed, _ in hints_targets(results) if target in name]
    return passed


def test_every_target_is_checked_with_its_figures(results: HintsResults) -> None:
    checks = hints_targets(results)

    assert len(checks) == len(TARGETS)
    for target, (name, _, detail) in zip(TARGETS, checks, strict=True):
        assert target in name
        assert re.search(r"\d", detail), detail
    assert "schedule only median" in checks[0][2], "the completion target shows today's figures beside"


def test_the_scenarios_ran_through_the_handler_and_the_queue(results: HintsResults) -> None:
    latency, burst, flood = results.latency, results.burst, results.flood

    assert latency.hints.completed
    assert latency.hints.failed
    assert latency.schedule_only.completed
    assert latency.hints.by_hint_run > 0, "with hints, some completion is announced by a hint run"
    assert latency.schedule_only.hint_runs == 0
    assert [len(quiet.hours) for quiet in results.quiet] == [TINY.quiet_hours]
    assert burst.traffic.hint_runs > 0
    assert burst.waiter_calls > 0
    assert flood.traffic.hint_runs > 0
    assert flood.traffic.drained_after is not None


def test_the_section_prints_its_tables(results: HintsResults) -> None:
    text = "\n".join(hints_section(results))

    for heading in (
        "## Hints",
        "### Completion and failure latency",
        "### Quiet when idle",
        "### A burst of completions, and a flood of forged objects",
    ):
        assert heading in text
    assert "ASSUMED" in text, "the delivery model states its assumptions"
    assert re.search(r"^\| Completions, hints on \| \d+ \| hint run \d+, schedule \d+ \|", text, re.MULTILINE)
    assert re.search(r"^\| Completions, schedule only \(today\) \| \d+ \| schedule \|", text, re.MULTILINE)
    assert re.search(r"^\| 100 \| [\d.]+ \| \d+ \| \d+ \| \d+ \| 60, 60 \|", text, re.MULTILINE)
    assert re.search(r"^\| Burst \| \d+ \|", text, re.MULTILINE)
    assert re.search(r"^\| Flood \| \d+ \|", text, re.MULTILINE)


Change = Callable[[HintsResults], None]


@pytest.mark.parametrize(
    ("target", "within", "beyond"),
    [
        pytest.param(
            TARGETS[0],
            lambda r: setattr(r.latency.hints, "completed", [COMPLETION_P95_SECONDS] * 20),
            lambda r: setattr(r.latency.hints, "completed", [1.0] * 18 + [COMPLETION_P95_SECONDS + 1] * 2),
            id="completion",
        ),
        pytest.param(
            TARGETS[1],
            lambda r: setattr(r.latency.hints, "failed", [FAILURE_P95_SECONDS] * 20),
            lambda r: setattr(r.latency.hints, "failed", [FAILURE_P95_SECONDS + 0.1] * 20),
            id="failure",
        ),
        pytest.param(
            TARGETS[2],
            lambda r: setattr(r.quiet[0].hours[0], "ec2_calls", IDLE_HOUR_EC2_CALLS),
            lambda r: setattr(r.quiet[0].hours[1], "ec2_calls", IDLE_HOUR_EC2_CALLS + 1),
            id="quiet",
        ),
        pytest.param(
            TARGETS[3],
            lambda r: setattr(r.burst, "waiter_throttled", 0),
            lambda r: setattr(r.burst, "waiter_throttled", 1),
            id="burst-throttled",
        ),
        pytest.param(
            TARGETS[4],
            lambda r: setattr(r.burst.traffic, "most_calls_hint_run", MAX_DESCRIBE_CALLS_PER_RUN),
            lambda r: setattr(r.burst.traffic, "most_calls_scheduled_run", MAX_DESCRIBE_CALLS_PER_RUN + 1),
            id="burst-calls",
        ),
        pytest.param(
            TARGETS[5],
            lambda r: None,
            lambda r: setattr(r.burst, "announced_once", r.burst.stores - 1),
            id="burst-once",
        ),
        pytest.param(
            TARGETS[6], lambda r: None, lambda r: setattr(r.flood, "announced", 1), id="flood-announces"
        ),
        pytest.param(
            TARGETS[7],
            lambda r: setattr(r.flood.traffic, "most_calls_hint_run", MAX_DESCRIBE_CALLS_PER_RUN),
            lambda r: setattr(r.flood.traffic, "most_calls_hint_run", MAX_DESCRIBE_CALLS_PER_RUN + 1),
            id="flood-calls",
        ),
    ],
)
def test_pass_and_fail_follow_the_figures(
    results: HintsResults, target: str, within: Change, beyond: Change
) -> None:
    passing = copy.deepcopy(results)
    within(passing)
    failing = copy.deepcopy(passing)
    beyond(failing)

    assert _verdict(passing, target) is True
    assert _verdict(failing, target) is False


def test_make_bench_prints_the_section_and_its_targets(results: HintsResults) -> None:
    report = build_report(Results(Plan(sizes=(), hints=TINY), {}, {}, None, None, 0.0, hints=results))

    assert "## Hints: events as hints, the listing as the truth" in report.markdown
    expected = {name: "PASS" if passed else "FAIL" for name, passed, _ in hints_targets(results)}
    found = {target.name: target.status for target in report.targets if target.name in expected}
    assert found == expected
    for name, status in expected.items():
        assert f"- **{status}** {name}: " in report.markdown

"""Smoke test of the benchmark's archive verification section (bench/verification/) at a tiny size.

Both passes run the real handler on moto and the emulator; the section prints its tables; each target's
PASS or FAIL follows from the figures (changing a figure across its limit flips it); and `make bench`
appends the section and counts its targets. Performance is never asserted: the figures come from a
shared machine.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

import bench.__main__ as bench_main
from bench.bill.prices import PRICES
from bench.verification.measure import VerificationPlan, VerificationResults, measure_verification
from bench.verification.section import (
    added_items,
    verification_markdown,
    verification_section,
    verification_targets,
)

TINY = VerificationPlan(completions=12, stores_per_minute=6, history=20, warm_up=0)
TARGETS = (
    "exactly one HeadObject per completion",
    "no extra EC2 calls (DescribeStoreImageTasks equal with and without checks)",
    "every completion verified exactly once",
)


@pytest.fixture(scope="module")
def results() -> VerificationResults:
    return measure_verification(TINY, log=lambda _: None)


def _verdict(results: VerificationResults, target: str) -> bool:
    (passed,) = [passed for name, passed, _ in verification_targets(results) if target in name]
    return passed


def test_both_passes_ran_the_same_stores_through_the_handler(results: VerificationResults) -> None:
    off, on = results.checks_off, results.checks_on

    assert len(off.completed) == len(on.completed) == TINY.completions
    assert off.runs == on.runs == TINY.runs(TINY.completions)
    assert off.count("S3", "HeadObject") == 0
    assert on.count("S3", "HeadObject") == TINY.completions
    assert on.count("S3", "GetBucketVersioning") == on.count("S3", "GetBucketLifecycleConfiguration") > 0
    assert off.count("EC2", "DescribeImages") > 0, "the store quota sizes new stores with checks off too"
    assert off.notes + on.notes == [], "the handler and the bench counted the same calls"


def test_every_target_is_checked_and_passes_with_its_figures(results: VerificationResults) -> None:
    checks = verification_targets(results)

    assert len(checks) == len(TARGETS)
    for target, (name, passed, detail) in zip(TARGETS, checks, strict=True):
        assert target in name
        assert passed, detail
        assert re.search(r"\d", detail), detail


def test_the_section_prints_its_tables(results: VerificationResults) -> None:
    text = "\n".join(verification_section(results))

    for heading in (
        "## Archive verification cost",
        "### Requests and time per 1,000 completions",
        "### Added cost per 1,000 completions",
    ):
        assert heading in text
    assert re.search(r"^\| S3 HeadObject \| 0 \| 1,000 \| \+1,000 \|$", text, re.MULTILINE)
    assert re.search(r"^\| EC2 DescribeStoreImageTasks \| ([\d,]+) \| \1 \| 0 \|$", text, re.MULTILINE)
    assert re.search(r"^\| EC2 DescribeImages \| ([\d,]+) \| \1 \| 0 \|$", text, re.MULTILINE)
    for time in ("Handler time, s: the runs' wall time summed", "Handler time, s: the runs' CPU time summed"):
        assert re.search(rf"^\| {time} \| [\d.,]+ \| [\d.,]+ \| [-+\d.,]+ \|$", text, re.MULTILINE)
    assert re.search(
        r"^\| \*\*Total\*\* \|  \|  \| \*\*\$[\d.]+\*\* \| \*\*\$[\d.,]+\*\* \|$", text, re.MULTILINE
    )


def test_the_added_s3_cost_is_the_added_requests_at_s3s_request_price(results: VerificationResults) -> None:
    s3 = added_items(results)[0]
    requests = sum(
        results.checks_on.count("S3", operation)
        for operation in ("HeadObject", "GetBucketVersioning", "GetBucketLifecycleConfiguration")
    )

    assert s3.price is PRICES["s3-requests"]
    assert s3.quantity == pytest.approx(requests * 1_000 / TINY.completions)
    assert s3.usd == pytest.approx(s3.quantity * 0.0004 / 1_000)


Change = Callable[[VerificationResults], None]


def _head_twice(results: VerificationResults) -> None:
    results.checks_on.recorded.heads[next(iter(results.checks_on.completed.values()))] += 1


def _describe_once_more(results: VerificationResults) -> None:
    results.checks_on.calls[("EC2", "DescribeStoreImageTasks")] += 1


def _verified_twice(results: VerificationResults) -> None:
    results.checks_on.recorded.on_bus[next(iter(results.checks_on.completed))] += 1


def _not_verified_on_sns(results: VerificationResults) -> None:
    del results.checks_on.recorded.on_topic[next(iter(results.checks_on.completed))]


def _verified_with_checks_off(results: VerificationResults) -> None:
    results.checks_off.recorded.on_bus["ami-0123456789abcdef0"] += 1


@pytest.mark.parametrize(
    ("target", "change"),
    [
        pytest.param(TARGETS[0], _head_twice, id="head-twice"),
        pytest.param(TARGETS[1], _describe_once_more, id="extra-ec2-call"),
        pytest.param(TARGETS[2], _verified_twice, id="verified-twice"),
        pytest.param(TARGETS[2], _not_verified_on_sns, id="not-on-sns"),
        pytest.param(TARGETS[2], _verified_with_checks_off, id="checks-off-verifies"),
    ],
)
def test_a_figure_beyond_its_target_fails_it(
    results: VerificationResults, target: str, change: Change
) -> None:
    failing = copy.deepcopy(results)
    change(failing)

    assert _verdict(results, target) is True
    assert _verdict(failing, target) is False


def test_make_bench_appends_the_section_and_counts_its_targets(
    results: VerificationResults, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failing = copy.deepcopy(results)
    _head_twice(failing)
    measured = SimpleNamespace(seconds=0.0, bill=None)
    monkeypatch.setattr(bench_main, "run_benchmark", lambda *_, **__: measured)
    monkeypatch.setattr(
        bench_main, "build_report", lambda _: SimpleNamespace(markdown="# Benchmark\n", targets=[])
    )
    monkeypatch.setattr(bench_main, "measure_verification", lambda *_, **__: failing)
    output = tmp_path / "report.md"

    exit_code = bench_main.main(["--quick", "--no-bill", "--output", str(output)])

    assert exit_code == 1, "a failed verification target fails `make bench`"
    assert output.read_text() == "# Benchmark\n\n" + verification_markdown(failing)
    assert "- **FAIL** verification: exactly one HeadObject per completion: " in output.read_text()

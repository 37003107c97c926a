"""`python -m bench` (with PYTHONPATH=functions): runs the benchmark, prints the report and saves it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bench.bill.__main__ import keep
from bench.hints.plan import HintsPlan
from bench.log import log_to_stderr
from bench.plan import Plan
from bench.report import build_report
from bench.runner import run_benchmark
from bench.verification.measure import VerificationPlan, measure_verification
from bench.verification.section import verification_markdown, verification_targets

BENCH_DIR = Path(__file__).resolve().parent
FULL_RESULTS = BENCH_DIR / "RESULTS.md"
OTHER_RESULTS = BENCH_DIR / "results" / "last-run.md"  # bench/results/ is git-ignored
QUICK_SIZES = (100, 1_000)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "").replace(",", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes must be whole numbers separated by commas, got {text!r}"
        ) from None
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("give at least one size, each at least 1")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="listing sizes N, comma-separated (default 100,1000,10000,30000; with --quick 100,1000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast run: small sizes, at most 3 naive steady polls, naive memory only at N=100",
    )
    parser.add_argument(
        "--no-bill",
        action="store_true",
        help="leave out the monthly bill (bench/bill/: it synthesizes each mode, runs the handler: minutes)",
    )
    parser.add_argument(
        "--no-verification",
        action="store_true",
        help="leave out the archive verification section (bench/verification/: two passes of 1,000 "
        "completions, about 2 minutes)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"where to write the markdown (default {FULL_RESULTS.relative_to(BENCH_DIR.parent)} for the "
        f"full default run, else {OTHER_RESULTS.relative_to(BENCH_DIR.parent)})",
    )
    return parser.parse_args(argv)


def plan_for(args: argparse.Namespace) -> Plan:
    default = Plan()
    if args.quick:
        return Plan(
            sizes=args.sizes or QUICK_SIZES,
            naive_steady_max=3,
            naive_memory_max_n=100,
            hints=HintsPlan.small(),
        )
    return Plan(sizes=args.sizes or default.sizes)


def verification_part(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[str, int, float]:
    """The archive verification section (bench/verification/), appended to the report: its markdown, its
    failed targets and its seconds."""
    if args.no_verification:
        return "", 0, 0.0
    results = measure_verification(VerificationPlan.small() if args.quick else VerificationPlan(), log=log)
    failed = sum(not passed for _, passed, _ in verification_targets(results))
    return "\n" + verification_markdown(results), failed, results.seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_for(args)
    full_run = not args.quick and plan.sizes == Plan().sizes
    output = args.output or (FULL_RESULTS if full_run else OTHER_RESULTS)

    results = run_benchmark(plan, log=log_to_stderr, bill=not args.no_bill)
    report = build_report(results)
    section, section_failed, section_seconds = verification_part(args, log_to_stderr)
    markdown = report.markdown + section
    failed = sum(target.status == "FAIL" for target in report.targets) + section_failed
    print(markdown)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown, encoding="utf-8")
    if full_run and results.bill is not None:
        keep(results.bill, log_to_stderr)
    seconds = results.seconds + section_seconds
    log_to_stderr(f"Report written to {output}; {failed} target(s) failed; {seconds:.0f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

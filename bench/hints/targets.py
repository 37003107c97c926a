"""The hints section's PASS/FAIL targets (issue 20, "Targets"), from the figures."""

from __future__ import annotations

from collections.abc import Sequence

from ami_store_notifier.domain.run_limits import MAX_DESCRIBE_CALLS_PER_RUN
from bench.budget import EC2_BUCKET, percentile
from bench.hints.scenarios import HintsResults
from bench.hints.timing import Quiet
from bench.hints.traffic import Burst, Flood
from bench.hints.wording import drain, spread

COMPLETION_P95_SECONDS = 10.0
FAILURE_P95_SECONDS = 60.0
IDLE_HOUR_EC2_CALLS = 2

Check = tuple[str, bool, str]


def _p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95) if values else float("inf")


def hints_targets(results: HintsResults) -> list[Check]:
    latency = results.latency
    hinted, schedule = latency.hints, latency.schedule_only
    checks: list[Check] = [
        (
            f"hints: a completion is announced within {COMPLETION_P95_SECONDS:g} s p95 of its object "
            "appearing (S3 events on)",
            _p95(hinted.completed) <= COMPLETION_P95_SECONDS
            and not hinted.unannounced
            and not hinted.duplicates,
            f"{spread(hinted.completed)} over {len(hinted.completed)} completions ({hinted.by_hint_run} "
            f"announced by a hint run); schedule only {spread(schedule.completed)}; "
            f"{hinted.unannounced} unannounced, {hinted.duplicates} announced twice",
        ),
        (
            f"hints: a failure is announced within {FAILURE_P95_SECONDS:g} s p95 (hints on: the scheduled "
            "run finds it)",
            _p95(hinted.failed) <= FAILURE_P95_SECONDS and not hinted.unannounced,
            f"{spread(hinted.failed)} over {len(hinted.failed)} failures; schedule only "
            f"{spread(schedule.failed)}",
        ),
    ]
    checks += [_quiet_target(quiet) for quiet in results.quiet]
    checks += _burst_targets(results.burst)
    checks += _flood_targets(results.flood)
    return checks


def _quiet_target(quiet: Quiet) -> Check:
    calls = ", ".join(str(hour.ec2_calls) for hour in quiet.hours)
    invocations = ", ".join(str(hour.invocations) for hour in quiet.hours)
    return (
        f"hints: quiet when idle at N={quiet.n:,}: at most {IDLE_HOUR_EC2_CALLS} EC2 calls per idle hour",
        bool(quiet.hours) and quiet.most_ec2_calls <= IDLE_HOUR_EC2_CALLS,
        f"EC2 calls per idle hour {calls}; Lambda invocations per idle hour {invocations}",
    )


def _burst_targets(burst: Burst) -> list[Check]:
    traffic = burst.traffic
    name = f"hints: a burst of {burst.stores:,} completions within {burst.seconds_apart:g} s"
    return [
        (
            f"{name}: never throttled, the notifier nor a waiter beside it",
            traffic.own_throttled == 0 and burst.waiter_throttled == 0,
            f"the notifier's requests refused {traffic.own_throttled}, the waiter's {burst.waiter_throttled} "
            f"of {burst.waiter_calls}; lowest tokens {burst.lowest_tokens:.1f} of {EC2_BUCKET.capacity}",
        ),
        (
            f"{name}: at most {MAX_DESCRIBE_CALLS_PER_RUN} EC2 calls in any run, scheduled or hint run",
            traffic.most_calls_any_run <= MAX_DESCRIBE_CALLS_PER_RUN,
            f"max {traffic.most_calls_scheduled_run} in a scheduled run, {traffic.most_calls_hint_run} in a "
            f"hint run ({traffic.hint_runs} hint runs, {traffic.scheduled_runs} scheduled)",
        ),
        (
            f"{name}: every completion announced exactly once",
            burst.announced_once == burst.stores,
            f"{burst.announced_once:,} once, {burst.announced_twice_or_more} more than once, "
            f"{burst.unannounced} never",
        ),
    ]


def _flood_targets(flood: Flood) -> list[Check]:
    traffic = flood.traffic
    name = f"hints: a flood of {flood.objects:,} forged ami-….bin objects in {flood.over_seconds} s"
    return [
        (f"{name}: announces nothing", flood.announced == 0, f"{flood.announced} announcements"),
        (
            f"{name}: at most the per-run budget ({MAX_DESCRIBE_CALLS_PER_RUN} EC2 calls) in any run",
            traffic.most_calls_any_run <= MAX_DESCRIBE_CALLS_PER_RUN,
            f"max {traffic.most_calls_hint_run} in a hint run, {traffic.most_calls_scheduled_run} in a "
            f"scheduled run; {traffic.ec2_calls} EC2 calls in all until the queue drained "
            f"({drain(traffic)})",
        ),
    ]

"""The hints section of the report: the delivery model, then the tables of each scenario's figures."""

from __future__ import annotations

from collections.abc import Sequence

from ami_store_notifier.domain.hints import MAX_HINT_RECEIVES
from ami_store_notifier.domain.run_limits import HINT_CALLS_PER_MINUTE
from bench.budget import EC2_BUCKET
from bench.hints.account import STACK_POLLING
from bench.hints.scenarios import HintsResults
from bench.hints.timing import MODEL, Quiet
from bench.hints.traffic import Traffic
from bench.hints.wording import drain, seconds_cells, spread
from bench.scenario import WAITER_SECONDS
from infra.setting_checks import HINT_RUNS_AT_ONCE


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def hints_section(results: HintsResults) -> list[str]:
    return [
        "## Hints: events as hints, the listing as the truth",
        "",
        "Each scenario runs the real handler in a fresh emulated account deployed as the stack deploys "
        "hints (`local.deployment.deploy(..., hints=True)`): the two rules on moto's default bus, the hint "
        "queue and its dead-letter queue, and Lambda's event source mapping, emulated with the stack's "
        f"settings (infra/hints.py: batches of {STACK_POLLING.batch_size}, no batching window, a "
        f"visibility timeout of {STACK_POLLING.visibility_timeout_seconds:,.0f} s, at most "
        f"{HINT_RUNS_AT_ONCE} hint runs at once). The emulator sends CloudTrail's CreateStoreImageTask "
        "record when a store starts and S3's Object Created when its object is written, the bucket's "
        "EventBridge delivery on. A scheduled run "
        f"ticks each minute; hint runs may make {HINT_CALLS_PER_MINUTE} DescribeStoreImageTasks calls a "
        "minute between them, and a hint ahead of EC2, or not asked about, is handed back, up to "
        f"{MAX_HINT_RECEIVES} receives. EC2's request bucket ({EC2_BUCKET.capacity} tokens, "
        f"{EC2_BUCKET.refill_per_second}/s) is on.",
        "",
        "**Delivery model** (bench/hints/delays.py; drawn per hint; AWS documents no distribution):",
        "",
        '- S3 -> EventBridge: "Typically, event notifications are delivered in seconds but can sometimes '
        'take a minute or longer" (S3 user guide, "Amazon S3 Event Notifications"). ASSUMED: uniform '
        f"{_span(MODEL.typical_seconds)}, and {MODEL.slow_share:.0%} of hints {_span(MODEL.slow_seconds)}. "
        "CloudTrail -> EventBridge (start hints): best effort, no time documented; ASSUMED the same.",
        '- EventBridge rule -> SQS: "near-real-time" (EventBridge FAQ), no figure. ASSUMED uniform '
        f"{_span(MODEL.to_queue_seconds)}.",
        '- SQS -> Lambda: the mapping long-polls, which returns messages "as soon as they become '
        'available" (SQS developer guide); no batching window (with one, a queue of low traffic may wait '
        "up to 20 s: Lambda developer guide, with-sqs.html). ASSUMED uniform "
        f"{_span(MODEL.to_lambda_seconds)}.",
        "- The handler: its measured wall time under moto, the whole invocation (the SNS publish comes "
        "before its end). Warm: a function that runs every minute rarely starts cold; a cold start adds the "
        "import time of the report's \"Cold start\" section and Lambda's own start.",
        "",
        *_latency_part(results),
        "",
        *_quiet_part(results.quiet),
        "",
        *_traffic_part(results),
        "",
        *_notes(results),
    ]


def _span(seconds: tuple[float, float]) -> str:
    return f"{seconds[0]:g}-{seconds[1]:g} s"


def _notes(results: HintsResults) -> list[str]:
    plan, latency = results.plan, results.latency
    return [
        f"Notes: a hint run keeps the mapping busy for its wall time over {HINT_RUNS_AT_ONCE} (the runs it "
        "may have at once), which paces a flood. The forged objects of each second reach the queue together. "
        "EC2 lists a store Completed from the moment its object is written (the emulator's rule; AWS "
        "documents no order between the two): a hint ahead of EC2 would be handed back for the visibility "
        "timeout, and the schedule would announce the store. "
        "moto adjustments (bench only): the topic's subscribers removed, as in the sections above; "
        "moto's SQS without its quadratic costs, and the mapping's own SQS calls answered by moto's backend "
        "directly (bench/hints/fast_sqs.py; what SQS answers is unchanged). Section time "
        f"{results.seconds:.0f} s (latency {latency.hints.seconds + latency.schedule_only.seconds:.0f} s, "
        f"quiet {sum(item.seconds for item in results.quiet):.0f} s, burst {results.burst.seconds:.0f} s, "
        f"flood {results.flood.seconds:.0f} s); {plan.latency_stores} latency stores, quiet at "
        f"N = {', '.join(f'{n:,}' for n in plan.quiet_sizes)}.",
    ]


def _latency_part(results: HintsResults) -> list[str]:
    latency = results.latency
    hinted, schedule = latency.hints, latency.schedule_only

    def row(what: str, values: list[float], by: str) -> list[str]:
        return [what, str(len(values)), by, *seconds_cells(values)]

    by_schedule = len(hinted.completed) - hinted.by_hint_run
    rows = [
        row(
            "Completions, hints on",
            hinted.completed,
            f"hint run {hinted.by_hint_run}, schedule {by_schedule}",
        ),
        row("Completions, schedule only (today)", schedule.completed, "schedule"),
        row("Failures, hints on", hinted.failed, "schedule"),
        row("Failures, schedule only (today)", schedule.failed, "schedule"),
    ]
    return [
        "### Completion and failure latency",
        "",
        f"{latency.stores} stores start and end at random moments over {latency.minutes:.0f} minutes "
        f"(about one start and one end a minute), one in {results.plan.latency_failed_every} failing; then "
        "the same stores again without hints (no trail, no bucket delivery): today's schedule. Latency: "
        "from the store's end (its object written, for a completion) to the end of the run that published "
        "its announcement to SNS.",
        "",
        *_table(("Stores", "Announced", "Announced by", "Median s", "p95 s", "Max s"), rows),
        "",
        f"Completions a hint run announced: modelled delivery {spread(hinted.delivery)}; that hint run's "
        f"wall time {spread(hinted.hint_walls, decimals=2)}. The others were announced by a scheduled run "
        "first: their hint was in the slow share, or came after the minute's "
        f"{HINT_CALLS_PER_MINUTE} hint calls were spent. {hinted.hint_runs} hint runs, "
        f"{hinted.handed_back} hints handed back; {hinted.unannounced} stores unannounced and "
        f"{hinted.duplicates} announcements repeated with hints, {schedule.unannounced} and "
        f"{schedule.duplicates} without.",
    ]


def _quiet_part(quiet: list[Quiet]) -> list[str]:
    hours = max((len(item.hours) for item in quiet), default=0)
    columns = (
        "N finished tasks",
        "Seeding s",
        "Baseline EC2 calls",
        *(f"EC2 calls, idle hour {hour + 1}" for hour in range(hours)),
        "Lambda invocations per idle hour",
        "Safety nets per idle hour",
    )
    rows = [
        [
            f"{item.n:,}",
            f"{item.seed_seconds:.1f}",
            str(item.baseline_ec2_calls),
            *(str(hour.ec2_calls) for hour in item.hours),
            ", ".join(str(hour.invocations) for hour in item.hours),
            ", ".join(str(hour.safety_nets) for hour in item.hours),
        ]
        for item in quiet
    ]
    return [
        "### Quiet when idle",
        "",
        "QUIET_WHEN_IDLE=true, N finished tasks in the listing and nothing in progress: the baseline run, "
        "then idle hours of one-minute scheduled runs (the safety net, FULL_SCAN_INTERVAL_MINUTES, at its "
        "default of 60). Nothing starts, so no hint arrives and every invocation is a scheduled one.",
        "",
        *_table(columns, rows),
    ]


def _traffic_part(results: HintsResults) -> list[str]:
    burst, flood = results.burst, results.flood
    columns = (
        "Scenario",
        "Hint runs",
        "Scheduled runs",
        "Max EC2 calls, hint run",
        "Max EC2 calls, scheduled run",
        "Max hint calls in a minute",
        "EC2 calls in all",
        "Own calls throttled",
        "Hints handed back",
        "Queue drained after",
        "Dead-lettered",
    )

    def row(what: str, traffic: Traffic) -> list[str]:
        return [
            what,
            f"{traffic.hint_runs:,}",
            str(traffic.scheduled_runs),
            str(traffic.most_calls_hint_run),
            str(traffic.most_calls_scheduled_run),
            str(traffic.most_hint_calls_in_a_minute),
            f"{traffic.ec2_calls:,}",
            str(traffic.own_throttled),
            f"{traffic.handed_back:,}",
            drain(traffic),
            str(traffic.dead_lettered),
        ]

    return [
        "### A burst of completions, and a flood of forged objects",
        "",
        f"Burst: {burst.stores:,} stores in progress (started over the three hours before, as EC2's "
        "CreateStoreImageTask bucket of 50 requests and 0.1 a second paces starts; the baseline recorded "
        f"them) complete within {burst.seconds_apart:g} s, their Object Created hints drawn from the "
        "delivery model; the schedule goes on, and a waiter calls DescribeStoreImageTasks every "
        f"{WAITER_SECONDS} s beside ({burst.waiter_calls} calls, {burst.waiter_throttled} throttled; lowest "
        f"tokens {burst.lowest_tokens:.1f}). {burst.announced_once:,} completions announced once, "
        f"{burst.announced_twice_or_more} more than once, {burst.unannounced} never; {burst.by_hint_run} by "
        f"a hint run, the rest by scheduled runs; latency {spread(burst.latencies)}.",
        "",
        f"Flood: {flood.objects:,} `ami-….bin` objects no store made (`HintEvents.forge`, AMI ids EC2 does "
        f"not know) appear within {flood.over_seconds} s, and nothing else happens: {flood.announced} "
        "announcements.",
        "",
        "Runs and calls count from the baseline for the burst, from the first forged object for the flood; "
        "the drain, from the burst or the first forged object to the end of the last hint run.",
        "",
        *_table(columns, [row("Burst", burst.traffic), row("Flood", flood.traffic)]),
    ]

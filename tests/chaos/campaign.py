"""A randomized fault campaign over the real handler, moto and the store-task emulator.

    PYTHONPATH=functions python -m tests.chaos.campaign --scenarios 1000 [--seed S] [--workers W]

Each scenario is drawn from random.Random(f"{seed}:{index}") (tests.chaos.families.random_scenario):
a handful of AMIs with some history, a baseline run, three to six rounds of store events, clock moves
and runs, each run with a one-in-two chance of faults (AwsFaults at any call of the run, or EC2 errors
inside the emulator), and now and then overlapping runs, a listing that shifts while it is paged,
malformed listing entries or a run short of time; then the world is settled (the lease waited out, a
fault-free run until one completes). Some scenarios go on from there (tests.chaos.scenarios): the
notifier away for hours to days while hundreds of stores start and end, then a catch-up read over
several runs; or EC2 or a channel throttled past the SDK's retries for three to five runs kept on
Lambda's clock, then recovering. Scenario i is the same whatever the number of workers, so `--only i`
replays a failure.

About a quarter of the scenarios run with hints on (tests.chaos.scenarios.with_hints): the emulator
sends CloudTrail's start and S3's Object Created for the stores, dropped, delayed, repeated, early (before
the listing shows the task) or joined by forged objects, the queue hands some handled batches over again,
and hint runs come between and overlapping the scheduled runs; some of those scenarios run quietWhenIdle.

About a fifth run with archive assurance on (tests.chaos.assurance_scenarios): READABLE_BUCKETS,
APPROVED_BUCKETS and STALL_AFTER_MINUTES (30) set, stores into buckets of every kind, objects late, left
out, empty or archived, S3 refusing, throttling or failing HeadObject, and stores that stall and resume,
watched by runs a few minutes apart. Their notices have a ledger of their own (tests.chaos.notice_ledger)
with the same verdict: none lost, none twice without a fault, none the rules forbid or with false facts.

The exit status is 1 when a transition or a notice was lost, delivered twice with no fault to explain
it, announced though EC2 never listed it (a phantom) or with false facts (a hint's, a verdict S3 did not
bear out), a recorded state moved backwards, the handler crashed on its input, a run outlasted the Lambda
timeout, or the campaign could not check a scenario; `--strict` also counts announcements of
transitions from before the baseline.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import traceback
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    import ami_store_notifier  # noqa: F401
except ModuleNotFoundError:  # run without PYTHONPATH=functions
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions"))

CHUNK = 10
_WORKER: dict[str, Any] = {}


def run_scenarios(
    world: Any, seed: int | str, indices: Iterable[int]
) -> tuple[dict[str, Any], list[str], float]:
    """Plays the scenarios on `world`; returns summed figures, violations (prefixed with the scenario
    index) and the seconds spent."""
    from tests.chaos.families import random_scenario
    from tests.chaos.harness import Figures
    from tests.chaos.scenarios import play

    figures = Figures()
    violations: list[str] = []
    started = time.perf_counter()
    for index in indices:
        scenario = random_scenario(random.Random(f"{seed}:{index}"))
        try:
            ledger = play(world, scenario)
        except Exception:
            figures.scenarios += 1
            figures.other_violations += 1
            violations.append(f"scenario {index}: [harness] {traceback.format_exc().strip()}")
            world.reset()
            continue
        figures.add(ledger.figures())
        violations += [f"scenario {index}: {violation}" for violation in ledger.violations]
    return figures.as_dict(), violations, time.perf_counter() - started


def _start_worker() -> None:
    """One ChaosWorld per process, kept for all the scenarios the process plays."""
    warnings.filterwarnings("ignore")
    from tests.chaos.harness import ChaosWorld

    _WORKER["world"] = world = ChaosWorld()
    world.start()


def _work(task: tuple[int | str, list[int]]) -> tuple[dict[str, Any], list[str], float]:
    seed, indices = task
    return run_scenarios(_WORKER["world"], seed, indices)


def run_campaign(
    *, scenarios: Sequence[int], seed: int | str, workers: int, progress: bool = False
) -> tuple[Any, list[str], float]:
    """All the scenarios, spread over `workers` processes (one ChaosWorld each); returns the summed
    figures, the violations and the seconds the workers spent playing scenarios."""
    chunks = [list(scenarios[start : start + CHUNK]) for start in range(0, len(scenarios), CHUNK)]
    if workers <= 1:
        _start_worker()
        try:
            return _collect((_work((seed, chunk)) for chunk in chunks), len(scenarios), progress)
        finally:
            _WORKER.pop("world").close()
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker) as pool:
        return _collect(
            pool.imap_unordered(_work, [(seed, chunk) for chunk in chunks]), len(scenarios), progress
        )


def _collect(
    results: Iterable[tuple[dict[str, Any], list[str], float]], total: int, progress: bool
) -> tuple[Any, list[str], float]:
    from tests.chaos.harness import Figures

    figures = Figures()
    violations: list[str] = []
    busy = 0.0
    for chunk_figures, chunk_violations, seconds in results:
        figures.add(Figures.from_dict(chunk_figures))
        violations += chunk_violations
        busy += seconds
        if progress:
            print(
                f"  {figures.scenarios}/{total} scenarios, lost {figures.lost} (notices "
                f"{figures.notices_lost}), fault-free duplicates {figures.duplicates_fault_free} (notices "
                f"{figures.notice_duplicates_fault_free})",
                file=sys.stderr,
                flush=True,
            )
    return figures, violations, busy


def failures(figures: Any, *, strict: bool = False) -> list[str]:
    """The figures that must be zero and are not."""
    must_be_zero = {
        "lost": figures.lost,
        "duplicated in fault-free runs": figures.duplicates_fault_free,
        "state regressions": figures.regressions,
        "handler crashes": figures.crashes,
        "runs ended by the Lambda timeout": figures.timeouts,
        "phantom announcements": figures.phantoms,
        "announcements with a hint's false facts": figures.phantom_facts,
        "notices lost": figures.notices_lost,
        "notices duplicated in fault-free runs": figures.notice_duplicates_fault_free,
        "phantom notices": figures.notice_phantoms,
        "notices with false facts": figures.notice_false_facts,
        "unchecked (harness errors, no complete run)": figures.other_violations,
    }
    if strict:
        must_be_zero["history announced"] = figures.history_announced
    return [f"{name}: {value}" for name, value in must_be_zero.items() if value]


def report(figures: Any, *, wall: float, busy: float, workers: int, seed: int | str, strict: bool) -> str:
    per_scenario = busy / figures.scenarios if figures.scenarios else 0.0
    rows = [
        ("scenarios", figures.scenarios),
        ("handler runs", f"{figures.runs} ({figures.complete_runs} complete)"),
        ("faults injected", figures.faults_injected),
        *((f"  {kind}", count) for kind, count in sorted(figures.faults.items())),
        ("faults aimed at calls the run did not make", figures.faults_not_reached),
        ("overlapping run pairs", figures.overlapping_pairs),
        ("listing shifts while paging", figures.listing_shifts),
        ("malformed listing entries", figures.malformed_entries),
        ("runs after another caller nearly emptied the EC2 bucket", figures.starved_runs),
        ("runs stopped by EC2 throttling (RunsThrottled)", figures.throttled_runs),
        ("runs short of time", figures.runs_short_of_time),
        ("long absences (an hour or more without a run)", figures.long_absences),
        ("  stores that started and ended meanwhile", figures.stores_ended_while_away),
        ("throttles outlasting 3 to 5 runs (EC2, SNS, EventBridge)", figures.multi_run_throttles),
        (
            "  runs inside them (stopped by the throttle)",
            f"{figures.runs_in_multi_run_throttles} ({figures.runs_stopped_by_multi_run_throttles})",
        ),
        (
            "scenarios with hints (of them quietWhenIdle)",
            f"{figures.hint_scenarios} ({figures.quiet_scenarios})",
        ),
        ("  hints sent (stores' starts and ends, forged objects)", figures.hints_sent),
        ("  hints delivered to the queue (copies included)", figures.hints_delivered),
        ("  hint faults", sum(figures.hint_faults.values())),
        *((f"    {kind}", count) for kind, count in sorted(figures.hint_faults.items())),
        ("  hint runs (messages handed over)", f"{figures.hint_runs} ({figures.hint_messages})"),
        ("  hints handed back to the queue (batchItemFailures)", figures.hints_retried),
        ("  hint runs overlapping another run", figures.hint_overlapping_pairs),
        ("  quiet runs (asked EC2 nothing)", figures.quiet_runs),
        ("    transitions they owed (listed a safety-net interval before)", figures.owed_by_quiet_runs),
        ("  starts the safety net found without a hint", figures.starts_without_hint),
        ("transitions expected", figures.expected),
        ("  delivered on both channels", figures.delivered),
        ("  lost (must be 0)", figures.lost),
        ("shown only to faulted runs, then gone from EC2", figures.unobservable),
        ("messages received (both channels)", figures.messages),
        ("duplicates after a fault", figures.duplicates_after_faults),
        ("duplicates in fault-free runs (must be 0)", figures.duplicates_fault_free),
        ("state regressions (must be 0)", figures.regressions),
        ("handler crashes (must be 0)", figures.crashes),
        ("runs ended by the Lambda timeout (must be 0)", figures.timeouts),
        ("phantom announcements (must be 0)", figures.phantoms),
        ("announcements with a hint's false facts (must be 0)", figures.phantom_facts),
        ("history announced (must be 0 with --strict)", figures.history_announced),
        ("scenarios with archive assurance", figures.assurance_scenarios),
        *((f"  {step}", count) for step, count in sorted(figures.assurance_steps.items())),
        ("notices expected", figures.notices_expected),
        ("  delivered on both channels", figures.notices_delivered),
        ("  lost (must be 0)", figures.notices_lost),
        ("notices delivered, by kind", _listed(figures.notices_by_kind)),
        *((f"  {verdict}", count) for verdict, count in sorted(figures.verdicts.items())),
        ("notice messages received (both channels)", figures.notice_messages),
        ("notice duplicates after a fault", figures.notice_duplicates_after_faults),
        ("notice duplicates in fault-free runs (must be 0)", figures.notice_duplicates_fault_free),
        ("phantom notices (must be 0)", figures.notice_phantoms),
        ("notices with false facts (must be 0)", figures.notice_false_facts),
        ("other violations (must be 0)", figures.other_violations),
        ("wall time", f"{wall:.1f} s with {workers} worker(s)"),
        (
            "time per scenario",
            f"{per_scenario * 1000:.0f} ms in one worker, "
            f"{wall / max(figures.scenarios, 1) * 1000:.0f} ms of wall time",
        ),
    ]
    width = max(len(name) for name, _ in rows) + 2
    lines = [f"AMI Store Notifier fault campaign (seed {seed})"]
    lines += [f"{name:<{width}}{value}" for name, value in rows]
    failed = failures(figures, strict=strict)
    lines.append("RESULT: " + ("FAIL (" + "; ".join(failed) + ")" if failed else "PASS"))
    return "\n".join(lines)


def _listed(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chaos.campaign", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scenarios", type=int, default=100, help="how many scenarios (default 100)")
    parser.add_argument("--seed", default="0", help="the campaign's seed (default 0)")
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default 2)"
    )
    parser.add_argument("--only", type=int, nargs="*", help="replay these scenario indices only")
    parser.add_argument("--strict", action="store_true", help="also fail on history announcements")
    parser.add_argument("--json", type=Path, help="also write the figures and violations here")
    parser.add_argument("--show", type=int, default=20, help="violations to print (default 20)")
    parser.add_argument("--describe", action="store_true", help="print each scenario's steps first")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    indices = list(args.only) if args.only else list(range(args.scenarios))
    if args.describe:
        from tests.chaos.families import random_scenario

        for index in indices:
            print(f"scenario {index}: " + random_scenario(random.Random(f"{args.seed}:{index}")).describe())
    workers = max(1, min(args.workers, -(-len(indices) // CHUNK)))
    started = time.perf_counter()
    figures, violations, busy = run_campaign(
        scenarios=indices, seed=args.seed, workers=workers, progress=True
    )
    wall = time.perf_counter() - started
    print(report(figures, wall=wall, busy=busy, workers=workers, seed=args.seed, strict=args.strict))
    if violations:
        print(f"\nviolations ({len(violations)}; replay one with --only INDEX --workers 1):")
        for violation in violations[: args.show]:
            print("  " + violation)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "seed": args.seed,
                    "wall_seconds": wall,
                    "busy_seconds": busy,
                    "figures": figures.as_dict(),
                    "violations": violations,
                },
                indent=2,
            )
        )
    return 1 if failures(figures, strict=args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())

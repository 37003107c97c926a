"""From measured polls to figures: each reported scenario's polls, aggregated per poller and size."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from bench.plan import Plan
from bench.scenario import Poll
from bench.seeding import IN_PROGRESS_TASKS
from bench.timeline import SizeRun


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
Key = TypeVar("Key", str, tuple[str, str])


def _optional(values: Sequence[float | None], aggregate: Aggregate) -> float | None:
    present = [value for value in values if value is not None]
    return aggregate(present) if present else None


def _by_key(
    polls: Sequence[Poll], counts: Callable[[Poll], Counter[Key]], aggregate: Aggregate
) -> dict[Key, float]:
    """Each key any poll counted, aggregated over the polls (0 where a poll did not count it)."""
    keys = {key for poll in polls for key in counts(poll)}
    return {key: aggregate([counts(poll).get(key, 0) for poll in polls]) for key in keys}


def _each(polls: Sequence[Poll], value: Callable[[Poll], float], aggregate: Aggregate) -> float:
    return aggregate([value(poll) for poll in polls])


def _cursor_kib(poll: Poll) -> float | None:
    return poll.cursor_bytes / 1024 if poll.cursor_bytes is not None else None


def figures(polls: Sequence[Poll], aggregate: Aggregate = statistics.fmean) -> Figures:
    return Figures(
        polls=len(polls),
        calls=_by_key(polls, lambda poll: poll.calls, aggregate),
        describe_kinds=_by_key(polls, lambda poll: poll.describe_kinds, aggregate),
        read_units=_each(polls, lambda poll: poll.read_units, aggregate),
        write_units=_each(polls, lambda poll: poll.write_units, aggregate),
        moto_units=_each(polls, lambda poll: poll.moto_reported_units, aggregate),
        wall_ms=_each(polls, lambda poll: poll.wall_seconds * 1000, aggregate),
        client_ms=_each(polls, lambda poll: poll.client_seconds * 1000, aggregate),
        units_by_kind=_by_key(polls, lambda poll: poll.units_by_kind, aggregate),
        largest_cursor_kib=_each(polls, lambda poll: poll.largest_cursor_write / 1024, aggregate),
        cursor_kib=_optional([_cursor_kib(poll) for poll in polls], aggregate),
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

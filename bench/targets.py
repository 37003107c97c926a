"""The report's PASS/FAIL targets on the per-size figures: the steady poll, transitions and memory."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.figures import SizeFigures
from bench.plan import Plan
from bench.tables import TIMES, number, wall

TARGET_N = 10_000
MEMORY_GROWTH_LIMIT = 1.5
MEMORY_REFERENCE_MIN_N = 1_000


@dataclass(frozen=True)
class Target:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str


def verdict(name: str, passed: bool, detail: str) -> Target:
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
            verdict(
                steady_names[0],
                mean.service("EC2") <= 2,
                f"{number(mean.service('EC2'))} per poll over {mean.polls} polls "
                f"(head polls {head_ec2}, "
                f"safety net {number(full.service('EC2')) if full else 'none in the hour'})",
            )
        )
        found.append(
            verdict(
                steady_names[1],
                worst.service("DynamoDB") <= 2,
                f"max {number(worst.service('DynamoDB'))}, mean {number(mean.service('DynamoDB'))} per poll",
            )
        )
        published = sum(worst.service(name) for name in ("SNS", "EventBridge"))
        found.append(
            verdict(
                steady_names[2], published == 0, f"max {number(published)} SNS + EventBridge calls per poll"
            )
        )
        naive = at.naive.get("steady-mean")
        if naive is None:
            found.append(Target(steady_names[3], "SKIP", "the naive poller was not run"))
        else:
            times = naive.wall_ms / mean.wall_ms if mean.wall_ms else math.inf
            found.append(
                verdict(
                    steady_names[3],
                    times >= 10,
                    f"ours {wall(mean.wall_ms)} ms vs naive {wall(naive.wall_ms)} ms per poll: "
                    f"{TIMES}{times:,.0f} (own time {wall(mean.client_ms)} vs {wall(naive.client_ms)} ms)",
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
                verdict(
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
        found.append(verdict(name, growth <= MEMORY_GROWTH_LIMIT, f"{detail} ({TIMES}{growth:.2f})"))
    return found

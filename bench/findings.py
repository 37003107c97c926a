"""The report's findings: what the figures of each size show beyond the tables, and the bench's own notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.budget import EC2_BUCKET
from bench.cost import ASSUMED_LATENCY_PER_CALL_S
from bench.figures import Figures, SizeFigures
from bench.plan import Plan
from bench.tables import number, wall
from bench.timeline import SizeRun

if TYPE_CHECKING:
    from bench.report import Results


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
        f"{number(item.cursor_kib, decimals=1)} KiB after it; own time {wall(item.client_ms)} ms of "
        f"{wall(item.wall_ms)} ms wall."
    )


def findings(plan: Plan, sizes: dict[int, SizeFigures], results: Results) -> list[str]:
    lines = []
    for n, data in sizes.items():
        lines += _poll_findings(plan, n, data)
        lines += _steady_findings(n, data)
    return lines + _bench_notes(results)


def _poll_findings(plan: Plan, n: int, data: SizeFigures) -> list[str]:
    """The safety net's burst, each k's calls and units, the poll after a burst, the long-running stores."""
    lines = []
    full = data.ours.get("steady-full")
    if full is not None:
        burst = full.service("EC2")
        over = ": more than the bucket holds" if burst > EC2_BUCKET.capacity else ""
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
    return lines


def _steady_findings(n: int, data: SizeFigures) -> list[str]:
    """A steady poll at 10 ms per AWS call, ours and the naive one's; moto's capacity units beside ours."""
    lines = []
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
    return lines


def _bench_notes(results: Results) -> list[str]:
    """Call counter mismatches, differences between the passes, and the bench's own time."""
    lines = []
    for n in sorted(results.timing):
        notes = results.timing[n].notes + (results.memory[n].notes if n in results.memory else [])
        lines += [f"- N={n:,}: call counter mismatch: {note}" for note in notes]
        if n in results.memory:
            lines += [
                f"- N={n:,}: {note}" for note in _pass_differences(results.timing[n], results.memory[n])
            ]
    timed = {n: run.seconds for n, run in results.timing.items()}
    traced = {n: run.seconds for n, run in results.memory.items()}
    lines.append(
        "- Bench time per size (timing pass / memory pass): "
        + ", ".join(f"N={n:,} {timed[n]:.0f} s / {traced.get(n, 0):.0f} s" for n in sorted(timed))
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

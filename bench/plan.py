"""How big the benchmark's run is: the sizes N, the timeline's polls and which sections run (`Plan`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.hints.plan import HintsPlan


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...] = (100, 1_000, 10_000, 30_000, 100_000)
    steady_polls: int = 60
    transitions: tuple[int, ...] = (10, 1_000)
    single_task_polls: bool = True
    naive_steady_budget: int = 30_000
    """The naive poller's steady polls at size N: budget // N, at least 1, at most `steady_polls` and
    `naive_steady_max`. Each of its polls reads everything, so a few are as good as sixty; under moto
    its N GetItems take about 1 ms each."""
    naive_steady_max: int | None = 10
    memory: bool = True
    naive_memory_max_n: int = 1_000
    """tracemalloc makes the naive poller's N GetItems 3-4 times slower: its memory is measured up
    to this size only."""
    naive_max_n: int = 30_000
    """Above this size the naive reference is not run at all (it keeps `make bench` short)."""
    full_scan_minutes: int | None = None
    long_running: int = 40
    """Stores still running after newer tasks pushed them out of the head pages (0: skipped)."""
    catch_up_stores: int = 10_000
    """Stores that ended while the notifier was off, read by the catch-up (bench/catch_up.py; 0: skipped)."""
    hints: HintsPlan | None = field(default_factory=HintsPlan)
    """The hints section's scenarios and their sizes (bench/hints/; None: skipped)."""
    single_task_max_n: int = 10_000
    """The single-task polls (1 new task, k=1) feed the monthly cost, computed for N = 100 and 10,000;
    above this size they are skipped (each costs the naive poller a full read)."""

    def naive_steady_polls(self, n: int) -> int:
        polls = min(self.steady_polls, max(1, self.naive_steady_budget // n))
        return min(polls, self.naive_steady_max) if self.naive_steady_max else polls

"""How big each scenario of the hints section is (`Plan.hints`; None leaves the section out)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HintsPlan:
    latency_stores: int = 120
    """Stores that start and end at random moments, about one start and one end a minute."""
    latency_failed_every: int = 4
    """One store in this many fails (the failure target's stores); the others complete."""
    quiet_sizes: tuple[int, ...] = (100, 10_000, 100_000)
    """Finished tasks in the listing of the quiet-when-idle runs."""
    quiet_hours: int = 2
    burst_stores: int = 1_000
    burst_seconds: float = 5.0
    """The burst's completions fall within this many seconds."""
    flood_objects: int = 10_000
    flood_seconds: int = 60
    seed: int = 20

    @classmethod
    def small(cls) -> HintsPlan:
        """A few seconds' worth of every scenario: the smoke test's, and `python -m bench --quick`'s."""
        return cls(latency_stores=16, quiet_sizes=(100,), quiet_hours=2, burst_stores=40, flood_objects=200)

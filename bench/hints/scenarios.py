"""The hints section (issue 20's targets): its four scenarios, one after the other.

bench/hints/timing.py: completion and failure latency, and quiet when idle; bench/hints/traffic.py: a
burst of completions and a flood of forged objects.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.hints.delays import DeliveryModel
from bench.hints.plan import HintsPlan
from bench.hints.timing import MODEL, Latency, Log, Quiet, measure_latency, measure_quiet
from bench.hints.traffic import Burst, Flood, measure_burst, measure_flood


@dataclass
class HintsResults:
    plan: HintsPlan
    latency: Latency
    quiet: list[Quiet]
    burst: Burst
    flood: Flood
    seconds: float
    model: DeliveryModel = MODEL


def measure_hints(plan: HintsPlan, *, log: Log) -> HintsResults:
    started = time.perf_counter()
    latency = measure_latency(plan, log)
    quiet = measure_quiet(plan, log)
    burst = measure_burst(plan, log)
    flood = measure_flood(plan, log)
    seconds = time.perf_counter() - started
    log(f"Hints: {seconds:.0f} s in all")
    return HintsResults(plan, latency, quiet, burst, flood, seconds)

"""Runs the whole benchmark: cold-start figures, then both passes at every size, then the bill."""

from __future__ import annotations

import time

from bench.bill.measure import measure_all
from bench.bill.model import bills
from bench.bill.modes import MODES
from bench.catch_up import measure_catch_up
from bench.hints.scenarios import measure_hints
from bench.log import Log
from bench.plan import Plan
from bench.report import Results
from bench.static import measure_asset, measure_import_time
from bench.timeline import SizeRun, run_size


def run_benchmark(
    plan: Plan, *, log: Log, cold_start: bool = True, import_runs: int = 5, bill: bool = False
) -> Results:
    """`bill`: the monthly bill of every mode too (bench/bill/: synthesis and the handler's runs, minutes)."""
    started = time.perf_counter()
    imports = asset = None
    if cold_start:
        log("Import time and asset size")
        imports = measure_import_time(import_runs)
        asset = measure_asset()
    timing: dict[int, SizeRun] = {}
    memory: dict[int, SizeRun] = {}
    for n in plan.sizes:
        timing[n] = run_size(n, plan, traced=False, log=log)
        if plan.memory:
            memory[n] = run_size(n, plan, traced=True, log=log)
    catch_up = measure_catch_up(plan.catch_up_stores, log=log) if plan.catch_up_stores else None
    hints = measure_hints(plan.hints, log=log) if plan.hints else None
    found = bills(MODES, measure_all(log)) if bill else None
    seconds = time.perf_counter() - started
    return Results(plan, timing, memory, imports, asset, seconds, catch_up=catch_up, bill=found, hints=hints)

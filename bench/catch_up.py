"""A catch-up after a long absence: thousands of stores ended while the notifier was off, and the real
handler reads them over several runs. DynamoDB refuses an item over 400 KB, and the known-tasks item is
the one a backlog could grow (functions/ami_store_notifier/domain/known_tasks.py), so the benchmark
prints the largest item of each kind that the runs wrote, beside whether every store was announced once.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ami_store_notifier.domain.known_tasks import ITEM_SIZE_LIMIT_BYTES
from ami_store_notifier.domain.run_limits import MAX_CLAIMS_PER_RUN
from bench.plan import Plan
from bench.scenario import BUCKET, POLL_SECONDS, World, world
from local.ec2_store_tasks import CLOCK, COMPLETED, FAILED
from local.ec2_store_tasks.backend import StoreTaskBackend
from local.lambda_context import LambdaContextStub

AWAY = timedelta(days=2)
FAILED_EVERY = 33
# Runs beyond the claims' own count: the read's last pages, and the run that finishes the deliveries.
SPARE_RUNS = 5


@dataclass
class CatchUp:
    stores: int
    away: timedelta
    runs: int = 0
    failed_runs: int = 0
    announced_once: int = 0
    finished: bool = False
    largest_written: dict[str, int] = field(default_factory=dict)
    """Bytes of the largest item of each kind ("KNOWN", "CURSOR", ...) any run wrote."""

    @property
    def largest_item(self) -> tuple[str, int]:
        return max(self.largest_written.items(), key=lambda entry: entry[1], default=("", 0))

    @property
    def passed(self) -> bool:
        fits = self.largest_item[1] <= ITEM_SIZE_LIMIT_BYTES
        return fits and self.failed_runs == 0 and self.finished and self.announced_once == self.stores


def measure_catch_up(stores: int, *, log: Callable[[str], None]) -> CatchUp:
    result = CatchUp(stores, AWAY)
    with world(Plan()) as sim:
        _invoke(sim)
        left_at = CLOCK.now()
        CLOCK.advance(AWAY.total_seconds())
        _stores_ended_since(sim, left_at, stores)
        log(f"Catch-up: {stores:,} stores ended in the {AWAY.days} days the notifier was off")
        for _ in range(stores // MAX_CLAIMS_PER_RUN + SPARE_RUNS):
            CLOCK.advance(POLL_SECONDS)
            if not _invoke(sim):
                result.failed_runs += 1
            result.runs += 1
            for kind, size in sim.ours_units.largest_written.items():
                result.largest_written[kind] = max(result.largest_written.get(kind, 0), size)
            if _all_done(sim):
                break
        result.finished = _all_done(sim)
        result.announced_once = _announced_once(sim)
    log(f"Catch-up: {result.runs} runs, largest item {result.largest_item[1]:,} bytes")
    return result


def _stores_ended_since(sim: World, left_at: datetime, stores: int) -> None:
    seed_ended_stores(
        sim.backend, [f"ami-c{index:016x}" for index in range(1, stores + 1)], left_at, AWAY, BUCKET
    )


def seed_ended_stores(
    backend: StoreTaskBackend, amis: list[str], left_at: datetime, away: timedelta, bucket: str
) -> None:
    """Stores of `amis` that started and ended within `away` after `left_at`, spread evenly; one in
    FAILED_EVERY failed."""
    pace = away / (len(amis) + 1)
    for index, ami in enumerate(amis, start=1):
        started = left_at + index * pace
        if index % FAILED_EVERY:
            backend.add_task(ami, bucket, started, COMPLETED)
        else:
            backend.add_task(ami, bucket, started, FAILED, 40, failure_reason="snapshot lost")


def _invoke(sim: World) -> bool:
    """One run of the real handler; False when its Region failed."""
    sim.ours_units.reset()
    with contextlib.redirect_stdout(io.StringIO()):  # Powertools writes its metrics (EMF) to stdout
        answer = sim.handler.lambda_handler({}, LambdaContextStub())
    return not answer.get("failedRegions")


def _items(sim: World, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": sim.table,
        "FilterExpression": "begins_with(pk, :prefix)",
        "ExpressionAttributeValues": {":prefix": {"S": prefix}},
    }
    while True:
        page = sim.inspector.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _all_done(sim: World) -> bool:
    """The read finished and every delivery was settled: no progress saved, no batch of leases left."""
    (cursor,) = _items(sim, "CURSOR#")
    return bool(cursor.get("progress", {}).get("NULL")) and not cursor.get("leaseBatches")


def _announced_once(sim: World) -> int:
    """Stores of the catch-up recorded with exactly one announcement."""
    tasks = [item for item in _items(sim, "TASK#") if item["amiId"]["S"].startswith("ami-c")]
    return sum(1 for item in tasks if len(item["announcements"]["M"]) == 1)


def catch_up_target(catch_up: CatchUp) -> tuple[str, bool, str]:
    kind, size = catch_up.largest_item
    return (
        f"a catch-up of {catch_up.stores:,} stores keeps every item within DynamoDB's 400 KB",
        catch_up.passed,
        f"largest item written {size:,} bytes ({kind}) of {ITEM_SIZE_LIMIT_BYTES:,}; "
        f"{catch_up.announced_once:,} of {catch_up.stores:,} stores announced once in {catch_up.runs} runs, "
        f"{catch_up.failed_runs} failed",
    )


def catch_up_section(catch_up: CatchUp) -> list[str]:
    rows = [
        f"| {kind} | {size:,} | {size / ITEM_SIZE_LIMIT_BYTES:.1%} |"
        for kind, size in sorted(catch_up.largest_written.items(), key=lambda entry: -entry[1])
    ]
    return [
        "## Catch-up after an absence",
        "",
        f"{catch_up.stores:,} stores started and ended while the notifier was off for {catch_up.away.days} "
        f"days; the real handler then ran once a minute. It took {catch_up.runs} runs "
        f"({MAX_CLAIMS_PER_RUN:,} claims at most a run), {catch_up.failed_runs} of them failed, "
        f"{catch_up.announced_once:,} stores were recorded with one announcement, and every delivery was "
        f"{'settled' if catch_up.finished else 'NOT settled'}. The largest item of each kind any run "
        "wrote, by DynamoDB's item-size rules (the limit is 400 KB: what the known-tasks item keeps and "
        "why is in `functions/ami_store_notifier/domain/known_tasks.py`):",
        "",
        "| Item | Largest written (bytes) | Of 400 KB |",
        "| --- | --- | --- |",
        *rows,
    ]

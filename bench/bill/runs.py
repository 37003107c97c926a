"""The real handler's runs on moto and the store-task emulator, measured for the bill.

Each handler environment (the poller's literal variables from a mode's template) is measured in a child
process of its own: the handler and Powertools read the environment when they are imported, so a second
environment in the same process would run with the first one's logger and metrics. This module starts the
child and runs its timeline; bench/bill/invocation.py measures each invocation, bench/bill/hint_path.py
drives the hints' path.

Timeline, one simulated minute apart: 100 finished tasks in the listing window; the baseline run (set-up);
one idle run on a fresh execution environment (`cold`); an hour of idle runs (`idle`, the hourly safety
net included); then, for each of 4 stores, the run that first lists it in progress (`start`), 2 runs
while it is in progress (`busy`) and the run that sees it complete (`finish`, 3 of them) or fail
(`fail`). Then, when asked, the hub's relay relays the last announcement a few times (`relay`).

With hints (the template has the hint queue and its event source mapping), the deployment in moto has the
hints' path too (local/deployment.py's `deploy(..., hints=True)`: the rules on the default bus, the queue,
the emulated mapping), the emulator sends both hints (a trail logging management events, the bucket's
EventBridge delivery on: local/ec2_store_tasks/hint_events.py), and each store is started through EC2's
CreateStoreImageTask. Its CloudTrail start reaches the queue and the mapping hands it to the real handler
(`hint-start`) before the store's first scheduled run; a completed store's S3 Object Created is handed over
likewise (`hint-object`) before the run that sees it complete; a failure sends no hint. The scheduled runs
are measured as they then are: the hint run has claimed the start or the end already, and with
QUIET_WHEN_IDLE a run with nothing in progress asks EC2 nothing (the `finish` run among them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from bench.bill.hint_path import Hints
from bench.bill.invocation import Meters, Notifier, run_relay
from bench.bill.profile import (
    BUSY,
    COLD,
    FAIL,
    FINISH,
    HINT_KINDS,
    HINT_OBJECT,
    HINT_START,
    IDLE,
    KINDS,
    START,
    Profile,
    RunFigures,
)
from infra.asset import FUNCTION_CODE_DIR, REPO_ROOT

SEEDED_TASKS = 100
IDLE_RUNS = 60
OUTCOMES = (FINISH, FINISH, FINISH, FAIL)
"""The stores measured, by how they end."""
BUSY_RUNS_PER_STORE = 2
ITEM_OVERHEAD_BYTES = 100
"""DynamoDB bills storage on each item's size plus 100 bytes of overhead ("Item sizes and formats")."""
HINT_LEAD_SECONDS = 5
"""With hints, a store starts this long before the scheduled run that first lists it, and its start hint is
handed to the handler before that run (EventBridge and the queue take seconds)."""


@dataclass(frozen=True)
class Spec:
    """What one child measures."""

    environment: dict[str, str]
    """The poller's variables with literal values in its template."""
    chat: bool
    relay_environment: dict[str, str] | None = None
    hints: bool = False
    """The template has the hint queue and its event source mapping: hint runs are measured too."""


def measure(spec: Spec) -> Profile:
    """Runs the timeline in a child process and returns what it measured."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bill.runs"],
        input=json.dumps(asdict(spec)),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join((str(FUNCTION_CODE_DIR), str(REPO_ROOT)))},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring the handler's runs failed:\n{done.stderr[-4000:]}")
    return Profile.from_json(json.loads(done.stdout.splitlines()[-1]))


# -- in the child --------------------------------------------------------------------------------------


def _table_bytes(session: Any, table: str) -> int:
    from bench.meter import item_size

    pages = session.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return sum(item_size(item) + ITEM_OVERHEAD_BYTES for page in pages for item in page["Items"])


def _seed(backend: Any) -> None:
    from bench.emulated import START as BEGINNING
    from bench.scenario import BUCKET
    from bench.seeding import WINDOW_MARGIN
    from local.ec2_store_tasks import COMPLETED, LISTING_WINDOW

    step = (LISTING_WINDOW - WINDOW_MARGIN) / (SEEDED_TASKS - 1)
    for index in range(SEEDED_TASKS):
        backend.add_task(
            f"ami-0{index:016x}", BUCKET, BEGINNING - timedelta(minutes=1) - step * index, COMPLETED
        )


def _stores(
    notifier: Notifier, backend: Any, kinds: dict[str, RunFigures], hints: Hints | None = None
) -> None:
    from bench.scenario import BUCKET, POLL_SECONDS
    from local.ec2_store_tasks import CLOCK, IN_PROGRESS

    for store, outcome in enumerate(OUTCOMES):
        if hints is None:
            CLOCK.advance(POLL_SECONDS)
            ami = f"ami-f{store:016x}"
            backend.add_task(ami, BUCKET, CLOCK.now() - timedelta(seconds=5), IN_PROGRESS, 5)
        else:
            CLOCK.advance(POLL_SECONDS - HINT_LEAD_SECONDS)
            ami = hints.start(store)
            CLOCK.advance(HINT_LEAD_SECONDS)
            hints.deliver(kinds[HINT_START])
        notifier.run(kinds[START])
        for _ in range(BUSY_RUNS_PER_STORE):
            CLOCK.advance(POLL_SECONDS)
            notifier.run(kinds[BUSY])
        CLOCK.advance(POLL_SECONDS)
        if outcome == FAIL:
            backend.fail(ami, "The AMI's snapshot could not be read")
        else:
            backend.complete(ami)
            if hints is not None:
                hints.deliver(kinds[HINT_OBJECT])
        notifier.run(kinds[outcome])


def _timeline(spec: Spec) -> Profile:
    import boto3
    from moto import mock_aws

    from bench.emulated import ENVIRONMENT
    from bench.emulated import START as BEGINNING
    from bench.moto_shims import time_spent_in_moto, transactions_without_table_copies
    from bench.scenario import POLL_SECONDS
    from local.deployment import deploy
    from local.ec2_store_tasks import CLOCK, install, reset, store_tasks_backend
    from local.lambda_context import ACCOUNT, OFFLINE_UNSET, REGION

    os.environ.update(ENVIRONMENT)
    for name in OFFLINE_UNSET:
        os.environ.pop(name, None)
    install()
    reset()
    with mock_aws(), transactions_without_table_copies(), time_spent_in_moto() as moto:
        CLOCK.restart(BEGINNING)
        session = boto3.session.Session()
        deployment = deploy(session, region=REGION, chat=spec.chat, hints=spec.hints)
        variables = deployment.handler_environment(**spec.environment)
        os.environ.update(variables)
        from ami_store_notifier import handler  # after the environment: it reads it on import

        handler.utc_now = CLOCK.now
        topics: dict[str, str] = {
            v: name for name in ("TOPIC_ARN", "CHAT_TOPIC_ARN") if (v := variables.get(name))
        }
        meters = Meters(moto, topics)
        notifier = Notifier(handler, meters)
        backend = store_tasks_backend(ACCOUNT, REGION)
        _seed(backend)
        kinds = {kind: RunFigures() for kind in KINDS + (HINT_KINDS if spec.hints else ())}
        hints = Hints(session, deployment, notifier, backend) if spec.hints else None
        notifier.run(None)
        notifier.run(kinds[COLD], cold=True)
        for _ in range(IDLE_RUNS):
            CLOCK.advance(POLL_SECONDS)
            notifier.run(kinds[IDLE])
        before = _table_bytes(session, deployment.table_name)
        _stores(notifier, backend, kinds, hints)
        after = _table_bytes(session, deployment.table_name)
        relay = None
        if spec.relay_environment is not None and meters.publishes.last_detail is not None:
            relay = run_relay(spec.relay_environment, topics, meters.publishes.last_detail, meters)
    return Profile(kinds, before, (after - before) / len(OUTCOMES), relay)


def main() -> None:
    spec = Spec(**json.loads(sys.stdin.read()))
    print(json.dumps(_timeline(spec).to_json()))


if __name__ == "__main__":
    main()

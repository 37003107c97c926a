"""The measured invocations in the bill's child process: the handler as Lambda invokes it (by the schedule,
cold or warm, or with a batch of the hint queue), the hub's relay, and the meters on their clients."""

from __future__ import annotations

import gc
import json
import os
import time
from typing import Any
from unittest import mock

from bench.bill.capture import Publishes, metrics_in, output_of
from bench.bill.profile import RunFigures

RELAY_RUNS = 3


def _fresh_execution_environment() -> None:
    """What a new execution environment starts with: Powertools' cold-start flags set."""
    from aws_lambda_powertools.logging import logger
    from aws_lambda_powertools.metrics.provider import cold_start
    from aws_lambda_powertools.tracing import tracer

    cold_start.is_cold_start = logger.is_cold_start = tracer.is_cold_start = True


class Meters:
    """The bench's call counter and capacity meter, and the publish meter, on a set of clients."""

    def __init__(self, moto: Any, topics: dict[str, str]) -> None:
        from bench.meter import CallCounter, CapacityMeter
        from local.lambda_context import ACCOUNT, REGION

        self.moto = moto
        self.calls = CallCounter()
        self.units = CapacityMeter(ACCOUNT, REGION)
        self.publishes = Publishes(topics)
        # Kept alive, so that a client made after a cold start never takes a metered one's id.
        self._attached: dict[int, Any] = {}

    def attach(self, client: Any) -> Any:
        if id(client) not in self._attached:
            self._attached[id(client)] = client
            self.calls.attach(client)
            self.publishes.attach(client)
            if client.meta.service_model.service_name == "dynamodb":
                self.units.attach(client)
        return client

    def reset(self) -> None:
        for meter in (self.calls, self.units, self.publishes, self.moto):
            meter.reset()

    def add_to(self, figures: RunFigures, output: str, seconds: float) -> None:
        figures.runs += 1
        figures.metrics.update(metrics_in(output))
        figures.log_bytes += len(output.encode())
        figures.own_seconds += max(0.0, seconds - self.moto.seconds - self.units.overhead_seconds)
        figures.calls += sum(self.calls.calls.values())
        figures.read_units += self.units.read_units
        figures.write_units += self.units.write_units
        figures.sns_requests += self.publishes.sns_requests
        figures.sns_messages.update(self.publishes.sns_messages)
        figures.events += self.publishes.events
        figures.event_bytes += self.publishes.event_bytes


class Notifier:
    def __init__(self, handler: Any, meters: Meters) -> None:
        self.handler = handler
        self.meters = meters

    def run(
        self, figures: RunFigures | None, *, cold: bool = False, event: dict[str, Any] | None = None
    ) -> Any:
        """One invocation, as Lambda makes it (by the schedule, or with `event`: a batch of the hint
        queue); measured into `figures` unless None (a set-up run). Returns the handler's answer."""
        from local.lambda_context import LambdaContextStub

        if cold:
            _fresh_execution_environment()
            self.handler.wiring.cache_clear()
        self.meters.reset()
        # What exists now (moto, the emulator) is left out of the collector's work, as in bench/scenario.py.
        gc.freeze()
        with output_of(self.handler.logger) as output:
            started = time.perf_counter()
            wired = self.handler.wiring()  # inside the timing: a cold start builds its clients here
            for client in (*wired.ec2_clients.values(), wired.dynamodb, wired.sns, wired.events):
                self.meters.attach(client)
            answer = self.handler.lambda_handler(event or {}, LambdaContextStub())
            seconds = time.perf_counter() - started
        if figures is not None:
            self.meters.add_to(figures, output.getvalue(), seconds)
        return answer


def run_relay(environment: dict[str, str], topics: dict[str, str], detail: str, meters: Meters) -> RunFigures:
    """The hub's relay, relaying one announcement at a time to the hub's topic."""
    import boto3

    from local.lambda_context import LambdaContextStub

    boto3.client("organizations").create_organization(FeatureSet="ALL")  # account names to read
    os.environ.update({**environment, **{variable: arn for arn, variable in topics.items()}})
    from ami_store_notifier import hub_relay

    made = boto3.client
    figures = RunFigures()
    with mock.patch.object(boto3, "client", lambda *a, **k: meters.attach(made(*a, **k))):
        for _ in range(RELAY_RUNS):
            meters.reset()
            with output_of(hub_relay.logger) as output:
                started = time.perf_counter()
                hub_relay.lambda_handler({"detail": json.loads(detail)}, LambdaContextStub())  # type: ignore[arg-type]
                seconds = time.perf_counter() - started
            meters.add_to(figures, output.getvalue(), seconds)
    return figures

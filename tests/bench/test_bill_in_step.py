"""The bill kept in step with the code: its kept inputs (bench/bill/measured.json, which the figures of
docs/cost.md are computed from) are what the app synthesizes and what the handler does now. Seconds to a
minute: it synthesizes every mode and runs the handler once."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bill import snapshot
from bench.bill.measure import specs
from bench.bill.model import bill
from bench.bill.modes import MODES
from bench.bill.runs import measure
from bench.bill.templates import RELAY_HANDLER, count

FRESH = (
    "re-run `PYTHONPATH=functions .venv/bin/python -m bench.bill`, "
    "then paste bench/results/readme-cost.md into docs/cost.md"
)


def _resources(template: dict[str, Any], kind: str) -> int:
    return sum(resource["Type"] == kind for resource in template["Resources"].values())


def test_the_relay_is_found_by_the_hubs_handler() -> None:
    from infra.hub import RELAY_HANDLER as HUB_RELAY_HANDLER

    assert RELAY_HANDLER == HUB_RELAY_HANDLER


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.key)
def test_each_modes_keys_dashboards_and_alarms_are_its_templates(
    mode: Any, synthesized: dict[str, dict[str, Any]]
) -> None:
    template = synthesized[mode.key]
    kept = snapshot.load()
    found = {
        item.price.key: item.quantity
        for item in bill(mode, count(template), kept.profiles[mode.key], 100, kept.assumptions).items
    }
    assert found["kms-key"] == _resources(template, "AWS::KMS::Key")
    assert found["cloudwatch-dashboard"] == _resources(template, "AWS::CloudWatch::Dashboard")
    assert found["cloudwatch-alarm"] + found["cloudwatch-alarm-high"] >= _resources(
        template, "AWS::CloudWatch::Alarm"
    )


def test_the_kept_templates_are_the_apps(synthesized: dict[str, dict[str, Any]]) -> None:
    kept = snapshot.load().counted
    for mode in MODES:
        assert count(synthesized[mode.key]) == kept[mode.key], f"{mode.key}'s template changed: {FRESH}"


def test_the_kept_runs_are_the_handlers(synthesized: dict[str, dict[str, Any]]) -> None:
    """What a run does is deterministic but for its own time (and a few bytes of its log line's timings)."""
    counted = {mode.key: count(synthesized[mode.key]) for mode in MODES}
    kept = snapshot.load().profiles["default"]
    fresh = measure(specs(MODES, counted)["default"])
    for kind, figures in fresh.kinds.items():
        was = kept.kinds[kind]
        for figure in (
            "runs",
            "metrics",
            "calls",
            "read_units",
            "write_units",
            "sns_requests",
            "sns_messages",
            "events",
        ):
            assert getattr(figures, figure) == getattr(was, figure), f"{kind} runs' {figure} changed: {FRESH}"
        assert figures.log_bytes == pytest.approx(was.log_bytes, rel=0.02), (
            f"{kind} runs' log changed: {FRESH}"
        )

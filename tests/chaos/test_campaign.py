"""The campaign on every CI run: a few dozen random scenarios through the same code as `make chaos`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.chaos import campaign
from tests.chaos.harness import Figures

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = int(os.environ.get("CHAOS_SCENARIOS", "25"))
SEED = os.environ.get("CHAOS_SEED", "ci")


def test_a_small_campaign_loses_nothing_and_repeats_nothing_without_faults(chaos_world):
    figures, violations, _ = campaign.run_scenarios(chaos_world, SEED, range(SCENARIOS))
    figures = Figures.from_dict(figures)

    assert figures.scenarios == SCENARIOS
    assert figures.faults_injected > 0
    assert figures.expected > 0
    assert figures.lost == 0, violations
    assert figures.duplicates_fault_free == 0, violations
    assert figures.regressions == 0, violations
    assert figures.crashes == 0, violations
    assert figures.phantoms == 0, violations
    assert figures.phantom_facts == 0, violations
    assert figures.history_announced == 0, violations
    assert figures.other_violations == 0, violations
    assert figures.delivered == figures.expected


def test_the_campaign_fails_on_a_loss_a_fault_free_duplicate_or_a_phantom_and_not_on_repeats_after_faults():
    assert campaign.failures(Figures(duplicates_after_faults=7)) == []
    assert campaign.failures(Figures(lost=1)) == ["lost: 1"]
    assert campaign.failures(Figures(duplicates_fault_free=2)) == ["duplicated in fault-free runs: 2"]
    assert campaign.failures(Figures(history_announced=1)) == []
    assert campaign.failures(Figures(history_announced=1), strict=True) == ["history announced: 1"]
    assert campaign.failures(Figures(phantoms=1)) == ["phantom announcements: 1"]
    assert campaign.failures(Figures(phantom_facts=2)) == ["announcements with a hint's false facts: 2"]


def test_the_campaign_command_prints_its_figures_and_exits_zero(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tests.chaos.campaign", "--scenarios", "3", "--workers", "1", "--seed", "cli"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": "functions"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    for figure in (
        "scenarios                ",
        "faults injected",
        "transitions expected",
        "lost (must be 0)",
        "duplicates in fault-free runs (must be 0)",
        "scenarios with hints (of them quietWhenIdle)",
        "hint runs (messages handed over)",
        "phantom announcements (must be 0)",
        "wall time",
        "RESULT: PASS",
    ):
        assert figure in result.stdout

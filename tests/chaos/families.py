"""The campaign's families: what scenario index i of a campaign is, drawn from random.Random(f"{seed}:{i}").

Every scenario starts as an ordinary one (tests/chaos/scenarios.py, ordinary_scenario); the families are
drawn after the ordinary scenario they extend, each after the ones before it, so that the draws of every
index that a later family leaves alone stay what they were:
- a catch-up after a long absence, or throttling that outlasts several runs;
- hints on (with_hints), over an ordinary scenario or a throttle over several runs;
- archive assurance on (tests/chaos/assurance_scenarios.py), over any of those but a catch-up or a
  throttle's backlog: their hundreds of completions, seeded without an object, would each wait out the
  missing object's ten minutes, a hundred checks a run.
"""

from __future__ import annotations

import random

from tests.chaos.assurance_scenarios import with_archive_assurance
from tests.chaos.scenarios import (
    Away,
    Scenario,
    after_a_long_absence,
    ordinary_scenario,
    with_a_throttle_over_several_runs,
    with_hints,
)

# A catch-up costs some 15 s of a worker, a throttle over several runs some 2 s, an ordinary scenario
# under 1 s: the two families add about a third of the ordinary scenarios' cost, which the harness saved
# on moto (tests/chaos/moto_shims.py).
LONG_ABSENCE_SHARE = 0.02
MULTI_RUN_THROTTLE_SHARE = 0.04
HINT_SHARE = 0.25
# Of the 94 % without a backlog: about a fifth of the campaign.
ARCHIVE_ASSURANCE_SHARE = 0.21


def random_scenario(rng: random.Random) -> Scenario:
    scenario = ordinary_scenario(rng)
    roll = rng.random()
    if roll < LONG_ABSENCE_SHARE:
        return after_a_long_absence(scenario, rng)
    if roll < LONG_ABSENCE_SHARE + MULTI_RUN_THROTTLE_SHARE:
        scenario = with_a_throttle_over_several_runs(scenario, rng)
    if rng.random() < HINT_SHARE:
        scenario = with_hints(scenario, rng)
    backlog = any(isinstance(step, Away) for step in scenario.steps)
    if not backlog and rng.random() < ARCHIVE_ASSURANCE_SHARE:
        return with_archive_assurance(scenario, rng)
    return scenario

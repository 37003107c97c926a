"""Properties over random task histories, fault schedules, overlapping runs and shifting listings.

Hypothesis builds the same Scenario data the campaign draws at random, so a failure shrinks to a short
history that `tests.chaos.scenarios.play` replays. CHAOS_EXAMPLES scales the number of examples.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ami_store_notifier.report import REGION_FAILURES
from local.dynamodb_tokens import client_tokens
from local.ec2_store_tasks import COMPLETED, FAILED, IN_PROGRESS
from local.lambda_context import ACCOUNT, REGION
from tests.chaos.harness import CHANNELS, assert_no_violations
from tests.chaos.scenarios import (
    CALL_SITES,
    EC2_ATTEMPTS,
    EMULATOR_ERRORS,
    FAILURE_REASONS,
    MALFORMED_KINDS,
    Advance,
    CallFault,
    EmulatorError,
    Finish,
    HistoryTask,
    Overlap,
    Progress,
    Run,
    Scenario,
    Start,
    Step,
    kinds_for,
    play,
)

EXAMPLES = int(os.environ.get("CHAOS_EXAMPLES", "15"))
CHAOS_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SITE_KINDS = [
    (service, operation, kind, calls)
    for service, operation, calls in CALL_SITES
    for kind in kinds_for(service, operation)
]

call_faults = st.sampled_from(SITE_KINDS).flatmap(
    lambda site: st.builds(
        CallFault,
        st.just(site[0]),
        st.just(site[1]),
        st.just(site[2]),
        st.integers(1, site[3]),
        st.integers(0, 2),
    )
)
emulator_errors = st.builds(
    EmulatorError, st.sampled_from(EMULATOR_ERRORS), st.sampled_from([1, EC2_ATTEMPTS - 1, EC2_ATTEMPTS])
)
faults = st.one_of(call_faults, emulator_errors)
advances = st.builds(
    Advance,
    st.one_of(
        st.floats(10, 200),
        st.floats(301, 900),
        st.floats(3600, 4000),
        st.just(32 * 86400.0),  # everything started before ages out of the 31-day listing
    ).map(lambda seconds: round(seconds, 3)),
)


def history_tasks(amis: int) -> st.SearchStrategy[HistoryTask]:
    return st.builds(
        HistoryTask,
        st.integers(0, amis - 1),
        st.one_of(st.floats(1, 120), st.floats(31 * 1440 + 10, 35 * 1440)).map(
            lambda minutes: round(minutes, 3)
        ),
        st.sampled_from([IN_PROGRESS, COMPLETED, FAILED]),
    )


def events(amis: int) -> st.SearchStrategy[Step]:
    ami = st.integers(0, amis - 1)
    return st.one_of(
        st.builds(Start, ami, st.one_of(st.none(), st.sampled_from([30, 120, 600]))),
        st.builds(Finish, ami, st.sampled_from([COMPLETED, FAILED]), st.sampled_from(FAILURE_REASONS)),
        st.builds(Progress, ami, st.integers(0, 99)),
    )


def runs(
    amis: int, *, with_faults: bool, overlaps: bool, shifts: bool, malformed: bool, time_cuts: bool
) -> st.SearchStrategy[Step]:
    fault_lists = st.lists(faults, max_size=2).map(tuple) if with_faults else st.just(())
    run = st.builds(
        Run,
        fault_lists,
        st.one_of(st.none(), st.integers(0, 3)) if time_cuts else st.none(),
        st.lists(st.sampled_from(MALFORMED_KINDS), max_size=2).map(tuple) if malformed else st.just(()),
        st.one_of(st.none(), st.integers(0, amis - 1)) if shifts else st.none(),
    )
    if overlaps:
        return st.one_of(run, st.builds(Overlap, fault_lists))
    return run


@st.composite
def scenarios(draw: Any, *, rounds: int = 5, **run_options: bool) -> Scenario:
    amis = draw(st.integers(2, 4))
    history = draw(st.lists(history_tasks(amis), max_size=amis, unique_by=lambda task: task.ami))
    steps: list[Step] = [draw(runs(amis, **run_options))]
    for _ in range(draw(st.integers(1, rounds))):
        steps += draw(st.lists(events(amis), min_size=1, max_size=3))
        steps.append(draw(advances))
        steps.append(draw(runs(amis, **run_options)))
    return Scenario(amis, tuple(history), tuple(steps))


EVERYTHING = {"with_faults": True, "overlaps": True, "shifts": True, "malformed": True, "time_cuts": True}


@CHAOS_SETTINGS
@given(scenario=scenarios(**EVERYTHING))
def test_random_histories_under_random_faults_lose_nothing_and_repeat_only_after_faults(
    chaos_world, scenario
):
    ledger = play(chaos_world, scenario)

    assert_no_violations(ledger)


@CHAOS_SETTINGS
@given(scenario=scenarios(**(EVERYTHING | {"with_faults": False})))
def test_without_faults_every_transition_arrives_exactly_once_on_each_channel(chaos_world, scenario):
    ledger = play(chaos_world, scenario)

    assert_no_violations(ledger)
    history = {transition.event_id for transition in ledger.history}
    expected = {transition.event_id for transition in ledger.expected}
    for channel in CHANNELS:
        arrivals = {
            event_id: runs for event_id, runs in ledger.arrivals[channel].items() if event_id not in history
        }
        assert set(arrivals) == expected
        assert all(len(runs) == 1 for runs in arrivals.values())


@CHAOS_SETTINGS
@given(
    scenario=scenarios(
        with_faults=False, overlaps=True, shifts=False, malformed=False, time_cuts=False
    ).filter(lambda scenario: any(isinstance(step, Overlap) for step in scenario.steps))
)
def test_overlapping_runs_never_announce_a_transition_twice(chaos_world, scenario):
    ledger = play(chaos_world, scenario)

    assert_no_violations(ledger)
    assert ledger.counts["duplicates_after_faults"] == 0
    seconds = [run for run in ledger.runs if run.label == "overlap/second"]
    assert all(run.stopped_because in (None, "overlapping-run") for run in seconds)
    # The run that loses stops quietly: no failed region, no error logged, no token DynamoDB refused.
    assert all(run.error is None and not run.log_lines("ERROR") for run in seconds)
    assert not [document for run in seconds for document in run.metrics if REGION_FAILURES.name in document]
    assert client_tokens(ACCOUNT, REGION).refused == []


@CHAOS_SETTINGS
@given(
    scenario=scenarios(with_faults=True, overlaps=False, shifts=True, malformed=False, time_cuts=False).map(
        lambda scenario: Scenario(
            scenario.amis,
            scenario.history,
            tuple(
                Run(step.faults, step.time_left_after, step.malformed, 0) if isinstance(step, Run) else step
                for step in scenario.steps
            ),
        )
    )
)
def test_a_listing_that_shifts_while_it_is_paged_loses_nothing(chaos_world, scenario):
    """Every run starts a store between its first and second page request (pages of two), pushing the
    task at the end of page one onto page two."""
    ledger = play(chaos_world, scenario)

    assert_no_violations(ledger)

"""Overlapping runs against DynamoDB's client-token rules (local.dynamodb_tokens), which moto alone ignores:
the run that loses stops quietly, and a commit is never refused for its token."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from ami_store_notifier.domain.claims import Claim
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.planning import CommitStep, CursorUpdate
from ami_store_notifier.ports import CommitOutcome, CommitResult
from ami_store_notifier.report import REGION_FAILURES
from local.deployment import RULE_QUEUE, TOPIC_QUEUE
from local.dynamodb_tokens import client_tokens
from local.ec2_store_tasks import CLOCK
from tests.world import ACCOUNT, BUCKET, REGION

APART = pytest.mark.parametrize("apart_seconds", [0, 2], ids=["at-one-instant", "two-seconds-apart"])


@APART
def test_the_run_that_loses_an_overlap_stops_quietly_and_each_transition_is_announced_once(
    overlapping_runs, deployment, capsys, caplog, apart_seconds
):
    CLOCK.advance(11 * 60)
    capsys.readouterr()
    caplog.clear()

    first, second = overlapping_runs(apart_seconds=apart_seconds)

    assert (first["failedRegions"], second["failedRegions"]) == ([], [])
    assert first["regions"][0]["claimsCommitted"] == 2
    assert (second["regions"][0]["stoppedBecause"], second["regions"][0]["claimsCommitted"]) == (
        "overlapping-run",
        0,
    )
    assert client_tokens(ACCOUNT, REGION).refused == []
    assert f'"{REGION_FAILURES.name}"' not in capsys.readouterr().out
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert len(deployment.receive(TOPIC_QUEUE)) == 2
    assert len(deployment.receive(RULE_QUEUE)) == 2


def step(now: datetime, *claims: Claim, baseline: bool = False) -> CommitStep:
    return CommitStep(
        claims,
        CursorUpdate(
            baselined=True,
            high_water_mark=now,
            known={} if baseline else None,
            last_full_scan_at=now,
            full_scan_horizon=None,
        ),
    )


@APART
def test_a_commit_on_a_cursor_version_another_run_moved_is_a_conflict_and_its_token_is_not_refused(
    state_store, apart_seconds
):
    first = state_store.commit(0, step(CLOCK.now(), baseline=True))
    CLOCK.advance(apart_seconds)
    second = state_store.commit(0, step(CLOCK.now(), baseline=True))

    assert (first.outcome, second.outcome) == (CommitOutcome.COMMITTED, CommitOutcome.CONFLICT)
    assert client_tokens(ACCOUNT, REGION).refused == []


def test_a_step_planned_again_after_a_rejection_commits_at_the_same_cursor_version_with_the_same_tasks(
    state_store,
):
    """The cursor's known tasks may lag the table: the run plans again at the cursor version it read,
    for the same task, with the state the table holds as the condition."""
    now = CLOCK.now()
    ami = "ami-0123456789abcdef0"
    task = StoreTask(ami, BUCKET, f"{ami}.bin", now - timedelta(minutes=5), "Completed", 100)
    state_store.commit(0, step(now, baseline=True))
    state_store.commit(1, step(now, Claim(task, TaskState.IN_PROGRESS, None, None)))

    rejected = state_store.commit(2, step(now, Claim(task, TaskState.COMPLETED, None, None)))
    planned_again = state_store.commit(
        2, step(now, Claim(task, TaskState.COMPLETED, TaskState.IN_PROGRESS, None))
    )

    assert rejected == CommitResult(CommitOutcome.REJECTED, (task.key,))
    assert planned_again.outcome is CommitOutcome.COMMITTED
    assert state_store.load_records([task.key])[task.key].state is TaskState.COMPLETED


def test_the_sdk_retries_an_attempt_with_its_token_and_the_next_commit_sends_its_own(
    state_store, state_client
):
    tokens = []

    def answer_500_once(request: Any, **_: Any) -> AWSResponse | None:
        tokens.append(json.loads(request.body)["ClientRequestToken"])
        if len(tokens) > 1:
            return None
        body = b'{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "injected"}'
        return AWSResponse(request.url, 500, {}, MockRawResponse(body))

    state_client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", answer_500_once)
    first = state_store.commit(0, step(CLOCK.now(), baseline=True))
    second = state_store.commit(0, step(CLOCK.now(), baseline=True))

    assert (first.outcome, second.outcome) == (CommitOutcome.COMMITTED, CommitOutcome.CONFLICT)
    assert len(tokens) == 3
    assert tokens[0] == tokens[1] != tokens[2]

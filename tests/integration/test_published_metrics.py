"""What a run publishes as custom metrics, each billed for every hour it is published in, and what it keeps
to its log summary line: read from the real handler's output."""

from __future__ import annotations

import io
import json

from aws_lambda_powertools.metrics.provider import cold_start

from ami_store_notifier import handler
from ami_store_notifier.report import ALL_METRICS, NAMESPACE, RunReport
from local.ec2_store_tasks import CLOCK
from tests.emf import SERVICE_ONLY, metric_documents, published
from tests.world import REGION

HEARTBEAT = ("SuccessfulPolls", SERVICE_ONLY)
# The figures kept to the log line alone, and those published as metrics too.
LOG_ONLY = {
    "tasksSeen",
    "listingRestarts",
    "redelivered",
    "tasksInProgress",
    "vanished",
    "superseded",
    "unparseableTasks",
    "malformedTasks",
    "failureReasonsShortened",
    "unknownStates",
    "durationMs",
    "apiCalls",
    "runsCutShort",
}
ALSO_METRICS = {"publishFailures", "runsThrottled"}


def test_an_idle_healthy_run_publishes_the_heartbeat_and_nothing_else(run_handler, capsys, monkeypatch):
    run_handler()
    CLOCK.advance(60)
    monkeypatch.setattr(cold_start, "is_cold_start", True)  # a cold start publishes no metric of its own
    capsys.readouterr()

    run_handler()

    output = capsys.readouterr().out
    assert published(output) == {HEARTBEAT: [1.0]}
    (document,) = metric_documents(output)
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE


def test_a_run_that_announces_publishes_the_heartbeat_alone_its_announcements_being_in_its_log_line(
    two_stores, run_handler, capsys
):
    CLOCK.advance(11 * 60)
    capsys.readouterr()

    run_handler()

    assert published(capsys.readouterr().out) == {HEARTBEAT: [1.0]}


def test_a_run_with_a_refused_delivery_publishes_its_publish_failures_too(
    two_stores, run_handler, faults, capsys
):
    faults.inject("events", "PutEvents", "partial", entry=1)
    CLOCK.advance(11 * 60)
    capsys.readouterr()

    run_handler()

    output = published(capsys.readouterr().out)
    assert output == {HEARTBEAT: [1.0], ("PublishFailures", SERVICE_ONLY): [1.0]}
    assert set(output) <= {(metric.name, metric.dimensions) for metric in ALL_METRICS}, "the docs' table"


def test_the_summary_log_line_holds_every_figure_of_the_run_those_published_as_metrics_included(
    two_stores, run_handler, monkeypatch
):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    written = io.StringIO()
    # The logger took hold of stdout when its module was imported, before any test's capture began.
    previous = handler.logger.registered_handler.setStream(written)
    CLOCK.advance(11 * 60)
    try:
        result = run_handler()
    finally:
        handler.logger.registered_handler.setStream(previous)

    logged = [json.loads(line) for line in written.getvalue().splitlines()]
    (summary,) = [line["report"] for line in logged if line["message"] == "Poll finished"]
    assert summary == result["regions"][0]
    assert set(summary) == set(RunReport(region=REGION).summary())
    assert set(summary) >= LOG_ONLY | ALSO_METRICS
    assert (summary["tasksSeen"], summary["announced"]) == (2, {"Completed": 1, "Failed": 1})
    assert summary["durationMs"] > 0
    assert summary["apiCalls"]["EC2"] >= 1
    assert (summary["apiCalls"]["SNS"], summary["apiCalls"]["EventBridge"]) == (1, 1)

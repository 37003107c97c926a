"""The bill's fixtures: small CloudFormation templates and measured runs made up for the test at hand, so
that the model's arithmetic is checked in milliseconds; and the real templates, synthesized once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from bench.bill.profile import KINDS, Profile, RunFigures
from infra.asset import HANDLER

HEARTBEAT = "AmiStoreNotifier/SuccessfulPolls[service=AmiStoreNotifier]"
ANNOUNCED = "AmiStoreNotifier/AnnouncedCompleted[service=AmiStoreNotifier]"

Template = dict[str, Any]


def _alarm(metric: str, period: int = 300) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": metric, "Period": period}}


@pytest.fixture
def notifier_template() -> Callable[..., Template]:
    """A notifier's template with what the bill counts: `keys` KMS keys (the topic encrypted by the first
    one), `alarms` standard alarms, `dashboards`, a `rate(...)` schedule, and the poller."""

    def make(
        *, keys: int = 1, alarms: int = 4, dashboards: int = 1, tracing: bool = False, email: bool = False
    ) -> Template:
        topic: dict[str, Any] = {"DisplayName": "AMI store task notifications"}
        if keys:
            topic["KmsMasterKeyId"] = {"Fn::GetAtt": ["Key0", "Arn"]}
        resources: Template = {
            **{f"Key{i}": {"Type": "AWS::KMS::Key", "Properties": {}} for i in range(keys)},
            **{f"Alarm{i}": _alarm(f"Metric{i}") for i in range(alarms)},
            **{
                f"Dashboard{i}": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}}
                for i in range(dashboards)
            },
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": topic},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 90}},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
            },
            "Poller": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": HANDLER,
                    "MemorySize": 256,
                    "Architectures": ["arm64"],
                    "LoggingConfig": {"LogGroup": {"Ref": "Logs"}},
                    "TracingConfig": {"Mode": "Active" if tracing else "PassThrough"},
                    "Environment": {
                        "Variables": {
                            "TOPIC_ARN": {"Ref": "Topic"},
                            "STATE_TTL_DAYS": "45",
                            "PAGE_SIZE": "200",
                        }
                    },
                },
            },
            "Schedule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 minute)",
                    "Targets": [{"Arn": {"Fn::GetAtt": ["Poller", "Arn"]}, "Id": "Target0"}],
                },
            },
        }
        if email:
            resources["Email"] = {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "Protocol": "email",
                    "TopicArn": {"Ref": "Topic"},
                    "Endpoint": "a@example.com",
                },
            }
        return {"Resources": resources}

    return make


def _figures(runs: int, metrics: dict[str, int], *, writes: float = 0.0, published: int = 0) -> RunFigures:
    return RunFigures(
        runs=runs,
        metrics=Counter(metrics),
        log_bytes=1_000 * runs,
        own_seconds=0.02 * runs,
        calls=2 * runs,
        read_units=2.0 * runs,
        write_units=writes * runs,
        sns_requests=published * runs,
        sns_messages=Counter({"TOPIC_ARN": published * runs}),
        events=published * runs,
        event_bytes=800 * published * runs,
    )


@pytest.fixture
def profile() -> Profile:
    """Runs as the handler makes them: the heartbeat every run, the announcement counter when a store
    ends (10 WRU, one message and one event)."""
    kinds = {kind: _figures(10, {HEARTBEAT: 10}) for kind in KINDS}
    for kind in ("finish", "fail"):
        kinds[kind] = _figures(10, {HEARTBEAT: 10, ANNOUNCED: 10}, writes=10.0, published=1)
    return Profile(kinds=kinds, table_bytes=1_000.0, table_bytes_per_store=400.0)


@pytest.fixture(scope="session")
def synthesized() -> dict[str, Template]:
    """Every mode's real template (seconds: it starts jsii and synthesizes the app per mode)."""
    from bench.bill.templates import synthesize

    return synthesize()

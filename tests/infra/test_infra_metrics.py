"""Every deployment reads only its own metrics.

CloudWatch takes a metric to be its namespace, name and dimensions, whoever publishes it (CloudWatch
concepts: "Metrics are uniquely defined by a name, a namespace, and zero or more dimensions"). So two
notifiers in one account and Region (two stacks, or two constructs in someone's stack) must differ in a
dimension of every metric an alarm or a dashboard widget reads: otherwise a dead poller's heartbeat is
kept green by the other one, and one's failures fire the other's alarms.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.notifier import AmiStoreNotifier
from infra.settings import load_settings
from tests.infra.policy import Deployment, ResolvedTemplate
from tests.infra.support import Synthesized

ACCOUNT, REGION = "111111111111", "eu-west-1"
Identity = tuple[str, str, tuple[tuple[str, str], ...]]


def deployed_names(template: dict[str, Any], stack_name: str) -> dict[str, Any]:
    """The template with a Ref to a resource it leaves unnamed replaced by the name CloudFormation
    generates for it (`<stack>-<logical id>-<suffix>`), which differs between stacks."""
    unnamed = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in {"AWS::Lambda::Function", "AWS::SQS::Queue"}
    }

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            if value.keys() == {"Ref"} and value["Ref"] in unnamed:
                return f"{stack_name}-{value['Ref']}-1A2B3C"
            if value.keys() == {"Fn::GetAtt"} and value["Fn::GetAtt"] == [
                value["Fn::GetAtt"][0],
                "QueueName",
            ]:
                return f"{stack_name}-{value['Fn::GetAtt'][0]}-1A2B3C"
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return value

    return dict(rename(template))


def metric_identities(template: dict[str, Any], stack_name: str) -> Iterator[tuple[str, Identity]]:
    """(where it is read, identity) of every metric an alarm or a dashboard widget reads."""
    deployed = deployed_names(template, stack_name)
    resolved = ResolvedTemplate(deployed, Deployment(ACCOUNT, REGION, stack_name))
    for logical_id, resource in deployed["Resources"].items():
        props = resolved.resolve(resource.get("Properties", {}))
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            dimensions = tuple(sorted((d["Name"], d["Value"]) for d in props.get("Dimensions", [])))
            yield logical_id, (props["Namespace"], props["MetricName"], dimensions)
        if resource["Type"] == "AWS::CloudWatch::Dashboard":
            for widget in json.loads(props["DashboardBody"])["widgets"]:
                for metric in widget.get("properties", {}).get("metrics", []):
                    namespace, name, *rest = [part for part in metric if not isinstance(part, dict)]
                    dimensions = tuple(sorted(zip(rest[::2], rest[1::2], strict=True)))
                    yield f"{logical_id}:{widget['properties'].get('title')}", (namespace, name, dimensions)


def identities(template: dict[str, Any], stack_name: str) -> set[Identity]:
    return {identity for _, identity in metric_identities(template, stack_name)}


def test_two_stacks_in_one_account_and_region_read_disjoint_metrics(
    synth: Synthesized, second_stack: Synthesized
) -> None:
    first = identities(synth.template_json, "AmiStoreNotifier")
    second = identities(second_stack.template_json, "AmiStoreNotifierStaging")
    assert first
    assert second
    assert first & second == set()


@pytest.fixture(scope="module")
def two_in_one_stack() -> dict[str, Any]:
    stack = Stack(App(), "Platform")
    AmiStoreNotifier(stack, "Archives", settings=load_settings({}.get))
    AmiStoreNotifier(stack, "Backups", settings=load_settings({}.get))
    return Template.from_stack(stack).to_json()


def test_two_notifiers_in_one_stack_read_disjoint_metrics(two_in_one_stack: dict[str, Any]) -> None:
    by_notifier: dict[str, set[Identity]] = {"Archives": set(), "Backups": set()}
    for where, identity in metric_identities(two_in_one_stack, "Platform"):
        (owner,) = [name for name in by_notifier if where.startswith(name)]
        by_notifier[owner].add(identity)
    assert by_notifier["Archives"]
    assert by_notifier["Archives"] & by_notifier["Backups"] == set()


def test_the_poller_publishes_under_the_dimension_its_alarms_and_dashboard_read(
    synth: Synthesized,
) -> None:
    (function,) = synth.resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    own = {
        identity
        for identity in identities(synth.template_json, "AmiStoreNotifier")
        if identity[0] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    }
    assert own
    for _, _, dimensions in own:
        assert ("service", variables["POWERTOOLS_SERVICE_NAME"]) in dimensions

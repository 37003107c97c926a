"""A notifier in the Organization-wide mode: its announcements forwarded to the hub bus, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from infra.announcements import ANNOUNCED_DETAIL_TYPES
from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    EVENTS,
    IMPLICIT_DENY,
    OTHER_ACCOUNT,
    REGION,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate_identity_policy,
    evaluate_trust_policy,
)
from tests.infra.support import HUB_BUS_ARN, Synthesized


@pytest.fixture(scope="module")
def resolved(spoke: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(spoke.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))


def forwarding_rule(resolved: ResolvedTemplate) -> dict[str, Any]:
    (rule,) = [
        resource["Properties"]
        for resource in (resolved.resource(logical_id) for logical_id in resolved.template["Resources"])
        if resource["Type"] == "AWS::Events::Rule"
        and resource["Properties"].get("Description", "").startswith("Forwards")
    ]
    return rule


def forwarder_role(resolved: ResolvedTemplate) -> tuple[str, str]:
    """The forwarding target's role: its ARN and logical id."""
    (target,) = forwarding_rule(resolved)["Targets"]
    (logical_id,) = [
        logical_id
        for logical_id, resource in resolved.template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        and resolved.resolve({"Fn::GetAtt": [logical_id, "Arn"]}) == target["RoleArn"]
    ]
    return target["RoleArn"], logical_id


def test_a_spoke_forwards_only_this_products_announcements_to_the_hub_bus(resolved: ResolvedTemplate) -> None:
    rule = forwarding_rule(resolved)
    (target,) = rule["Targets"]

    # State changes and the notices beside them (infra/announcements.py).
    assert rule["EventPattern"] == {
        "source": ["ami-store-notifier"],
        "detail-type": list(ANNOUNCED_DETAIL_TYPES),
    }
    assert rule["EventBusName"].startswith("AmiStoreNotifier")
    assert target["Arn"] == HUB_BUS_ARN
    assert "RoleArn" in target
    assert "Arn" in target["DeadLetterConfig"]


def test_the_forwarder_role_may_put_events_on_the_hub_bus_and_nothing_else(
    resolved: ResolvedTemplate,
) -> None:
    role_arn, logical_id = forwarder_role(resolved)
    (policy,) = resolved.role_policies(logical_id)
    session = role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/events"

    def decide(action: str, resource: str) -> str:
        return evaluate_identity_policy(policy, Request(action, resource, principal_arn=session))

    assert decide("events:PutEvents", HUB_BUS_ARN) == ALLOW
    other_bus = HUB_BUS_ARN.replace("AmiStoreNotifierHub-events", "default")
    assert decide("events:PutEvents", other_bus) == IMPLICIT_DENY
    assert decide(
        "events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/AmiStoreNotifier-events"
    ) == (IMPLICIT_DENY)
    assert decide("events:PutRule", HUB_BUS_ARN) == IMPLICIT_DENY


def test_only_eventbridge_acting_for_this_account_may_assume_the_forwarder_role(
    resolved: ResolvedTemplate,
) -> None:
    role_arn, logical_id = forwarder_role(resolved)
    trust = resolved.resource(logical_id)["Properties"]["AssumeRolePolicyDocument"]

    def assume(service: str, account: str) -> str:
        return evaluate_trust_policy(
            trust,
            Request("sts:AssumeRole", role_arn, service=service, context={"aws:SourceAccount": account}),
        )

    assert assume(EVENTS, ACCOUNT) == ALLOW
    assert assume(EVENTS, OTHER_ACCOUNT) == IMPLICIT_DENY
    assert assume("lambda.amazonaws.com", ACCOUNT) == IMPLICIT_DENY


def test_without_a_hub_nothing_is_forwarded(synth: Synthesized) -> None:
    rules = synth.resources("AWS::Events::Rule").values()
    assert not any("Forwards" in rule["Properties"].get("Description", "") for rule in rules)
    assert "HubForwardingDeadLetterQueueUrl" not in synth.template_json["Outputs"]

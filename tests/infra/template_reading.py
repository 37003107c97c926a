"""Reading the synthesized templates: the identity policies' statements, the poller's environment and the
dashboard's widgets."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.policy import Deployment, ResolvedTemplate
from tests.infra.support import Synthesized


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the template's identity policies, as synthesized."""
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def statement(template: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [each for each in statements(template) if each.get("Sid") == sid]
    return found


def poller_policy(synthesized: Synthesized, deployment: Deployment) -> dict[str, Any]:
    """The poller role's one identity policy, resolved for ``deployment``."""
    resolved = ResolvedTemplate(synthesized.template_json, deployment)
    (policy,) = resolved.role_policies(synthesized.logical_id(synthesized.stack.notifier.poller.role))
    return policy


def poller_environment(template: dict[str, Any]) -> dict[str, Any]:
    (variables,) = [
        resource["Properties"]["Environment"]["Variables"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and "Polls" in resource["Properties"]["Description"]
    ]
    return dict(variables)


def dashboard_widgets(synthesized: Synthesized) -> list[dict[str, Any]]:
    _, dashboard = synthesized.only("AWS::CloudWatch::Dashboard")
    body = synthesized.stack.resolve(dashboard["Properties"]["DashboardBody"])
    # The function's name and the Region are tokens inside the JSON text: stand-ins keep it JSON.
    text = (
        body
        if isinstance(body, str)
        else "".join(part if isinstance(part, str) else "token" for part in body["Fn::Join"][1])
    )
    widgets: list[dict[str, Any]] = json.loads(text)["widgets"]
    return widgets

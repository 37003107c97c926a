"""A small evaluator of the resource policies the stack writes, as AWS documents their evaluation.

moto evaluates no topic, queue or key policy (and its CloudFormation does not even create topic and queue
policies), so whether CloudWatch may publish an alarm or EventBridge may dead-letter a tick is decided
here, from the synthesized template:

- the template's intrinsics are resolved for one deployment (account, Region, stack name), each
  resource's Ref and Fn::GetAtt giving names and ARNs of the shapes AWS gives them;
- a request (principal, action, resource, condition keys of the request context) is then evaluated
  against one policy document: an explicit Deny wins, else an Allow grants, else the request is
  implicitly denied (IAM user guide, "Policy evaluation logic"; for a service principal only the
  resource policy can grant).

Only what the stack's policies use is supported, and anything else raises instead of passing: Effect
Allow/Deny; Principal "*", {"AWS": ...} and {"Service": ...}; Action with wildcards; Resource with
wildcards; the condition operators StringEquals, StringNotEquals, StringLike, ArnEquals, ArnLike and
Bool, each with several keys (all must match) of several values (any may match), and the ForAllValues
set operator on them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The deployment the policy tests resolve templates for, and an account that is not it.
ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
REGION = "eu-west-1"
EVENTS = "events.amazonaws.com"

ALLOW = "Allow"
DENY = "Deny"
IMPLICIT_DENY = "ImplicitDeny"


# --- the template, resolved for one deployment ---------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    account: str
    region: str
    stack_name: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"


# Ref and GetAtt Arn of each resource type the policies name, as AWS returns them (CloudFormation
# resource reference, "Return values"). Physical names are the logical id unless the template names one.
def _reference(deployment: Deployment, kind: str, name: str, attribute: str) -> str:
    arns = {
        "AWS::SNS::Topic": deployment.arn("sns", name),
        "AWS::SQS::Queue": deployment.arn("sqs", name),
        "AWS::KMS::Key": deployment.arn("kms", f"key/{name}"),
        "AWS::Events::Rule": deployment.arn("events", f"rule/{name}"),
        "AWS::Events::EventBus": deployment.arn("events", f"event-bus/{name}"),
        "AWS::CloudWatch::Alarm": deployment.arn("cloudwatch", f"alarm:{name}"),
        "AWS::Lambda::Function": deployment.arn("lambda", f"function:{name}"),
        "AWS::DynamoDB::Table": deployment.arn("dynamodb", f"table/{name}"),
        "AWS::Logs::LogGroup": deployment.arn("logs", f"log-group:{name}:*"),
        "AWS::IAM::Role": deployment.arn("iam", f"role/{name}", region=False),
        "AWS::S3::Bucket": f"arn:{deployment.partition}:s3:::{name}",
    }
    refs = {
        "AWS::SNS::Topic": arns["AWS::SNS::Topic"],
        "AWS::SQS::Queue": f"https://sqs.{deployment.region}.amazonaws.com/{deployment.account}/{name}",
    }
    if attribute == "Ref":
        return refs.get(kind, name)
    if attribute == "Arn" and kind in arns:
        return arns[kind]
    if attribute in {"Name", "QueueName", "RegistryName"}:
        return name
    raise NotImplementedError(f"{kind}.{attribute}")


@dataclass
class ResolvedTemplate:
    """A synthesized template with every intrinsic the stack uses resolved for one deployment."""

    template: Mapping[str, Any]
    deployment: Deployment
    parameters: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                return self._get_att(*argument)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in parts)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function.startswith("Fn::"):
                raise NotImplementedError(function)
        return {key: self.resolve(item) for key, item in value.items()}

    def resource(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resolve(self.template["Resources"][logical_id]))

    def attached_policy(self, kind: str, target_key: str, target_id: str) -> dict[str, Any]:
        """The one policy resource of `kind` (a topic or queue policy) whose `target_key` lists the
        resource `target_id`, resolved."""
        (policy,) = [
            resource["Properties"]["PolicyDocument"]
            for resource in self.template["Resources"].values()
            if resource["Type"] == kind and {"Ref": target_id} in resource["Properties"][target_key]
        ]
        return dict(self.resolve(policy))

    def role_policies(self, role_id: str) -> list[dict[str, Any]]:
        """The identity policies attached to the role `role_id`, resolved."""
        return [
            self.resolve(resource["Properties"]["PolicyDocument"])
            for resource in self.template["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        ]

    def physical_name(self, logical_id: str) -> str:
        resource = self.template["Resources"][logical_id]
        for name_property in NAME_PROPERTIES.get(resource["Type"], ()):
            named = resource.get("Properties", {}).get(name_property)
            if named is not None:
                return str(self.resolve(named))
        return logical_id

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::AccountId": self.deployment.account,
            "AWS::Region": self.deployment.region,
            "AWS::Partition": self.deployment.partition,
            "AWS::StackName": self.deployment.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameters.get(name, self.template["Parameters"][name].get("Default", name))
        kind = self.template["Resources"][name]["Type"]
        return _reference(self.deployment, kind, self.physical_name(name), "Ref")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        return _reference(self.deployment, kind, self.physical_name(logical_id), attribute)

    def _sub(self, text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda match: str(self._ref(match.group(1))), text)


# The property that names a resource, where the template may set one (CloudFormation resource reference).
NAME_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::Events::EventBus": ("Name",),
    "AWS::Events::Rule": ("Name",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::DynamoDB::Table": ("TableName",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::Events::Archive": ("ArchiveName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::EventSchemas::Registry": ("RegistryName",),
}


# --- requests and their evaluation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One API request as a resource policy sees it. ``context`` holds the request's condition keys."""

    action: str
    resource: str
    service: str | None = None  # a service principal, such as cloudwatch.amazonaws.com
    principal_arn: str | None = None  # an IAM principal (role session, user, account root)
    context: Mapping[str, str | bool | Sequence[str]] = field(default_factory=dict)

    @property
    def principal_account(self) -> str | None:
        if self.principal_arn is None:
            return None
        return self.principal_arn.split(":")[4]


def evaluate(policy: Mapping[str, Any], request: Request) -> str:
    """ALLOW, DENY (an explicit Deny matched) or IMPLICIT_DENY (no statement allowed the request)."""
    effects = {statement["Effect"] for statement in policy["Statement"] if _matches(statement, request)}
    if DENY in effects:
        return DENY
    if ALLOW in effects:
        return ALLOW
    return IMPLICIT_DENY


def evaluate_identity_policy(policy: Mapping[str, Any], request: Request) -> str:
    """The same, for a policy attached to the principal making the request (its statements name no
    Principal: they speak for the principal they are attached to)."""
    if any("Principal" in statement for statement in policy["Statement"]):
        raise NotImplementedError("an identity policy statement with a Principal")
    with_principal = {
        **policy,
        "Statement": [{**statement, "Principal": "*"} for statement in policy["Statement"]],
    }
    return evaluate(with_principal, request)


def evaluate_trust_policy(policy: Mapping[str, Any], request: Request) -> str:
    """The same, for a role's trust policy (its statements name no Resource: the role is the resource)."""
    if any("Resource" in statement for statement in policy["Statement"]):
        raise NotImplementedError("a trust policy statement with a Resource")
    with_resource = {
        **policy,
        "Statement": [{**statement, "Resource": request.resource} for statement in policy["Statement"]],
    }
    return evaluate(with_resource, request)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _matches(statement: Mapping[str, Any], request: Request) -> bool:
    unsupported = set(statement) - {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
    if unsupported:
        raise NotImplementedError(f"statement elements {sorted(unsupported)}")
    return (
        _principal_matches(statement.get("Principal"), request)
        and any(_wildcard(pattern, request.action, case=False) for pattern in _as_list(statement["Action"]))
        and any(_wildcard(pattern, request.resource) for pattern in _as_list(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), request.context)
    )


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal is None:
        raise NotImplementedError("a resource policy statement without Principal")
    # "*" and {"AWS": "*"} are the same: every principal, services included (IAM user guide, "AWS JSON
    # policy elements: Principal", all principals).
    if principal == "*" or "*" in _as_list(principal.get("AWS", [])):
        return True
    unsupported = set(principal) - {"AWS", "Service"}
    if unsupported:
        raise NotImplementedError(f"principal types {sorted(unsupported)}")
    services = _as_list(principal.get("Service", []))
    if request.service is not None and request.service in services:
        return True
    return request.principal_arn is not None and any(
        _aws_principal_matches(entry, request) for entry in _as_list(principal.get("AWS", []))
    )


def _aws_principal_matches(entry: str, request: Request) -> bool:
    # An account id or its root ARN stands for every principal of that account (IAM user guide,
    # "AWS JSON policy elements: Principal").
    if re.fullmatch(r"\d{12}", entry):
        return entry == request.principal_account
    if entry.endswith(":root"):
        return entry.split(":")[4] == request.principal_account
    return entry == request.principal_arn


def _wildcard(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _arn_like(pattern: str, arn: str) -> bool:
    """ArnLike compares each of the six colon-separated parts, with wildcards inside a part."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        _wildcard(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True)
    )


_POSITIVE = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": _wildcard,
    # Both compare each ARN part with wildcards (IAM user guide, "Amazon Resource Name (ARN) condition
    # operators").
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotLike": "ArnLike"}


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    return all(
        _condition_holds(operator, key, _as_list(expected), context)
        for operator, keys in conditions.items()
        for key, expected in keys.items()
    )


def _condition_holds(operator: str, key: str, expected: list[Any], context: Mapping[str, Any]) -> bool:
    if operator == "Bool":
        # A missing key does not match (IAM user guide, "Condition operators: Boolean").
        return key in context and str(context[key]).lower() in {str(value).lower() for value in expected}
    if operator.startswith("ForAllValues:"):
        # Every value of a multivalued key must match one of the policy's values; a missing key (or an
        # empty list) matches too (IAM user guide, "Multivalued context keys": ForAllValues).
        single = operator.removeprefix("ForAllValues:")
        return all(
            _condition_holds(single, key, expected, {key: actual})
            for actual in _as_list(context.get(key, []))
        )
    if operator in _NEGATED:
        # A negated operator matches when the key is missing (IAM user guide, "Condition operators").
        return key not in context or not _condition_holds(_NEGATED[operator], key, expected, context)
    if operator not in _POSITIVE:
        raise NotImplementedError(f"condition operator {operator}")
    if key not in context:
        return False
    compare = _POSITIVE[operator]
    return any(compare(str(value), str(actual)) for value in expected for actual in _as_list(context[key]))

"""moto's IAM enforcement, taught what AWS authorizes for the notifier's DynamoDB, SNS and EventBridge calls.

With `moto.core.enable_iam_authentication()` on, moto (5.2.5) checks every request it serves against the
policies of the caller (an IAM user's access key, or an `sts.assume_role` session): it verifies the SigV4
signature, then asks whether the caller's policies allow `<service>:<Action>` on one resource. That
resource is `*` unless the service's response class has a `_determine_resource` method, which DynamoDB,
SNS and EventBridge do not have in moto 5.2.5 (SQS, IAM and STS do; S3 has its own check). A policy that
names the table, topic or bus, as the deployed role's does, never matches `*`, so moto would refuse every
call the role is meant to make.

`teach_moto` replaces `_authenticate_and_authorize_normal_action` on those three response classes (and on
nothing else) with a check of each (action, resource) pair AWS authorizes for the request:

- DynamoDB: the action on the table named by `TableName` (a name or a table ARN). `BatchGetItem` and
  `BatchWriteItem` are authorized on every table in `RequestItems`. `TransactWriteItems` and
  `TransactGetItems` are not IAM actions at all: AWS authorizes each item as its own action on its own
  table (Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem,
  Get -> GetItem). moto would check `dynamodb:TransactWriteItems` on `*`.
- SNS: the action on `TopicArn` (or `TargetArn`). `PublishBatch` is authorized as `sns:Publish` (AWS has
  no `sns:PublishBatch` action); moto would check `sns:PublishBatch`.
- EventBridge: `PutEvents` on the bus of every entry (`EventBusName`, a name or an ARN, `default` when
  absent); any other action on the `EventBusName` parameter's bus, else `*`.

Each pair goes through moto's own check (signature, then policies), with only the action and the resource
substituted. What moto does not model stays unenforced: KMS permissions SNS would use on the caller's
behalf for an encrypted topic, conditions other than trust-policy ones, resource-based policies (topic and
queue policies, which moto's CloudFormation skips anyway), and permission boundaries.

Use `teach_moto(monkeypatch)` (undone with the monkeypatch) and moto's `enable_iam_authentication()`
context manager (restores moto's settings on exit) around the calls to be enforced; sign those calls with
the role's credentials, e.g. through `use_credentials`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler
from moto.iam.access_control import IAMRequest, IAMRequestBase
from moto.sns.responses import SNSResponse

# (action without the service prefix, resource ARN or "*")
Authorization = tuple[str, str]

TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _parameters(response: Any) -> Mapping[str, Any]:
    parsed = getattr(response, "params", None)
    return parsed if isinstance(parsed, Mapping) else {}


def _table_arn(response: Any, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:{response.partition}:dynamodb:{response.region}:{response.current_account}:table/{table}"


def dynamodb_authorizations(response: Any) -> list[Authorization]:
    action = response._get_action()
    parameters = _parameters(response)
    if action in ("TransactWriteItems", "TransactGetItems"):
        return [
            (TRANSACT_ITEM_ACTIONS[kind], _table_arn(response, operation["TableName"]))
            for item in parameters.get("TransactItems", [])
            for kind, operation in item.items()
        ]
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [(action, _table_arn(response, table)) for table in parameters.get("RequestItems", {})]
    table = parameters.get("TableName")
    return [(action, _table_arn(response, table) if table else "*")]


def sns_authorizations(response: Any) -> list[Authorization]:
    action = response._get_action()
    # AWS authorizes PublishBatch as sns:Publish; there is no sns:PublishBatch action to grant.
    if action == "PublishBatch":
        action = "Publish"
    resource = response._get_param("TopicArn") or response._get_param("TargetArn") or "*"
    return [(action, resource)]


def _bus_arn(response: Any, bus: str | None) -> str:
    if bus and bus.startswith("arn:"):
        return bus
    prefix = f"arn:{response.partition}:events:{response.region}:{response.current_account}"
    return f"{prefix}:event-bus/{bus or 'default'}"


def events_authorizations(response: Any) -> list[Authorization]:
    action = response._get_action()
    if action == "PutEvents":
        buses = {
            _bus_arn(response, entry.get("EventBusName")) for entry in response._get_param("Entries") or []
        }
        return [(action, bus) for bus in sorted(buses)]
    bus = response._get_param("EventBusName")
    return [(action, _bus_arn(response, bus) if bus else "*")]


def _request_for(action: str) -> Callable[..., IAMRequest]:
    """moto's IAMRequest for `action` instead of the request's own operation name."""

    def iam_request(**request: Any) -> IAMRequest:
        return IAMRequest(**{**request, "action": action})

    return iam_request


def _checking(authorizations: Callable[[Any], list[Authorization]]) -> Callable[..., None]:
    def authenticate_and_authorize(response: Any, resource: str = "*") -> None:
        # `resource` is moto's guess ("*"); the request itself says what it touches.
        for action, arn in authorizations(response):
            response._authenticate_and_authorize_action(_request_for(action), arn)

    return authenticate_and_authorize


def teach_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto authorize DynamoDB, SNS and EventBridge requests as AWS does (see the module docstring)."""
    for response_class, authorizations in (
        (DynamoHandler, dynamodb_authorizations),
        (SNSResponse, sns_authorizations),
        (EventsHandler, events_authorizations),
    ):
        monkeypatch.setattr(
            response_class, "_authenticate_and_authorize_normal_action", _checking(authorizations)
        )


def use_credentials(monkeypatch: pytest.MonkeyPatch, credentials: Mapping[str, Any]) -> None:
    """Point the default credential chain (environment variables) at an `sts.assume_role` result."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    # botocore reads AWS_SECURITY_TOKEN before AWS_SESSION_TOKEN: it must not win with a stale token.
    monkeypatch.setenv("AWS_SECURITY_TOKEN", credentials["SessionToken"])
    # The default session caches the credentials it resolved first.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@dataclass(frozen=True)
class Decision:
    """One authorization moto made: `action` (with its service prefix) on `resource`, for `principal`."""

    principal: str
    action: str
    resource: str
    allowed: bool


def record_decisions(monkeypatch: pytest.MonkeyPatch) -> list[Decision]:
    """Every authorization moto decides from now on (for any service), in order. Observes, changes nothing."""
    decisions: list[Decision] = []
    check = IAMRequestBase.check_action_permitted

    def check_action_permitted(request: IAMRequestBase, resource: str) -> None:
        principal, action = request._access_key.arn, request._action
        try:
            check(request, resource)
        except Exception:
            decisions.append(Decision(principal, action, resource, allowed=False))
            raise
        decisions.append(Decision(principal, action, resource, allowed=True))

    monkeypatch.setattr(IAMRequestBase, "check_action_permitted", check_action_permitted)
    return decisions


def refused_action(error: ClientError) -> str | None:
    """The action named by moto's AccessDenied answer; None for any other error.

    moto answers every refusal with IAM's XML `AccessDenied` error (HTTP 403), whatever the service's
    protocol. botocore reads it as code `AccessDenied` for the query-protocol services (SNS, EC2), but
    cannot parse it for the JSON ones (DynamoDB, EventBridge): the code is then "403" and the message the
    XML. (AWS itself answers `AccessDeniedException` for DynamoDB and EventBridge, `AuthorizationError`
    for SNS and `UnauthorizedOperation` for EC2.)
    """
    answer = error.response.get("Error", {})
    message = str(answer.get("Message", ""))
    denied = answer.get("Code") == "AccessDenied" or "<Code>AccessDenied</Code>" in message
    if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 403 or not denied:
        return None
    named = re.search(r"is not authorized to perform: ([\w:*-]+)", message)
    return named.group(1) if named else ""

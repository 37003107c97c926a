"""The error codes AWS sends, with their HTTP status, for the services the notifier calls: the sources a
list of codes in the code, or an answer of the local AWS, is checked against.

botocore puts the code a service sends in ClientError's `Error.Code`. For a JSON service (DynamoDB,
EventBridge, Organizations) that is the error shape's name in botocore's service model; for a query
service (SNS) it is the `code` of the shape's `error` trait (SNS's ThrottledException arrives as
`Throttled`). EC2's model has no error shapes: its codes are those of its API reference.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session

# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: the codes this project
# meets, by section of the page. Client errors come with a 4xx status, server errors with a 5xx one.
EC2_CLIENT_ERRORS = frozenset(
    {
        # Common client error codes.
        "AuthFailure",
        "InvalidPaginationToken",
        "InvalidParameterValue",
        "OptInRequired",
        "UnauthorizedOperation",
        # Client error codes for specific actions.
        "InvalidAMIID.Malformed",
        "InvalidAMIID.NotFound",
        "InvalidAMIID.Unavailable",
        "InvalidNextToken",
    }
)
EC2_SERVER_ERRORS = frozenset(
    {"InternalError", "InternalFailure", "RequestLimitExceeded", "ServiceUnavailable", "Unavailable"}
)
# The common errors of every AWS API reference, with their status, e.g. SNS's
# https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html and DynamoDB's
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html (the ones used here).
COMMON_ERRORS = {"InternalFailure": 500, "ServiceUnavailable": 503, "ThrottlingException": 400}
# Services whose errors botocore's models describe, by botocore's service name.
MODELED_SERVICES = ("dynamodb", "sns", "events", "organizations")


@cache
def service_model(service: str) -> Any:
    """botocore's model of the service, as its clients use it."""
    return botocore.session.get_session().get_service_model(service)


@cache
def _raw_model(service: str) -> dict[str, Any]:
    """The service-2.json itself: botocore's Shape objects drop the `fault` trait."""
    loader = botocore.session.get_session().get_component("data_loader")
    model: dict[str, Any] = loader.load_service_model(service, "service-2")
    return model


def modeled_errors(service: str) -> dict[str, int]:
    """Every error the service's model declares: its code on the wire and its HTTP status (the one the
    model gives, else 500 for a server fault and 400 for the others)."""
    errors = {}
    for name, shape in _raw_model(service)["shapes"].items():
        if shape.get("exception"):
            trait = shape.get("error", {})
            status = trait.get("httpStatusCode") or (500 if shape.get("fault") else 400)
            errors[trait.get("code") or name] = int(status)
    return errors


def wire_code(service: str, shape_name: str) -> str:
    return str(_raw_model(service)["shapes"][shape_name].get("error", {}).get("code") or shape_name)


def sent_codes() -> frozenset[str]:
    """Every code the notifier's services may send."""
    modeled = {code for service in MODELED_SERVICES for code in modeled_errors(service)}
    return frozenset(modeled | EC2_CLIENT_ERRORS | EC2_SERVER_ERRORS | set(COMMON_ERRORS))


def cancellation_reason_codes() -> frozenset[str]:
    """The codes of a cancelled DynamoDB transaction's CancellationReasons, as the documentation of
    TransactionCanceledException in the model lists them ("Code: <code>TransactionConflict</code>")."""
    documentation = service_model("dynamodb").shape_for("TransactionCanceledException").documentation
    return frozenset(re.findall(r"Code: <code>(\w+)</code>", documentation))

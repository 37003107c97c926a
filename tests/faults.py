"""Fault injection on real boto3 clients, at the SDK's own hooks.

A fault is aimed at the n-th call of one operation from now. Kinds:
- `throttle`, `server-error`, `timeout`: the call fails as if AWS stayed throttled, answered 500, or
  never answered, after the SDK's retries (the request never reaches moto);
- `conflict`: DynamoDB refuses an UpdateItem because an overlapping run's transaction holds the item
  (TransactionConflictException, which the SDK does not retry);
- `partial`: the call goes through but the chosen batch entry is refused by the service;
- `crash-before`, `crash-after`: the function dies just before the call is sent, or just after the
  service acted on it but before the code saw the answer.

Each error arrives with the code and HTTP status the service sends, so the code under test classifies it
as it would in AWS: the codes are those of botocore's service models (the `error` trait's `code` for SNS,
the shape name for the JSON services), of EC2's API reference and of S3's error responses (a HEAD
answer has no body, so S3's refusal of a HeadObject arrives with its HTTP status as its code).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from local.ec2_store_tasks.faults import DEFAULT_STATUS as EC2_STATUS

KINDS = ("throttle", "server-error", "timeout", "conflict", "partial", "crash-before", "crash-after")
BATCH_OPERATIONS = {("sns", "PublishBatch"), ("events", "PutEvents")}
# DynamoDB's answer to a single-item write on an item an ongoing transaction holds (developer guide,
# "Transaction conflict handling in DynamoDB"); the notifier's only single-item writes are UpdateItems.
CONFLICT_OPERATIONS = {("dynamodb", "UpdateItem")}
CONFLICT = ("TransactionConflictException", 400)

# How each service says it is throttling: code and HTTP status. `throttle` sends the first unless the
# fault names another. SNS: ThrottledException is sent as Throttled (429), KMSThrottlingException (the
# topic's key throttled by KMS) as KMSThrottling (400). S3: SlowDown (503) to a request with a body, the
# bare status to a HEAD (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
THROTTLES: dict[str, dict[str, int]] = {
    "ec2": {"RequestLimitExceeded": EC2_STATUS["RequestLimitExceeded"]},
    "dynamodb": {"ThrottlingException": 400, "ProvisionedThroughputExceededException": 400},
    "sns": {"Throttled": 429, "KMSThrottling": 400},
    "events": {"ThrottlingException": 400},
    "s3": {"SlowDown": 503, "503": 503},
}
# Each service's internal error (HTTP 500): EC2's, SNS's and S3's InternalError, DynamoDB's
# InternalServerError, EventBridge's InternalException.
SERVER_ERRORS = {
    "ec2": "InternalError",
    "dynamodb": "InternalServerError",
    "sns": "InternalError",
    "events": "InternalException",
    "s3": "InternalError",
}


class SimulatedCrash(BaseException):
    """The Lambda runtime killing the function: nothing in the code under test may catch it."""


@dataclass
class Fault:
    service: str
    operation: str
    kind: str
    call: int = 1
    entry: int = 0
    code: str | None = None

    def error(self) -> tuple[str, int]:
        """The code and HTTP status the service answers with."""
        if self.kind == "conflict":
            return CONFLICT
        if self.kind == "throttle":
            throttles = THROTTLES[self.service]
            code = self.code or next(iter(throttles))
            return code, throttles[code]
        return SERVER_ERRORS[self.service], 500


@dataclass
class _Refusal:
    call: int
    entry: dict[str, Any]
    position: int
    sent_alone: bool


@dataclass
class AwsFaults:
    faults: list[Fault] = field(default_factory=list)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    injected_into: Counter[str] = field(default_factory=Counter)
    """The faults that fired, by service."""
    _refusal: _Refusal | None = None

    def inject(
        self,
        service: str,
        operation: str,
        kind: str,
        *,
        call: int = 1,
        entry: int = 0,
        code: str | None = None,
    ) -> None:
        """`code` picks one of the service's THROTTLES for a `throttle`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if kind == "partial" and (service, operation) not in BATCH_OPERATIONS:
            raise ValueError(f"{service}:{operation} has no batch entries to refuse")
        if kind == "conflict" and (service, operation) not in CONFLICT_OPERATIONS:
            raise ValueError(f"{service}:{operation} is not refused for a transaction conflict")
        if code is not None and (kind != "throttle" or code not in THROTTLES[service]):
            raise ValueError(f"{service} does not throttle with {code!r}")
        seen = self.calls[(service, operation)]
        self.faults.append(Fault(service, operation, kind, seen + call, entry, code))

    def attach(self, client: Any) -> Any:
        client.meta.events.register_first("provide-client-params.*.*", self._choose_refused_entry)
        client.meta.events.register_first("before-call.*.*", self._before_call)
        client.meta.events.register("after-call.*.*", self._after_call)
        return client

    def pending(self) -> int:
        return len(self.faults)

    def clear(self) -> None:
        """Forgets every fault and count, staying attached to its clients."""
        self.faults.clear()
        self.calls.clear()
        self.injected.clear()
        self.injected_into.clear()
        self._refusal = None

    def _take(self, service: str, operation: str, number: int, kinds: tuple[str, ...]) -> Fault | None:
        for fault in self.faults:
            if (fault.service, fault.operation, fault.call) == (
                service,
                operation,
                number,
            ) and fault.kind in kinds:
                self.faults.remove(fault)
                self.injected[fault.kind] += 1
                self.injected_into[fault.service] += 1
                return fault
        return None

    def _choose_refused_entry(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        number = self.calls[(service, operation)] + 1
        fault = self._take(service, operation, number, ("partial",))
        entries = params.get("PublishBatchRequestEntries") or params.get("Entries") or []
        if fault is None or not entries:
            return
        position = min(fault.entry, len(entries) - 1)
        # The refused entry never reaches the service; the others go through as usual.
        self._refusal = _Refusal(number, entries[position], position, sent_alone=len(entries) == 1)
        if len(entries) > 1:
            entries.pop(position)

    def _before_call(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        service, operation = model.service_model.service_name, model.name
        self.calls[(service, operation)] += 1
        number = self.calls[(service, operation)]
        refusal = self._refusal
        if refusal is not None and refusal.call == number and refusal.sent_alone:
            self._refusal = None
            parsed: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200}}
            self._refuse(parsed, refusal)
            return AWSResponse(f"https://{service}.amazonaws.com/", 200, {}, None), parsed
        fault = self._take(
            service, operation, number, ("throttle", "server-error", "timeout", "conflict", "crash-before")
        )
        if fault is None:
            return None
        if fault.kind == "crash-before":
            raise SimulatedCrash(f"crash before {service}:{operation}")
        if fault.kind == "timeout":
            raise ReadTimeoutError(endpoint_url=f"https://{service}.amazonaws.com/")
        code, status = fault.error()
        error = {
            "Error": {"Code": code, "Message": f"injected {fault.kind}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse(f"https://{service}.amazonaws.com/", status, {}, None), error

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        number = self.calls[(service, operation)]
        refusal = self._refusal
        if refusal is not None and refusal.call == number:
            self._refusal = None
            self._refuse(parsed, refusal)
        if self._take(service, operation, number, ("crash-after",)) is not None:
            raise SimulatedCrash(f"crash after {service}:{operation}")

    @staticmethod
    def _refuse(parsed: dict[str, Any], refusal: _Refusal) -> None:
        if "Id" in refusal.entry:
            parsed.setdefault("Successful", [])
            parsed.setdefault("Failed", []).append(
                {
                    "Id": refusal.entry["Id"],
                    "Code": "InternalError",
                    "SenderFault": False,
                    "Message": "injected",
                }
            )
        else:
            entries = parsed.setdefault("Entries", [])
            entries.insert(refusal.position, {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
            parsed["FailedEntryCount"] = parsed.get("FailedEntryCount", 0) + 1

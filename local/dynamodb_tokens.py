"""DynamoDB's idempotency rules for TransactWriteItems' `ClientRequestToken`, which moto 5.2.5 ignores.

    from local.dynamodb_tokens import install

    install()                                    # once; before or after mock_aws() starts

What AWS documents (DynamoDB API reference, TransactWriteItems, ClientRequestToken:
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html, the same text
in AWS's SDK references, e.g. https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/dynamodb/
aws.sdk.kotlin.services.dynamodb.model/-transact-write-items-request/client-request-token.html, and in
botocore's service model):
- "multiple identical calls using the same client request token produce the same result on the server
  (no side effects)";
- "A client request token is valid for 10 minutes after the first request that uses it is completed.
  After 10 minutes, any request with the same client token is treated as a new request.";
- "If you submit a request with the same client token but a change in other parameters within the
  10-minute idempotency window, DynamoDB returns an IdempotentParameterMismatch exception."

The model, per account and Region:
- a request's parameters are its canonical JSON (keys sorted) without the token;
- a transaction that was evaluated (applied, or cancelled with reasons) has completed and holds its token
  for its parameters for `IDEMPOTENCY_WINDOW`, from its completion, on the emulator's clock
  (`local.ec2_store_tasks.CLOCK`, which the tests advance and the handler reads as its own time);
- within the window, other parameters are refused (HTTP 400, `IdempotentParameterMismatchException`);
  the same parameters after a success answer success and write nothing again; the same parameters after
  a cancellation are evaluated again (AWS documents no answer for that case, and evaluating is what a
  retry of a request that changed nothing needs);
- a request that fails before the transaction is evaluated (a validation error, a missing table) holds
  no token;
- requests of one account and Region are evaluated one at a time, so two requests with one token never
  run at once (DynamoDB would answer the second TransactionInProgressException).

The hook wraps moto's `DynamoHandler.transact_write_items`, which moto looks up on every request, so it
serves in-process `mock_aws()` and moto's server mode alike. The tokens live in a moto `BackendDict`, so
moto's reset (the start and exit of `mock_aws()`, POST /moto-api/reset) forgets them with the tables.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException, TransactionCanceledException
from moto.dynamodb.responses import DynamoHandler

from local.ec2_store_tasks import CLOCK
from local.moto_backends import forget_all

IDEMPOTENCY_WINDOW: Final = timedelta(minutes=10)
TOKEN_PARAMETER: Final = "ClientRequestToken"


class IdempotentParameterMismatchException(DynamodbException):
    """DynamoDB's answer, as botocore's service model names the error shape."""

    error_type = ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException"

    def __init__(self) -> None:
        # The shape's documentation in botocore's DynamoDB model; AWS publishes no message text.
        super().__init__(
            self.error_type,
            message="DynamoDB rejected the request because you retried a request with a different payload "
            "but with an idempotent token that was already used.",
        )


@dataclass(frozen=True)
class _Completed:
    parameters: str
    at: datetime
    succeeded: bool


class ClientTokenBackend(BaseBackend):
    """The client tokens of one account and Region. Reach it with `client_tokens(account_id, region)`."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self._completed: dict[str, _Completed] = {}
        self._lock = threading.Lock()
        self.refused: list[str] = []
        """The tokens refused with IdempotentParameterMismatchException, in order."""

    def transact(self, token: str, parameters: str, evaluate: Callable[[], Any]) -> Any:
        """`evaluate()`'s answer under the token rules: the request's own, or a replayed success."""
        with self._lock:
            held = self._completed.get(token)
            if held is None or CLOCK.now() - held.at >= IDEMPOTENCY_WINDOW:
                return self._evaluate(token, parameters, evaluate, first_completed=None)
            if held.parameters != parameters:
                self.refused.append(token)
                raise IdempotentParameterMismatchException()
            if held.succeeded:
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            # The window still runs from the first completion: a retry does not extend it.
            return self._evaluate(token, parameters, evaluate, first_completed=held.at)

    def _evaluate(
        self, token: str, parameters: str, evaluate: Callable[[], Any], *, first_completed: datetime | None
    ) -> Any:
        try:
            answer = evaluate()
        except TransactionCanceledException:
            self._completed[token] = _Completed(parameters, first_completed or CLOCK.now(), succeeded=False)
            raise
        self._completed[token] = _Completed(parameters, first_completed or CLOCK.now(), succeeded=True)
        return answer


_BACKENDS: BackendDict[ClientTokenBackend] = BackendDict(ClientTokenBackend, "dynamodb")


def client_tokens(account_id: str, region: str) -> ClientTokenBackend:
    """The client tokens of an account and Region (created on first use)."""
    return _BACKENDS[account_id][region]


def reset() -> None:
    """Forget every token, for a harness that empties its world without resetting moto."""
    forget_all(_BACKENDS)


_MOTO_TRANSACT: Final = DynamoHandler.transact_write_items


def _transact_write_items(self: DynamoHandler) -> Any:
    request = json.loads(self.raw_body)
    token = request.pop(TOKEN_PARAMETER, None)
    if token is None:
        return _MOTO_TRANSACT(self)
    parameters = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return client_tokens(self.current_account, self.region).transact(
        str(token), parameters, lambda: _MOTO_TRANSACT(self)
    )


def install() -> None:
    """Put the token rules in front of moto's TransactWriteItems (idempotent; before or after
    `mock_aws()` starts)."""
    DynamoHandler.transact_write_items = _transact_write_items  # type: ignore[method-assign]

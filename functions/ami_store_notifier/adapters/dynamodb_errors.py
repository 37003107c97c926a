"""The DynamoDB errors the state table's writers act on, and the pause before trying a request again."""

from __future__ import annotations

import time

# The error codes acted on: DynamoDB is a JSON service, so the code is the shape's name in botocore's
# service model (dynamodb/2012-08-10/service-2.json).
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
WRITE_CONFLICT = "TransactionConflictException"
# The codes of a cancelled transaction's CancellationReasons, as the TransactionCanceledException
# documentation lists them (TransactWriteItems API reference, and the same shape in the service model).
CANCELLED_BY_CONDITION = "ConditionalCheckFailed"
CANCELLED_BY_CONFLICT = "TransactionConflict"
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


def back_off(attempt: int) -> None:
    """Exponential, from 50 ms: a retry loop of a few attempts stays well under a second."""
    time.sleep(0.05 * 2**attempt)

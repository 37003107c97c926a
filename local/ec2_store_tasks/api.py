"""The EC2 API the emulator answers: its three store-task actions by name, and its error answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

CREATE_STORE: Final = "CreateStoreImageTask"
DESCRIBE_STORE: Final = "DescribeStoreImageTasks"
CREATE_RESTORE: Final = "CreateRestoreImageTask"
OPERATIONS: Final = frozenset({CREATE_STORE, DESCRIBE_STORE, CREATE_RESTORE})

# How EC2 answers a NextToken it no longer accepts (EC2 API reference, "Error codes").
TOKEN_EXPIRED_CODE: Final = "InvalidPaginationToken"
STORE_QUOTA_CODE: Final = "ResourceLimitExceeded"
"""EC2 documents no code for the store quota; this is its common code for an exceeded resource limit
(EC2 API reference, "Error codes": "You have exceeded an Amazon EC2 resource limit")."""


class StoreTaskError(Exception):
    """An EC2 error answer: rendered as EC2's error XML with the given HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def dry_run_refusal() -> StoreTaskError:
    return StoreTaskError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def missing(parameter: str) -> StoreTaskError:
    return StoreTaskError("MissingParameter", f"The request must contain the parameter {parameter}")


def invalid(message: str) -> StoreTaskError:
    return StoreTaskError("InvalidParameterValue", message)


def not_found(ami_ids: Sequence[str]) -> StoreTaskError:
    """EC2's refusal of AMI ids it does not know, as its other actions word it."""
    if len(ami_ids) == 1:
        return StoreTaskError("InvalidAMIID.NotFound", f"The image id '[{ami_ids[0]}]' does not exist")
    return StoreTaskError("InvalidAMIID.NotFound", f"The image ids '[{', '.join(ami_ids)}]' do not exist")


def quota_exceeded(size_gb: float, quota_gb: float, in_progress_gb: float) -> StoreTaskError:
    return StoreTaskError(
        STORE_QUOTA_CODE,
        f"Storing {size_gb:g} GB would exceed the quota of {quota_gb:g} GB of snapshot "
        f"data in progress for store tasks ({in_progress_gb:g} GB in progress).",
    )

"""DescribeStoreImageTasks' request and answer: its limits, its filters, its NextToken, and the items it
answers with."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from ami_store_notifier.ec2_limits import MAX_IMAGE_IDS_PER_CALL, MAX_RESULTS_PER_PAGE

from .api import TOKEN_EXPIRED_CODE, StoreTaskError, invalid
from .lifecycle import FAILED, StoreTask
from .listing import Listed

if TYPE_CHECKING:
    from .backend import StoreTaskBackend

DEFAULT_PAGE_SIZE: Final = 1000
"""Page size of DescribeStoreImageTasks when MaxResults is not given (EC2 documents none)."""
MAX_RESULTS_MIN: Final = 1
MAX_RESULTS_MAX: Final = MAX_RESULTS_PER_PAGE
MAX_IMAGE_IDS: Final = MAX_IMAGE_IDS_PER_CALL
FILTER_NAMES: Final = ("task-state", "bucket")


class UnknownImageIds(Enum):
    """How DescribeStoreImageTasks answers `ImageIds` naming an AMI the emulator does not know (EC2
    documents no answer; its DescribeImages leaves a deregistered AMI out, then refuses its id)."""

    REFUSE_NAMING_THEM = "refuse-naming-them"
    """The whole request refused, `InvalidAMIID.NotFound` naming the unknown ids (EC2's other actions)."""
    REFUSE = "refuse"
    """The whole request refused, `InvalidAMIID.NotFound` naming no id."""
    OMIT = "omit"
    """The unknown ids left out of the answer."""


@dataclass(frozen=True, slots=True)
class StoreTaskResult:
    """One item of a DescribeStoreImageTasks answer, as seen at the time of the call."""

    ami_id: str
    task_start_time: datetime
    bucket: str
    s3_object_key: str
    progress_percentage: int
    store_task_state: str
    store_task_failure_reason: str | None

    @classmethod
    def of(cls, task: StoreTask, now: datetime) -> StoreTaskResult:
        return cls(
            ami_id=task.ami_id,
            task_start_time=task.start_time,
            bucket=task.bucket,
            s3_object_key=task.object_key,
            progress_percentage=task.progress_at(now),
            store_task_state=task.state,
            store_task_failure_reason=task.failure_reason if task.state == FAILED else None,
        )


@dataclass(frozen=True, slots=True)
class DescribePage:
    results: list[StoreTaskResult]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class DescribeCall:
    """What an `on_describe` hook is told about the DescribeStoreImageTasks call about to be answered."""

    number: int
    """1 for the first DescribeStoreImageTasks call on this backend, then 2, 3, ..."""
    image_ids: tuple[str, ...]
    next_token: str | None
    max_results: int | None


DescribeHook = Callable[["StoreTaskBackend", DescribeCall], None]


@dataclass(frozen=True, slots=True)
class DescribeRequest:
    """A request that passed the checks: the AMIs named, or the filters and where the page starts."""

    image_ids: list[str]
    states: set[str] | None = None
    buckets: set[str] | None = None
    offset: int = 0

    def kept(self, listed: Listed | None) -> Listed | None:
        """Which tasks the filtered listing keeps (None: every task)."""
        states, buckets = self.states, self.buckets
        if states is None and buckets is None and listed is None:
            return None
        return lambda task: (
            (states is None or task.state in states)
            and (buckets is None or task.bucket in buckets)
            and (listed is None or listed(task))
        )


def checked_request(
    image_ids: Sequence[str] | None,
    filters: Sequence[Mapping[str, Any]] | None,
    next_token: str | None,
    max_results: int | None,
    *,
    now: datetime,
    token_lifetime: timedelta | None,
) -> DescribeRequest:
    """The request's parameters checked as EC2 checks them (InvalidParameterValue and
    InvalidParameterCombination); the filters and NextToken count only without ImageIds."""
    ids = list(dict.fromkeys(image_ids or ()))
    if len(ids) > MAX_IMAGE_IDS:
        raise invalid(f"The maximum number of ImageIds is {MAX_IMAGE_IDS}; the request has {len(ids)}.")
    if ids and max_results is not None:
        raise StoreTaskError("InvalidParameterCombination", "ImageIds cannot be used with MaxResults")
    if max_results is not None and not MAX_RESULTS_MIN <= max_results <= MAX_RESULTS_MAX:
        raise invalid(
            f"Value ( {max_results} ) for parameter MaxResults is invalid. "
            f"Expecting a value between {MAX_RESULTS_MIN} and {MAX_RESULTS_MAX}."
        )
    if ids:
        return DescribeRequest(ids)
    states, buckets = parse_filters(filters or ())
    offset = decode_token(next_token, now, token_lifetime) if next_token else 0
    return DescribeRequest(ids, states, buckets, offset)


def parse_filters(filters: Sequence[Mapping[str, Any]]) -> tuple[set[str] | None, set[str] | None]:
    """`task-state` and `bucket` filters: values OR-ed within a filter, filters AND-ed."""
    values: dict[str, set[str]] = {}
    for item in filters:
        name = item.get("Name")
        if name not in FILTER_NAMES:
            raise invalid(f"The filter '{name}' is invalid. Valid filters: {', '.join(FILTER_NAMES)}.")
        given = item.get("Values") or []
        if isinstance(given, str):
            given = [given]
        if not given:
            raise invalid(f"The filter '{name}' must have at least one value.")
        chosen = {str(v) for v in given}
        values[name] = values[name] & chosen if name in values else chosen
    return values.get("task-state"), values.get("bucket")


def encode_token(offset: int, issued_at: datetime) -> str:
    """NextToken: an opaque offset into the filtered, newest-first listing, and when it was issued."""
    raw = json.dumps(
        {"v": 1, "offset": offset, "issued": issued_at.timestamp()}, separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, now: datetime, lifetime: timedelta | None) -> int:
    data = _token_data(token)
    offset = data.get("offset") if data.get("v") == 1 else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise invalid(f"The parameter NextToken is not valid: {token!r}")
    if _expired(data.get("issued"), now, lifetime):
        raise StoreTaskError(TOKEN_EXPIRED_CODE, "The specified pagination token is not valid or is expired.")
    return offset


def _token_data(token: str) -> dict[str, Any]:
    """What a NextToken holds; empty when it is no token the emulator issued."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _expired(issued: object, now: datetime, lifetime: timedelta | None) -> bool:
    """Whether a token issued at `issued` (a timestamp) has outlived `lifetime` (None: for ever)."""
    if lifetime is None or not isinstance(issued, int | float):
        return False
    return now.timestamp() - issued > lifetime.total_seconds()

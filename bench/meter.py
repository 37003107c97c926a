"""What a poll costs: API calls by service and operation, and DynamoDB capacity units.

Both are measured on the botocore clients a poller uses, so the handler and the naive reference are
counted the same way:

- `CallCounter` counts `before-call` events: one per API call as the caller sees it (SDK retries of
  one call are not counted again; under moto there are none).
- `CapacityMeter` asks DynamoDB for `ReturnConsumedCapacity=TOTAL` on every call and sums what comes
  back, but moto answers with placeholders (GetItem and UpdateItem always 0.5, BatchGetItem one unit
  per key, TransactWriteItems nothing at all). The units the benchmark reports are therefore computed
  from the sizes of the items each call touches, read from moto's table before and after the call,
  with DynamoDB's published rules (see `item_size` and `CapacityMeter`). moto's sum is kept beside
  them only to show the difference.
"""

from __future__ import annotations

import base64
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from ami_store_notifier.report import API_CALL_SERVICES

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
_CAPACITY_OPERATIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
        "Query",
        "Scan",
    }
)


class CallCounter:
    """Counts API calls by (service, operation) on the clients it is attached to."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.describe_kinds: Counter[str] = Counter()
        """DescribeStoreImageTasks calls by kind: "listing" pages, or "by-id" (ImageIds) re-checks."""

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call.*.*", self._count)
        client.meta.events.register("provide-client-params.ec2.DescribeStoreImageTasks", self._classify)
        return client

    def _count(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self.calls[(API_CALL_SERVICES.get(service, service), model.name)] += 1

    def _classify(self, params: Mapping[str, Any], **_: Any) -> None:
        self.describe_kinds["by-id" if params.get("ImageIds") else "listing"] += 1

    def reset(self) -> None:
        self.calls.clear()
        self.describe_kinds.clear()


# -- DynamoDB item sizes ---------------------------------------------------------------------------


def _kind_and_raw(value: Any) -> tuple[str, Any]:
    if isinstance(value, DynamoType):
        return value.type, value.value
    ((kind, raw),) = value.items()
    return kind, raw


def _number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1 (leading and trailing zeroes trimmed)."""
    mantissa = text.lower().split("e", 1)[0].lstrip("+-").replace(".", "")
    digits = mantissa.strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _binary_size(raw: Any) -> int:
    if isinstance(raw, bytes | bytearray):
        return len(raw)
    return len(base64.b64decode(raw))


_SCALAR_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda raw: len(str(raw).encode()),
    "N": lambda raw: _number_size(str(raw)),
    "B": _binary_size,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
}
_SET_MEMBERS = {"SS": "S", "NS": "N", "BS": "B"}


def value_size(value: Any) -> int:
    """Size of one attribute value by DynamoDB's rules ("Item sizes and formats")."""
    kind, raw = _kind_and_raw(value)
    if kind in _SCALAR_SIZES:
        return _SCALAR_SIZES[kind](raw)
    if kind in _SET_MEMBERS:
        return sum(_SCALAR_SIZES[_SET_MEMBERS[kind]](item) for item in raw)
    if kind == "L":
        # 3 bytes for the list, 1 byte per element.
        return 3 + sum(1 + value_size(item) for item in raw)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(item) for name, item in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(attributes: Mapping[str, Any]) -> int:
    """Bytes of an item: attribute names plus values, as DynamoDB counts them for capacity."""
    return sum(len(name.encode()) + value_size(value) for name, value in attributes.items())


def units(size: int, unit_bytes: int) -> int:
    """Capacity units for one item: rounded up to the next unit, at least one."""
    return max(1, math.ceil(size / unit_bytes))


# -- capacity ----------------------------------------------------------------------------------------


@dataclass
class _Touch:
    """One item a call reads or writes."""

    table: str
    key: dict[str, Any]
    write: bool
    factor: float
    size_before: int = 0


@dataclass
class CapacityMeter:
    """Read and write request units of the DynamoDB calls made through the attached clients.

    Rules applied (DynamoDB on-demand): a strongly consistent read costs 1 RRU per 4 KB of the item
    (rounded up, at least 1 even when the item does not exist), an eventually consistent one half of
    that, a transactional one twice; BatchGetItem counts each item on its own. A write costs 1 WRU
    per 1 KB of the larger of the item before and after the write, a transactional write twice.
    """

    account: str
    region: str
    read_units: float = 0.0
    write_units: float = 0.0
    moto_reported_units: float = 0.0
    overhead_seconds: float = 0.0
    by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Units by ("read" | "write", item kind): the key's text up to its first "#" (CURSOR, TASK, ...)."""
    largest_written: dict[str, int] = field(default_factory=dict)
    """The largest item size each kind reached in a write (the larger of before and after)."""

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._ask_for_capacity)
        events.register("before-call.dynamodb.*", self._before)
        events.register("after-call.dynamodb.*", self._after)
        return client

    def reset(self) -> None:
        self.read_units = self.write_units = self.moto_reported_units = self.overhead_seconds = 0.0
        self.by_kind.clear()
        self.largest_written.clear()

    def item_bytes(self, table: str, key: Mapping[str, Any]) -> int | None:
        """Current size of one item in moto's table, or None when it does not exist."""
        backend = dynamodb_backends[self.account][self.region]
        found = backend.get_table(table)
        hash_value = DynamoType(key[found.hash_key_attr])
        range_value = DynamoType(key[found.range_key_attr]) if found.range_key_attr else None
        item = found.get_item(hash_value, range_value)
        return None if item is None else item_size(item.attrs)

    # -- hooks ----------------------------------------------------------------------------------

    def _ask_for_capacity(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        started = time.perf_counter()
        if model.name in _CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        context["bench_touches"] = list(self._touches(model.name, params))
        self.overhead_seconds += time.perf_counter() - started

    def _before(self, context: dict[str, Any], **_: Any) -> None:
        started = time.perf_counter()
        for touch in context.get("bench_touches", ()):
            touch.size_before = self.item_bytes(touch.table, touch.key) or 0
        self.overhead_seconds += time.perf_counter() - started

    def _after(
        self, http_response: Any, parsed: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        started = time.perf_counter()
        if http_response.status_code < 300:
            for touch in context.get("bench_touches", ()):
                after = self.item_bytes(touch.table, touch.key) or 0
                size = max(touch.size_before, after) if touch.write else touch.size_before
                if touch.write:
                    spent = touch.factor * units(size, WRITE_UNIT_BYTES)
                    self.write_units += spent
                else:
                    spent = touch.factor * units(size, READ_UNIT_BYTES)
                    self.read_units += spent
                kind = _kind(touch.key)
                self.by_kind[("write" if touch.write else "read", kind)] += spent
                if touch.write:
                    self.largest_written[kind] = max(self.largest_written.get(kind, 0), size)
            self.moto_reported_units += _reported(parsed.get("ConsumedCapacity"))
        self.overhead_seconds += time.perf_counter() - started

    # -- which items a call touches ------------------------------------------------------------

    def _touches(self, operation: str, params: Mapping[str, Any]) -> Iterable[_Touch]:
        if operation in ("Query", "Scan"):
            raise NotImplementedError(f"the benchmark does not meter {operation}")
        touches = _TOUCHES.get(operation)
        if touches is not None:
            yield from getattr(self, touches)(params)

    def _get_touches(self, params: Mapping[str, Any]) -> Iterable[_Touch]:
        yield _Touch(params["TableName"], params["Key"], False, _read_factor(params))

    def _write_touches(self, params: Mapping[str, Any]) -> Iterable[_Touch]:
        key = params["Key"] if "Key" in params else self._key_of(params["TableName"], params["Item"])
        yield _Touch(params["TableName"], key, True, 1.0)

    def _batch_get_touches(self, params: Mapping[str, Any]) -> Iterable[_Touch]:
        for table, request in params["RequestItems"].items():
            for key in request["Keys"]:
                yield _Touch(table, key, False, _read_factor(request))

    def _batch_write_touches(self, params: Mapping[str, Any]) -> Iterable[_Touch]:
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    yield _Touch(table, self._key_of(table, request["PutRequest"]["Item"]), True, 1.0)
                else:
                    yield _Touch(table, request["DeleteRequest"]["Key"], True, 1.0)

    def _transact_write_touches(self, params: Mapping[str, Any]) -> Iterable[_Touch]:
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            key = body["Key"] if "Key" in body else self._key_of(body["TableName"], body["Item"])
            yield _Touch(body["TableName"], key, kind != "ConditionCheck", 2.0)

    def _transact_get_touches(self, params: Mapping[str, Any]) -> Iterable[_Touch]:
        for entry in params["TransactItems"]:
            yield _Touch(entry["Get"]["TableName"], entry["Get"]["Key"], False, 2.0)

    def _key_of(self, table: str, item: Mapping[str, Any]) -> dict[str, Any]:
        found = dynamodb_backends[self.account][self.region].get_table(table)
        names = [found.hash_key_attr] + ([found.range_key_attr] if found.range_key_attr else [])
        return {name: item[name] for name in names}


def _kind(key: Mapping[str, Any]) -> str:
    first = next(iter(next(iter(key.values())).values()))
    return str(first).split("#", 1)[0]


def _read_factor(request: Mapping[str, Any]) -> float:
    return 1.0 if request.get("ConsistentRead") else 0.5


def _reported(consumed: Any) -> float:
    if isinstance(consumed, Mapping):
        return float(consumed.get("CapacityUnits", 0.0))
    if isinstance(consumed, list):
        return sum(float(entry.get("CapacityUnits", 0.0)) for entry in consumed)
    return 0.0


_TOUCHES = {
    "GetItem": "_get_touches",
    "PutItem": "_write_touches",
    "UpdateItem": "_write_touches",
    "DeleteItem": "_write_touches",
    "BatchGetItem": "_batch_get_touches",
    "BatchWriteItem": "_batch_write_touches",
    "TransactWriteItems": "_transact_write_touches",
    "TransactGetItems": "_transact_get_touches",
}
"""CapacityMeter's method that finds the items each operation touches (operations not here touch none)."""

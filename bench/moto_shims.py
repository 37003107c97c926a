"""moto in the benchmark: the time it spends answering calls, and one artifact it removes.

`time_spent_in_moto()` times moto's answers (its botocore stub, where the in-process "server" side of
every call runs), so that the benchmark can report the pollers' own time beside the wall time.

The artifact:

moto's `TransactWriteItems` backs up the whole table with `copy.deepcopy` once per item of the
transaction, before applying it, so that it can roll back. A claim step of the notifier (50 claims and
the cursor: 51 items) over a table of 1,000 task items therefore costs moto 51,000 item copies and
hundreds of megabytes; the first version of this benchmark spent minutes there. DynamoDB has no such
cost. Inside `transactions_without_table_copies()` the backup is skipped. The backup is only needed
when a transaction fails; none should in the benchmark's scenarios (no overlapping runs, no faults),
so a failed transaction is recorded and the benchmark stops instead of leaving a half-applied one.
"""

from __future__ import annotations

import contextlib
import copy
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table


class TransactionFailedError(RuntimeError):
    """A transaction failed while the benchmark had moto's rollback backup switched off."""


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


@contextlib.contextmanager
def transactions_without_table_copies() -> Iterator[list[str]]:
    """Yields the list of failed transactions (it should stay empty)."""
    failures: list[str] = []
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = dynamodb_models.copy
        dynamodb_models.copy = _CopyWithoutTables()  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")
            raise TransactionFailedError(
                "a DynamoDB transaction failed while the benchmark skips moto's rollback backup; "
                "its scenarios should have none"
            ) from error
        finally:
            dynamodb_models.copy = saved

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield failures
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


class MotoClock:
    """What moto costs the process while it answers calls, so that it can be left out.

    `seconds`: time spent inside moto since the last reset. While tracemalloc traces, `client_peak`
    is the highest traced memory seen while the caller's own code ran, less what moto allocated and
    kept while answering (the items it stores, its parsed copies of requests, ...): the peak is read
    when moto is entered, reset when it returns, and moto's net allocations are subtracted."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.client_peak = 0
        self._kept_by_moto = 0
        self._entered_at = 0

    def reset(self) -> None:
        self.seconds = 0.0
        self.client_peak = 0
        self._kept_by_moto = 0

    def note_client_peak(self) -> None:
        if tracemalloc.is_tracing():
            self.client_peak = max(self.client_peak, tracemalloc.get_traced_memory()[1] - self._kept_by_moto)

    def enter_moto(self) -> None:
        self.note_client_peak()
        if tracemalloc.is_tracing():
            self._entered_at = tracemalloc.get_traced_memory()[0]

    def leave_moto(self) -> None:
        if tracemalloc.is_tracing():
            self._kept_by_moto += tracemalloc.get_traced_memory()[0] - self._entered_at
            tracemalloc.reset_peak()


@contextlib.contextmanager
def time_spent_in_moto() -> Iterator[MotoClock]:
    clock = MotoClock()
    original = BotocoreStubber.__call__

    def answer(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        clock.enter_moto()
        started = time.perf_counter()
        try:
            return original(self, event_name, request, **kwargs)
        finally:
            clock.seconds += time.perf_counter() - started
            clock.leave_moto()

    BotocoreStubber.__call__ = answer  # type: ignore[method-assign]
    try:
        yield clock
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]

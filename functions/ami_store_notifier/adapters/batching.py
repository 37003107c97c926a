"""Splitting entries into batches that respect both a count and a total size limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

MAX_BATCH_ENTRIES = 10
# SNS PublishBatch and EventBridge PutEvents both cap a whole request at 256 KiB.
MAX_BATCH_BYTES = 256 * 1024


def batches(
    items: Sequence[T],
    size_of: Callable[[T], int],
    *,
    max_count: int = MAX_BATCH_ENTRIES,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[list[T]]:
    batch: list[T] = []
    batch_bytes = 0
    for item in items:
        size = size_of(item)
        if batch and (len(batch) == max_count or batch_bytes + size > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += size
    if batch:
        yield batch

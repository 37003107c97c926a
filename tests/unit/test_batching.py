from __future__ import annotations

from ami_store_notifier.adapters.batching import batches


def test_batches_hold_at_most_ten_entries():
    assert [len(batch) for batch in batches(list(range(25)), lambda _: 1)] == [10, 10, 5]


def test_a_batch_closes_before_its_total_size_would_pass_the_limit():
    sizes = [100_000, 100_000, 100_000, 10]

    assert [len(batch) for batch in batches(sizes, lambda size: size)] == [2, 2]

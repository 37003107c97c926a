"""Publishing stops where the run would otherwise outlast its time: at a call that stays throttled after
the SDK's retries, and when the run has no time left for another call."""

from __future__ import annotations

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.publishers import publish_in_batches

ENTRIES = [(f"event-{number}", number) for number in range(25)]  # three batches: 10, 10 and 5


def refused(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PublishBatch"
    )


def test_a_call_that_stays_throttled_ends_the_channels_publishing_and_leaves_the_later_batches_unsent():
    sent = []

    def send(batch):
        sent.append(batch)
        raise refused("Throttled", 429)

    result = publish_in_batches("sns:PublishBatch", ENTRIES, lambda _: 1, send, lambda: True)

    assert len(sent) == 1
    assert result.throttled_or_unavailable
    assert set(result.failures) == {event_id for event_id, _ in ENTRIES[:10]}
    assert result.delivered == frozenset()


def test_a_call_refused_for_another_reason_fails_its_batch_and_the_next_batches_are_sent():
    sent = []

    def send(batch):
        sent.append(batch)
        if len(sent) == 1:
            raise refused("AuthorizationError", 403)
        return dict.fromkeys(event_id for event_id, _ in batch)

    result = publish_in_batches("sns:PublishBatch", ENTRIES, lambda _: 1, send, lambda: True)

    assert len(sent) == 3
    assert not result.throttled_or_unavailable
    assert len(result.failures) == 10
    assert len(result.delivered) == 15


def test_no_call_is_made_once_the_run_has_no_time_for_it_and_the_entries_left_are_neither_sent_nor_refused():
    calls_allowed = iter([True, True, False])

    def send(batch):
        return dict.fromkeys(event_id for event_id, _ in batch)

    result = publish_in_batches("sns:PublishBatch", ENTRIES, lambda _: 1, send, lambda: next(calls_allowed))

    assert result.delivered == {event_id for event_id, _ in ENTRIES[:20]}
    assert result.failures == {}
    assert not result.throttled_or_unavailable

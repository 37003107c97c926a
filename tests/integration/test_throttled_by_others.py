"""Another caller has emptied the account's DescribeStoreImageTasks bucket: the run stops cleanly, says so
in a metric, loses nothing, and the notifier catches up once tokens return."""

from __future__ import annotations

from local.deployment import RULE_QUEUE, TOPIC_QUEUE
from local.ec2_store_tasks import CLOCK
from tests.emf import SERVICE_ONLY, published

DESCRIBE = "DescribeStoreImageTasks"
HEARTBEAT = ("SuccessfulPolls", SERVICE_ONLY)


def test_a_run_throttled_by_another_caller_stops_cleanly_and_the_next_one_catches_up(
    two_stores, run_handler, deployment, store_tasks, capsys
):
    completing, failing = two_stores
    CLOCK.advance(11 * 60)
    now = CLOCK.now()
    store_tasks.throttle.bucket(DESCRIBE, now).drain(now, 50)
    capsys.readouterr()

    throttled = run_handler()

    assert throttled["failedRegions"] == []
    (report,) = throttled["regions"]
    assert report["stoppedBecause"] == "aws-unavailable"
    assert deployment.receive(TOPIC_QUEUE) == []
    # The heartbeat is published by every run, 0 by one that did not get through to AWS.
    assert published(capsys.readouterr().out) == {HEARTBEAT: [0.0], ("RunsThrottled", SERVICE_ONLY): [1.0]}

    CLOCK.advance(60)  # 30 tokens back
    recovered = run_handler()

    assert recovered["regions"][0]["stoppedBecause"] is None
    assert published(capsys.readouterr().out) == {HEARTBEAT: [1.0]}
    for queue in (TOPIC_QUEUE, RULE_QUEUE):
        assert sorted(item.detail["amiId"] for item in deployment.receive(queue)) == sorted(
            [completing, failing]
        )

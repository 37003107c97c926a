"""An hour in an account with 30,000 store tasks, with EC2's request bucket kept by the emulator and a
waiter beside the notifier (`aws ec2 wait store-image-task-complete` calls every 5 seconds): neither is
ever throttled, and the notifier's polls, the first run and the safety net included, stay cheap."""

from __future__ import annotations

from datetime import timedelta

from local.deployment import RULE_QUEUE, TOPIC_QUEUE
from local.ec2_store_tasks import CLOCK

DESCRIBE = "DescribeStoreImageTasks"
TASKS = 30_000
IN_PROGRESS = 20


def seed_a_large_account(backend, bucket):
    """30,000 tasks over the 31-day window, the newest 20 in progress."""
    now = CLOCK.now()
    step = timedelta(days=31) / (TASKS + 1)
    for index in range(TASKS):
        state = "InProgress" if index < IN_PROGRESS else "Completed"
        backend.add_task(
            f"ami-{index:017x}", bucket, now - (index + 1) * step, state, 50 if index < 20 else None
        )
    return [f"ami-{index:017x}" for index in range(IN_PROGRESS)]


def test_an_hour_beside_a_waiter_throttles_neither_and_costs_about_one_call_a_poll(
    store_tasks, bucket, ec2, run_handler
):
    in_progress = seed_a_large_account(store_tasks, bucket)
    store_tasks.throttle.latency_seconds = 0.1  # each call takes a network's time: the bucket refills
    calls_per_run = []

    def poll():
        before = store_tasks.calls[DESCRIBE]
        result = run_handler()
        calls_per_run.append(store_tasks.calls[DESCRIBE] - before)
        (report,) = result["regions"]
        assert report["stoppedBecause"] is None, report
        return report

    first = poll()
    modes = []
    for _ in range(60):
        for _ in range(12):
            CLOCK.advance(5)
            # The waiter's call: ec2 has no retries, so a throttle would fail the test here.
            ec2.describe_store_image_tasks(ImageIds=[in_progress[0]])
        modes.append(poll()["mode"])

    bucket_state = store_tasks.throttle.bucket(DESCRIBE, CLOCK.now())
    assert first["mode"] == "baseline"
    assert calls_per_run[0] == 2, "the first run: one head page and one page of the tasks in progress"
    assert modes.count("full-scan") == 1, "the hour includes the safety net"
    assert calls_per_run[1 + modes.index("full-scan")] == 2, "the head down to the last net, one sweep"
    assert max(calls_per_run) <= 10
    hour = calls_per_run[1:]
    assert sum(hour) / len(hour) <= 1.1, hour
    assert bucket_state.refused == 0
    assert bucket_state.lowest >= 40, "the notifier and the waiter never came near an empty bucket"


def test_a_backlog_longer_than_a_runs_budget_is_announced_once_over_runs_even_when_a_token_expires(
    store_tasks, bucket, run_handler, deployment, monkeypatch
):
    """55 stores ended while the notifier was away: 11 pages of 5, more than one run's 10 calls. The
    first run stops at its budget and saves its NextToken; EC2 has forgotten it by the second run, which
    starts over (the refused call counts); the third goes on from the second's token and finishes."""
    monkeypatch.setenv("PAGE_SIZE", "5")
    run_handler()
    now = CLOCK.now()
    backlog = [f"ami-{index:017x}" for index in range(55)]
    for index, ami in enumerate(backlog):
        store_tasks.add_task(ami, bucket, now - timedelta(seconds=index + 1), "Completed")
    store_tasks.token_lifetime = timedelta(seconds=90)

    calls, reports = [], []
    for wait in (60, 120, 60):
        CLOCK.advance(wait)
        before = store_tasks.calls[DESCRIBE]
        (report,) = run_handler()["regions"]
        calls.append(store_tasks.calls[DESCRIBE] - before)
        reports.append(report)

    assert calls == [10, 10, 2]
    assert [report["stoppedBecause"] for report in reports] == ["call-budget", "call-budget", None]
    assert [report["listingRestarts"] for report in reports] == [0, 1, 0]
    assert [report["readGoesOn"] for report in reports] == [False, True, True]
    for queue in (TOPIC_QUEUE, RULE_QUEUE):
        assert sorted(item.detail["amiId"] for item in deployment.receive(queue)) == backlog

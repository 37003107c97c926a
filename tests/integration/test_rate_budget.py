"""An hour in an account with 30,000 store tasks, with EC2's request bucket kept by the emulator and a
waiter beside the notifier (`aws ec2 wait store-image-task-complete` calls every 5 seconds): neither is
ever throttled, and the notifier's polls, the first run and the safety net included, stay cheap."""

from __future__ import annotations

from datetime import timedelta

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

"""How often the CLI checks store tasks: within EC2's request budget for DescribeStoreImageTasks.

Every caller in the account and Region shares one bucket of 50 requests, refilled at 0.5 a second (EC2
API reference, "Request throttling": the request token bucket of the store-task actions). The deployed
notifier spends at most 10 calls a minute and about one in steady state (domain/run_limits.py), an `aws ec2
wait store-image-task-complete` 12: the CLI keeps to at most 6 a minute, so all three together stay
under the 30 a minute the bucket refills.
"""

from __future__ import annotations

from datetime import timedelta

SECONDS_PER_CALL = 10.0
# A check is due after a tenth of the soonest expected finish: stores that take hours are checked every
# few minutes, one about to finish every few seconds more often than that.
SHARE_OF_REMAINING = 0.1
SHORTEST_INTERVAL = timedelta(seconds=SECONDS_PER_CALL)
LONGEST_INTERVAL = timedelta(minutes=5)
# Before any progress shows there is no pace to go by.
INTERVAL_WITHOUT_ESTIMATE = timedelta(seconds=30)
# After a refusal the bucket is empty: 20 s refill 10 tokens; each refusal in a row doubles the wait.
FIRST_BACKOFF = timedelta(seconds=20)


def next_check_in(
    soonest_remaining: timedelta | None, *, calls_per_check: int, throttled_in_a_row: int = 0
) -> timedelta:
    interval = (
        INTERVAL_WITHOUT_ESTIMATE if soonest_remaining is None else soonest_remaining * SHARE_OF_REMAINING
    )
    if throttled_in_a_row:
        interval = max(interval, FIRST_BACKOFF * 2 ** (throttled_in_a_row - 1))
    # The pace per call holds however many AMIs a check covers (20 per call), above the longest interval too.
    return max(min(interval, LONGEST_INTERVAL), SHORTEST_INTERVAL * max(calls_per_check, 1))

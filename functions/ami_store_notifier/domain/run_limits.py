"""What one run may spend: the claims it holds and the DescribeStoreImageTasks calls it makes."""

from __future__ import annotations

MAX_CLAIMS_PER_RUN = 1000
# DescribeStoreImageTasks calls one run may make in one region. The account's bucket for that call
# holds 50 tokens and refills 0.5 a second (EC2 API reference, "Request throttling", request token
# bucket sizes and refill rates); every caller shares it. One run a minute at 10 calls, beside
# `aws ec2 wait store-image-task-complete` at one call every 5 seconds (12 a minute), stays under
# the 30 a minute the bucket refills, so neither is ever throttled by the other. A read that needs
# more pages goes on in the next run from where this one stopped (ReadProgress).
MAX_DESCRIBE_CALLS_PER_RUN = 10
# What hint runs may add in a minute, all of them together: 10 scheduled + 12 waiting + 4 = 26 of the 30
# a minute refills, so a flood of hints cannot throttle the schedule or a waiter either.
HINT_CALLS_PER_MINUTE = 4

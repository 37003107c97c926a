"""The notifier's core settings: the stack's name, when and which Regions it polls, how it reads EC2's
listing, what it announces, and the hints that wake it between polls.
"""

from __future__ import annotations

from ami_store_notifier.domain.known_tasks import MAX_OVERLAP_MINUTES
from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.ec2_limits import MAX_RESULTS_PER_PAGE
from ami_store_notifier.setting_parsers import (
    Setting,
    WholeNumber,
    boolean,
    matching,
    regions,
    stack_name,
    task_states,
)

MAX_PAGE_SIZE = MAX_RESULTS_PER_PAGE
# The heartbeat alarm looks at three schedule periods, and CloudWatch evaluates at most one day of data.
MAX_SCHEDULE_MINUTES = 480


def _not_aws(value: str) -> str | None:
    return "must not start with 'aws.' (reserved for AWS)" if value.startswith("aws.") else None


POLLING_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="stackName",
        variable=None,
        parse=stack_name,
        default="AmiStoreNotifier",
        allowed="letter, then letters, digits, `-` (max 128)",
        meaning="CloudFormation stack name; also prefixes every fixed name: the bus and the schema registry "
        "(`<stackName>-events`), the alarms (`<stackName>-<Alarm>`), and, with the Region since their names "
        "are unique per account, the dashboard (`<stackName>-<region>`) and the chat channel configurations "
        "(`<stackName>-<region>-slack`/`-teams`); and it is the `service` dimension of the deployment's own "
        "metrics. At most 57 characters: a longer one makes the schema registry's name too long, and "
        "synthesis says so.",
    ),
    Setting(
        key="scheduleMinutes",
        variable=None,
        parse=WholeNumber(1, MAX_SCHEDULE_MINUTES),
        default=1,
        meaning="Minutes between polls (EventBridge rule `rate(...)`). The heartbeat alarm looks at 3 "
        "periods, and CloudWatch evaluates at most one day, hence 480.",
    ),
    Setting(
        key="regions",
        variable="REGIONS",
        parse=regions,
        default=(),
        shown_default="the stack's region",
        allowed="comma-separated string or JSON list of region names",
        meaning="Regions whose store tasks are polled, all in the stack's partition. The poller's "
        "`ec2:DescribeStoreImageTasks` grant is limited to them (`aws:RequestedRegion`); one "
        "`RegionFailures` alarm covers them all, and the log line it points to names the Region. Events "
        "carry their region.",
    ),
    Setting(
        key="eventSource",
        variable="EVENT_SOURCE",
        parse=matching(r"[A-Za-z0-9._\-/]{1,256}", "1-256 letters, digits or . _ - /", reserved=_not_aws),
        default="ami-store-notifier",
        allowed="1-256 of letters, digits, `. _ - /`; not starting with `aws.`",
        meaning="`source` of the EventBridge events.",
    ),
    Setting(
        key="announceStates",
        variable="ANNOUNCE_STATES",
        parse=task_states,
        default=(TaskState.COMPLETED, TaskState.FAILED),
        allowed="any of `InProgress`, `Completed`, `Failed` (case-insensitive), comma-separated or JSON list",
        meaning="Task states that are announced; add `InProgress` to announce starts.",
    ),
    Setting(
        key="announceExistingOnFirstRun",
        variable="ANNOUNCE_EXISTING_ON_FIRST_RUN",
        parse=boolean,
        default=False,
        allowed="`true`/`false` (also `yes`/`no`, `1`/`0`, `on`/`off`)",
        meaning="Whether the first poll announces tasks that had already finished before the notifier "
        "was deployed.",
    ),
    Setting(
        key="pageSize",
        variable="PAGE_SIZE",
        parse=WholeNumber(1, MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
        meaning="`MaxResults` of each `DescribeStoreImageTasks` page.",
    ),
    Setting(
        key="listingOverlapMinutes",
        variable="LISTING_OVERLAP_MINUTES",
        # The known-tasks item keeps the finished tasks of this window: see known_tasks.py for its bound.
        parse=WholeNumber(1, MAX_OVERLAP_MINUTES),
        default=15,
        meaning="How far back before the newest task already seen the incremental listing keeps reading.",
    ),
    Setting(
        key="fullScanIntervalMinutes",
        variable="FULL_SCAN_INTERVAL_MINUTES",
        parse=WholeNumber(1, 7 * 24 * 60),
        default=60,
        meaning="Minutes between safety nets: every task in progress listed, the head read down to the "
        "previous net.",
    ),
    Setting(
        key="hints",
        variable=None,
        parse=boolean,
        default=False,
        allowed="`true`/`false`",
        meaning="Rules on the default bus hand CloudTrail's `CreateStoreImageTask` and S3's `Object "
        "Created` for `ami-*.bin` to a queue, whose batches run the poller for the AMIs they name: an end is "
        "announced seconds after its object appears. A hint is only a reason to ask EC2. Starts need a trail "
        "logging management events, ends need the bucket's EventBridge delivery on; the queue's dead-letter "
        "alarm is $0.10 a month.",
    ),
    Setting(
        key="quietWhenIdle",
        variable="QUIET_WHEN_IDLE",
        parse=boolean,
        default=False,
        allowed="`true`/`false`; needs `hints`",
        meaning="While no store is in progress, scheduled runs ask EC2 nothing until the safety net "
        "(`fullScanIntervalMinutes`) is due, relying on the trail's start hints. A store the safety net "
        "finds without a hint is counted (`StartsWithoutHint`) and alarmed: the trail is not delivering.",
    ),
)

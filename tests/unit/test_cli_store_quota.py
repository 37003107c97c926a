"""The store quota as the CLI shows it: what the notifier's table counts, `status`'s line for it, and
when `store` warns before asking EC2."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from botocore.exceptions import ClientError
from rich.console import Console

from ami_store_notifier.cli.status import NotifierView, RegionStatus
from ami_store_notifier.cli.store_quota import (
    StoreQuota,
    over_quota_warning,
    quota_line,
    recorded_quota,
    store_warning,
)
from ami_store_notifier.cli.views import status_lines
from ami_store_notifier.domain.model import Cursor, StoreTask, TaskState
from ami_store_notifier.domain.store_watch import StoreWatch
from ami_store_notifier.ports import TransientAwsError
from tests.fakes import FakeImageSizes, ManualClock

AMI = "ami-0123456789abcdef0"


class RefusingSizes:
    def __init__(self, error: Exception) -> None:
        self._error = error

    def snapshot_gigabytes(self, ami_ids: Sequence[str]) -> dict[str, int | None]:
        raise self._error


class NotifierTable:
    def __init__(self, cursor: Cursor | None = None, *, error: Exception | None = None) -> None:
        self._cursor = cursor or Cursor()
        self._error = error

    def load_cursor(self) -> Cursor:
        if self._error is not None:
            raise self._error
        return self._cursor


def one_store_in_progress(gigabytes: int) -> Cursor:
    return Cursor(version=3, known={"running": TaskState.IN_PROGRESS}, watches={"running": sized(gigabytes)})


def sized(gigabytes: int | None) -> StoreWatch:
    return StoreWatch().sized_as(gigabytes)


def table_missing() -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "BatchGetItem")


def test_the_table_counts_the_stores_it_knows_in_progress_and_those_of_unknown_size() -> None:
    cursor = Cursor(
        known={
            "big": TaskState.IN_PROGRESS,
            "small": TaskState.IN_PROGRESS,
            "deregistered": TaskState.IN_PROGRESS,
            "not sized yet": TaskState.IN_PROGRESS,
            "unwatched": TaskState.IN_PROGRESS,
            "ended": TaskState.COMPLETED,
        },
        watches={
            "big": sized(700),
            "small": sized(300),
            "deregistered": sized(None),
            "not sized yet": StoreWatch(),
            "ended": sized(400),
        },
    )

    assert recorded_quota(cursor) == StoreQuota(gigabytes=1000, stores=5, unsized=3)


def test_the_quota_line_names_stores_of_unknown_size_only_when_there_are_some() -> None:
    assert quota_line(StoreQuota(15, 1, 0)) == "Store quota: 15 of 1,200 GB in progress (1 store)"
    assert quota_line(StoreQuota(1015, 3, 1)) == (
        "Store quota: 1,015 of 1,200 GB in progress (3 stores, 1 of unknown size)"
    )


def test_the_quota_line_stays_on_one_line_of_an_80_column_terminal_even_without_tasks(
    clock: ManualClock, make_task: Callable[..., StoreTask]
) -> None:
    task = make_task()
    quota = StoreQuota(1200, 1200, 1200)
    statuses = [
        RegionStatus("ap-southeast-1", (), (), incomplete=True, quota=quota),
        RegionStatus("us-east-1", (task,), (), False, {task.key: NotifierView(None, (), False)}, quota),
    ]

    for status in statuses:
        console = Console(file=io.StringIO(), width=80, record=True)
        for line in status_lines([status], clock.now):
            console.print(line, soft_wrap=True)
        lines = [line.rstrip() for line in console.export_text().splitlines()]

        assert quota_line(quota) in lines
        assert all(len(line) <= 80 for line in lines)


def test_an_ami_that_fits_beside_the_stores_in_progress_gets_no_warning() -> None:
    assert over_quota_warning(AMI, 200, 1000) is None


def test_an_ami_that_takes_the_stores_in_progress_over_the_quota_gets_both_figures() -> None:
    assert over_quota_warning(AMI, 201, 1000) == (
        f"Warning: {AMI} holds 201 GB of snapshot data; with 1,000 GB already in progress that is over the "
        "1,200 GB EC2 allows in progress per account and Region: EC2 refuses it until other stores finish."
    )


def test_without_the_table_only_an_ami_over_the_quota_on_its_own_gets_a_warning() -> None:
    assert over_quota_warning(AMI, 1200, None) is None
    assert over_quota_warning(AMI, 1201, None) == (
        f"Warning: {AMI} holds 1,201 GB of snapshot data, more on its own than the 1,200 GB EC2 allows in "
        "progress per account and Region: EC2 may refuse it."
    )


def test_store_adds_the_ami_to_what_the_table_counts_in_progress() -> None:
    warning = store_warning(AMI, FakeImageSizes({AMI: 300}), NotifierTable(one_store_in_progress(1000)))

    assert warning is not None
    assert "300 GB" in warning
    assert "1,000 GB already in progress" in warning


def test_with_a_table_that_cannot_be_read_only_the_amis_own_size_can_warn() -> None:
    assert store_warning(AMI, FakeImageSizes({AMI: 300}), NotifierTable(error=table_missing())) is None
    assert store_warning(
        AMI, FakeImageSizes({AMI: 1300}), NotifierTable(error=table_missing())
    ) == over_quota_warning(AMI, 1300, None)


def test_an_ami_of_unknown_size_gets_no_warning_however_full_the_table() -> None:
    assert store_warning(AMI, FakeImageSizes(), NotifierTable(one_store_in_progress(1200))) is None


def test_sizing_that_ec2_throttles_or_refuses_gets_no_warning_and_does_not_stop_the_store() -> None:
    refused = ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeImages")
    throttled = TransientAwsError("ec2:DescribeImages throttled", throttled=True)

    for error in (refused, throttled):
        assert store_warning(AMI, RefusingSizes(error), NotifierTable(one_store_in_progress(1200))) is None

from __future__ import annotations

from datetime import UTC, datetime

from ami_store_notifier.adapters.ec2_task_source import parse_page

START = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def entry(**fields):
    base = {
        "AmiId": "ami-0123456789abcdef0",
        "TaskStartTime": START,
        "Bucket": "archive",
        "S3objectKey": "ami-0123456789abcdef0.bin",
        "ProgressPercentage": 40,
        "StoreTaskState": "InProgress",
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not None}


def test_a_well_formed_entry_becomes_a_typed_task_with_an_aware_utc_start():
    page = parse_page([entry()], next_token="more")

    (task,) = page.tasks
    assert task.task_start_time == START
    assert task.task_start_time.tzinfo is not None
    assert page.anomalies == ()
    assert page.has_more


def test_entries_without_an_ami_id_a_start_or_a_state_are_skipped_and_the_rest_kept():
    page = parse_page(
        [entry(AmiId=None), entry(TaskStartTime=None), entry(StoreTaskState=None), entry(AmiId="ami-ok")],
        next_token=None,
    )

    assert [task.ami_id for task in page.tasks] == ["ami-ok"]
    assert [anomaly.skipped for anomaly in page.anomalies] == [True, True, True]
    assert {anomaly.reason for anomaly in page.anomalies} == {
        "no AmiId",
        "no TaskStartTime",
        "no StoreTaskState",
    }


def test_a_naive_start_is_read_as_utc_and_reported():
    page = parse_page([entry(TaskStartTime=datetime(2026, 11, 1, 10, 0))], next_token=None)

    assert page.tasks[0].task_start_time == START
    assert "no time zone" in page.anomalies[0].reason
    assert not page.anomalies[0].skipped


def test_progress_over_100_is_clamped_and_reported():
    page = parse_page([entry(ProgressPercentage=250)], next_token=None)

    assert page.tasks[0].progress_percentage == 100
    assert "outside 0..100" in page.anomalies[0].reason


def test_a_state_ec2_may_add_later_is_kept_as_reported():
    page = parse_page([entry(StoreTaskState="Cancelling")], next_token=None)

    assert page.tasks[0].state_name == "Cancelling"
    assert page.tasks[0].state is None


def test_a_missing_object_key_is_assumed_to_be_the_documented_ami_id_dot_bin():
    page = parse_page([entry(S3objectKey=None)], next_token=None)

    assert page.tasks[0].s3_object_key == "ami-0123456789abcdef0.bin"

"""DescribeStoreImageTasks: order, window, paging, filters, ImageIds and validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.ec2_store_tasks import DescribeCall, StoreTaskBackend, UnknownImageIds


def amis_of(results: list[dict[str, Any]]) -> list[str]:
    return [r["AmiId"] for r in results]


def seed(store_tasks: StoreTaskBackend, count: int, *, bucket: str = "bucket-a") -> list[str]:
    """`count` tasks one minute apart, oldest first; returns their AMI ids newest first."""
    now = store_tasks.clock.now()
    amis = [f"ami-{i:017x}" for i in range(count)]
    for i, ami in enumerate(amis):
        store_tasks.add_task(ami, bucket, now - timedelta(minutes=count - i))
    return amis[::-1]


def error_of(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_listing_is_newest_first_and_pages_with_next_token(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    expected = seed(store_tasks, 7)

    pages = []
    kwargs: dict[str, Any] = {"MaxResults": 3}
    while True:
        answer = ec2.describe_store_image_tasks(**kwargs)
        pages.append(amis_of(answer["StoreImageTaskResults"]))
        if "NextToken" not in answer:
            break
        kwargs["NextToken"] = answer["NextToken"]

    assert pages == [expected[0:3], expected[3:6], expected[6:7]]


def test_listing_is_newest_first_across_api_created_tasks(
    ec2: Any, bucket: str, new_ami: Any, store_tasks: StoreTaskBackend
) -> None:
    created = []
    for _ in range(3):
        created.append(new_ami())
        ec2.create_store_image_task(ImageId=created[-1], Bucket=bucket)
        store_tasks.clock.advance(10)

    assert amis_of(ec2.describe_store_image_tasks()["StoreImageTaskResults"]) == created[::-1]


def test_without_max_results_a_page_holds_the_default_page_size(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    seed(store_tasks, 5)
    store_tasks.default_page_size = 2

    answer = ec2.describe_store_image_tasks()

    assert len(answer["StoreImageTaskResults"]) == 2
    assert "NextToken" in answer


def test_the_31_day_window_hides_older_tasks(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    now = store_tasks.clock.now()
    store_tasks.add_task("ami-00000000000000001", "bucket-a", now - timedelta(days=30, hours=23))
    store_tasks.add_task("ami-00000000000000002", "bucket-a", now - timedelta(days=31, seconds=1))

    assert amis_of(ec2.describe_store_image_tasks()["StoreImageTaskResults"]) == ["ami-00000000000000001"]
    assert ec2.describe_store_image_tasks(ImageIds=["ami-00000000000000002"])["StoreImageTaskResults"] == []

    store_tasks.clock.advance(3601)
    assert ec2.describe_store_image_tasks()["StoreImageTaskResults"] == []


def test_filters_or_values_within_a_filter_and_and_filters_together(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    start = store_tasks.clock.now() - timedelta(hours=1)
    store_tasks.add_task("ami-0000000000000000a", "bucket-a", start, "InProgress")
    store_tasks.add_task("ami-0000000000000000b", "bucket-a", start, "Completed")
    store_tasks.add_task("ami-0000000000000000c", "bucket-b", start, "Failed", failure_reason="x")
    store_tasks.add_task("ami-0000000000000000d", "bucket-c", start, "Completed")

    def listed(filters: list[dict[str, Any]]) -> set[str]:
        return set(amis_of(ec2.describe_store_image_tasks(Filters=filters)["StoreImageTaskResults"]))

    assert listed([{"Name": "task-state", "Values": ["Completed", "Failed"]}]) == {
        "ami-0000000000000000b",
        "ami-0000000000000000c",
        "ami-0000000000000000d",
    }
    assert listed([{"Name": "bucket", "Values": ["bucket-a", "bucket-b"]}]) == {
        "ami-0000000000000000a",
        "ami-0000000000000000b",
        "ami-0000000000000000c",
    }
    assert listed(
        [{"Name": "task-state", "Values": ["Completed"]}, {"Name": "bucket", "Values": ["bucket-a"]}]
    ) == {"ami-0000000000000000b"}


def test_filtered_listing_pages_through_matching_tasks_only(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    start = store_tasks.clock.now() - timedelta(days=1)
    expected: list[str] = []
    for i in range(10):
        state = "Completed" if i % 3 == 0 else "InProgress"
        ami = f"ami-{i:017x}"
        store_tasks.add_task(ami, "bucket-a", start + timedelta(minutes=i), state)
        if state == "Completed":
            expected.insert(0, ami)

    paginator = ec2.get_paginator("describe_store_image_tasks")
    pages = paginator.paginate(
        Filters=[{"Name": "task-state", "Values": ["Completed"]}], PaginationConfig={"PageSize": 1}
    )

    assert [amis_of(p["StoreImageTaskResults"]) for p in pages] == [[a] for a in expected]


def test_an_unknown_filter_name_is_invalid(ec2: Any) -> None:
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(Filters=[{"Name": "ami-id", "Values": ["ami-1"]}])

    assert error_of(err) == ("InvalidParameterValue", 400)


def test_image_ids_return_the_newest_task_of_each_ami_and_ignore_filters(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    now = store_tasks.clock.now()
    store_tasks.add_task("ami-0000000000000000a", "bucket-a", now - timedelta(hours=3), "Completed")
    store_tasks.add_task("ami-0000000000000000a", "bucket-a", now - timedelta(hours=1), "InProgress", 40)
    store_tasks.add_task("ami-0000000000000000b", "bucket-b", now - timedelta(hours=2), "Completed")

    results = ec2.describe_store_image_tasks(
        ImageIds=["ami-0000000000000000b", "ami-0000000000000000a"],
        Filters=[{"Name": "bucket", "Values": ["no-such-bucket"]}],
    )["StoreImageTaskResults"]

    assert [(r["AmiId"], r["StoreTaskState"]) for r in results] == [
        ("ami-0000000000000000a", "InProgress"),
        ("ami-0000000000000000b", "Completed"),
    ]
    assert len(ec2.describe_store_image_tasks()["StoreImageTaskResults"]) == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            UnknownImageIds.REFUSE_NAMING_THEM,
            "The image ids '[ami-00000000000000404, ami-00000000000000405]' do not exist",
        ),
        (UnknownImageIds.REFUSE, "The image ids of the request do not all exist"),
    ],
)
def test_image_ids_naming_amis_ec2_does_not_know_are_refused_whole_naming_them_or_not(
    ec2: Any, store_tasks: StoreTaskBackend, answer: UnknownImageIds, message: str
) -> None:
    store_tasks.add_task("ami-0000000000000000a", "bucket-a")
    store_tasks.unknown_image_ids = answer

    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(
            ImageIds=["ami-00000000000000404", "ami-0000000000000000a", "ami-00000000000000405"]
        )

    assert error_of(err) == ("InvalidAMIID.NotFound", 400)
    assert err.value.response["Error"]["Message"] == message


def test_image_ids_naming_an_ami_ec2_does_not_know_can_leave_it_out_of_the_answer(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.add_task("ami-0000000000000000a", "bucket-a")
    store_tasks.unknown_image_ids = UnknownImageIds.OMIT

    results = ec2.describe_store_image_tasks(ImageIds=["ami-00000000000000404", "ami-0000000000000000a"])

    assert amis_of(results["StoreImageTaskResults"]) == ["ami-0000000000000000a"]


def test_a_deregistered_ami_leaves_the_listing_and_its_id_is_refused_while_a_registered_one_is_not(
    ec2: Any, store_tasks: StoreTaskBackend, bucket: str, new_ami: Callable[[], str]
) -> None:
    stored, registered = new_ami(), new_ami()
    store_tasks.plan(stored, duration_seconds=60)
    ec2.create_store_image_task(ImageId=stored, Bucket=bucket)

    store_tasks.deregister(stored)
    store_tasks.clock.advance(61)

    assert ec2.describe_store_image_tasks()["StoreImageTaskResults"] == []
    assert ec2.describe_store_image_tasks(ImageIds=[registered])["StoreImageTaskResults"] == []
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(ImageIds=[registered, stored])
    assert err.value.response["Error"]["Message"] == f"The image id '[{stored}]' does not exist"
    assert ec2.describe_images(Owners=["self"])["Images"][0]["ImageId"] == registered


def test_more_than_20_image_ids_are_invalid(ec2: Any) -> None:
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(ImageIds=[f"ami-{i:017x}" for i in range(21)])

    assert error_of(err) == ("InvalidParameterValue", 400)


def test_image_ids_together_with_max_results_is_an_invalid_parameter_combination(ec2: Any) -> None:
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(ImageIds=["ami-0000000000000000a"], MaxResults=5)

    assert error_of(err) == ("InvalidParameterCombination", 400)


@pytest.mark.parametrize("max_results", [0, 201])
def test_max_results_outside_1_to_200_is_invalid(
    mocked_aws: None, boto_session: boto3.session.Session, max_results: int
) -> None:
    client = boto_session.client("ec2", config=Config(parameter_validation=False))

    with pytest.raises(ClientError) as err:
        client.describe_store_image_tasks(MaxResults=max_results)

    assert error_of(err) == ("InvalidParameterValue", 400)


def test_max_results_of_1_and_200_are_accepted(ec2: Any, store_tasks: StoreTaskBackend) -> None:
    seed(store_tasks, 3)

    assert len(ec2.describe_store_image_tasks(MaxResults=1)["StoreImageTaskResults"]) == 1
    assert len(ec2.describe_store_image_tasks(MaxResults=200)["StoreImageTaskResults"]) == 3


def test_an_invalid_next_token_is_an_invalid_parameter_value(ec2: Any) -> None:
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(NextToken="not-a-token")

    assert error_of(err) == ("InvalidParameterValue", 400)


def test_a_next_token_older_than_the_token_lifetime_is_refused_as_ec2_refuses_an_expired_one(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    seed(store_tasks, 5)
    store_tasks.token_lifetime = timedelta(seconds=90)
    token = ec2.describe_store_image_tasks(MaxResults=2)["NextToken"]

    store_tasks.clock.advance(60)
    in_time = ec2.describe_store_image_tasks(MaxResults=2, NextToken=token)
    store_tasks.clock.advance(31)
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(MaxResults=2, NextToken=token)

    assert len(in_time["StoreImageTaskResults"]) == 2
    assert error_of(err) == ("InvalidPaginationToken", 400)


def test_without_a_token_lifetime_a_next_token_is_accepted_however_old(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    seed(store_tasks, 5)
    token = ec2.describe_store_image_tasks(MaxResults=2)["NextToken"]

    store_tasks.clock.advance(7 * 24 * 3600)

    assert len(ec2.describe_store_image_tasks(MaxResults=2, NextToken=token)["StoreImageTaskResults"]) == 2


def test_dry_run_answers_dry_run_operation_with_http_412(ec2: Any) -> None:
    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(DryRun=True)

    assert error_of(err) == ("DryRunOperation", 412)


def test_a_task_started_between_two_page_requests_pushes_an_older_task_onto_the_next_page(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    expected = seed(store_tasks, 4)

    def start_a_task_before_the_second_page(b: StoreTaskBackend, call: DescribeCall) -> None:
        if call.number == 2:
            b.add_task("ami-0000000000000fresh", "bucket-a")

    store_tasks.on_describe = start_a_task_before_the_second_page
    first = ec2.describe_store_image_tasks(MaxResults=2)
    second = ec2.describe_store_image_tasks(MaxResults=2, NextToken=first["NextToken"])

    assert amis_of(first["StoreImageTaskResults"]) == expected[0:2]
    # The offset-based token now points one item earlier: the second page repeats the last of the first.
    assert amis_of(second["StoreImageTaskResults"]) == expected[1:3]
    third = ec2.describe_store_image_tasks(MaxResults=2, NextToken=second["NextToken"])
    assert amis_of(third["StoreImageTaskResults"]) == expected[3:4]
    assert "NextToken" not in third


def test_the_wire_format_is_ec2_xml_with_millisecond_timestamps_and_a_lower_case_o(
    ec2: Any, store_tasks: StoreTaskBackend
) -> None:
    store_tasks.add_task("ami-0000000000000000a", "bucket-a", state="Failed", failure_reason="a < b & c")
    bodies: list[str] = []
    ec2.meta.events.register(
        "after-call.ec2.DescribeStoreImageTasks",
        lambda http_response, **_: bodies.append(http_response.text),
    )

    result = ec2.describe_store_image_tasks()["StoreImageTaskResults"][0]

    body = bodies[0]
    assert '<DescribeStoreImageTasksResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' in body
    assert "<s3objectKey>ami-0000000000000000a.bin</s3objectKey>" in body
    assert re.search(r"<taskStartTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</taskStartTime>", body)
    assert result["StoreTaskFailureReason"] == "a < b & c"
    assert result["S3objectKey"] == "ami-0000000000000000a.bin"

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.ports import (
    CallBudget,
    CallBudgetSpentError,
    ListingTokenRefusedError,
    TransientAwsError,
)


class ListingStub:
    """Answers DescribeStoreImageTasks like EC2, refusing requests that name a deregistered AMI."""

    def __init__(self, amis, deregistered=(), error_code=None, message="no"):
        self.amis = amis
        self.deregistered = set(deregistered)
        self.error_code = error_code
        self.message = message
        self.requests = []

    def describe_store_image_tasks(self, **request):
        self.requests.append(request)
        if self.error_code:
            raise ClientError(
                {"Error": {"Code": self.error_code, "Message": self.message}}, "DescribeStoreImageTasks"
            )
        wanted = request["ImageIds"]
        if self.deregistered & set(wanted):
            raise ClientError(
                {"Error": {"Code": "InvalidAMIID.NotFound", "Message": "gone"}}, "DescribeStoreImageTasks"
            )
        return {
            "StoreImageTaskResults": [
                {
                    "AmiId": ami,
                    "TaskStartTime": datetime(2026, 11, 1, tzinfo=UTC),
                    "Bucket": "b",
                    "S3objectKey": f"{ami}.bin",
                    "StoreTaskState": "InProgress",
                    "ProgressPercentage": 5,
                }
                for ami in wanted
                if ami in self.amis
            ]
        }


def test_a_deregistered_ami_does_not_stop_the_others_from_being_rechecked():
    amis = [f"ami-{index:017x}" for index in range(8)]
    stub = ListingStub(amis, deregistered={amis[5]})

    page = Ec2TaskSource(stub).by_ami(amis, CallBudget(100))

    assert sorted(task.ami_id for task in page.tasks) == sorted(set(amis) - {amis[5]})
    assert len(stub.requests) <= 1 + 2 * 3


def test_throttling_that_outlasted_the_retries_becomes_a_transient_error():
    stub = ListingStub([], error_code="RequestLimitExceeded")

    with pytest.raises(TransientAwsError):
        Ec2TaskSource(stub).by_ami(["ami-00000000000000001"], CallBudget(100))


def test_a_refusal_that_is_not_about_an_ami_is_raised():
    stub = ListingStub([], error_code="UnauthorizedOperation")

    with pytest.raises(ClientError):
        Ec2TaskSource(stub).by_ami(["ami-00000000000000001"], CallBudget(100))


def test_splitting_a_refused_recheck_never_goes_past_the_runs_call_budget():
    amis = [f"ami-{index:017x}" for index in range(20)]
    stub = ListingStub(amis, deregistered=set(amis[::3]))

    with pytest.raises(CallBudgetSpentError):
        Ec2TaskSource(stub).by_ami(amis, CallBudget(4))

    assert len(stub.requests) == 4


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("InvalidPaginationToken", "The specified pagination token is not valid or is expired."),
        ("InvalidParameterValue", "Invalid value 'saved' for nextToken"),
    ],
)
def test_a_refused_saved_token_is_told_apart_from_other_refusals(code, message):
    stub = ListingStub([], error_code=code, message=message)

    with pytest.raises(ListingTokenRefusedError):
        next(Ec2TaskSource(stub).pages(200, CallBudget(10), start_token="saved"))
    with pytest.raises(ClientError):
        next(Ec2TaskSource(stub).pages(200, CallBudget(10)))

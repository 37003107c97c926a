from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from ami_store_notifier.adapters.ec2_task_source import Ec2TaskSource
from ami_store_notifier.ports import (
    CallBudget,
    CallBudgetSpentError,
    ListingTokenRefusedError,
    TransientAwsError,
    UnknownAmisError,
)
from ami_store_notifier.rechecks import Recheck


class ListingStub:
    """Answers DescribeStoreImageTasks like EC2, refusing requests that name a deregistered AMI; the
    refusal names the refused AMIs as EC2's other actions do, or none."""

    def __init__(self, amis, deregistered=(), error_code=None, message="no", *, names_them=False):
        self.amis = amis
        self.deregistered = set(deregistered)
        self.error_code = error_code
        self.message = message
        self.names_them = names_them
        self.requests = []

    def describe_store_image_tasks(self, **request):
        self.requests.append(request)
        if self.error_code:
            raise ClientError(
                {"Error": {"Code": self.error_code, "Message": self.message}}, "DescribeStoreImageTasks"
            )
        wanted = request["ImageIds"]
        refused = [ami for ami in wanted if ami in self.deregistered]
        if refused:
            named = f" '[{', '.join(refused)}]'" if self.names_them else ""
            raise ClientError(
                {"Error": {"Code": "InvalidAMIID.NotFound", "Message": f"The image ids{named} do not exist"}},
                "DescribeStoreImageTasks",
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


def numbered_amis(count):
    return [f"ami-{index:017x}" for index in range(count)]


def rechecked(stub, amis, budget, *, seed="run"):
    """The AMIs a re-check by the real source returned until it finished or the budget ran out, and the
    re-check."""
    recheck = Recheck(amis, seed=seed)
    source = Ec2TaskSource(stub)
    returned = []
    with contextlib.suppress(CallBudgetSpentError):
        for page in recheck.pages(lambda request: source.by_ami(request, budget), lambda: True):
            returned += [task.ami_id for task in page.tasks]
    return returned, recheck


@pytest.mark.parametrize(
    ("code", "message", "named"),
    [
        ("InvalidAMIID.NotFound", "The image id '[ami-00000000000000005]' does not exist", [5]),
        (
            "InvalidAMIID.NotFound",
            "The image ids '[ami-00000000000000005, ami-00000000000000007]' do not exist",
            [5, 7],
        ),
        ("InvalidAMIID.Unavailable", "The image ID 'ami-00000000000000005' is no longer available", [5]),
        ("InvalidAMIID.Malformed", 'Invalid id: "ami-00000000000000005"', [5]),
        ("InvalidAMIID.NotFound", "The image ids do not exist", []),
    ],
)
def test_a_refusal_for_an_ami_ec2_does_not_know_carries_the_ids_its_message_names(code, message, named):
    stub = ListingStub([], error_code=code, message=message)

    with pytest.raises(UnknownAmisError) as refused:
        Ec2TaskSource(stub).by_ami(numbered_amis(8), CallBudget(10))

    assert refused.value.named == tuple(f"ami-{index:017x}" for index in named)
    assert len(stub.requests) == 1


def test_a_recheck_refused_naming_the_deregistered_ami_asks_once_more_for_the_others():
    amis = numbered_amis(20)
    stub = ListingStub(amis, deregistered={amis[5]}, names_them=True)

    returned, recheck = rechecked(stub, amis, CallBudget(10))

    assert sorted(returned) == sorted(set(amis) - {amis[5]})
    assert recheck.finished
    assert len(stub.requests) == 2
    assert amis[5] not in stub.requests[1]["ImageIds"]


def test_a_recheck_refused_naming_no_ami_is_split_until_the_refused_ami_stands_alone():
    amis = numbered_amis(8)
    stub = ListingStub(amis, deregistered={amis[5]})

    returned, recheck = rechecked(stub, amis, CallBudget(100))

    assert sorted(returned) == sorted(set(amis) - {amis[5]})
    assert recheck.finished, "the AMI refused alone counts as answered, with no task"
    assert [amis[5]] in [request["ImageIds"] for request in stub.requests]
    assert len(stub.requests) <= 1 + 2 * 3


def test_the_first_request_of_every_group_is_asked_before_any_half_of_a_refused_group():
    amis = numbered_amis(45)
    stub = ListingStub(amis, deregistered={amis[0]})

    rechecked(stub, amis, CallBudget(100))

    first = [request["ImageIds"] for request in stub.requests[:3]]
    assert [len(ids) for ids in first] == [20, 20, 5]
    assert sorted(ami for ids in first for ami in ids) == amis


def test_what_a_split_learnt_is_kept_when_the_runs_calls_run_out():
    amis = numbered_amis(20)
    stub = ListingStub(amis, deregistered={amis[0]})

    returned, recheck = rechecked(stub, amis, CallBudget(4))

    assert len(stub.requests) == 4
    assert not recheck.finished
    assert len(returned) >= 10, "the half without the refused AMI, and more"
    assert amis[0] not in returned


def test_a_recheck_asks_nothing_more_once_told_to_stop():
    amis = numbered_amis(45)
    stub = ListingStub(amis)
    recheck = Recheck(amis, seed="run")
    go_on = iter([True, False])

    pages = list(
        recheck.pages(lambda request: Ec2TaskSource(stub).by_ami(request, CallBudget(1)), go_on.__next__)
    )

    assert len(pages) == len(stub.requests) == 1
    assert not recheck.finished


def test_each_ami_beside_one_refused_without_its_id_is_answered_within_a_few_runs():
    """Six calls a run cannot split a group of 20 down to the refused AMI: each run orders the AMIs by its
    own time, so no AMI stays beside the refused one run after run."""
    amis = numbered_amis(20)
    stub = ListingStub(amis, deregistered={amis[7]})
    first_answered = {}
    for run in range(1, 6):
        seed = (datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(minutes=run)).isoformat()
        returned, _ = rechecked(stub, amis, CallBudget(6), seed=seed)
        for ami in returned:
            first_answered.setdefault(ami, run)

    assert sorted(first_answered) == sorted(set(amis) - {amis[7]})
    assert max(first_answered.values()) <= 4


def test_the_same_run_time_orders_the_amis_the_same_way_and_another_time_otherwise():
    amis = numbered_amis(40)
    stub = ListingStub(amis)

    for seed in ("2026-11-01T12:01:00+00:00", "2026-11-01T12:01:00+00:00", "2026-11-01T12:02:00+00:00"):
        rechecked(stub, amis, CallBudget(10), seed=seed)

    first, again, later = (request["ImageIds"] for request in stub.requests[::2])
    assert first == again
    assert first != later


def test_throttling_that_outlasted_the_retries_becomes_a_transient_error():
    stub = ListingStub([], error_code="RequestLimitExceeded")

    with pytest.raises(TransientAwsError):
        Ec2TaskSource(stub).by_ami(["ami-00000000000000001"], CallBudget(100))


def test_a_refusal_that_is_not_about_an_ami_is_raised():
    stub = ListingStub([], error_code="UnauthorizedOperation")

    with pytest.raises(ClientError):
        Ec2TaskSource(stub).by_ami(["ami-00000000000000001"], CallBudget(100))


def test_splitting_a_refused_recheck_never_goes_past_the_runs_call_budget():
    amis = numbered_amis(20)
    stub = ListingStub(amis, deregistered=set(amis[::3]))

    rechecked(stub, amis, CallBudget(4))

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

"""Reading hints from SQS batches: the events AWS documents, parsed defensively, and when to ask again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ami_store_notifier.domain.hints import (
    MAX_HINT_RECEIVES,
    Hint,
    HintAnswers,
    HintKind,
    facts_by_ami,
    read_hints,
    to_retry,
)
from ami_store_notifier.domain.model import StoreTask, TaskState, format_timestamp

AMI = "ami-0123456789abcdef0"
STARTED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def sqs_record(event: dict, *, message_id: str = "m-1", receives: int = 1) -> dict:
    return {
        "messageId": message_id,
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": str(receives)},
        "eventSource": "aws:sqs",
    }


def cloudtrail_event(request_parameters: object, **detail: object) -> dict:
    return {
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "region": "eu-west-1",
        "time": format_timestamp(STARTED_AT),
        "detail": {
            "eventName": "CreateStoreImageTask",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ops/ana"},
            "requestParameters": request_parameters,
            "responseElements": {"CreateStoreImageTaskResponse": {"objectKey": f"{AMI}.bin"}},
            **detail,
        },
    }


def object_created_event(key: str, *, size: int = 8_589_934_592) -> dict:
    return {
        "detail-type": "Object Created",
        "source": "aws.s3",
        "region": "eu-west-1",
        "time": format_timestamp(STARTED_AT + timedelta(hours=1)),
        "detail": {
            "bucket": {"name": "archive"},
            "object": {"key": key, "size": size, "etag": "d41d8cd98f00b204e9800998ecf8427e-17"},
            "reason": "CompleteMultipartUpload",
        },
    }


@pytest.mark.parametrize(
    "request_parameters",
    [
        {"CreateStoreImageTaskRequest": {"ImageId": AMI, "Bucket": "archive"}},
        {"imageId": AMI, "bucket": "archive"},
        {"CreateStoreImageTaskRequest": [{"ImageId": AMI}, {"Bucket": "archive"}]},
    ],
)
def test_a_cloudtrail_start_names_its_ami_bucket_and_caller_however_ec2_nests_the_parameters(
    request_parameters,
):
    hints, unreadable = read_hints([sqs_record(cloudtrail_event(request_parameters))])

    assert unreadable == []
    [hint] = hints
    assert (hint.kind, hint.ami_id, hint.bucket, hint.region) == (
        HintKind.STARTED,
        AMI,
        "archive",
        "eu-west-1",
    )
    assert hint.object_key == f"{AMI}.bin"
    assert hint.started_by == "arn:aws:sts::111122223333:assumed-role/ops/ana"


def test_a_refused_store_call_or_one_without_an_ami_id_is_no_hint():
    refused = cloudtrail_event({"ImageId": AMI}, errorCode="InvalidAMIID.NotFound")
    nameless = cloudtrail_event({"Bucket": "archive"})

    hints, unreadable = read_hints(
        [sqs_record(refused, message_id="a"), sqs_record(nameless, message_id="b")]
    )

    assert hints == []
    assert [message.message_id for message in unreadable] == ["a", "b"]


def test_an_object_created_names_the_ami_of_its_key_with_its_size_and_etag_under_any_prefix():
    records = [
        sqs_record(object_created_event(f"{AMI}.bin"), message_id="root"),
        sqs_record(object_created_event(f"backups/2026/{AMI}.bin"), message_id="prefixed"),
    ]

    hints, _ = read_hints(records)

    assert [(hint.kind, hint.ami_id, hint.object_size) for hint in hints] == [
        (HintKind.OBJECT_CREATED, AMI, 8_589_934_592)
    ] * 2
    assert hints[1].object_key == f"backups/2026/{AMI}.bin"
    assert hints[0].object_etag == "d41d8cd98f00b204e9800998ecf8427e-17"


def test_an_object_put_by_somebody_else_is_a_reason_to_ask_but_gives_no_size_or_etag():
    uploaded = object_created_event(f"{AMI}.bin")
    uploaded["detail"]["reason"] = "PutObject"

    [hint] = read_hints([sqs_record(uploaded)])[0]

    assert hint.ami_id == AMI
    assert (hint.object_size, hint.object_etag) == (None, None)


@pytest.mark.parametrize(
    "body", ["not json", json.dumps({"detail-type": "Object Deleted", "detail": {}, "region": "x"})]
)
def test_a_message_that_is_not_a_hint_is_kept_apart_not_raised(body):
    hints, unreadable = read_hints([{"messageId": "m", "body": body}])

    assert hints == []
    assert [message.message_id for message in unreadable] == ["m"]


def test_an_object_named_like_an_ami_but_not_one_is_no_hint():
    _, unreadable = read_hints([sqs_record(object_created_event("ami-notanami.bin"))])

    assert len(unreadable) == 1


def test_a_start_and_its_object_in_one_batch_give_the_announcement_both_facts():
    hints, _ = read_hints(
        [
            sqs_record(cloudtrail_event({"ImageId": AMI, "Bucket": "archive"}), message_id="start"),
            sqs_record(object_created_event(f"{AMI}.bin"), message_id="end"),
        ]
    )

    facts = facts_by_ami(hints)[AMI]

    assert facts.started_by is not None
    assert facts.object_size == 8_589_934_592
    assert facts.bucket == "archive"
    assert facts.object_key == f"{AMI}.bin"


def store_task(state: TaskState, *, started_at: datetime = STARTED_AT) -> StoreTask:
    return StoreTask(AMI, "archive", f"{AMI}.bin", started_at, state.value, 100)


def answers(task: StoreTask | None, *, answered: bool = True, recorded: bool = True) -> HintAnswers:
    return HintAnswers(
        frozenset({AMI}) if answered else frozenset(), {AMI: task} if task else {}, recorded=recorded
    )


def start_hint(receives: int = 1) -> list[Hint]:
    event = cloudtrail_event({"ImageId": AMI, "Bucket": "archive"})
    return read_hints([sqs_record(event, receives=receives)])[0]


def object_hint(receives: int = 1) -> list[Hint]:
    return read_hints([sqs_record(object_created_event(f"{AMI}.bin"), receives=receives)])[0]


def test_a_hint_ec2_answered_and_whose_claims_are_written_is_settled():
    assert to_retry(start_hint(), answers(store_task(TaskState.IN_PROGRESS))) == []
    assert to_retry(object_hint(), answers(store_task(TaskState.COMPLETED))) == []


def test_a_forged_object_of_an_ami_ec2_knows_no_store_of_is_settled_not_retried():
    assert to_retry(object_hint(), answers(None)) == []


def test_a_hint_not_asked_about_or_whose_claims_were_not_written_is_handed_over_again():
    assert len(to_retry(object_hint(), answers(None, answered=False))) == 1
    assert len(to_retry(object_hint(), answers(store_task(TaskState.COMPLETED), recorded=False))) == 1


def test_a_start_ec2_does_not_list_yet_or_lists_only_an_earlier_store_of_is_asked_about_again():
    earlier = store_task(TaskState.COMPLETED, started_at=STARTED_AT - timedelta(days=2))

    assert len(to_retry(start_hint(), answers(None))) == 1
    assert len(to_retry(start_hint(), answers(earlier))) == 1


def test_an_object_of_a_store_ec2_still_shows_in_progress_is_asked_about_again():
    assert len(to_retry(object_hint(), answers(store_task(TaskState.IN_PROGRESS)))) == 1


def test_a_hint_is_given_up_after_its_last_receive_whatever_ec2_said():
    last = MAX_HINT_RECEIVES

    assert to_retry(start_hint(receives=last), answers(None)) == []
    assert to_retry(object_hint(receives=last), answers(None, answered=False)) == []

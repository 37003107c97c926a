"""Chat messages: Amazon Q Developer in chat applications custom notifications that render at a glance.

The service drops a message that does not follow its format without an error anywhere, so every message
here is validated against the JSON Schema written from its documentation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError

from ami_store_notifier.adapters.publishers import ChatPublisher
from ami_store_notifier.domain.announcements import Announcement, announce
from ami_store_notifier.domain.chat import chat_notification, thread_id
from ami_store_notifier.domain.model import StoreTask, TaskState
from local.deployment import CHAT_VALIDATOR
from tests.fakes import ManualClock

AMI = "ami-0123456789abcdef0"


@pytest.fixture
def announced(make_task: Callable[..., StoreTask], clock: ManualClock) -> Callable[..., Announcement]:
    def build(
        state: TaskState,
        *,
        reason: str | None = None,
        started_minutes_ago: float = 83,
        region: str = "eu-west-1",
    ) -> Announcement:
        task = make_task(
            state,
            ami_id=AMI,
            started_minutes_ago=started_minutes_ago,
            failure_reason=reason,
            bucket="archive",
        )
        return announce(
            task,
            state,
            TaskState.IN_PROGRESS,
            region=region,
            account="123456789012",
            observed_at=clock.now,
        )

    return build


@pytest.mark.parametrize("state", list(TaskState))
def test_every_state_gives_a_message_that_follows_the_documented_format(
    state: TaskState, announced: Callable[..., Announcement]
) -> None:
    message = chat_notification(announced(state, reason="boom"), account_name="prod")

    CHAT_VALIDATOR.validate(message)
    assert (message["version"], message["source"], message["content"]["textType"]) == (
        "1.0",
        "custom",
        "client-markdown",
    )


def test_a_completed_store_shows_where_the_object_is_how_long_it_took_and_how_to_restore_it(
    announced: Callable[..., Announcement],
) -> None:
    content = chat_notification(announced(TaskState.COMPLETED))["content"]

    assert content["title"] == f":white_check_mark: AMI store Completed: {AMI}"
    assert f"*Object:* `s3://archive/{AMI}.bin`" in content["description"]
    assert "*Duration:* about 1 h 23 min" in content["description"]
    assert content["nextSteps"][0] == (
        "Restore it as a new AMI: `aws ec2 create-restore-image-task --region eu-west-1 --bucket archive "
        f"--object-key {AMI}.bin --name <new AMI name>`"
    )
    assert content["nextSteps"][1].startswith("<https://s3.console.aws.amazon.com/s3/object/archive?")
    assert content["keywords"] == ["Completed", "eu-west-1", "123456789012"]


def test_a_failed_store_shows_the_reason_and_where_to_look(announced: Callable[..., Announcement]) -> None:
    content = chat_notification(announced(TaskState.FAILED, reason="snapshot snap-1 unreadable"))["content"]

    assert content["title"] == f":x: AMI store Failed: {AMI}"
    assert content["description"].endswith("*Failure reason:* snapshot snap-1 unreadable")
    assert "#ImageDetails:imageId=" + AMI in content["nextSteps"][0]
    assert content["nextSteps"][-1] == (
        f"Store it again and follow it: `ami-store-notifier store {AMI} --bucket archive "
        "--region eu-west-1 --watch`"
    )


def test_the_account_name_is_shown_where_the_hub_knows_it(announced: Callable[..., Announcement]) -> None:
    message = chat_notification(announced(TaskState.COMPLETED), account_name="payments-prod")

    assert message["content"]["keywords"][-1] == "payments-prod"
    assert "*Account:* 123456789012 (payments-prod) in eu-west-1" in message["content"]["description"]


def test_the_messages_of_one_task_share_a_thread_and_name_the_ami(
    announced: Callable[..., Announcement], clock: ManualClock
) -> None:
    started = announced(TaskState.IN_PROGRESS)
    finished = announced(TaskState.COMPLETED)
    clock.now += timedelta(days=1)
    stored_again = announced(TaskState.COMPLETED, started_minutes_ago=5)

    assert thread_id(started) == thread_id(finished) != thread_id(stored_again)
    assert chat_notification(finished)["metadata"] == {
        "threadId": f"ami-store-eu-west-1-{AMI}-20261101103700000",
        "relatedResources": [f"arn:aws:ec2:eu-west-1::image/{AMI}"],
    }


@pytest.mark.parametrize(
    ("region", "partition", "console"),
    [
        ("cn-north-1", "aws-cn", "https://console.amazonaws.cn"),
        ("us-gov-west-1", "aws-us-gov", "https://console.amazonaws-us-gov.com"),
    ],
)
def test_outside_the_commercial_partition_the_links_and_the_resource_are_the_regions_own(
    region: str, partition: str, console: str, announced: Callable[..., Announcement]
) -> None:
    failed = chat_notification(announced(TaskState.FAILED, reason="boom", region=region))
    completed = chat_notification(announced(TaskState.COMPLETED, region=region))

    CHAT_VALIDATOR.validate(failed)
    assert failed["metadata"]["relatedResources"] == [f"arn:{partition}:ec2:{region}::image/{AMI}"]
    assert (
        f"<{console}/ec2/home?region={region}#ImageDetails:imageId={AMI}|"
        in failed["content"]["nextSteps"][0]
    )
    assert f"<{console}/s3/buckets/archive?region={region}|" in failed["content"]["nextSteps"][1]
    assert completed["content"]["nextSteps"][1].startswith(
        f"<{console}/s3/object/archive?region={region}&prefix={AMI}.bin|"
    )


def test_the_chat_publisher_sends_the_custom_notification_itself_as_the_message(
    announced: Callable[..., Announcement],
) -> None:
    sent: list[dict[str, Any]] = []

    class RecordingSns:
        def publish_batch(self, **request: Any) -> dict[str, Any]:
            sent.append(request)
            return {"Successful": [{"Id": entry["Id"]} for entry in request["PublishBatchRequestEntries"]]}

    item = announced(TaskState.FAILED, reason="boom")
    result = ChatPublisher(RecordingSns(), "arn:aws:sns:eu-west-1:123456789012:chat").publish([item])  # type: ignore[arg-type]

    [entry] = sent[0]["PublishBatchRequestEntries"]
    assert result.delivered == {item.event_id}
    assert set(entry) == {"Id", "Message"}
    CHAT_VALIDATOR.validate(json.loads(entry["Message"]))


@pytest.mark.parametrize(
    "broken",
    [
        {"version": "2.0"},
        {"source": "aws.ec2"},
        {"content": {"title": "no description"}},
        {"content": {"description": "x", "textType": "markdown"}},
        {"metadata": {"threadid": "a typo the service would not read"}},
        {"unexpected": True},
    ],
)
def test_the_schema_refuses_what_the_service_would_drop(
    broken: dict[str, Any], announced: Callable[..., Announcement]
) -> None:
    message = {**chat_notification(announced(TaskState.COMPLETED)), **broken}

    with pytest.raises(ValidationError):
        CHAT_VALIDATOR.validate(message)


def test_the_chat_pages_example_is_what_a_failure_publishes() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "deploying" / "chat.md").read_text()
    shown = page.split("What a failure publishes")[1].split("```json\n")[1].split("\n```")[0]
    failure = Announcement(
        event_id="5f0c" * 16,
        ami_id=AMI,
        bucket="golden-ami-archive",
        s3_object_key=f"{AMI}.bin",
        s3_uri=f"s3://golden-ami-archive/{AMI}.bin",
        task_start_time="2026-11-30T08:14:03.000Z",
        state="Failed",
        previous_state="InProgress",
        progress_percentage=41,
        failure_reason="The AMI's EBS snapshot snap-0f3c9 could not be read",
        region="eu-west-1",
        account="123456789012",
        observed_at="2026-11-30T09:02:11.000Z",
    )

    assert json.loads(shown) == chat_notification(failure)

"""The hub's relay in moto: an announcement from the hub's bus published to the hub's topic as the
notifiers publish to their own, with the account's name where Organizations lets the hub read it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ami_store_notifier import hub_relay
from ami_store_notifier.adapters.account_names import OrganizationAccountNames
from ami_store_notifier.adapters.publishers import sns_entry
from ami_store_notifier.domain.announcements import announce, email_text
from ami_store_notifier.domain.model import StoreTask, TaskState
from ami_store_notifier.domain.notices import UnapprovedStore, notice
from local.deployment import CHAT_VALIDATOR
from local.lambda_context import LambdaContextStub
from tests.world import bus_event

SPOKE_ACCOUNT = "222233334444"


def spoke_announcement(account: str = SPOKE_ACCOUNT):
    task = StoreTask(
        ami_id="ami-0123456789abcdef0",
        bucket="golden-ami-archive",
        s3_object_key="ami-0123456789abcdef0.bin",
        task_start_time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
        state_name="Completed",
        progress_percentage=100,
    )
    observed = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    announced = announce(
        task,
        TaskState.COMPLETED,
        TaskState.IN_PROGRESS,
        region="eu-west-1",
        account=account,
        observed_at=observed,
    )
    assert announced is not None
    return announced


def received(topic: dict[str, Any]) -> list[dict[str, Any]]:
    response = topic["sqs"].receive_message(QueueUrl=topic["queue_url"], MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def test_an_announcement_from_a_spoke_reaches_the_hub_topic_as_the_spoke_publishes_it(hub_topic):
    announcement = spoke_announcement()

    hub_relay.lambda_handler(bus_event(announcement), LambdaContextStub())

    (envelope,) = received(hub_topic)
    sent_by_a_spoke = sns_entry(announcement)
    assert envelope["Subject"] == sent_by_a_spoke["Subject"]
    assert json.loads(envelope["Message"]) == announcement.detail()
    assert {name: value["Value"] for name, value in envelope["MessageAttributes"].items()} == {
        name: value["StringValue"] for name, value in sent_by_a_spoke["MessageAttributes"].items()
    }
    assert envelope["MessageAttributes"]["account"]["Value"] == SPOKE_ACCOUNT


def test_the_chat_input_of_the_hub_rule_reaches_the_hub_chat_topic_as_a_custom_notification(
    hub_topic, hub_chat_topic
):
    announcement = spoke_announcement()
    chat_input = {"channel": "chat", "detail": announcement.detail()}

    answer = hub_relay.lambda_handler(chat_input, LambdaContextStub())

    (envelope,) = received(hub_chat_topic)
    message = json.loads(envelope["Message"])
    CHAT_VALIDATOR.validate(message)
    assert answer == {"eventId": announcement.event_id, "channel": "chat"}
    assert message["content"]["keywords"] == ["Completed", "eu-west-1", SPOKE_ACCOUNT]
    assert received(hub_topic) == []


def spoke_unapproved_store():
    task = spoke_announcement()
    stored = StoreTask(
        task.ami_id,
        "scratch-exports",
        task.s3_object_key,
        datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
        "InProgress",
    )
    facts = UnapprovedStore(("golden-ami-*",), "arn:aws:iam::222233334444:user/mallory")
    return notice(
        stored,
        facts,
        region="eu-west-1",
        account=SPOKE_ACCOUNT,
        observed_at=datetime(2026, 11, 29, 10, 1, tzinfo=UTC),
    )


def test_a_spokes_unapproved_bucket_notice_reaches_the_hub_topic_and_chat_as_the_spoke_publishes_it(
    hub_topic, hub_chat_topic
):
    alert = spoke_unapproved_store()
    event = bus_event(alert)

    hub_relay.lambda_handler(event, LambdaContextStub())
    hub_relay.lambda_handler(
        {"channel": "chat", "detail-type": event["detail-type"], "detail": event["detail"]},
        LambdaContextStub(),
    )

    (envelope,) = received(hub_topic)
    assert envelope["Subject"] == sns_entry(alert)["Subject"]
    assert json.loads(envelope["Message"]) == alert.detail()
    assert envelope["MessageAttributes"]["notice"]["Value"] == "UnapprovedBucket"
    (chat,) = received(hub_chat_topic)
    CHAT_VALIDATOR.validate(json.loads(chat["Message"]))


def test_a_channel_the_hub_does_not_have_is_refused_so_that_it_lands_in_the_dead_letter_queue(hub_topic):
    with pytest.raises(hub_relay.RelayError, match="CHAT_TOPIC_ARN is not set"):
        hub_relay.lambda_handler(
            {"channel": "chat", "detail": spoke_announcement().detail()}, LambdaContextStub()
        )


def test_a_refused_publish_raises_so_that_lambda_retries_the_event(hub_topic, monkeypatch):
    monkeypatch.setenv("TOPIC_ARN", hub_topic["topic_arn"] + "-gone")
    hub_relay.publisher.cache_clear()

    with pytest.raises(hub_relay.RelayError):
        hub_relay.lambda_handler(bus_event(spoke_announcement()), LambdaContextStub())


def test_account_names_come_from_organizations_where_the_hub_may_read_them(mocked_aws):
    organizations = boto3.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    status = organizations.create_account(AccountName="prod-web", Email="prod-web@example.com")
    account_id = organizations.describe_create_account_status(
        CreateAccountRequestId=status["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"]
    names = OrganizationAccountNames(organizations)

    assert names(account_id) == "prod-web"
    assert "Account:     " + account_id + " (prod-web) in eu-west-1" in email_text(
        spoke_announcement(account_id), names(account_id)
    )


def test_without_an_organization_messages_show_account_ids_only(mocked_aws):
    names = OrganizationAccountNames(boto3.client("organizations", region_name="us-east-1"))

    assert names(SPOKE_ACCOUNT) is None
    assert f"Account:     {SPOKE_ACCOUNT} in eu-west-1" in email_text(spoke_announcement(), None)


def test_a_throttled_name_is_asked_again_a_minute_later_not_missing_for_the_environments_life(
    aws_credentials,
):
    organizations = boto3.client("organizations", region_name="us-east-1")
    now = [0.0]
    names = OrganizationAccountNames(organizations, clock=lambda: now[0])

    with Stubber(organizations) as stub:
        stub.add_client_error("describe_account", "TooManyRequestsException", http_status_code=400)
        stub.add_response("describe_account", {"Account": {"Id": SPOKE_ACCOUNT, "Name": "prod-web"}})
        throttled = names(SPOKE_ACCOUNT)
        within_the_minute = names(SPOKE_ACCOUNT)
        now[0] += 60
        asked_again = names(SPOKE_ACCOUNT)
        kept = names(SPOKE_ACCOUNT)  # the stub has no answer left: a call would fail the test

    assert (throttled, within_the_minute, asked_again, kept) == (None, None, "prod-web", "prod-web")


def test_an_account_organizations_does_not_know_has_no_name_and_the_others_are_still_asked(aws_credentials):
    organizations = boto3.client("organizations", region_name="us-east-1")
    names = OrganizationAccountNames(organizations)

    with Stubber(organizations) as stub:
        stub.add_client_error("describe_account", "AccountNotFoundException", http_status_code=400)
        stub.add_response("describe_account", {"Account": {"Id": "111122223333", "Name": "prod-web"}})
        unknown = (names(SPOKE_ACCOUNT), names(SPOKE_ACCOUNT))
        known = names("111122223333")

    assert (unknown, known) == ((None, None), "prod-web")

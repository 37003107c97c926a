"""The hub's relay in moto: an announcement from the hub's bus published to the hub's topic as the
notifiers publish to their own, with the account's name where Organizations lets the hub read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ami_store_notifier import hub_relay
from ami_store_notifier.adapters.account_names import OrganizationAccountNames
from ami_store_notifier.adapters.publishers import sns_entry
from ami_store_notifier.domain.announcements import announce, email_text
from ami_store_notifier.domain.model import StoreTask, TaskState
from local.lambda_context import LambdaContextStub
from tests.world import REGION, bus_event

SPOKE_ACCOUNT = "222233334444"


@pytest.fixture
def hub_topic(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The hub's topic with one SQS subscriber, and the relay configured for it."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="hub-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="hub-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    hub_relay.publisher.cache_clear()
    yield {"sqs": sqs, "queue_url": queue_url, "topic_arn": topic_arn}
    hub_relay.publisher.cache_clear()


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


def received(hub_topic: dict[str, Any]) -> list[dict[str, Any]]:
    response = hub_topic["sqs"].receive_message(QueueUrl=hub_topic["queue_url"], MaxNumberOfMessages=10)
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

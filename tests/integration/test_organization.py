"""The Organization-wide mode end to end in moto, which keeps one backend per account: notifiers in
three accounts and two Regions announce Completed and Failed stores, their forwarding rules put the
announcements on the hub's bus, and the hub's topic subscriber and a rule on the hub's bus each get every
announcement once, with the spoke's account and Region.

Two hops are stood in for, because moto cannot run them:
- moto forwards an event to a bus of another account or Region, but writes the hub's account and
  Region into the forwarded envelope (EventBridge keeps the original event's): the test reads the
  account and Region from the detail, which the notifier writes and every hop keeps;
- moto runs no Lambda function here (no Docker): the hub's rule targets a queue, and the test hands each
  event from it to the relay's handler, as EventBridge would invoke the relay.
The forwarding rule is the one `infra/hub_forwarding.py` synthesizes (its shape is checked in
tests/infra/test_infra_hub_forwarding.py), created here through the API.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from ami_store_notifier import handler, hub_relay
from ami_store_notifier.domain.announcements import DETAIL_TYPE
from local.deployment import EVENT_SOURCE, LocalDeployment, deploy
from local.ec2_store_tasks import CLOCK, store_tasks_backend
from local.lambda_context import LambdaContextStub

HUB_ACCOUNT, HUB_REGION = "999999999999", "us-east-1"
HUB_BUS = "AmiStoreNotifierHub-events"
SPOKES = (
    ("111111111111", "us-east-1"),
    ("222222222222", "eu-west-1"),
    ("333333333333", "us-east-1"),
    ("333333333333", "eu-west-1"),
)
BUCKET = "golden-ami-archive"
# Every announcement, as infra/announcements.py's announcement_pattern matches them.
ANNOUNCEMENTS = json.dumps({"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE]})


def session_of(account: str) -> boto3.session.Session:
    """Credentials of another account: moto's STS answers any role ARN with that account's keys."""
    credentials = boto3.client("sts", region_name=HUB_REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def use_credentials(monkeypatch: pytest.MonkeyPatch, session: boto3.session.Session) -> None:
    frozen = session.get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", frozen.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", frozen.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", frozen.token)


def queue(session: boto3.session.Session, name: str) -> tuple[str, str]:
    sqs = session.client("sqs", region_name=HUB_REGION)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(session: boto3.session.Session, url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs", region_name=HUB_REGION)
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@dataclass
class Hub:
    session: boto3.session.Session
    bus_arn: str
    topic_arn: str
    topic_subscriber: str
    rule_subscriber: str
    relay_inbox: str


@pytest.fixture
def hub(mocked_aws: None) -> Hub:
    """The hub's bus, topic and subscribers in its own account (the relay stands behind a queue)."""
    session = session_of(HUB_ACCOUNT)
    events, sns = (
        session.client("events", region_name=HUB_REGION),
        session.client("sns", region_name=HUB_REGION),
    )
    bus_arn = events.create_event_bus(Name=HUB_BUS)["EventBusArn"]
    topic_arn = sns.create_topic(Name="AmiStoreNotifierHub-notifications")["TopicArn"]
    topic_subscriber, topic_subscriber_arn = queue(session, "hub-topic-subscriber")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=topic_subscriber_arn)
    rule_subscriber, rule_subscriber_arn = queue(session, "hub-rule-subscriber")
    relay_inbox, relay_inbox_arn = queue(session, "hub-relay-inbox")
    for name, target in (("consumer", rule_subscriber_arn), ("to-relay", relay_inbox_arn)):
        events.put_rule(Name=name, EventBusName=HUB_BUS, EventPattern=ANNOUNCEMENTS)
        events.put_targets(Rule=name, EventBusName=HUB_BUS, Targets=[{"Id": name, "Arn": target}])
    return Hub(session, bus_arn, topic_arn, topic_subscriber, rule_subscriber, relay_inbox)


@dataclass
class Spoke:
    account: str
    region: str
    session: boto3.session.Session
    deployment: LocalDeployment


@pytest.fixture
def spokes(hub: Hub) -> list[Spoke]:
    """A notifier in each account and Region, forwarding to the hub as hubEventBusArn makes it."""
    deployed = []
    for account, region in SPOKES:
        session = session_of(account)
        deployment = deploy(session, region=region)
        events = session.client("events", region_name=region)
        events.put_rule(
            Name="forward-to-hub",
            EventBusName=deployment.bus_name,
            EventPattern=ANNOUNCEMENTS,
        )
        events.put_targets(
            Rule="forward-to-hub",
            EventBusName=deployment.bus_name,
            Targets=[{"Id": "hub", "Arn": hub.bus_arn, "RoleArn": f"arn:aws:iam::{account}:role/forwarder"}],
        )
        session.client("s3", region_name=region).create_bucket(
            Bucket=f"{BUCKET}-{account}-{region}",
            **(
                {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            ),
        )
        deployed.append(Spoke(account, region, session, deployment))
    return deployed


@pytest.fixture
def run_spoke(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Spoke], dict[str, Any]]]:
    """Invokes the real handler as the spoke's own function: its credentials, environment and ARN."""
    monkeypatch.setattr(handler, "utc_now", CLOCK.now)

    def invoke(spoke: Spoke) -> dict[str, Any]:
        with monkeypatch.context() as scoped:
            use_credentials(scoped, spoke.session)
            scoped.setenv("AWS_REGION", spoke.region)  # as Lambda sets it for the function's Region
            scoped.setenv("AWS_DEFAULT_REGION", spoke.region)
            for name, value in spoke.deployment.handler_environment().items():
                scoped.setenv(name, value)
            handler.wiring.cache_clear()
            arn = f"arn:aws:lambda:{spoke.region}:{spoke.account}:function:ami-store-notifier-poller"
            result: dict[str, Any] = handler.lambda_handler({}, LambdaContextStub(invoked_function_arn=arn))
        handler.wiring.cache_clear()
        assert not result["failedRegions"], result["failedRegions"]
        return result

    yield invoke
    handler.wiring.cache_clear()


def relay_everything(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> int:
    """EventBridge invoking the relay for each event its rule matched (see the module's docstring)."""
    events = drain(hub.session, hub.relay_inbox)
    with monkeypatch.context() as scoped:
        use_credentials(scoped, hub.session)
        scoped.setenv("AWS_DEFAULT_REGION", HUB_REGION)
        scoped.setenv("TOPIC_ARN", hub.topic_arn)
        hub_relay.publisher.cache_clear()
        for event in events:
            hub_relay.lambda_handler(event, LambdaContextStub())
    hub_relay.publisher.cache_clear()
    return len(events)


def test_every_accounts_completed_and_failed_stores_reach_the_hub_topic_and_a_hub_rule_once(
    hub, spokes, run_spoke, monkeypatch
):
    for spoke in spokes:
        run_spoke(spoke)  # the baseline
    expected, failing = set(), []
    for index, spoke in enumerate(spokes):
        backend = store_tasks_backend(spoke.account, spoke.region)
        for outcome in ("Completed", "Failed"):
            ami = f"ami-{index:08x}{len(expected):09x}"
            bucket = f"{BUCKET}-{spoke.account}-{spoke.region}"
            backend.add_task(ami, bucket, CLOCK.now(), "InProgress", 5, duration_seconds=300)
            expected.add((spoke.account, spoke.region, ami, outcome))
            if outcome == "Failed":
                failing.append((backend, ami))
    CLOCK.advance(60)
    for spoke in spokes:
        run_spoke(spoke)  # each notifier now tracks its two stores in progress
    for backend, ami in failing:
        backend.fail(ami, "The AMI's snapshot could not be read")
    CLOCK.advance(300)
    for spoke in spokes:
        run_spoke(spoke)
    relayed = relay_everything(hub, monkeypatch)

    by_topic = [json.loads(envelope["Message"]) for envelope in drain(hub.session, hub.topic_subscriber)]
    by_rule = [event["detail"] for event in drain(hub.session, hub.rule_subscriber)]
    for received in (by_topic, by_rule):
        assert Counter(item["eventId"] for item in received).most_common(1)[0][1] == 1, "each once"
        assert {
            (item["account"], item["region"], item["amiId"], item["state"]) for item in received
        } == expected
    assert relayed == len(expected)
    assert {spoke.account for spoke in spokes} == {"111111111111", "222222222222", "333333333333"}
    assert {spoke.region for spoke in spokes} == {"us-east-1", "eu-west-1"}

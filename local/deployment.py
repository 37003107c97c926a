"""The notifier's resources created in moto, with subscribers that show what users would receive.

Used by the demo, the integration tests, the fault campaign and the benchmark, so that all of them
exercise the same shape of deployment as the CDK stack: the state table (key `pk`, TTL `expiresAt`),
the topic, the bus, an SQS queue subscribed to the topic, one subscribed with a filter policy on
`state`, and one fed by a rule on the bus that matches `detail.state`. With `hints=True`, also the hints'
path (infra/hints.py): two rules on the default bus with the patterns of domain/hints.py, the hints queue
they feed (with its dead-letter queue), and Lambda's event source mapping, emulated
(local/event_source_mapping.py): `deliver_hints(invoke)` / `poll_hints(invoke)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft4Validator

from ami_store_notifier.adapters.table_items import PARTITION_KEY
from ami_store_notifier.domain.announcements import DETAIL_TYPE
from ami_store_notifier.domain.hints import OBJECT_CREATED_PATTERN, STORE_STARTED_PATTERN
from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, NOTICE_KINDS_BY_DETAIL_TYPE, NoticeKind
from ami_store_notifier.event_schema import detail_schema, notice_detail_schema
from ami_store_notifier.report import NAMESPACE, SERVICE
from local.event_source_mapping import EventSourceMapping, HintBatch, Invoke, Polling

EVENT_SOURCE = "ami-store-notifier"
TOPIC_QUEUE = "topic-all"
CHAT_QUEUE = "chat-topic"
TOPIC_FAILED_QUEUE = "topic-failed-only"
RULE_QUEUE = "rule-completed-or-failed"
# Behind the cleanup rule of docs/archive-assurance.md: only archives checked Verified.
VERIFIED_QUEUE = "rule-verified-archives"
DETAIL_VALIDATOR = Draft4Validator(detail_schema())
NOTICE_VALIDATORS = {kind: Draft4Validator(notice_detail_schema(kind)) for kind in NoticeKind}
# The example rule for cleanup automation (docs/archive-assurance.md): only an archive checked Verified.
VERIFIED_ARCHIVE_PATTERN: Final = {
    "source": [EVENT_SOURCE],
    "detail-type": [NOTICE_DETAIL_TYPES[NoticeKind.VERIFICATION]],
    "detail": {"verdict": ["Verified"]},
}
# What Amazon Q Developer in chat applications accepts as a custom notification (it drops anything else
# without an error): every chat message the demo and the tests receive is checked against it.
CHAT_SCHEMA_PATH = Path(__file__).with_name("custom_notification.schema.json")
CHAT_VALIDATOR = Draft4Validator(json.loads(CHAT_SCHEMA_PATH.read_text()))
HINTS_QUEUE: Final = "hints"
HINT_RULES: Final = {"store-started": STORE_STARTED_PATTERN, "object-created": OBJECT_CREATED_PATTERN}
"""The hints' rules on the default bus, by name suffix, with their patterns."""


@dataclass(frozen=True)
class Received:
    """One message as a subscriber got it: the event detail, plus what SNS added around it."""

    queue: str
    detail: dict[str, Any]
    subject: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    email: str | None = None
    # The notice's kind (domain/notices.py); None for a state change.
    notice: NoticeKind | None = None


@dataclass
class LocalDeployment:
    region: str
    table_name: str
    topic_arn: str
    bus_name: str
    queue_urls: dict[str, str]
    sqs: Any
    # The chat topic, when deployed with chat notifications; its subscriber queue is CHAT_QUEUE.
    chat_topic_arn: str | None = None
    # The hints' path, when deployed with hints: the queue's mapping to the function, emulated.
    hints: EventSourceMapping | None = None
    hints_dead_letter_url: str | None = None

    def deliver_hints(self, invoke: Invoke) -> HintBatch | None:
        """Hands the function up to a batch of the hints queue now, as Lambda does once the batching
        window has closed: deletes what succeeded, leaves `batchItemFailures` to come back."""
        return self._hints().deliver(invoke)

    def poll_hints(self, invoke: Invoke) -> HintBatch | None:
        """One look of Lambda's poller at the emulator's now: invokes only when a batch is full or its
        batching window has closed (`hints.due()` says when)."""
        return self._hints().poll(invoke)

    def _hints(self) -> EventSourceMapping:
        if self.hints is None:
            raise RuntimeError("deployed without hints: deploy(..., hints=True)")
        return self.hints

    def handler_environment(self, **overrides: str) -> dict[str, str]:
        environment = {
            "TABLE_NAME": self.table_name,
            "TOPIC_ARN": self.topic_arn,
            **({"CHAT_TOPIC_ARN": self.chat_topic_arn} if self.chat_topic_arn else {}),
            "EVENT_BUS_NAME": self.bus_name,
            "REGIONS": self.region,
            "EVENT_SOURCE": EVENT_SOURCE,
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        environment.update(overrides)
        return environment

    def receive(self, queue: str) -> list[Received]:
        """Drains a subscriber queue, decoding SNS envelopes and EventBridge events alike."""
        return [decode(queue, body) for body in self._drain(queue)]

    def receive_chat(self) -> list[dict[str, Any]]:
        """Drains the chat topic's queue: the custom notifications, each checked against their schema."""
        messages = [json.loads(json.loads(body)["Message"]) for body in self._drain(CHAT_QUEUE)]
        for message in messages:
            CHAT_VALIDATOR.validate(message)
        return messages

    def _drain(self, queue: str) -> list[str]:
        bodies: list[str] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_urls[queue], MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = response.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(
                    QueueUrl=self.queue_urls[queue], ReceiptHandle=message["ReceiptHandle"]
                )


def decode(queue: str, body: str) -> Received:
    """The message as a subscriber reads it; its detail is checked against the published schema of its
    detail-type, so every announcement the demo and the tests receive is one the contract allows."""
    envelope = json.loads(body)
    if envelope.get("Type") == "Notification":
        attributes = {name: value["Value"] for name, value in envelope.get("MessageAttributes", {}).items()}
        detail = json.loads(envelope["Message"])
        notice = NoticeKind(attributes["notice"]) if "notice" in attributes else None
        _validator(notice).validate(detail)
        return Received(queue, detail, envelope.get("Subject"), attributes, notice=notice)
    notice = NOTICE_KINDS_BY_DETAIL_TYPE.get(envelope["detail-type"])
    _validator(notice).validate(envelope["detail"])
    return Received(queue, envelope["detail"], notice=notice)


def _validator(notice: NoticeKind | None) -> Draft4Validator:
    return DETAIL_VALIDATOR if notice is None else NOTICE_VALIDATORS[notice]


def create_table(dynamodb: Any, name: str) -> str:
    """An on-demand table keyed as the state table is (one string key, `pk`); returns its name."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def deploy(
    session: Any,
    *,
    region: str,
    name: str = "ami-store-notifier",
    chat: bool = False,
    hints: bool = False,
    polling: Polling | None = None,
) -> LocalDeployment:
    dynamodb = session.client("dynamodb", region_name=region)
    sns = session.client("sns", region_name=region)
    events = session.client("events", region_name=region)

    table_name = create_table(dynamodb, f"{name}-state")
    dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
    )
    topic_arn = sns.create_topic(Name=f"{name}-events")["TopicArn"]
    bus_name = f"{name}-bus"
    events.create_event_bus(Name=bus_name)

    queue_urls = subscribe(session, region, topic_arn, bus_name, name=name)
    sqs = session.client("sqs", region_name=region)
    chat_topic_arn = None
    if chat:
        chat_topic_arn = sns.create_topic(Name=f"{name}-chat")["TopicArn"]
        queue_urls[CHAT_QUEUE] = sqs.create_queue(QueueName=f"{name}-{CHAT_QUEUE}")["QueueUrl"]
        sns.subscribe(
            TopicArn=chat_topic_arn, Protocol="sqs", Endpoint=queue_arn_of(sqs, queue_urls[CHAT_QUEUE])
        )
    deployed = LocalDeployment(region, table_name, topic_arn, bus_name, queue_urls, sqs, chat_topic_arn)
    if hints:
        deploy_hints(session, deployed, name=name, polling=polling or Polling())
    return deployed


def deploy_hints(session: Any, deployment: LocalDeployment, *, name: str, polling: Polling) -> None:
    """What the stack builds for hints: the queue (its dead-letter queue after `max_receive_count`
    receives), the two rules on the default bus that feed it, and the event source mapping."""
    events = session.client("events", region_name=deployment.region)
    sqs = deployment.sqs
    dead_letter_url = sqs.create_queue(QueueName=f"{name}-{HINTS_QUEUE}-dlq")["QueueUrl"]
    redrive = {
        "deadLetterTargetArn": queue_arn_of(sqs, dead_letter_url),
        "maxReceiveCount": polling.max_receive_count,
    }
    queue_url = sqs.create_queue(
        QueueName=f"{name}-{HINTS_QUEUE}",
        Attributes={
            "VisibilityTimeout": str(int(polling.visibility_timeout_seconds)),
            "MessageRetentionPeriod": str(polling.retention_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    queue_arn = queue_arn_of(sqs, queue_url)
    for suffix, pattern in HINT_RULES.items():
        rule = f"{name}-{suffix}"
        events.put_rule(Name=rule, EventBusName="default", EventPattern=json.dumps(pattern))
        # The dead-letter queue is also the targets': what EventBridge could not put on the queue.
        target = {
            "Id": HINTS_QUEUE,
            "Arn": queue_arn,
            "DeadLetterConfig": {"Arn": redrive["deadLetterTargetArn"]},
        }
        events.put_targets(Rule=rule, EventBusName="default", Targets=[target])
    deployment.queue_urls[HINTS_QUEUE] = queue_url
    deployment.hints_dead_letter_url = dead_letter_url
    deployment.hints = EventSourceMapping(sqs, queue_url, queue_arn, deployment.region, polling)


def queue_arn_of(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def subscribe(session: Any, region: str, topic_arn: str, bus_name: str, *, name: str) -> dict[str, str]:
    """The subscriber queues a user would add: two on the topic (one filtered on `state`) and one
    behind a rule on the bus. Returns their URLs by role."""
    sns = session.client("sns", region_name=region)
    events = session.client("events", region_name=region)
    sqs = session.client("sqs", region_name=region)
    queue_urls = {}
    for queue in (TOPIC_QUEUE, TOPIC_FAILED_QUEUE, RULE_QUEUE, VERIFIED_QUEUE):
        queue_urls[queue] = sqs.create_queue(QueueName=f"{name}-{queue}")["QueueUrl"]

    def queue_arn(queue: str) -> str:
        return queue_arn_of(sqs, queue_urls[queue])

    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn(TOPIC_QUEUE))
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn(TOPIC_FAILED_QUEUE),
        Attributes={"FilterPolicy": json.dumps({"state": ["Failed"]})},
    )
    events.put_rule(
        Name=f"{name}-store-finished",
        EventBusName=bus_name,
        EventPattern=json.dumps(
            {
                "source": [EVENT_SOURCE],
                "detail-type": [DETAIL_TYPE],
                "detail": {"state": ["Completed", "Failed"]},
            }
        ),
    )
    events.put_targets(
        Rule=f"{name}-store-finished",
        EventBusName=bus_name,
        Targets=[{"Id": "subscriber", "Arn": queue_arn(RULE_QUEUE)}],
    )
    events.put_rule(
        Name=f"{name}-archive-verified",
        EventBusName=bus_name,
        EventPattern=json.dumps(VERIFIED_ARCHIVE_PATTERN),
    )
    events.put_targets(
        Rule=f"{name}-archive-verified",
        EventBusName=bus_name,
        Targets=[{"Id": "cleanup", "Arn": queue_arn(VERIFIED_QUEUE)}],
    )
    return queue_urls

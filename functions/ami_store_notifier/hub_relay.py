"""The hub's relay (Organization-wide mode): an announcement that reached the hub's bus from any account
of the Organization, published to the hub's topic as a notifier publishes to its own (the same message
structure, subject and attributes), with the account's name where the hub may read it: the state changes
and the notices alike (told apart by the event's detail-type).

EventBridge invokes it asynchronously, one event per invocation. A publish SNS refuses raises, so Lambda
retries the event and, after its retries, keeps it in the relay's dead-letter queue. With chat
notifications the hub's rule invokes it a second time per announcement, with `{"channel": "chat",
"detail-type": ..., "detail": ...}`, to publish the custom notification to the hub's chat topic: each
channel is retried on its own.
"""

from __future__ import annotations

import functools
import json
import os

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from ami_store_notifier.adapters.account_names import OrganizationAccountNames
from ami_store_notifier.adapters.aws import CLIENT_CONFIG
from ami_store_notifier.adapters.publishers import ChatPublisher, SnsPublisher
from ami_store_notifier.domain.announcements import Announcement
from ami_store_notifier.domain.json_values import IncomingJson
from ami_store_notifier.domain.notices import NOTICE_KINDS_BY_DETAIL_TYPE, Deliverable, Notice
from ami_store_notifier.domain.planning import RELAY_CHANNEL
from ami_store_notifier.report import SERVICE
from ami_store_notifier.settings_spec import HANDLER_SETTINGS

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", f"{SERVICE}-hub"))
# Each channel's publisher and the variable naming its topic.
_PUBLISHERS: dict[str, tuple[type[SnsPublisher], str]] = {
    SnsPublisher.channel: (SnsPublisher, "TOPIC_ARN"),
    ChatPublisher.channel: (ChatPublisher, "CHAT_TOPIC_ARN"),
}


class RelayError(Exception):
    """The hub's topic did not take the announcement: Lambda retries the event."""


@functools.cache
def publisher(channel: str = SnsPublisher.channel) -> SnsPublisher:
    if channel not in _PUBLISHERS:
        raise RelayError(f"no channel {channel!r}: the relay publishes to {sorted(_PUBLISHERS)}")
    kind, variable = _PUBLISHERS[channel]
    setting = next(setting for setting in HANDLER_SETTINGS if setting.variable == variable)
    topic_arn = setting.read(os.environ.get(variable), variable)
    if topic_arn is None:
        raise RelayError(f"{variable} is not set: the hub has no {channel} topic")
    names = OrganizationAccountNames(boto3.client("organizations", config=CLIENT_CONFIG))
    return kind(boto3.client("sns", config=CLIENT_CONFIG), str(topic_arn), account_name=names)


def relayed(event: IncomingJson) -> Deliverable:
    """The announcement an event carries: a notice by its detail-type, a state change otherwise."""
    kind = NOTICE_KINDS_BY_DETAIL_TYPE.get(str(event.get("detail-type")))
    if kind is None:
        return Announcement.from_detail(event["detail"])
    return Notice.from_detail_json(kind, json.dumps(event["detail"]))


@logger.inject_lambda_context
def lambda_handler(event: IncomingJson, context: LambdaContext) -> dict[str, str]:
    announcement = relayed(event)
    channel = str(event.get(RELAY_CHANNEL, SnsPublisher.channel))
    logger.append_keys(
        eventId=announcement.event_id,
        account=announcement.account,
        region=announcement.region,
        channel=channel,
    )
    result = publisher(channel).publish([announcement])
    if announcement.event_id not in result.delivered:
        raise RelayError(f"the hub's {channel} topic refused the announcement: {dict(result.failures)}")
    logger.info("Announcement relayed to the hub's topic")
    return {"eventId": announcement.event_id, "channel": channel}

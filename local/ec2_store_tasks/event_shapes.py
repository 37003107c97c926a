"""The two events AWS puts on the default bus about a store, built as AWS documents them, and the way
the emulator hands an event to the rules of moto's default bus.

- The start: CloudTrail's record of the `CreateStoreImageTask` call, as EventBridge receives every API
  call a trail logs ("AWS service events delivered via AWS CloudTrail", EventBridge user guide,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html; the
  record's fields: "CloudTrail record contents", CloudTrail user guide,
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
  How EC2 nests this action's `requestParameters` and `responseElements` is not documented: they are
  nested here as EC2's newer actions are logged (`{"CreateStoreImageTaskRequest": {...}}`), and a reader
  must look for the fields at any depth.
- The end of a store that succeeded: S3's `Object Created` for the AMI's object ("EventBridge event
  message structure", S3 user guide, https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).
"""

from __future__ import annotations

import copy
import itertools
import random
import string
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from moto.events.models import events_backends

CLOUDTRAIL_DETAIL_TYPE: Final = "AWS API Call via CloudTrail"
OBJECT_CREATED_DETAIL_TYPE: Final = "Object Created"
STORE_API_CALL: Final = "CreateStoreImageTask"
CLOUDTRAIL_EVENT_VERSION: Final = "1.11"
"""The record format's current version (CloudTrail record contents, `eventVersion`)."""
EC2_XMLNS: Final = "http://ec2.amazonaws.com/doc/2016-11-15/"
DEFAULT_BUS: Final = "default"
# The documentation's own address range for examples (RFC 5737): plausible, and never a real caller.
CALLER_IP: Final = "192.0.2.10"

# S3's `reason` for each way an object is created (ev-events.html, "Object Created" detail). moto names
# its notification events after S3's event types (s3:ObjectCreated:Put, ...).
OBJECT_CREATED_REASONS: Final = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}
STORE_REASON: Final = "CompleteMultipartUpload"
"""EC2 uploads the AMI in parts, so its object is created by completing a multipart upload."""


@dataclass(frozen=True)
class CallerIdentity:
    """Who called CreateStoreImageTask, as CloudTrail's `userIdentity` names it: by default an assumed
    role of an image pipeline, with the access key of the request when moto saw one."""

    role: str = "ami-release-pipeline"
    session: str = "store-golden-amis"
    role_id: str = "AROAEXAMPLEROLEID0001"
    access_key_id: str = "ASIAEXAMPLEKEYID0001"

    def user_identity(self, account_id: str, access_key_id: str | None = None) -> dict[str, Any]:
        return {
            "type": "AssumedRole",
            "principalId": f"{self.role_id}:{self.session}",
            "arn": self.arn(account_id),
            "accountId": account_id,
            "accessKeyId": access_key_id or self.access_key_id,
        }

    def arn(self, account_id: str) -> str:
        return f"arn:aws:sts::{account_id}:assumed-role/{self.role}/{self.session}"


@dataclass(frozen=True)
class StoredObject:
    """What S3 tells about an object it created: moto's own key, read where it was stored."""

    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None


def cloudtrail_time(when: datetime) -> str:
    """CloudTrail's and EventBridge's timestamp: whole seconds, UTC, with a Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def store_started_event(
    *,
    account_id: str,
    region: str,
    at: datetime,
    ami_id: str,
    bucket: str,
    object_key: str,
    identity: CallerIdentity,
    access_key_id: str | None = None,
) -> dict[str, Any]:
    """The EventBridge event of a successful CreateStoreImageTask call, as CloudTrail sends it."""
    request_id = str(uuid.uuid4())
    detail = {
        "eventVersion": CLOUDTRAIL_EVENT_VERSION,
        "userIdentity": identity.user_identity(account_id, access_key_id),
        "eventTime": cloudtrail_time(at),
        "eventSource": "ec2.amazonaws.com",
        "eventName": STORE_API_CALL,
        "awsRegion": region,
        "sourceIPAddress": CALLER_IP,
        "userAgent": "aws-cli/2.17.0 md/command#ec2.create-store-image-task",
        "requestParameters": {"CreateStoreImageTaskRequest": {"ImageId": ami_id, "Bucket": bucket}},
        "responseElements": {
            "CreateStoreImageTaskResponse": {
                "requestId": request_id,
                "objectKey": object_key,
                "xmlns": EC2_XMLNS,
            }
        },
        "requestID": request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    return envelope("aws.ec2", CLOUDTRAIL_DETAIL_TYPE, account_id, region, at, [], detail)


_SEQUENCE = itertools.count(1)


def object_created_event(
    *,
    account_id: str,
    region: str,
    at: datetime,
    stored: StoredObject,
    reason: str = STORE_REASON,
    requester: str | None = None,
) -> dict[str, Any]:
    """S3's `Object Created` event for an object it stored."""
    obj: dict[str, Any] = {"key": stored.key, "size": stored.size, "etag": stored.etag}
    if stored.version_id is not None:
        obj["version-id"] = stored.version_id  # present only where the bucket keeps versions
    # A hexadecimal string that orders the events of one key (ev-events.html): the time, then a counter.
    obj["sequencer"] = f"{int(at.timestamp() * 1_000_000):X}{next(_SEQUENCE):06X}"
    detail = {
        "version": "0",
        "bucket": {"name": stored.bucket},
        "object": obj,
        "request-id": "".join(random.choices(string.ascii_uppercase + string.digits, k=16)),
        "requester": requester or account_id,
        "source-ip-address": CALLER_IP,
        "reason": reason,
    }
    resources = [f"arn:aws:s3:::{stored.bucket}"]
    return envelope("aws.s3", OBJECT_CREATED_DETAIL_TYPE, account_id, region, at, resources, detail)


def envelope(
    source: str,
    detail_type: str,
    account_id: str,
    region: str,
    at: datetime,
    resources: list[str],
    detail: Mapping[str, Any],
) -> dict[str, Any]:
    """An EventBridge event. `time` is kept as epoch seconds, the form moto's targets convert into
    EventBridge's timestamp (whole seconds, UTC) when they deliver it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": at.timestamp(),
        "region": region,
        "resources": resources,
        "detail": dict(detail),
    }


_SENT_AT: OrderedDict[str, datetime] = OrderedDict()
_SENT_AT_KEPT: Final = 100_000
_SENT_AT_LOCK = threading.Lock()


def sent_at(event_id: str) -> datetime | None:
    """When the emulated bus last delivered the event `event_id` to its rules' targets, on the emulator's
    clock (moto's SQS stamps its messages with the wall clock instead)."""
    with _SENT_AT_LOCK:
        return _SENT_AT.get(event_id)


def put_on_default_bus(event: Mapping[str, Any], at: datetime) -> int:
    """Hands `event` to every enabled rule of the default bus of its account and Region, at the emulated
    time `at`; returns how many rules matched it.

    Not moto's `put_events`: that builds a new event (a new `id`, so a repeated delivery could not keep
    the one it repeats), hands it to DISABLED rules too, and passes it through a default input template
    that drops `account`. Each rule here gets the event as it is, as moto's own S3 notifications do.
    """
    backend = events_backends[str(event["account"])][str(event["region"])]
    bus = backend.event_buses.get(DEFAULT_BUS)
    if bus is None:
        return 0
    as_moto_has_it: Any = dict(event)  # moto's TypedDict of an event, which this dict is
    matched = 0
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(as_moto_has_it):
            continue
        matched += 1
        rule.send_to_targets(copy.deepcopy(as_moto_has_it), transform_input=False)
    if matched:
        with _SENT_AT_LOCK:
            _SENT_AT[str(event["id"])] = at
            _SENT_AT.move_to_end(str(event["id"]))
            while len(_SENT_AT) > _SENT_AT_KEPT:
                _SENT_AT.popitem(last=False)
    return matched

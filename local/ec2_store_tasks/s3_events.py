"""moto's S3 and EventBridge, as S3 sends events to EventBridge: two shims, installed by `install()`.

Where a bucket's notification configuration has EventBridge delivery on, S3 puts its events on the
default bus of the bucket's Region (S3 user guide, "Using EventBridge",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html). moto 5.2.5 has the setting but:

1. its "Object Created" is not S3's shape (ev-events.html): `eTag` for `etag`, `reason` "ObjectCreated"
   for "PutObject"/"CopyObject"/..., the same `sequencer` for every event, `time` from the wall clock (the
   emulator's clock is the time of this world), and it is handed to the rules of every bus, custom buses
   included. Here "Object Created" is built by `event_shapes.object_created_event`, and every S3 event is
   put on the default bus only, at the emulator's time. The other types (Object Deleted, Object Tags
   Added, ...) keep a short detail (bucket, key, moto's reason): no rule of the notifier matches them.
   moto also sends "Object Tags Added" for every PutObject, tags or none; S3 does not, but no rule here
   cares.
2. GetBucketNotificationConfiguration leaves `EventBridgeConfiguration` out of its answer, so a caller
   cannot see that delivery is on. Here it is added when the bucket has it.

The emulator's own objects (a completed store's) are written with moto's notifications off, and sent by
`hint_events`, which also applies the hint faults; these shims serve everybody else's uploads, such as a
test or benchmark uploading `ami-….bin` objects no store made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import moto.s3.notifications as s3_notifications
from moto.s3.responses import S3Response

from .clock import CLOCK
from .event_shapes import OBJECT_CREATED_REASONS, envelope, object_created_event, put_on_default_bus
from .hint_events import stored_object

EVENTBRIDGE_ELEMENT: Final = "<EventBridgeConfiguration/>"

_MOTO_GET_NOTIFICATION: Final = S3Response.get_bucket_notification


def send_event_bridge_message(account_id: str, bucket: Any, event_name: Any, key: Any) -> None:
    """S3's EventBridge event for `event_name` on `key`, in place of moto's (same signature)."""
    name = str(getattr(event_name, "value", event_name))  # moto passes its S3NotificationEvent enum
    now = CLOCK.now()
    stored = stored_object(key)
    reason = OBJECT_CREATED_REASONS.get(name)
    if reason is not None:
        event = object_created_event(
            account_id=account_id, region=bucket.region_name, at=now, stored=stored, reason=reason
        )
    else:  # moto's detail for the other types, on the default bus at the emulator's time all the same
        try:
            detail_type = s3_notifications._detail_type(name)
        except ValueError:
            return  # a type S3 does not send to EventBridge
        detail = {"version": "0", "bucket": {"name": stored.bucket}, "object": {"key": stored.key}}
        detail["reason"] = name.split(":")[1]
        resources = [f"arn:aws:s3:::{stored.bucket}"]
        event = envelope("aws.s3", detail_type, account_id, bucket.region_name, now, resources, detail)
    put_on_default_bus(event, now)


def get_bucket_notification(response: Any) -> Any:
    """moto's GetBucketNotificationConfiguration answer, with `EventBridgeConfiguration` when it is on."""
    answer = _MOTO_GET_NOTIFICATION(response)
    configuration = response.backend.get_bucket_notification_configuration(response.bucket_name)
    if configuration is None or configuration.event_bridge is None:
        return answer
    status, headers, body = answer
    return status, headers, _with_eventbridge(str(body))


def _with_eventbridge(body: str) -> str:
    closing = "</NotificationConfiguration>"
    if closing in body:
        return body.replace(closing, f"{EVENTBRIDGE_ELEMENT}{closing}", 1)
    opening = body.find("<NotificationConfiguration")
    if opening < 0 or not body.rstrip().endswith("/>"):
        return body  # not the answer this shim knows: leave it as moto wrote it
    return f"{body.rstrip()[:-2]}>{EVENTBRIDGE_ELEMENT}{closing}"


_REPLACED: Final[tuple[tuple[Any, str, Callable[..., Any]], ...]] = (
    (s3_notifications, "_send_event_bridge_message", send_event_bridge_message),
    (S3Response, "get_bucket_notification", get_bucket_notification),
)


def install_s3_events() -> None:
    """Installs both shims (idempotent; moto looks both names up on each call)."""
    for owner, name, replacement in _REPLACED:
        if getattr(owner, name) is not replacement:
            setattr(owner, name, replacement)


def s3_events_installed() -> bool:
    return all(getattr(owner, name) is replacement for owner, name, replacement in _REPLACED)

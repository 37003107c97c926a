"""The buckets of the archive-assurance scenarios: one for each way the three settings can meet a store.

The assurance family (tests/chaos/assurance_scenarios.py) sets READABLE_BUCKETS and APPROVED_BUCKETS to
these names, so that a store's bucket decides what the notifier owes it:

- VAULT: readable and approved (an archive checked, Verified or not by what its object is);
- LOCKED_VAULT: readable and approved, but its bucket policy refuses the function's HeadObject;
- UNLISTED_VAULT: approved, not readable (NotVerified without a call to S3);
- SCRATCH: readable, not approved (an unapproved store, whose archive is checked too);
- STRAY: neither.

moto evaluates no bucket policy: the harness answers the handler's HeadObject into LOCKED_VAULT itself,
with the bare 403 that S3 sends to a HEAD it refuses.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from moto.s3.models import s3_backends

from local.lambda_context import ACCOUNT

VAULT = "ami-vault-main"
LOCKED_VAULT = "ami-vault-locked"
UNLISTED_VAULT = "ami-vault-unlisted"
SCRATCH = "scratch-exports"
STRAY = "stray-exports"
ARCHIVE_BUCKETS = (VAULT, LOCKED_VAULT, UNLISTED_VAULT, SCRATCH, STRAY)
READABLE = (VAULT, LOCKED_VAULT, SCRATCH)
# A prefix for two of the approved buckets and a name for the third, as the setting allows both.
APPROVED = ("ami-vault-m*", LOCKED_VAULT, UNLISTED_VAULT)
REFUSED = frozenset({LOCKED_VAULT})
_BUCKET_NAMED = "chaos_head_object_bucket"


def create_archive_buckets(s3: Any) -> None:
    """The buckets, each sending its events to EventBridge (so that a store's object is a hint when a
    scenario has hints on)."""
    for name in ARCHIVE_BUCKETS:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )


def empty_archive_buckets() -> None:
    """Every object gone, as at the start of a scenario (an AMI id of the last one may come again)."""
    s3 = s3_backends[ACCOUNT]["aws"]
    for name in ARCHIVE_BUCKETS:
        keys = s3.buckets[name].keys
        for key in list(keys):
            keys.pop(key)


def refuse_head_object(client: Any) -> None:
    """The bucket policy of the REFUSED buckets, on the handler's S3 client: HeadObject answers 403.
    Registered after tests.faults.AwsFaults, which counts the call first and may fail it otherwise."""
    client.meta.events.register(
        "before-parameter-build.s3.HeadObject", _note_bucket, unique_id="chaos-head-object-bucket"
    )
    client.meta.events.register("before-call.s3.HeadObject", _refuse, unique_id="chaos-bucket-policy")


def _note_bucket(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_BUCKET_NAMED] = params.get("Bucket")


def _refuse(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    if context.get(_BUCKET_NAMED) not in REFUSED:
        return None
    error = {"Error": {"Code": "403", "Message": "Forbidden"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    return AWSResponse("https://s3.amazonaws.com/", 403, {}, None), error

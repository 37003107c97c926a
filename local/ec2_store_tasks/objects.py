"""The object a completed store leaves in its bucket, and the knobs that spoil it.

EC2 packs the AMI into `<amiId>.bin` by a multipart upload, and the object becomes visible in the bucket
when the task completes (EC2 user guide, "Store and restore an AMI using S3":
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-store-restore.html). The emulator writes it into
moto S3 when the store completes by the emulator clock, with:
- a small deterministic body, JSON naming the AMI (CreateRestoreImageTask reads the name back from it);
- the metadata EC2 documents ("How AMI store and restore works",
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/store-restore-how-it-works.html): "The following
  data is also stored as S3 metadata tags on the S3 object: AMI name, AMI description, AMI registration
  date, AMI owner account, and a timestamp for the store operation". The page does not name the keys:
  those in METADATA_KEYS are the emulator's own;
- the store's `S3ObjectTags` as the object's tags.

`backend.objects.plan(ami_id, ...)` changes what the AMI's completed stores leave (`ObjectPlan`): no
object, an empty one, one in another storage class, or one that appears only later.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from moto.ec2.models import ec2_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.s3.utils import STORAGE_CLASS
from moto.utilities.utils import get_partition

from .clock import as_utc
from .hint_events import HintEvents

if TYPE_CHECKING:
    from .lifecycle import StoreTask

OBJECT_MAGIC: Final = "local.ec2_store_tasks"
METADATA_KEYS: Final = {
    "name": "ami-name",
    "description": "ami-description",
    "registered": "ami-registration-date",
    "owner": "ami-owner-account",
    "stored": "ami-store-timestamp",
}
"""The user-defined metadata EC2 documents, under the emulator's names (S3 answers them as
`x-amz-meta-<name>` headers, which boto3 shows in HeadObject's `Metadata` without the prefix)."""


@dataclass(frozen=True)
class ObjectPlan:
    """What the completed stores of one AMI leave in the bucket (by default: a non-empty STANDARD object,
    written when the store completes)."""

    left_out: bool = False
    """No object when the store completes; `backend.write_object(ami_id)` writes it whenever called."""
    delay_seconds: float = 0.0
    """The object appears this many seconds after the store completed, by the emulator clock."""
    empty: bool = False
    """The object holds 0 bytes."""
    storage_class: str | None = None
    """The object's storage class (`GLACIER`, `DEEP_ARCHIVE`, ...); None: STANDARD."""


class StoreObjects:
    """Writes the objects of one account and Region's completed stores, as their AMIs' plans say."""

    def __init__(self, account_id: str, region: str, hints: Callable[[], HintEvents]) -> None:
        self._account_id = account_id
        self._region = region
        self._hints = hints
        self._plans: dict[str, ObjectPlan] = {}
        self._late: list[tuple[datetime, int, StoreTask]] = []

    def plan(
        self,
        ami_id: str,
        *,
        left_out: bool = False,
        delay_seconds: float = 0.0,
        empty: bool = False,
        storage_class: str | None = None,
    ) -> None:
        """What the AMI's stores that complete from now on leave (`ObjectPlan`); it stays until changed,
        and a call with no knob restores the default."""
        if delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")
        if storage_class is not None and storage_class not in STORAGE_CLASS:
            raise ValueError(f"S3 has no storage class {storage_class!r}; one of {STORAGE_CLASS}")
        self._plans[ami_id] = ObjectPlan(left_out, delay_seconds, empty, storage_class)

    def completed(self, task: StoreTask, at: datetime) -> None:
        """The store ended successfully at `at`: its object is written now, later, or not at all."""
        plan = self._plans.get(task.ami_id, ObjectPlan())
        if plan.left_out:
            return
        if plan.delay_seconds > 0:
            heapq.heappush(self._late, (at + timedelta(seconds=plan.delay_seconds), task.seq, task))
            return
        self.write(task, at)

    def release(self, now: datetime) -> None:
        """Writes the late objects that are due by `now` (the backend's settling calls this)."""
        while self._late and self._late[0][0] <= now:
            due, _, task = heapq.heappop(self._late)
            if not task.object_written:
                self.write(task, due)

    def write(self, task: StoreTask, at: datetime) -> None:
        """Writes the store's object as written at `at` (`task.object_written` says whether it was)."""
        plan = self._plans.get(task.ami_id, ObjectPlan())
        s3 = s3_backends[self._account_id][get_partition(self._region)]
        body = b"" if plan.empty else _body(task)
        try:
            # moto's own S3 event is not S3's shape; hint_events sends S3's, where the bucket asks for it.
            key = s3.put_object(
                task.bucket, task.object_key, body, storage=plan.storage_class, disable_notification=True
            )
        except MissingBucket:
            return  # seeded task, or bucket deleted meanwhile: nothing to write into
        key.last_modified = as_utc(at).replace(tzinfo=None)  # the emulator's time, not moto's
        key.set_metadata({f"x-amz-meta-{name}": value for name, value in self._metadata(task).items()})
        if task.object_tags:
            s3.put_object_tagging(key, dict(task.object_tags))
        task.object_written = True
        # S3's event is stamped when the object is written: the completion, or later for a late object.
        self._hints().object_written(replace(task, end_time=at), self._account_id, self._region, key)

    def _metadata(self, task: StoreTask) -> dict[str, str]:
        """The documented metadata, from the AMI as moto EC2 has it (a seeded task's AMI may be unknown).
        The store's timestamp is its start: the metadata of a multipart upload is given when it begins."""
        image = ec2_backends[self._account_id][self._region].amis.get(task.ami_id)
        facts: Mapping[str, Any] = {
            "name": getattr(image, "name", None) or task.image_name,
            "description": getattr(image, "description", None),
            "registered": _timestamp(image.creation_date) if image is not None else None,
            "owner": getattr(image, "owner_id", None) or self._account_id,
            "stored": _timestamp(task.start_time),
        }
        return {METADATA_KEYS[fact]: str(value) for fact, value in facts.items() if value}


def _body(task: StoreTask) -> bytes:
    return json.dumps(
        {"format": OBJECT_MAGIC, "amiId": task.ami_id, "name": task.image_name}, sort_keys=True
    ).encode()


def stored_image(value: bytes) -> dict[str, Any]:
    """What an object the emulator wrote says of its AMI; empty for any other object."""
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    return data if isinstance(data, dict) and data.get("format") == OBJECT_MAGIC else {}


def _timestamp(when: datetime) -> str:
    """As EC2 shows an AMI's `CreationDate`: ISO 8601 in UTC, to the second."""
    return as_utc(when).strftime("%Y-%m-%dT%H:%M:%S.000Z")

"""The hints' path in the bill's child process (bench/bill/runs.py), for a mode whose template has the hint
queue and its event source mapping."""

from __future__ import annotations

from typing import Any

from bench.bill.invocation import Notifier
from bench.bill.profile import RunFigures

STORE_SECONDS = 3_600
"""A hinted store's planned length: longer than the timeline gives it, which ends it on purpose."""


class Hints:
    """The hints' path of a deployment with hints: stores started through EC2, and the batches the
    emulated event source mapping hands the handler, measured."""

    def __init__(self, session: Any, deployment: Any, notifier: Notifier, backend: Any) -> None:
        from bench.scenario import BUCKET
        from local.ec2_store_tasks import HintEvents

        self.deployment = deployment
        self.notifier = notifier
        self.backend = backend
        self.ec2 = session.client("ec2")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        # The user's own bucket setting: S3 sends the bucket's events to EventBridge.
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        backend.hint_events = HintEvents(cloudtrail=True, s3=True)

    def start(self, store: int) -> str:
        """A store started now by CreateStoreImageTask: its CloudTrail start goes to the hint queue."""
        from bench.scenario import BUCKET

        ami = str(self.ec2.register_image(Name=f"golden-{store}")["ImageId"])
        self.backend.plan(ami, duration_seconds=STORE_SECONDS)
        self.ec2.create_store_image_task(ImageId=ami, Bucket=BUCKET)
        return ami

    def deliver(self, figures: RunFigures) -> None:
        """The queue's one batch handed to the handler now, measured into `figures`."""
        batch = self.deployment.deliver_hints(lambda event: self.notifier.run(figures, event=event))
        if batch is None or batch.error is not None or batch.retried or self.deployment.hints.visible():
            raise RuntimeError(f"a hint batch was not answered as one whole batch: {batch}")

"""EC2 AMI store-task emulator plugged into moto (which implements none of the three calls).

    from local.ec2_store_tasks import install, store_tasks_backend, reset

    install()                                    # once; before or after mock_aws() starts
    with mock_aws():
        backend = store_tasks_backend("123456789012", "us-east-1")
        backend.plan(ami_id, duration_seconds=600, fail_reason=None)
        ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)
        backend.clock.advance(600)               # the task completes; <amiId>.bin lands in the bucket
        backend.hint_events.cloudtrail = True    # optional: the start and end events on the default bus

Server mode: `start_server()` (a ThreadedMotoServer on a free port) or `python -m local.ec2_store_tasks`.
See README.md beside this file (shown in docs/local-aws.md) for the rules, the error codes and the
choices made.
"""

from .api import StoreTaskError
from .backend import StoreTaskBackend
from .clock import CLOCK, Clock
from .describe import (
    DEFAULT_PAGE_SIZE,
    DescribeCall,
    DescribeHook,
    DescribePage,
    StoreTaskResult,
    UnknownImageIds,
)
from .event_shapes import CallerIdentity
from .faults import Fault, FaultInjector
from .hint_events import HintDelivery, HintEvents, HintFaults
from .lifecycle import COMPLETED, DEFAULT_DURATION_SECONDS, FAILED, IN_PROGRESS, StoreTask
from .listing import LISTING_WINDOW
from .registry import reset, settle_everywhere, store_tasks_backend
from .server import endpoint_url, start_server
from .wire import install, installed

__all__ = [
    "CLOCK",
    "COMPLETED",
    "DEFAULT_DURATION_SECONDS",
    "DEFAULT_PAGE_SIZE",
    "FAILED",
    "IN_PROGRESS",
    "LISTING_WINDOW",
    "CallerIdentity",
    "Clock",
    "DescribeCall",
    "DescribeHook",
    "DescribePage",
    "Fault",
    "FaultInjector",
    "HintDelivery",
    "HintEvents",
    "HintFaults",
    "StoreTask",
    "StoreTaskBackend",
    "StoreTaskError",
    "StoreTaskResult",
    "UnknownImageIds",
    "endpoint_url",
    "install",
    "installed",
    "reset",
    "settle_everywhere",
    "start_server",
    "store_tasks_backend",
]

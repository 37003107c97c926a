"""What every message about a store task links to and tells of its duration, a state change's or a
notice's: the consoles of its AMI, bucket and object, in the Region's partition, and the time since its
start in words."""

from __future__ import annotations

from typing import Protocol

from ami_store_notifier.domain.model import parse_timestamp
from ami_store_notifier.domain.partitions import partition_of


class AboutAStore(Protocol):
    """What every message about a store task carries, a state change's or a notice's: what its links,
    durations and chat thread are made of."""

    @property
    def ami_id(self) -> str: ...

    @property
    def bucket(self) -> str: ...

    @property
    def s3_object_key(self) -> str: ...

    @property
    def task_start_time(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def observed_at(self) -> str: ...


# The consoles of the partitions that have their own, where the partition's accounts sign in:
# - China's: "The domain for Amazon Web Services China is www.amazonaws.cn"
#   (https://docs.amazonaws.cn/en_us/aws/latest/userguide/general-info.html), and its guides open
#   https://console.amazonaws.cn/ec2/ and https://console.amazonaws.cn/s3/;
# - GovCloud's: "open the IAM console at https://console.amazonaws-us-gov.com/iam"
#   (https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/configure-account.html).
# The isolated partitions publish no console address: they keep the commercial one.
_PARTITION_CONSOLES = {
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}
# The commercial console per service: S3's global, EC2's at the Region's endpoint,
# "https://region-code.console.aws.amazon.com"
# (https://docs.aws.amazon.com/general/latest/gr/mgmt-console.html).
_COMMERCIAL_CONSOLES = {
    "ec2": "https://{region}.console.aws.amazon.com",
    "s3": "https://s3.console.aws.amazon.com",
}


def _console(service: str, region: str) -> str:
    """Where a service's console is for a Region, in the Region's partition."""
    home = _PARTITION_CONSOLES.get(partition_of(region), _COMMERCIAL_CONSOLES[service])
    return f"{home.format(region=region)}/{service}"


def ami_console_url(store: AboutAStore) -> str:
    region = store.region
    return f"{_console('ec2', region)}/home?region={region}#ImageDetails:imageId={store.ami_id}"


def bucket_console_url(store: AboutAStore) -> str:
    return f"{_console('s3', store.region)}/buckets/{store.bucket}?region={store.region}"


def object_console_url(store: AboutAStore) -> str:
    return (
        f"{_console('s3', store.region)}/object/{store.bucket}?region={store.region}"
        f"&prefix={store.s3_object_key}"
    )


def elapsed_text(store: AboutAStore) -> str:
    """How long after its start the move was observed, in words ("about 7 min")."""
    return duration_text(store.task_start_time, store.observed_at)


def duration_text(start: str, end: str) -> str:
    """The time from one of the contract's timestamps to another, in words ("about 1 h 5 min")."""
    seconds = max(int((parse_timestamp(end) - parse_timestamp(start)).total_seconds()), 0)
    hours, remainder = divmod(seconds, 3600)
    minutes = remainder // 60
    if hours:
        return f"about {hours} h {minutes} min"
    if minutes:
        return f"about {minutes} min"
    return "under a minute"

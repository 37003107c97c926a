"""The GiB of EBS snapshot data each AMI holds, by DescribeImages: what a store counts against EC2's
1,200 GB of snapshot data in progress per account and Region."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ami_store_notifier.adapters.aws import error_code, transient_errors
from ami_store_notifier.adapters.ec2_task_source import AMI_UNKNOWN_CODES

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import ImageTypeDef

logger = logging.getLogger(__name__)
# DescribeImages documents no maximum for ImageIds; a hundred keeps each request and answer small.
IMAGE_IDS_PER_CALL = 100
# Calls one lookup makes at most: a refused request asked again in halves could otherwise take two calls
# per unknown AMI. What is left unasked stays unsized, and a later run asks again.
MAX_CALLS_PER_LOOKUP = 8


class Ec2ImageSizes:
    def __init__(self, ec2_client: EC2Client) -> None:
        self._ec2 = ec2_client
        self._calls_left = MAX_CALLS_PER_LOOKUP

    def snapshot_gigabytes(self, ami_ids: Sequence[str]) -> dict[str, int | None]:
        unique = list(dict.fromkeys(ami_ids))
        sizes: dict[str, int | None] = {}
        self._calls_left = MAX_CALLS_PER_LOOKUP
        for start in range(0, len(unique), IMAGE_IDS_PER_CALL):
            sizes.update(self._sizes(unique[start : start + IMAGE_IDS_PER_CALL]))
        return sizes

    def _sizes(self, ami_ids: Sequence[str]) -> dict[str, int | None]:
        """DescribeImages' reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html)
        documents two answers for a deregistered AMI: left out of the results for a while, then an
        error that its id cannot be found, which refuses the whole request. A refused request is asked
        again in halves, down to the one id it refuses."""
        if self._calls_left <= 0:
            return {}
        self._calls_left -= 1
        try:
            described = self._describe(ami_ids)
        except ClientError as error:
            if error_code(error) not in AMI_UNKNOWN_CODES:
                # Refused (an SCP, a permissions boundary): the stores count as of unknown size; the
                # quota is an estimate and must never keep a run from announcing.
                logger.warning("DescribeImages refused; sizes unknown", extra={"error": str(error)})
                return dict.fromkeys(ami_ids)
            if len(ami_ids) == 1:
                return {ami_ids[0]: None}
            half = len(ami_ids) // 2
            return {**self._sizes(ami_ids[:half]), **self._sizes(ami_ids[half:])}
        return {ami_id: described.get(ami_id) for ami_id in ami_ids}

    def _describe(self, ami_ids: Sequence[str]) -> dict[str, int]:
        # Without IncludeDisabled no disabled AMI is described; without IncludeDeprecated a deprecated
        # one only to its owner (DescribeImages' parameters).
        pages = self._ec2.get_paginator("describe_images").paginate(
            ImageIds=list(ami_ids), IncludeDeprecated=True, IncludeDisabled=True
        )
        with transient_errors("ec2:DescribeImages"):
            return {image["ImageId"]: _gigabytes(image) for page in pages for image in page["Images"]}


def _gigabytes(image: ImageTypeDef) -> int:
    """The sum of the EBS volume sizes of the AMI's block device mappings (an instance store volume has
    no Ebs, and no snapshot)."""
    return sum(
        mapping.get("Ebs", {}).get("VolumeSize", 0) for mapping in image.get("BlockDeviceMappings", [])
    )

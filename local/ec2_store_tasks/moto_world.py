"""What the store-task actions read and change of moto's EC2 and S3: the AMIs, the buckets and their
objects, and the AMI a restore registers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.ec2.models import ec2_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from .api import StoreTaskError, invalid
from .objects import stored_image


def s3_backend(account_id: str, region: str) -> Any:
    return s3_backends[account_id][get_partition(region)]


def amis(account_id: str, region: str) -> dict[str, Any]:
    """moto EC2's AMIs of the account and region."""
    found: dict[str, Any] = ec2_backends[account_id][region].amis
    return found


def check_bucket(account_id: str, region: str, bucket: str) -> None:
    """Refuses a bucket moto S3 does not have, or has in another region (InvalidParameterValue)."""
    try:
        found = s3_backend(account_id, region).get_bucket(bucket)
    except MissingBucket:
        raise invalid(f"The bucket {bucket} does not exist or you do not have access to it.") from None
    where = getattr(found, "region_name", region)
    if where != region:
        raise invalid(f"The bucket {bucket} is in {where}, not in {region}.")


def restore_image(
    account_id: str,
    region: str,
    bucket: str,
    object_key: str,
    name: str | None,
    image_tags: Mapping[str, str] | None,
) -> str:
    """Registers the AMI stored in `s3://bucket/object_key` in moto EC2; its id. Without `name` it takes
    the stored AMI's name."""
    check_bucket(account_id, region, bucket)
    key = s3_backend(account_id, region).get_object(bucket, object_key)
    if key is None:
        raise invalid(f"The object {object_key} does not exist in the bucket {bucket}.")
    name = name or stored_image(key.value).get("name") or f"restored-{object_key.removesuffix('.bin')}"
    ec2 = ec2_backends[account_id][region]
    if any(a.name == name and a.owner_id == account_id for a in ec2.amis.values()):
        raise StoreTaskError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use")
    image = ec2.register_image(name=name, description=f"Restored from s3://{bucket}/{object_key}")
    if image_tags:
        ec2.create_tags([image.id], dict(image_tags))
    return str(image.id)

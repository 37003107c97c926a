"""CreateRestoreImageTask registers an AMI in moto EC2."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.ec2_store_tasks import StoreTaskBackend


def stored(ec2: Any, store_tasks: StoreTaskBackend, ami_id: str, bucket: str) -> str:
    key = str(ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)["ObjectKey"])
    store_tasks.clock.advance(300)
    return key


def test_restore_registers_an_ami_with_the_given_name_and_tags(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    key = stored(ec2, store_tasks, ami_id, bucket)

    image_id = ec2.create_restore_image_task(
        Bucket=bucket,
        ObjectKey=key,
        Name="restored-golden",
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "origin", "Value": "s3"}]}],
    )["ImageId"]

    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image_id != ami_id
    assert image["Name"] == "restored-golden"
    assert image["Tags"] == [{"Key": "origin", "Value": "s3"}]


def test_restore_without_a_name_takes_the_stored_amis_name_which_must_be_free(
    ec2: Any, bucket: str, ami_id: str, store_tasks: StoreTaskBackend
) -> None:
    key = stored(ec2, store_tasks, ami_id, bucket)

    with pytest.raises(ClientError) as err:
        ec2.create_restore_image_task(Bucket=bucket, ObjectKey=key)
    assert err.value.response["Error"]["Code"] == "InvalidAMIName.Duplicate"

    ec2.deregister_image(ImageId=ami_id)
    image_id = ec2.create_restore_image_task(Bucket=bucket, ObjectKey=key)["ImageId"]
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Name"] == "golden-image"


def test_restore_of_a_missing_object_is_refused(ec2: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        ec2.create_restore_image_task(Bucket=bucket, ObjectKey="ami-0123456789abcdef0.bin", Name="never")

    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_restore_before_the_store_completed_is_refused(ec2: Any, bucket: str, ami_id: str) -> None:
    key = ec2.create_store_image_task(ImageId=ami_id, Bucket=bucket)["ObjectKey"]

    with pytest.raises(ClientError) as err:
        ec2.create_restore_image_task(Bucket=bucket, ObjectKey=key, Name="too-early")

    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"

"""The GiB of snapshot data each AMI holds, by DescribeImages on moto EC2, with EC2's refusal of an id it
no longer knows (which moto does not send while it finds another id of the request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ami_store_notifier.adapters.image_sizes import Ec2ImageSizes
from ami_store_notifier.ports import TransientAwsError
from tests.faults import AwsFaults
from tests.integration.conftest import ImagesEc2

MOTO_ROOT_VOLUME_GIB = 15


def test_each_ami_counts_the_sum_of_its_ebs_volume_sizes(
    images_ec2: ImagesEc2, ami_with_volumes: Callable[..., str], ami_id: str
) -> None:
    sized = ami_with_volumes(20, 30, None)

    sizes = Ec2ImageSizes(images_ec2.client).snapshot_gigabytes([sized, ami_id])

    assert sizes == {sized: 50, ami_id: MOTO_ROOT_VOLUME_GIB}
    assert images_ec2.requests == [[sized, ami_id]]


def test_an_ami_ec2_leaves_out_of_its_answer_counts_as_none(
    images_ec2: ImagesEc2, ec2: Any, new_ami: Callable[[], str]
) -> None:
    kept, deregistered = new_ami(), new_ami()
    ec2.deregister_image(ImageId=deregistered)

    sizes = Ec2ImageSizes(images_ec2.client).snapshot_gigabytes([kept, deregistered])

    assert sizes == {kept: MOTO_ROOT_VOLUME_GIB, deregistered: None}


def test_a_request_refused_for_one_unknown_id_is_split_in_halves_until_that_id_stands_alone(
    images_ec2: ImagesEc2, ec2: Any, new_ami: Callable[[], str]
) -> None:
    amis = [new_ami() for _ in range(4)]
    ec2.deregister_image(ImageId=amis[3])
    images_ec2.refuse_unknown = True

    sizes = Ec2ImageSizes(images_ec2.client).snapshot_gigabytes(amis)

    assert sizes == {**dict.fromkeys(amis[:3], MOTO_ROOT_VOLUME_GIB), amis[3]: None}
    assert images_ec2.requests == [amis, amis[:2], amis[2:], [amis[2]], [amis[3]]]


def test_ids_are_asked_a_hundred_at_a_time_and_each_once(
    images_ec2: ImagesEc2, new_ami: Callable[[], str]
) -> None:
    amis = [new_ami() for _ in range(201)]

    sizes = Ec2ImageSizes(images_ec2.client).snapshot_gigabytes(amis + amis[:5])

    assert sizes == dict.fromkeys(amis, MOTO_ROOT_VOLUME_GIB)
    assert [len(ids) for ids in images_ec2.requests] == [100, 100, 1]


def test_no_ami_asks_ec2_nothing(images_ec2: ImagesEc2) -> None:
    assert Ec2ImageSizes(images_ec2.client).snapshot_gigabytes([]) == {}
    assert images_ec2.requests == []


def test_ec2_throttling_after_the_retries_raises_a_transient_error(
    images_ec2: ImagesEc2, ami_id: str
) -> None:
    faults = AwsFaults()
    faults.attach(images_ec2.client)
    faults.inject("ec2", "DescribeImages", "throttle")

    with pytest.raises(TransientAwsError) as raised:
        Ec2ImageSizes(images_ec2.client).snapshot_gigabytes([ami_id])

    assert raised.value.throttled

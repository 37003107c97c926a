"""Archive assurance through the real handler, moto S3 and the EC2 store-task emulator, read from real
subscribers: the checks' notices reach the topic, the bus (and the docs' cleanup rule) once each."""

from __future__ import annotations

import pytest

from local.deployment import RULE_QUEUE, TOPIC_QUEUE, VERIFIED_QUEUE
from local.ec2_store_tasks import CLOCK
from tests.world import REGION

OTHER_BUCKET = "scratch-exports"


@pytest.fixture
def assured(monkeypatch, bucket, s3):
    """READABLE_BUCKETS names the archive bucket; the scratch bucket exists but is neither readable nor
    approved; stalls are announced after 20 watched minutes."""
    s3.create_bucket(Bucket=OTHER_BUCKET)
    monkeypatch.setenv("READABLE_BUCKETS", bucket)
    monkeypatch.setenv("APPROVED_BUCKETS", "ami-*")
    monkeypatch.setenv("STALL_AFTER_MINUTES", "20")


def run_minutes(run_handler, minutes):
    for _ in range(minutes):
        CLOCK.advance(60)
        run_handler()


def notices(items, kind):
    return [item for item in items if item.notice is not None and item.notice.value == kind]


def test_a_whole_archive_is_verified_once_and_reaches_the_cleanup_rule(
    assured, run_handler, deployment, store_tasks, new_ami, ec2, bucket
):
    run_handler()
    ami = new_ami()
    store_tasks.plan(ami, duration_seconds=300)
    ec2.create_store_image_task(ImageId=ami, Bucket=bucket)
    run_minutes(run_handler, 8)

    topic = deployment.receive(TOPIC_QUEUE)
    [check] = notices(topic, "Verification")
    assert check.detail["verdict"] == "Verified"
    assert check.detail["objectSize"] > 0
    assert check.attributes["verdict"] == "Verified"
    assert [item.detail["amiId"] for item in deployment.receive(VERIFIED_QUEUE)] == [ami]
    assert [item.detail["state"] for item in deployment.receive(RULE_QUEUE)] == ["Completed"]


def test_an_empty_archive_and_one_in_an_unreadable_bucket_are_not_verified_with_their_reasons(
    assured, run_handler, deployment, store_tasks, new_ami, ec2, bucket
):
    run_handler()
    empty, elsewhere = new_ami(), new_ami()
    store_tasks.objects.plan(empty, empty=True)
    for ami, target in ((empty, bucket), (elsewhere, OTHER_BUCKET)):
        store_tasks.plan(ami, duration_seconds=300)
        ec2.create_store_image_task(ImageId=ami, Bucket=target)
    run_minutes(run_handler, 8)

    checks = {
        item.detail["amiId"]: item.detail for item in notices(deployment.receive(TOPIC_QUEUE), "Verification")
    }
    assert checks[empty]["reasons"] == ["empty: the object holds 0 bytes"]
    assert checks[elsewhere]["reasons"] == [
        f"s3://{OTHER_BUCKET} is not among the buckets this deployment may read (readableBuckets)"
    ]
    assert deployment.receive(VERIFIED_QUEUE) == []


def test_an_object_that_appears_late_is_verified_once_it_is_there(
    assured, run_handler, deployment, store_tasks, new_ami, ec2, bucket
):
    run_handler()
    ami = new_ami()
    store_tasks.objects.plan(ami, delay_seconds=180)
    store_tasks.plan(ami, duration_seconds=120)
    ec2.create_store_image_task(ImageId=ami, Bucket=bucket)
    run_minutes(run_handler, 10)

    [check] = notices(deployment.receive(TOPIC_QUEUE), "Verification")
    assert check.detail["verdict"] == "Verified"


def test_a_store_into_an_unapproved_bucket_is_announced_once_and_a_stall_once(
    assured, run_handler, deployment, store_tasks, new_ami, ec2
):
    run_handler()
    ami = new_ami()
    store_tasks.plan(ami, duration_seconds=3600)
    ec2.create_store_image_task(ImageId=ami, Bucket=OTHER_BUCKET)
    run_minutes(run_handler, 2)
    store_tasks.stall(ami)
    run_minutes(run_handler, 40)

    topic = deployment.receive(TOPIC_QUEUE)
    [alert] = notices(topic, "UnapprovedBucket")
    assert (alert.detail["amiId"], alert.detail["bucket"]) == (ami, OTHER_BUCKET)
    assert alert.subject.startswith("ALERT") or "unapproved" in alert.subject.lower()
    [stall] = notices(topic, "Stalled")
    assert stall.detail["stallAfterMinutes"] == 20


def test_the_store_quota_is_reported_from_the_amis_block_device_mappings(
    assured, run_handler, store_tasks, new_ami, ec2, bucket
):
    run_handler()
    amis = [new_ami(), new_ami()]
    for ami in amis:
        store_tasks.plan(ami, duration_seconds=3600)
        ec2.create_store_image_task(ImageId=ami, Bucket=bucket)
    CLOCK.advance(60)
    [report] = run_handler()["regions"]

    sizes = ec2.describe_images(ImageIds=amis)["Images"]
    expected = sum(
        mapping["Ebs"]["VolumeSize"]
        for image in sizes
        for mapping in image["BlockDeviceMappings"]
        if "Ebs" in mapping
    )
    assert (report["region"], report["storeQuotaGigabytes"]) == (REGION, expected)
    assert expected > 0

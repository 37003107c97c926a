"""One region's failure stays in that region: the others are read, claimed and delivered in the same run."""

from __future__ import annotations

import pytest

from ami_store_notifier import handler
from local.deployment import RULE_QUEUE, TOPIC_QUEUE
from local.ec2_store_tasks import CLOCK, StoreTaskError, store_tasks_backend
from tests.emf import SERVICE_ONLY, published
from tests.world import ACCOUNT

REFUSING = "ap-south-2"
HEALTHY = "us-east-1"


@pytest.fixture
def two_regions(monkeypatch, run_handler, store_tasks, bucket):
    """The refusing region listed first; the healthy one has a store that fails after the baseline run."""
    monkeypatch.setenv("REGIONS", f"{REFUSING},{HEALTHY}")
    monkeypatch.setenv("PAGE_SIZE", "2")
    handler.wiring.cache_clear()
    store_tasks.add_task("ami-0aaaaaaaaaaaaaaa1", bucket, CLOCK.now(), "InProgress", 10)
    return store_tasks_backend(ACCOUNT, REFUSING)


def region_failures(output: str) -> dict[tuple[str, tuple[str, ...]], list[float]]:
    return {metric: values for metric, values in published(output).items() if metric[0] == "RegionFailures"}


def test_a_region_refusing_every_call_does_not_stop_the_region_after_it(
    two_regions, run_handler, store_tasks, deployment, capsys, caplog
):
    two_regions.faults.inject("DescribeStoreImageTasks", "UnauthorizedOperation", times=100)
    run_handler()
    store_tasks.fail("ami-0aaaaaaaaaaaaaaa1", "snapshot deleted")
    CLOCK.advance(60)
    capsys.readouterr()
    caplog.clear()

    result = run_handler()

    assert [report["region"] for report in result["regions"]] == [HEALTHY]
    assert result["failedRegions"] == [
        {
            "region": REFUSING,
            "errorCode": "UnauthorizedOperation",
            "message": result["failedRegions"][0]["message"],
        }
    ]
    assert "You are not authorized" in result["failedRegions"][0]["message"]
    for queue in (TOPIC_QUEUE, RULE_QUEUE):
        received = [(item.detail["region"], item.detail["state"]) for item in deployment.receive(queue)]
        assert received == [(HEALTHY, "Failed")]
    # One metric for all regions, so one alarm covers them; the log line names the region.
    assert region_failures(capsys.readouterr().out) == {("RegionFailures", SERVICE_ONLY): [1.0]}
    logged = [record for record in caplog.records if record.getMessage().startswith("Region failed")]
    assert [(record.levelname, record.failure["region"]) for record in logged] == [("ERROR", REFUSING)]
    assert logged[0].failure["errorCode"] == "UnauthorizedOperation"


def test_a_region_failing_mid_listing_commits_nothing_and_catches_up_when_it_recovers(
    two_regions, run_handler, store_tasks, deployment, bucket, boto_session, capsys
):
    boto_session.client("s3", region_name=REFUSING).create_bucket(
        Bucket="south-archive", CreateBucketConfiguration={"LocationConstraint": REFUSING}
    )
    for number in range(1, 6):
        two_regions.add_task(f"ami-0bbbbbbbbbbbbbbb{number}", "south-archive", CLOCK.now(), "InProgress", 5)
    run_handler()

    def refuse_the_second_page(backend, call):
        if call.next_token is not None:
            raise StoreTaskError("OptInRequired", "You are not subscribed to this service.", status=401)

    two_regions.on_describe = refuse_the_second_page
    two_regions.complete("ami-0bbbbbbbbbbbbbbb1")
    store_tasks.complete("ami-0aaaaaaaaaaaaaaa1")
    CLOCK.advance(60 * 61)  # the hourly full listing: more than one page in the refusing region
    failed = run_handler()

    assert [failure["errorCode"] for failure in failed["failedRegions"]] == ["OptInRequired"]
    assert [(item.detail["region"], item.detail["state"]) for item in deployment.receive(RULE_QUEUE)] == [
        (HEALTHY, "Completed")
    ]

    two_regions.on_describe = None
    CLOCK.advance(60)
    recovered = run_handler()

    assert recovered["failedRegions"] == []
    assert [(item.detail["region"], item.detail["amiId"]) for item in deployment.receive(RULE_QUEUE)] == [
        (REFUSING, "ami-0bbbbbbbbbbbbbbb1")
    ]


def test_regions_failing_together_are_counted_in_one_metric_and_the_heartbeat_falls_silent(
    two_regions, run_handler, store_tasks, capsys, caplog
):
    for backend in (two_regions, store_tasks):
        backend.faults.inject("DescribeStoreImageTasks", "UnauthorizedOperation", times=100)
    capsys.readouterr()
    caplog.clear()

    result = run_handler()

    assert [failure["region"] for failure in result["failedRegions"]] == [REFUSING, HEALTHY]
    # No region reached AWS: no heartbeat, which the NoSuccessfulPolls alarm reads as breaching.
    assert published(capsys.readouterr().out) == {("RegionFailures", SERVICE_ONLY): [1.0, 1.0]}
    logged = [record for record in caplog.records if record.getMessage().startswith("Region failed")]
    assert [record.failure["region"] for record in logged] == [REFUSING, HEALTHY]

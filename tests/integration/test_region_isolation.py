"""One region's failure stays in that region: the others are read, claimed and delivered in the same run."""

from __future__ import annotations

import json

import pytest

from ami_store_notifier import handler
from local.deployment import RULE_QUEUE, TOPIC_QUEUE
from local.ec2_store_tasks import CLOCK, StoreTaskError, store_tasks_backend
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


def emitted_metrics(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def region_failure_counts(output: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for document in emitted_metrics(output):
        names = [metric["Name"] for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
        if "RegionFailures" in names:
            assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "region"]]
            values = document["RegionFailures"]  # EMF: one value or a list of values
            total = sum(values) if isinstance(values, list) else values
            counts[document["region"]] = counts.get(document["region"], 0) + total
    return counts


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
    assert region_failure_counts(capsys.readouterr().out) == {REFUSING: 1}
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

"""The store quota on the stack's side: every deployment may size its stores (DescribeImages, in the Regions
it polls), and the StoreQuota alarm and graph watch the StoreQuotaGigabytes metric against EC2's quota
(infra/store_quota.py)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from ami_store_notifier.ec2_limits import STORE_QUOTA_GB
from infra.notifier import AmiStoreNotifier
from infra.settings import load_settings
from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    IMPLICIT_DENY,
    REGION,
    Deployment,
    Request,
    evaluate_identity_policy,
)
from tests.infra.support import Synthesized
from tests.infra.template_reading import dashboard_widgets, poller_policy, statement

SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/session"


def alarm(template: dict[str, Any], suffix: str) -> dict[str, Any]:
    (found,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and str(resource["Properties"]["AlarmName"]).endswith(f"-{suffix}")
    ]
    return dict(found)


# --- DescribeImages in every deployment ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["synth", "lean", "archive_assurance"])
def test_every_deployment_may_describe_images_in_the_polled_regions_only(
    request: pytest.FixtureRequest, variant: str
) -> None:
    synthesized: Synthesized = request.getfixturevalue(variant)
    assert statement(synthesized.template_json, "SizeStoresForTheQuota") == {
        "Sid": "SizeStoresForTheQuota",
        "Effect": "Allow",
        "Action": "ec2:DescribeImages",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": [{"Ref": "AWS::Region"}]}},
    }
    policy = poller_policy(synthesized, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))

    def describing(region: str) -> str:
        context = {"aws:RequestedRegion": region}
        return evaluate_identity_policy(
            policy, Request("ec2:DescribeImages", "*", principal_arn=SESSION, context=context)
        )

    assert describing(REGION) == ALLOW
    assert describing("ap-south-1") == IMPLICIT_DENY


def test_the_role_describes_images_in_every_configured_region(custom: Synthesized) -> None:
    condition = statement(custom.template_json, "SizeStoresForTheQuota")["Condition"]
    assert condition == {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}


# --- the StoreQuota alarm and its graph ---------------------------------------------------------------------


def test_the_store_quota_alarm_fires_at_90_percent_of_the_quota_in_the_fullest_region(
    synth: Synthesized,
) -> None:
    props = alarm(synth.template_json, "StoreQuota")
    assert props["AlarmName"] == "AmiStoreNotifier-StoreQuota"
    assert (props["Namespace"], props["MetricName"]) == ("AmiStoreNotifier", "StoreQuotaGigabytes")
    assert props["Dimensions"] == [{"Name": "service", "Value": "AmiStoreNotifier"}]
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Maximum", 300, 1)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1080)
    assert props["Threshold"] == STORE_QUOTA_GB * 90 / 100
    # Published only while stores are in progress: silence is nothing in progress.
    assert props["TreatMissingData"] == "notBreaching"
    assert "aws ec2 describe-store-image-tasks --region <region>" in props["AlarmDescription"]
    assert "Name=task-state,Values=InProgress" in props["AlarmDescription"]


def test_the_store_quota_alarm_looks_at_a_whole_schedule_period_when_it_is_longer_than_five_minutes() -> None:
    stack = Stack(App(), "Hourly")
    AmiStoreNotifier(stack, "Default", settings=load_settings({"scheduleMinutes": 60}.get))
    props = alarm(Template.from_stack(stack).to_json(), "StoreQuota")
    assert (props["Period"], props["Statistic"]) == (3600, "Maximum")


def test_the_heartbeat_only_mode_has_no_store_quota_alarm_but_still_sizes_stores(lean: Synthesized) -> None:
    names = [
        resource["Properties"]["AlarmName"] for resource in lean.resources("AWS::CloudWatch::Alarm").values()
    ]
    assert names == ["AmiStoreNotifier-NoSuccessfulPolls"]
    assert statement(lean.template_json, "SizeStoresForTheQuota")["Action"] == "ec2:DescribeImages"


def test_two_stacks_in_one_account_and_region_each_have_their_own_store_quota_alarm_and_metric(
    synth: Synthesized, second_stack: Synthesized
) -> None:
    first, second = alarm(synth.template_json, "StoreQuota"), alarm(second_stack.template_json, "StoreQuota")
    assert (first["AlarmName"], second["AlarmName"]) == (
        "AmiStoreNotifier-StoreQuota",
        "AmiStoreNotifierStaging-StoreQuota",
    )
    assert first["Dimensions"] != second["Dimensions"]


def test_the_dashboard_graphs_the_store_quota_under_the_quota_and_the_alarms_threshold(
    synth: Synthesized,
) -> None:
    graphing = {
        widget["properties"]["title"]: widget["properties"]
        for widget in dashboard_widgets(synth)
        if any("StoreQuotaGigabytes" in line for line in widget["properties"].get("metrics", []))
    }
    ((title, quota),) = graphing.items()
    assert title.startswith("Store quota")
    ((namespace, name, *_, options),) = quota["metrics"]
    assert (namespace, name, options["stat"]) == ("AmiStoreNotifier", "StoreQuotaGigabytes", "Maximum")
    marks = {mark["label"]: mark["value"] for mark in quota["annotations"]["horizontal"]}
    assert marks == {"EC2's store quota": 1200, "StoreQuota alarm": 1080}
    assert quota["yAxis"]["left"]["min"] == 0

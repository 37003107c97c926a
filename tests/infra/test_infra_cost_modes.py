"""What each deployment mode keeps that is billed by the month, and every alarm's meaning under missing data.

Billed by the month whatever the notifier does (issue 19): a customer managed KMS key, $1
(https://aws.amazon.com/kms/pricing/); a standard alarm, $0.10 per alarm metric, and a dashboard, $3 past an
account's first three (https://aws.amazon.com/cloudwatch/pricing/). The settings `customerManagedKey`,
`alarms` and `dashboard` choose them; StackSet spokes leave the dashboard and the key out unless set.

An alarm reads the silence of its metric as CloudWatch's TreatMissingData says. The poller publishes its
counters only when they are not zero, and its heartbeat every run (report.py): a counter's silence must be
OK, the heartbeat's silence is the failure, and a dead-letter queue that falls asleep keeps its state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template

from ami_store_notifier.report import ALL_METRICS, NAMESPACE
from infra.encrypted_topic import AWS_MANAGED_SNS_KEY
from infra.rollout import MANAGEMENT_SPOKE_STACK_PREFIX, spoke_settings
from infra.settings import load_settings
from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    OTHER_ACCOUNT,
    REGION,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate,
    evaluate_identity_policy,
)
from tests.infra.support import ROLLOUT, Synthesized, cdk_json_context

KEY, ALARM, DASHBOARD = "AWS::KMS::Key", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard"
CLOUDWATCH = "cloudwatch.amazonaws.com"

# (customer managed keys, alarms, dashboards) of each variant the suite synthesizes.
MODES = {
    "synth": (1, 5, 1),  # the default: one key for every topic, five alarms, the dashboard
    "custom": (1, 5, 1),  # two Regions polled, still one RegionFailures and one StoreQuota alarm
    "chat": (1, 5, 1),  # the chat topic shares the key
    "spoke": (1, 6, 1),  # a stack forwarding to a hub, deployed as any stack: + HubForwardingDeadLetters
    "lean": (0, 1, 0),  # the heartbeat alarm only, no dashboard, no customer managed key
    "hints": (1, 6, 1),  # + HintDeadLetters
    "quiet": (1, 7, 1),  # + HintDeadLetters and StartsWithoutHint
    "archive_assurance": (1, 5, 1),  # archive checks, alerts and stalls add no alarm
    "hub": (1, 3, 0),  # the hub: its key, its three alarms whatever `alarms` says
    "hub_chat": (1, 3, 0),
    "hub_lean": (0, 3, 0),
}


def counts(template: dict[str, Any]) -> tuple[int, int, int]:
    kinds = [resource["Type"] for resource in template["Resources"].values()]
    return kinds.count(KEY), kinds.count(ALARM), kinds.count(DASHBOARD)


@pytest.mark.parametrize(("variant", "expected"), MODES.items())
def test_each_mode_keeps_the_keys_alarms_and_dashboards_it_should(
    request: pytest.FixtureRequest, variant: str, expected: tuple[int, int, int]
) -> None:
    synthesized: Synthesized = request.getfixturevalue(variant)
    template = Template.from_json(synthesized.template_json)
    keys, alarms, dashboards = expected
    template.resource_count_is(KEY, keys)
    template.resource_count_is(ALARM, alarms)
    template.resource_count_is(DASHBOARD, dashboards)


def stack_set_spoke(rollout: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (name,) = [name for name in rollout if name.endswith(".stackset.template.json")]
    return rollout[name]


def test_stackset_and_management_spokes_have_no_dashboard_and_no_customer_managed_key(
    rollout: dict[str, dict[str, Any]],
) -> None:
    """A spoke within $1.50 a month: the heartbeat metric ($0.30), six alarms ($0.60), Lambda and logs, and
    StoreQuotaGigabytes in the hours a store is in progress (at most $0.30); the hub shows the
    Organization's announcements, and SNS's AWS managed key serves the spoke's topics."""
    spokes = [stack_set_spoke(rollout)] + [
        template for name, template in rollout.items() if name.startswith(f"{MANAGEMENT_SPOKE_STACK_PREFIX}-")
    ]
    assert len(spokes) == 3
    for template in spokes:
        Template.from_json(template).resource_count_is(KEY, 0)
        Template.from_json(template).resource_count_is(DASHBOARD, 0)
        assert counts(template) == (0, 6, 0)
    # The app's own stack and the hub keep their single-account defaults.
    assert counts(rollout["AmiStoreNotifier.template.json"]) == (1, 6, 1)
    assert counts(rollout["AmiStoreNotifierHub.template.json"]) == (1, 3, 0)


def test_a_spoke_takes_the_spokes_defaults_only_for_what_was_left_unset() -> None:
    unset = load_settings({**cdk_json_context(), **ROLLOUT}.get)
    assert (unset.with_dashboard, unset.with_customer_managed_key) == (True, True)
    spoke = spoke_settings(unset)
    assert (spoke.with_dashboard, spoke.with_customer_managed_key) == (False, False)
    assert (spoke.alarms, spoke.tracing) == (unset.alarms, unset.tracing)

    chosen = load_settings(
        {**cdk_json_context(), **ROLLOUT, "dashboard": "true", "customerManagedKey": "true"}.get
    )
    assert (spoke_settings(chosen).with_dashboard, spoke_settings(chosen).with_customer_managed_key) == (
        True,
        True,
    )


# --- every alarm's TreatMissingData, by what it watches ----------------------------------------------------

HEARTBEAT, COUNTER, BACKLOG = "heartbeat", "counter", "backlog"
# What the silence of each kind of metric means, as CloudWatch's TreatMissingData.
SILENCE = {HEARTBEAT: "breaching", COUNTER: "notBreaching", BACKLOG: "ignore"}
# Every alarm of every variant, by the fixture that has it (a new alarm must be added, and classified).
ALARMS = [
    ("synth", "AmiStoreNotifier-NoSuccessfulPolls"),
    ("synth", "AmiStoreNotifier-PollerErrors"),
    ("synth", "AmiStoreNotifier-PublishFailures"),
    ("synth", "AmiStoreNotifier-RegionFailures"),
    ("synth", "AmiStoreNotifier-StoreQuota"),
    ("spoke", "AmiStoreNotifier-HubForwardingDeadLetters"),
    ("lean", "AmiStoreNotifier-NoSuccessfulPolls"),
    ("hints", "AmiStoreNotifier-HintDeadLetters"),
    ("quiet", "AmiStoreNotifier-StartsWithoutHint"),
    ("hub", "AmiStoreNotifierHub-RelayErrors"),
    ("hub", "AmiStoreNotifierHub-RelayDeadLetters"),
    ("hub", "AmiStoreNotifierHub-HubRuleDeadLetters"),
]


def watched(alarm: dict[str, Any]) -> str:
    """What kind of metric an alarm watches, from the declarations of who publishes it and how."""
    namespace, name = alarm["Namespace"], alarm["MetricName"]
    if namespace == NAMESPACE:
        (declared,) = [metric for metric in ALL_METRICS if metric.name == name]
        # Published every run (the heartbeat), or only when non-zero (report.py).
        return HEARTBEAT if declared.every_run else COUNTER
    # Lambda publishes Errors for the periods with invocations; nothing is no failed invocation.
    if (namespace, name) == ("AWS/Lambda", "Errors"):
        return COUNTER
    # A queue's backlog, published only while the queue is active (test_infra_dead_letter_alarms.py).
    if (namespace, name) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
        return BACKLOG
    raise AssertionError(f"an alarm on {namespace} {name}: say what its silence means")


def alarm_named(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (alarm,) = [
        resource["Properties"]
        for resource in synthesized.resources(ALARM).values()
        if resource["Properties"]["AlarmName"] == name
    ]
    return dict(alarm)


@pytest.mark.parametrize(("variant", "name"), ALARMS)
def test_each_alarm_reads_the_silence_of_its_metric_as_what_it_means(
    request: pytest.FixtureRequest, variant: str, name: str
) -> None:
    alarm = alarm_named(request.getfixturevalue(variant), name)
    assert alarm["TreatMissingData"] == SILENCE[watched(alarm)], name


@pytest.mark.parametrize("variant", sorted(MODES))
def test_every_alarm_of_every_variant_is_one_whose_silence_is_checked(
    request: pytest.FixtureRequest, variant: str
) -> None:
    synthesized: Synthesized = request.getfixturevalue(variant)
    checked = {name for _, name in ALARMS}
    for resource in synthesized.resources(ALARM).values():
        name = synthesized.stack.resolve(resource["Properties"]["AlarmName"])
        generic = name.replace("StoreNotes-", "AmiStoreNotifier-") if isinstance(name, str) else name
        assert generic in checked, name
        assert resource["Properties"]["TreatMissingData"] == SILENCE[watched(resource["Properties"])]


def test_the_lean_heartbeat_alarm_is_the_default_one(synth: Synthesized, lean: Synthesized) -> None:
    name = "AmiStoreNotifier-NoSuccessfulPolls"
    assert alarm_named(lean, name) == alarm_named(synth, name)


# A minute-by-minute model of an alarm: each minute it reads its latest EvaluationPeriods complete periods;
# a period without data is breaching or not as TreatMissingData says (CloudWatch user guide, "Configuring
# how CloudWatch alarms treat missing data").
Points = dict[int, float]  # minute -> value published that minute


def timeline(alarm: dict[str, Any], points: Points, *, until: int) -> list[str]:
    period = alarm["Period"] // 60
    aggregates: dict[str, Callable[[list[float]], float]] = {"Sum": sum, "Maximum": max}
    aggregate = aggregates[alarm["Statistic"]]
    threshold = float(alarm["Threshold"])
    comparisons: dict[str, Callable[[float], bool]] = {
        "GreaterThanOrEqualToThreshold": lambda value: value >= threshold,
        "GreaterThanThreshold": lambda value: value > threshold,
        "LessThanThreshold": lambda value: value < threshold,
    }
    compare = comparisons[alarm["ComparisonOperator"]]
    missing = {"breaching": True, "notBreaching": False}[alarm["TreatMissingData"]]
    states = []
    for now in range(until):
        latest_end = now - now % period
        starts = range(latest_end - alarm["EvaluationPeriods"] * period, latest_end, period)
        windows = [[points[m] for m in range(start, start + period) if m in points] for start in starts]
        breaching = sum(compare(aggregate(values)) if values else missing for values in windows)
        states.append("ALARM" if breaching >= alarm["DatapointsToAlarm"] else "OK")
    return states


def test_the_heartbeat_fires_within_three_periods_of_the_poller_going_silent(synth: Synthesized) -> None:
    alarm = alarm_named(synth, "AmiStoreNotifier-NoSuccessfulPolls")
    polling_until_60 = dict.fromkeys(range(60), 1.0)

    states = timeline(alarm, polling_until_60, until=120)

    assert set(states[5:60]) == {"OK"}
    assert states[60 + 3] == "ALARM"
    assert set(states[63:]) == {"ALARM"}
    # Read as "not breaching", a poller that stopped would never fire it: what the TreatMissingData test
    # guards.
    assert (
        "ALARM"
        not in timeline({**alarm, "TreatMissingData": "notBreaching"}, polling_until_60, until=120)[5:]
    )


def test_the_heartbeat_fires_when_runs_go_on_but_none_reaches_aws(synth: Synthesized) -> None:
    alarm = alarm_named(synth, "AmiStoreNotifier-NoSuccessfulPolls")
    reaching_aws_until_30 = {minute: 1.0 if minute < 30 else 0.0 for minute in range(60)}

    assert timeline(alarm, reaching_aws_until_30, until=60)[33] == "ALARM"


@pytest.mark.parametrize(
    "name",
    ["AmiStoreNotifier-PollerErrors", "AmiStoreNotifier-PublishFailures", "AmiStoreNotifier-RegionFailures"],
)
def test_a_silent_counter_is_ok_and_its_first_count_fires(synth: Synthesized, name: str) -> None:
    alarm = alarm_named(synth, name)

    assert set(timeline(alarm, {}, until=24 * 60)) == {"OK"}
    assert "ALARM" in timeline(alarm, {20: 1.0}, until=40)
    # Read as "breaching", the silence of a counter published only when non-zero would fire it all day.
    assert "ALARM" in timeline({**alarm, "TreatMissingData": "breaching"}, {}, until=60)


# --- the lean setting: no customer managed key where AWS allows it -----------------------------------------

# The key policy AWS gives its managed key for SNS, alias/aws/sns, which nobody else can change (KMS
# developer guide, "Change a key policy"): every principal of the account, through SNS only.
AWS_MANAGED_SNS_KEY_POLICY = {
    "Statement": [
        {
            "Sid": "Allow access through SNS for all principals in the account that are authorized to "
            "use SNS",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "kms:Decrypt",
                "kms:GenerateDataKey*",
                "kms:CreateGrant",
                "kms:ListGrants",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": ACCOUNT,
                    "kms:ViaService": f"sns.{REGION}.amazonaws.com",
                }
            },
        }
    ]
}


@pytest.fixture(scope="module")
def lean_resolved(lean: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(lean.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))


def topic(synthesized: Synthesized, construct: Any) -> dict[str, Any]:
    return dict(synthesized.resources("AWS::SNS::Topic")[synthesized.logical_id(construct)]["Properties"])


def test_lean_topics_published_by_the_poller_use_snss_aws_managed_key_and_the_alarm_topic_none(
    lean: Synthesized,
) -> None:
    notifier = lean.stack.notifier
    assert (
        topic(lean, notifier.announcements.topic)["KmsMasterKeyId"] == AWS_MANAGED_SNS_KEY == "alias/aws/sns"
    )
    assert "KmsMasterKeyId" not in topic(lean, notifier.monitoring.alarm_topic)


def test_lean_the_poller_publishes_through_the_aws_managed_key_without_a_kms_grant_of_its_own(
    lean: Synthesized, lean_resolved: ResolvedTemplate
) -> None:
    notifier = lean.stack.notifier
    (policy,) = lean_resolved.role_policies(lean.logical_id(notifier.poller.role))
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/session"
    topic_arn = lean_resolved.resolve({"Ref": lean.logical_id(notifier.announcements.topic)})

    assert evaluate_identity_policy(policy, Request("sns:Publish", topic_arn, principal_arn=session)) == ALLOW
    assert not [statement for statement in policy["Statement"] if "kms:" in json.dumps(statement["Action"])]
    through_sns = {"kms:CallerAccount": ACCOUNT, "kms:ViaService": f"sns.{REGION}.amazonaws.com"}
    key_use = Request("kms:GenerateDataKey", "key", principal_arn=session, context=through_sns)
    assert evaluate(AWS_MANAGED_SNS_KEY_POLICY, key_use) == ALLOW


def test_cloudwatch_could_not_use_the_aws_managed_key_which_is_why_the_lean_alarm_topic_has_none() -> None:
    """CloudWatch's request carries none of the account's caller keys: only a customer managed key whose
    policy names it lets it publish to an encrypted topic (SNS developer guide, "Enable compatibility
    between event sources from AWS services and encrypted topics")."""
    cloudwatch = Request(
        "kms:GenerateDataKey",
        "key",
        service=CLOUDWATCH,
        context={"kms:ViaService": f"sns.{REGION}.amazonaws.com", "aws:SourceAccount": ACCOUNT},
    )
    assert evaluate(AWS_MANAGED_SNS_KEY_POLICY, cloudwatch) == IMPLICIT_DENY


def test_lean_this_stacks_heartbeat_alarm_may_publish_to_the_alarm_topic_over_tls_and_nobody_else(
    lean: Synthesized, lean_resolved: ResolvedTemplate
) -> None:
    topic_id = lean.logical_id(lean.stack.notifier.monitoring.alarm_topic)
    topic_arn = lean_resolved.resolve({"Ref": topic_id})
    policy = lean_resolved.attached_policy("AWS::SNS::TopicPolicy", "Topics", topic_id)
    alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:AmiStoreNotifier-NoSuccessfulPolls"

    def publishing(arn: str, *, account: str = ACCOUNT, tls: bool = True) -> Request:
        context: dict[str, str | bool] = {
            "aws:SourceArn": arn,
            "aws:SourceAccount": account,
            "aws:SecureTransport": tls,
        }
        return Request("sns:Publish", topic_arn, service=CLOUDWATCH, context=context)

    assert evaluate(policy, publishing(alarm_arn)) == ALLOW
    assert evaluate(policy, publishing(alarm_arn, tls=False)) == DENY
    foreign = alarm_arn.replace(ACCOUNT, OTHER_ACCOUNT)
    assert evaluate(policy, publishing(foreign, account=OTHER_ACCOUNT)) == IMPLICIT_DENY
    stranger = alarm_arn.replace("AmiStoreNotifier-NoSuccessfulPolls", "SomeoneElses-Alarm")
    assert evaluate(policy, publishing(stranger)) == IMPLICIT_DENY


def test_only_the_unencrypted_alarm_topic_is_acknowledged_with_its_reason(
    synth: Synthesized, lean: Synthesized
) -> None:
    def checkov_skips(synthesized: Synthesized) -> dict[tuple[str, str], str]:
        return {
            (logical_id, skip["id"]): skip["comment"]
            for logical_id, resource in synthesized.template_json["Resources"].items()
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
            if resource["Type"] == "AWS::SNS::Topic"
        }

    alarm_topic = lean.logical_id(lean.stack.notifier.monitoring.alarm_topic)
    skips = checkov_skips(lean)
    assert list(skips) == [(alarm_topic, "CKV_AWS_26")]
    assert "customerManagedKey is false" in skips[(alarm_topic, "CKV_AWS_26")]
    assert checkov_skips(synth) == {}
    assert lean.nag_report["violations"] == []


def test_without_a_customer_managed_key_a_disposable_deployment_has_no_key_to_delete(
    lean: Synthesized,
) -> None:
    assert lean.resources(KEY) == {}


# --- tracing ----------------------------------------------------------------------------------------------


def poller_of(synthesized: Synthesized) -> dict[str, Any]:
    function_id = synthesized.logical_id(synthesized.stack.notifier.poller.function)
    return dict(synthesized.resources("AWS::Lambda::Function")[function_id]["Properties"])


def xray_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if "xray:" in json.dumps(statement["Action"])
    ]


def test_without_tracing_no_function_is_traced_nor_granted_x_ray(
    synth: Synthesized, hub: Synthesized
) -> None:
    for synthesized in (synth, hub):
        for function in synthesized.resources("AWS::Lambda::Function").values():
            assert "TracingConfig" not in function["Properties"]
        assert xray_statements(synthesized.template_json) == []
    assert poller_of(synth)["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_with_tracing_the_poller_is_traced_and_granted_x_ray(custom: Synthesized) -> None:
    props = poller_of(custom)
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert "POWERTOOLS_TRACE_DISABLED" not in props["Environment"]["Variables"]
    assert xray_statements(custom.template_json) == [
        {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"}
    ]

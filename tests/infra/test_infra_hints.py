"""Hints (infra/hints.py): the rules on the default bus, the hint queue and its dead-letter queue, the event
source mapping, the grants, the alarms, the settings that turn them on, and the Organization's spokes.

moto evaluates no queue policy and its CloudFormation creates none: who may send to the queues is decided
here by evaluating the synthesized policies (tests/infra/policy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from ami_store_notifier.domain.hints import MAX_HINT_RECEIVES, OBJECT_CREATED_PATTERN, STORE_STARTED_PATTERN
from infra.app import build_app
from infra.hints import (
    BATCH_SIZE,
    BATCHING_WINDOW,
    MAX_RECEIVES,
    RETENTION,
    VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT,
    visibility_timeout,
)
from infra.notifier import AmiStoreNotifier
from infra.rollout import spoke_settings
from infra.setting_checks import HINT_RUNS_AT_ONCE
from infra.settings import SettingsError, load_settings
from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    DENY,
    EVENTS,
    IMPLICIT_DENY,
    OTHER_ACCOUNT,
    REGION,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate,
    evaluate_identity_policy,
)
from tests.infra.support import HINTS, QUIET, ROLLOUT, Synthesized, cdk_json_context

QUEUE, QUEUE_POLICY = "AWS::SQS::Queue", "AWS::SQS::QueuePolicy"
RULE, MAPPING, ALARM = "AWS::Events::Rule", "AWS::Lambda::EventSourceMapping", "AWS::CloudWatch::Alarm"
FOURTEEN_DAYS = 14 * 24 * 3600


def ids(synthesized: Synthesized) -> dict[str, str]:
    hints = synthesized.stack.notifier.hints
    assert hints is not None
    return {
        "queue": synthesized.logical_id(hints.queue),
        "dead_letters": synthesized.logical_id(hints.dead_letter_queue),
        "started": synthesized.logical_id(hints.store_started),
        "created": synthesized.logical_id(hints.object_created),
        "mapping": synthesized.logical_id(hints.mapping),
        "poller": synthesized.logical_id(synthesized.stack.notifier.poller.function),
        "role": synthesized.logical_id(synthesized.stack.notifier.poller.role),
        "schedule": synthesized.logical_id(synthesized.stack.notifier.poller.schedule),
    }


def arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def properties(synthesized: Synthesized, logical_id: str) -> dict[str, Any]:
    return dict(synthesized.template_json["Resources"][logical_id]["Properties"])


def environment(synthesized: Synthesized) -> dict[str, Any]:
    function_id = synthesized.logical_id(synthesized.stack.notifier.poller.function)
    return dict(properties(synthesized, function_id)["Environment"]["Variables"])


def quick(context: dict[str, str]) -> dict[str, Any]:
    """The notifier's template for ``context``, without cdk-nag (faster)."""
    _, stack = build_app({**cdk_json_context(), **context}, nag=False)
    return Template.from_stack(stack).to_json()


# --- the settings -------------------------------------------------------------------------------------------


def test_hints_and_quiet_when_idle_are_off_by_default_and_the_default_template_has_no_hint_resource(
    synth: Synthesized,
) -> None:
    defaults = load_settings({}.get)
    assert (defaults.hints, defaults.quiet_when_idle) == (False, False)
    assert synth.stack.notifier.hints is None
    template = synth.template
    template.resource_count_is(MAPPING, 0)
    template.resource_count_is(RULE, 1)  # the schedule
    template.resource_count_is(QUEUE, 1)  # the schedule's dead-letter queue
    assert "HintDeadLetters" not in json.dumps(synth.template_json)


def test_quiet_when_idle_without_hints_stops_synthesis_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match=r"^quietWhenIdle needs hints: true"):
        load_settings({"quietWhenIdle": "true"}.get)
    with pytest.raises(SettingsError, match=r"^quietWhenIdle needs hints"):
        build_app({"quietWhenIdle": True, "hints": False}, nag=False)


@pytest.mark.parametrize("reserved", ["1", "2"])
def test_a_reservation_without_room_for_the_hint_runs_stops_synthesis_naming_the_setting(
    reserved: str,
) -> None:
    with pytest.raises(SettingsError, match=rf"^reservedConcurrency \({reserved}\) leaves no room for hints"):
        build_app({**HINTS, "reservedConcurrency": reserved}, nag=False)


def test_a_reservation_for_the_hint_runs_and_the_scheduled_run_or_none_is_accepted() -> None:
    assert HINT_RUNS_AT_ONCE == 2
    load_settings({**HINTS, "reservedConcurrency": "3"}.get)
    load_settings(HINTS.get)
    # Without hints, a reservation of 1 is as valid as ever.
    load_settings({"reservedConcurrency": "1"}.get)


def test_quiet_when_idle_reaches_the_pollers_environment_as_the_other_handler_settings(
    synth: Synthesized, hints: Synthesized, quiet: Synthesized
) -> None:
    assert environment(synth)["QUIET_WHEN_IDLE"] == "false"
    assert environment(hints)["QUIET_WHEN_IDLE"] == "false"
    assert environment(quiet)["QUIET_WHEN_IDLE"] == "true"
    # `hints` has no variable: a batch of the queue is an SQS event, which the handler tells apart.
    assert set(environment(hints)) == set(environment(synth))


# --- the rules ----------------------------------------------------------------------------------------------


def test_two_rules_on_the_default_bus_use_the_handlers_own_patterns(hints: Synthesized) -> None:
    found = ids(hints)
    started, created = properties(hints, found["started"]), properties(hints, found["created"])
    # No EventBusName: the account's default bus, where AWS services' events arrive, in every partition.
    assert "EventBusName" not in started
    assert "EventBusName" not in created
    assert started["EventPattern"] == json.loads(json.dumps(STORE_STARTED_PATTERN))
    assert created["EventPattern"] == json.loads(json.dumps(OBJECT_CREATED_PATTERN))
    assert started["State"] == created["State"] == "ENABLED"


@pytest.mark.parametrize(("variant", "event_age"), [("hints", 3600), ("quiet", 86400)])
def test_both_rules_put_hints_on_the_queue_with_its_dead_letter_queue_for_one_safety_net_at_most(
    request: pytest.FixtureRequest, variant: str, event_age: int
) -> None:
    synthesized: Synthesized = request.getfixturevalue(variant)
    found = ids(synthesized)
    for rule in ("started", "created"):
        assert properties(synthesized, found[rule])["Targets"] == [
            {
                "Arn": arn_of(found["queue"]),
                "DeadLetterConfig": {"Arn": arn_of(found["dead_letters"])},
                # One safety-net interval (fullScanIntervalMinutes), at most EventBridge's 24 hours.
                "RetryPolicy": {"MaximumEventAgeInSeconds": event_age},
                "Id": "Target0",
            }
        ]


# --- the queues ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "function_timeout"), [("hints", 120), ("quiet", 900)])
def test_the_hint_queue_is_encrypted_keeps_a_day_and_hides_a_batch_six_function_timeouts(
    request: pytest.FixtureRequest, variant: str, function_timeout: int
) -> None:
    synthesized: Synthesized = request.getfixturevalue(variant)
    found = ids(synthesized)
    assert properties(synthesized, found["poller"])["Timeout"] == function_timeout
    assert properties(synthesized, found["queue"]) == {
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": 86400,
        "VisibilityTimeout": 6 * function_timeout,
        "RedrivePolicy": {"deadLetterTargetArn": arn_of(found["dead_letters"]), "maxReceiveCount": 5},
    }
    assert properties(synthesized, found["dead_letters"]) == {
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": FOURTEEN_DAYS,
    }


def test_the_queue_settings_keep_to_awss_guidance_and_the_handlers_retries() -> None:
    # At least 5 receives (Lambda, "Understanding SQS retries"), above the receives the handler asks for
    # itself (a hint ahead of EC2 is handed over again up to MAX_HINT_RECEIVES), so that only runs that
    # fail as a whole dead-letter a hint.
    assert MAX_RECEIVES >= 5
    assert MAX_RECEIVES > MAX_HINT_RECEIVES
    assert VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT >= 6
    # Lambda refuses a mapping whose function timeout exceeds the visibility timeout.
    longest_timeout = 900
    longest_visibility = visibility_timeout(longest_timeout).to_seconds()
    assert longest_visibility >= longest_timeout
    assert longest_visibility <= 12 * 3600  # SQS's longest visibility timeout
    # A failing hint reaches the dead-letter queue before it expires, even with the longest timeout; and
    # the dead-letter queue keeps it longer than the queue would (the enqueue time is kept).
    assert RETENTION.to_seconds() > MAX_RECEIVES * longest_visibility
    assert RETENTION.to_seconds() < FOURTEEN_DAYS


@pytest.mark.parametrize("queue", ["queue", "dead_letters"])
def test_both_queues_refuse_requests_without_tls(hints: Synthesized, queue: str) -> None:
    queue_id = ids(hints)[queue]
    hints.template.has_resource_properties(
        QUEUE_POLICY,
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "sqs:*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Resource": arn_of(queue_id),
                        }
                    ]
                )
            },
        },
    )


# --- the queue policies, evaluated --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resolved(hints: Synthesized) -> ResolvedTemplate:
    return ResolvedTemplate(hints.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))


def sending(queue_arn: str, rule_arn: str, *, tls: bool = True, action: str = "sqs:SendMessage") -> Request:
    """EventBridge acting for a rule: a target's send, or a dead-letter."""
    return Request(
        action=action,
        resource=queue_arn,
        service=EVENTS,
        context={"aws:SourceArn": rule_arn, "aws:SourceAccount": ACCOUNT, "aws:SecureTransport": tls},
    )


@pytest.mark.parametrize("queue", ["queue", "dead_letters"])
def test_eventbridge_may_send_to_the_queues_for_the_two_hint_rules_only(
    hints: Synthesized, resolved: ResolvedTemplate, queue: str
) -> None:
    found = ids(hints)
    queue_arn = resolved.resolve(arn_of(found[queue]))
    policy = resolved.attached_policy(QUEUE_POLICY, "Queues", found[queue])
    for rule in ("started", "created"):
        rule_arn = resolved.resolve(arn_of(found[rule]))
        assert evaluate(policy, sending(queue_arn, rule_arn)) == ALLOW, rule
        assert evaluate(policy, sending(queue_arn, rule_arn, tls=False)) == DENY, rule
        # SendMessage alone: EventBridge needs nothing else (CDK's own SQS target would grant more).
        for action in ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:PurgeQueue"):
            assert evaluate(policy, sending(queue_arn, rule_arn, action=action)) == IMPLICIT_DENY, action
    schedule = resolved.resolve(arn_of(found["schedule"]))
    strangers = [
        schedule,
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/SomeoneElsesRule",
        resolved.resolve(arn_of(found["started"])).replace(ACCOUNT, OTHER_ACCOUNT),
    ]
    for stranger in strangers:
        assert evaluate(policy, sending(queue_arn, stranger)) == IMPLICIT_DENY, stranger
    # Without the rule's ARN (EventBridge always sends it): refused.
    no_source = Request("sqs:SendMessage", queue_arn, service=EVENTS, context={"aws:SecureTransport": True})
    assert evaluate(policy, no_source) == IMPLICIT_DENY


def test_the_schedules_dead_letter_queue_is_still_the_schedules_alone(
    hints: Synthesized, resolved: ResolvedTemplate
) -> None:
    found = ids(hints)
    schedule_queue = hints.logical_id(hints.stack.notifier.poller.dead_letter_queue)
    queue_arn = resolved.resolve(arn_of(schedule_queue))
    policy = resolved.attached_policy(QUEUE_POLICY, "Queues", schedule_queue)
    assert evaluate(policy, sending(queue_arn, resolved.resolve(arn_of(found["schedule"])))) == ALLOW
    for rule in ("started", "created"):
        assert evaluate(policy, sending(queue_arn, resolved.resolve(arn_of(found[rule])))) == IMPLICIT_DENY


# --- the poller's grants ------------------------------------------------------------------------------------


def role_policy(synthesized: Synthesized) -> dict[str, Any]:
    role_id = synthesized.logical_id(synthesized.stack.notifier.poller.role)
    resolved = ResolvedTemplate(synthesized.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))
    (policy,) = resolved.role_policies(role_id)
    return dict(policy)


def test_the_poller_may_receive_delete_and_read_the_hint_queue_and_nothing_more(
    hints: Synthesized, resolved: ResolvedTemplate
) -> None:
    found = ids(hints)
    policy = role_policy(hints)
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/session"
    queue_arn = resolved.resolve(arn_of(found["queue"]))
    dead_letters_arn = resolved.resolve(arn_of(found["dead_letters"]))

    def asks(action: str, resource: str) -> str:
        return evaluate_identity_policy(policy, Request(action, resource, principal_arn=session))

    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert asks(action, queue_arn) == ALLOW, action
        assert asks(action, dead_letters_arn) == IMPLICIT_DENY, action
    for action in ("sqs:ChangeMessageVisibility", "sqs:SendMessage", "sqs:PurgeQueue", "sqs:DeleteQueue"):
        assert asks(action, queue_arn) == IMPLICIT_DENY, action


def test_hints_add_one_statement_to_the_role_and_no_ec2_permission(
    synth: Synthesized, hints: Synthesized
) -> None:
    def statements(synthesized: Synthesized) -> list[dict[str, Any]]:
        role_id = synthesized.logical_id(synthesized.stack.notifier.poller.role)
        (policy,) = [
            resource["Properties"]["PolicyDocument"]
            for resource in synthesized.template_json["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        ]
        return list(policy["Statement"])

    before, after = statements(synth), statements(hints)
    added = [statement for statement in after if statement not in before]
    assert [statement for statement in before if statement not in after] == []
    assert added == [
        {
            "Sid": "ReceiveHints",
            "Effect": "Allow",
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            "Resource": arn_of(ids(hints)["queue"]),
        }
    ]


# --- the event source mapping -------------------------------------------------------------------------------


def test_the_mapping_runs_the_poller_with_small_batches_at_once_and_reports_failed_messages(
    hints: Synthesized,
) -> None:
    found = ids(hints)
    mapping = hints.template_json["Resources"][found["mapping"]]
    assert mapping["Properties"] == {
        "EventSourceArn": arn_of(found["queue"]),
        "FunctionName": {"Ref": found["poller"]},
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 2},
    }
    # Lambda checks the role's permissions when it creates the mapping.
    role_policy_id = next(
        logical_id
        for logical_id, resource in hints.template_json["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": found["role"]} in resource["Properties"]["Roles"]
    )
    assert role_policy_id in mapping["DependsOn"]


def test_the_batch_keeps_to_lambdas_limits_and_fits_one_describe_call() -> None:
    # Without a batching window Lambda takes at most 10 messages; with one (needed above 10), a queue with
    # very low traffic may wait up to 20 s before invoking (Lambda, "Using Lambda with Amazon SQS").
    assert BATCHING_WINDOW is None
    assert BATCH_SIZE <= 10
    assert BATCH_SIZE <= 20  # DescribeStoreImageTasks takes up to 20 ImageIds
    # ScalingConfig.MaximumConcurrency: 2 to 1,000 (Lambda API reference, ScalingConfig).
    assert HINT_RUNS_AT_ONCE == 2


# --- the alarms ---------------------------------------------------------------------------------------------


def alarm(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (found,) = [
        resource["Properties"]
        for resource in synthesized.resources(ALARM).values()
        if resource["Properties"]["AlarmName"] == f"AmiStoreNotifier-{name}"
    ]
    return dict(found)


def test_one_alarm_watches_the_one_dead_letter_queue_of_both_rules_and_the_queue(hints: Synthesized) -> None:
    props = alarm(hints, "HintDeadLetters")
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [ids(hints)["dead_letters"], "QueueName"]}}
    ]
    assert (props["Statistic"], props["Threshold"], props["TreatMissingData"]) == ("Maximum", 1, "ignore")
    assert "What to do:" in props["AlarmDescription"]
    assert props["AlarmDescription"].endswith("(Runbook: docs/runbook.md#HintDeadLetters)")
    # StartsWithoutHint is quietWhenIdle's alone: neither alarmed nor graphed with hints only.
    assert "StartsWithoutHint" not in json.dumps(hints.template_json)


def test_quiet_when_idle_alarms_on_starts_the_safety_net_found_without_a_hint(
    quiet: Synthesized, synth: Synthesized
) -> None:
    props = alarm(quiet, "StartsWithoutHint")
    publish_failures = alarm(synth, "PublishFailures")
    # The poller's own counter: its namespace and `service` dimension, as the other counters.
    assert (props["Namespace"], props["Dimensions"]) == (
        publish_failures["Namespace"],
        publish_failures["Dimensions"],
    )
    assert (props["MetricName"], props["Statistic"]) == ("StartsWithoutHint", "Sum")
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"
    # One safety net (fullScanIntervalMinutes 10080), at CloudWatch's longest: 7 days in all.
    assert props["Period"] * props["EvaluationPeriods"] == 604800
    assert "trail is not delivering" in props["AlarmDescription"]
    assert "cloudtrail get-trail-status" in props["AlarmDescription"]


def test_the_starts_without_hint_period_is_the_safety_net_interval() -> None:
    template = quick({**HINTS, "quietWhenIdle": "true"})
    (period,) = [
        resource["Properties"]["Period"]
        for resource in template["Resources"].values()
        if resource["Type"] == ALARM and resource["Properties"]["AlarmName"].endswith("-StartsWithoutHint")
    ]
    assert period == 3600


def test_the_new_alarms_may_publish_to_the_alarm_topic_and_use_its_key(quiet: Synthesized) -> None:
    resolved = ResolvedTemplate(quiet.template_json, Deployment(ACCOUNT, REGION, "AmiStoreNotifier"))
    monitoring = quiet.stack.notifier.monitoring
    topic_id = quiet.logical_id(monitoring.alarm_topic)
    topic_arn = resolved.resolve({"Ref": topic_id})
    policy = resolved.attached_policy("AWS::SNS::TopicPolicy", "Topics", topic_id)
    key_policy = resolved.resource(quiet.logical_id(monitoring.alarm_key))["Properties"]["KeyPolicy"]
    for name in ("HintDeadLetters", "StartsWithoutHint"):
        alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:AmiStoreNotifier-{name}"
        context = {"aws:SourceArn": alarm_arn, "aws:SourceAccount": ACCOUNT, "aws:SecureTransport": True}
        publishing = Request("SNS:Publish", topic_arn, service="cloudwatch.amazonaws.com", context=context)
        assert evaluate(policy, publishing) == ALLOW, name
        key_use = Request("kms:GenerateDataKey", "key", service="cloudwatch.amazonaws.com", context=context)
        assert evaluate(key_policy, key_use) == ALLOW, name


def test_two_quiet_deployments_in_one_account_and_region_read_disjoint_metrics(quiet: Synthesized) -> None:
    from tests.infra.test_infra_metrics import identities

    staging = quick({**QUIET, "stackName": "AmiStoreNotifierStaging"})
    first = identities(quiet.template_json, "AmiStoreNotifier")
    second = identities(staging, "AmiStoreNotifierStaging")
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in {(ns, name) for ns, name, _ in first}
    assert ("AmiStoreNotifier", "StartsWithoutHint") in {(ns, name) for ns, name, _ in first}
    assert first & second == set()


def test_the_hint_queues_are_outputs_with_hints_only(synth: Synthesized, hints: Synthesized) -> None:
    found = ids(hints)
    outputs = {name: output["Value"] for name, output in hints.template_json["Outputs"].items()}
    assert outputs["HintQueueUrl"] == {"Ref": found["queue"]}
    assert outputs["HintDeadLetterQueueUrl"] == {"Ref": found["dead_letters"]}
    assert not {"HintQueueUrl", "HintDeadLetterQueueUrl"} & set(synth.template_json["Outputs"])


def test_the_heartbeat_setting_keeps_the_heartbeat_alone_with_hints_too() -> None:
    template = quick({**QUIET, "alarms": "heartbeat"})
    names = [r["Properties"]["AlarmName"] for r in template["Resources"].values() if r["Type"] == ALARM]
    assert names == ["AmiStoreNotifier-NoSuccessfulPolls"]


def dashboard_metric_names(synthesized: Synthesized) -> set[str]:
    dashboard = synthesized.only("AWS::CloudWatch::Dashboard")[1]
    body = synthesized.stack.resolve(dashboard["Properties"]["DashboardBody"])
    # The function's name and the Region are tokens inside the JSON text: stand-ins keep it JSON.
    parts = [body] if isinstance(body, str) else body["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "token" for part in parts)
    return {
        line[1] for widget in json.loads(text)["widgets"] for line in widget["properties"].get("metrics", [])
    }


def test_the_dashboard_graphs_starts_without_hint_only_where_it_is_counted(
    synth: Synthesized, hints: Synthesized, quiet: Synthesized
) -> None:
    assert "StartsWithoutHint" in dashboard_metric_names(quiet)
    assert "StartsWithoutHint" not in dashboard_metric_names(hints)
    assert "StartsWithoutHint" not in dashboard_metric_names(synth)


# --- what turning hints on changes --------------------------------------------------------------------------


def test_turning_hints_on_replaces_nothing_and_changes_only_the_grants_and_the_alarm_topics_policies(
    synth: Synthesized, hints: Synthesized
) -> None:
    before, after = synth.template_json["Resources"], hints.template_json["Resources"]
    assert {logical_id: r["Type"] for logical_id, r in before.items()} == {
        logical_id: after[logical_id]["Type"] for logical_id in before
    }
    changed = {after[logical_id]["Type"] for logical_id in before if before[logical_id] != after[logical_id]}
    # The role's policy (ReceiveHints); the alarm topic's and its key's policies (the new alarm may publish).
    assert changed == {"AWS::IAM::Policy", "AWS::SNS::TopicPolicy", "AWS::KMS::Key"}
    added = sorted(after[logical_id]["Type"] for logical_id in set(after) - set(before))
    assert added == sorted([ALARM, RULE, RULE, MAPPING, QUEUE, QUEUE, QUEUE_POLICY, QUEUE_POLICY])


def test_the_hint_resources_keep_their_logical_ids_from_one_synthesis_to_the_next(hints: Synthesized) -> None:
    again = quick(HINTS)
    assert {k: v["Type"] for k, v in again["Resources"].items()} == {
        k: v["Type"] for k, v in hints.template_json["Resources"].items()
    }
    assert set(ids(hints).values()) <= set(again["Resources"])


def test_the_hints_construct_stands_in_someone_elses_stack_beside_another_notifier() -> None:
    stack = Stack(App(), "Platform")
    AmiStoreNotifier(stack, "Archives", settings=load_settings(HINTS.get))
    AmiStoreNotifier(stack, "Backups", settings=load_settings(HINTS.get))
    template = Template.from_stack(stack)
    template.resource_count_is(MAPPING, 2)
    template.resource_count_is(RULE, 6)
    names = [
        r["Properties"]["AlarmName"] for r in template.to_json()["Resources"].values() if r["Type"] == ALARM
    ]
    assert "Platform-Archives-HintDeadLetters" in names
    assert "Platform-Backups-HintDeadLetters" in names


def test_cdk_nag_finds_nothing_in_the_hint_variants(hints: Synthesized, quiet: Synthesized) -> None:
    for synthesized in (hints, quiet):
        assert synthesized.nag_report["violations"] == []


# --- the Organization's spokes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rollout_with_hints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp("rollout-hints")
    app, _ = build_app({**cdk_json_context(), **ROLLOUT, **HINTS}, outdir=str(outdir))
    app.synth()
    return {path.name: json.loads(path.read_text()) for path in Path(outdir).glob("*.template.json")}


def kinds(template: dict[str, Any]) -> list[str]:
    return [resource["Type"] for resource in template["Resources"].values()]


def test_every_spoke_gets_the_hints_on_its_own_default_bus_and_the_hub_none(
    rollout_with_hints: dict[str, dict[str, Any]],
) -> None:
    spokes = {
        name: template
        for name, template in rollout_with_hints.items()
        if name.endswith(".stackset.template.json") or name.startswith("AmiStoreNotifierManagementSpoke-")
    }
    assert len(spokes) == 3  # the StackSet's template, and the management account's spoke in two Regions
    for name, template in {**spokes, "app": rollout_with_hints["AmiStoreNotifier.template.json"]}.items():
        assert kinds(template).count(MAPPING) == 1, name
        rules = [r["Properties"] for r in template["Resources"].values() if r["Type"] == RULE]
        patterns = [rule.get("EventPattern") for rule in rules if "EventBusName" not in rule]
        assert json.loads(json.dumps(STORE_STARTED_PATTERN)) in patterns, name
        assert json.loads(json.dumps(OBJECT_CREATED_PATTERN)) in patterns, name
        alarm_names = json.dumps([r for r in template["Resources"].values() if r["Type"] == ALARM])
        assert "-HintDeadLetters" in alarm_names, name
    assert MAPPING not in kinds(rollout_with_hints["AmiStoreNotifierHub.template.json"])


def test_a_spoke_keeps_the_hint_settings() -> None:
    settings = load_settings({**cdk_json_context(), **ROLLOUT, **QUIET}.get)
    spoke = spoke_settings(settings)
    assert (spoke.hints, spoke.quiet_when_idle) == (True, True)


# --- deployed into moto's CloudFormation -----------------------------------------------------------------


def hint_events() -> list[dict[str, str]]:
    """Events on the default bus: an AMI object, another object, a start, a refused start, a restore."""
    ami = "ami-0123456789abcdef0"
    started = {"eventName": "CreateStoreImageTask", "requestParameters": {"imageId": ami, "bucket": "b"}}
    return [
        {
            "Source": "aws.s3",
            "DetailType": "Object Created",
            "Detail": json.dumps(object_created(f"{ami}.bin")),
        },
        {
            "Source": "aws.s3",
            "DetailType": "Object Created",
            "Detail": json.dumps(object_created("notes.bin")),
        },
        {"Source": "aws.ec2", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(started)},
        {
            "Source": "aws.ec2",
            "DetailType": "AWS API Call via CloudTrail",
            "Detail": json.dumps({**started, "errorCode": "InvalidParameter"}),
        },
        {
            "Source": "aws.ec2",
            "DetailType": "AWS API Call via CloudTrail",
            "Detail": json.dumps({**started, "eventName": "CreateRestoreImageTask"}),
        },
    ]


def object_created(key: str) -> dict[str, Any]:
    return {"bucket": {"name": "b"}, "object": {"key": f"stores/{key}", "size": 5, "etag": "e"}}


@pytest.mark.slow
def test_the_hint_stack_deploys_in_moto_and_its_rules_queue_only_the_hints(
    hints: Synthesized, mocked_aws: None
) -> None:
    import boto3

    from tests.infra.conftest import deploy
    from tests.infra.support import REGION

    deployed = deploy(hints)
    queue_url = deployed.outputs["HintQueueUrl"]
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "720"
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    lambda_client = boto3.client("lambda", region_name=REGION)
    (mapping,) = lambda_client.list_event_source_mappings(FunctionName=deployed.outputs["FunctionName"])[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == attributes["QueueArn"]
    assert (mapping["BatchSize"], mapping["ScalingConfig"]) == (10, {"MaximumConcurrency": 2})
    # moto would run the function for each message (it cannot here) and evaluates the schedule rule, which
    # has no pattern, for every event on the default bus: both are left out to read what the rules queue.
    lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
    events_client = boto3.client("events", region_name=REGION)
    for rule in events_client.list_rules()["Rules"]:
        if rule.get("ScheduleExpression"):
            targets = events_client.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            events_client.remove_targets(Rule=rule["Name"], Ids=[target["Id"] for target in targets])

    assert events_client.put_events(Entries=hint_events())["FailedEntryCount"] == 0

    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    queued = sorted(json.loads(message["Body"])["detail-type"] for message in received)
    assert queued == ["AWS API Call via CloudTrail", "Object Created"]
    keys = [json.loads(message["Body"])["detail"].get("object", {}).get("key") for message in received]
    assert "stores/ami-0123456789abcdef0.bin" in keys

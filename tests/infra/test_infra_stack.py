"""The synthesized stack with default settings: every property that matters, and cdk-nag's verdict."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

# The handler's own parser: the environment the stack sets must be one it accepts.
from ami_store_notifier.config import load_settings as load_handler_settings
from ami_store_notifier.domain.model import TaskState
from ami_store_notifier.report import ALL_METRICS, METRICS
from infra.alarms import MAX_DESCRIPTION_LENGTH, RUNBOOK_PAGE
from infra.asset import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON, POWERTOOLS_LAYER_PARAMETER, POWERTOOLS_VERSION
from tests.infra.support import LONGEST_DOCS_URL, REPO_ROOT, Synthesized
from tests.infra.template_reading import dashboard_widgets


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def function(synth: Synthesized) -> dict[str, Any]:
    return synth.only("AWS::Lambda::Function")[1]["Properties"]


def alarm(synth: Synthesized, name_suffix: str) -> dict[str, Any]:
    matches = [
        resource["Properties"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["AlarmName"] == f"AmiStoreNotifier-{name_suffix}"
    ]
    assert len(matches) == 1, name_suffix
    return matches[0]


# --- the state table ------------------------------------------------------------------------------------


def test_the_state_table_is_keyed_by_a_string_pk_and_nothing_else(synth: Synthesized) -> None:
    table = synth.only("AWS::DynamoDB::Table")[1]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert "GlobalSecondaryIndexes" not in table
    assert "LocalSecondaryIndexes" not in table


def test_the_state_table_is_a_plain_table_not_a_global_table(synth: Synthesized) -> None:
    assert synth.resources("AWS::DynamoDB::GlobalTable") == {}


def test_the_state_table_bills_on_demand_and_expires_records_by_expires_at(synth: Synthesized) -> None:
    table = synth.only("AWS::DynamoDB::Table")[1]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_the_state_table_has_point_in_time_recovery_and_encryption_at_rest(synth: Synthesized) -> None:
    table = synth.only("AWS::DynamoDB::Table")[1]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # SSEEnabled with no key id: encrypted with the AWS managed key (alias/aws/dynamodb).
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_the_state_table_survives_the_deletion_of_the_stack(synth: Synthesized) -> None:
    table = synth.only("AWS::DynamoDB::Table")[1]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


# --- the poller function --------------------------------------------------------------------------------


def test_the_poller_runs_python_3_13_on_arm64(synth: Synthesized) -> None:
    props = function(synth)
    assert props["Runtime"] == "python3.13" == f"python{LAMBDA_PYTHON}"
    assert props["Architectures"] == ["arm64"] == [LAMBDA_ARCHITECTURE]
    assert props["Handler"] == "ami_store_notifier.handler.lambda_handler"


def test_the_powertools_layer_is_read_from_awss_parameter_for_the_pinned_version(synth: Synthesized) -> None:
    (layer,) = function(synth)["Layers"]
    parameter = synth.template_json["Parameters"][layer["Ref"]]
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": "/aws/service/powertools/python/arm64/python3.13/3.37.0",
    }
    assert parameter["Default"] == POWERTOOLS_LAYER_PARAMETER


def test_the_layer_and_the_tested_powertools_are_the_same_version() -> None:
    pins = {
        name: re.search(r"^aws[-_]lambda[-_]powertools(\[[\w,]+\])?==(?P<version>\S+)$", text, re.M | re.I)
        for name in ("requirements-dev.in", "requirements-dev.txt")
        for text in [(REPO_ROOT / name).read_text()]
    }
    assert {name: match and match.group("version") for name, match in pins.items()} == {
        "requirements-dev.in": POWERTOOLS_VERSION,
        "requirements-dev.txt": POWERTOOLS_VERSION,
    }
    assert importlib.metadata.version("aws-lambda-powertools") == POWERTOOLS_VERSION


def test_the_poller_code_is_the_functions_folder_without_tests_caches_or_the_operators_cli(
    synth: Synthesized,
) -> None:
    code = function(synth)["Code"]
    assert code["S3Bucket"] == {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}
    staged = [path for path in synth.outdir.glob("asset.*") if path.is_dir()]
    assert len(staged) == 1
    files = {path.relative_to(staged[0]).as_posix() for path in staged[0].rglob("*") if path.is_file()}
    assert "ami_store_notifier/config.py" in files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in files if "/tests/" in f"/{name}" or Path(name).name.startswith("test_")]
    assert not [name for name in files if name.startswith("ami_store_notifier/cli/")]


def test_the_poller_handler_module_is_in_the_shipped_code(synth: Synthesized) -> None:
    staged = next(path for path in synth.outdir.glob("asset.*") if path.is_dir())
    if not (staged / "ami_store_notifier" / "handler.py").exists():
        pytest.fail(
            "functions/ami_store_notifier/handler.py is missing: the deployed handler would not import"
        )


def test_the_poller_environment_wires_every_setting_the_handler_reads(synth: Synthesized) -> None:
    notifier = synth.stack.notifier
    assert function(synth)["Environment"]["Variables"] == {
        "TABLE_NAME": ref(synth.logical_id(notifier.state.table)),
        "TOPIC_ARN": ref(synth.logical_id(notifier.announcements.topic)),
        # GetAtt Name, not Ref: see infra/stack.py (moto resolves a Ref to a bus wrongly).
        "EVENT_BUS_NAME": {"Fn::GetAtt": [synth.logical_id(notifier.announcements.bus), "Name"]},
        "REGIONS": {"Ref": "AWS::Region"},
        "EVENT_SOURCE": "ami-store-notifier",
        "ANNOUNCE_STATES": "Completed,Failed",
        "ANNOUNCE_EXISTING_ON_FIRST_RUN": "false",
        "PAGE_SIZE": "200",
        "LISTING_OVERLAP_MINUTES": "15",
        "FULL_SCAN_INTERVAL_MINUTES": "60",
        "QUIET_WHEN_IDLE": "false",
        # No archive checks, no unapproved-bucket alert by default; stalls after two hours.
        "READABLE_BUCKETS": "",
        "APPROVED_BUCKETS": "",
        "STALL_AFTER_MINUTES": "120",
        "CLAIM_LEASE_SECONDS": "180",
        "DELIVERY_RESERVE_SECONDS": "20",
        "STATE_TTL_DAYS": "45",
        "POWERTOOLS_SERVICE_NAME": "AmiStoreNotifier",
        "POWERTOOLS_METRICS_NAMESPACE": "AmiStoreNotifier",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # No active tracing by default: Powertools' Tracer is off too.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def test_the_poller_environment_is_accepted_by_the_handlers_own_parser(synth: Synthesized) -> None:
    deployed = {
        "TABLE_NAME": "AmiStoreNotifier-StateTable-1",
        "TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:AmiStoreNotifier-NotificationTopic-1",
        "EVENT_BUS_NAME": "AmiStoreNotifierEventBus",
        "REGIONS": "eu-west-1",
    }
    environment = {
        name: deployed.get(name, value) for name, value in function(synth)["Environment"]["Variables"].items()
    }
    assert all(isinstance(value, str) for value in environment.values())
    parsed = load_handler_settings(environment)
    assert parsed.regions == ("eu-west-1",)
    assert parsed.claim_lease_seconds == function(synth)["Timeout"] + 60
    assert {state.value for state in parsed.announce_states} == {"Completed", "Failed"}
    assert parsed.announce_existing_on_first_run is False


def test_the_poller_reserves_no_concurrency_and_is_not_traced_with_its_timeout_and_memory(
    synth: Synthesized,
) -> None:
    props = function(synth)
    # A reservation fails the deployment in accounts whose concurrency quota is 10.
    assert "ReservedConcurrentExecutions" not in props
    # A trace a minute is billed past X-Ray's free tier: tracing is a setting, off by default.
    assert "TracingConfig" not in props
    assert props["Timeout"] == 120
    assert props["MemorySize"] == 256


def test_the_poller_logs_to_its_own_log_group_kept_ninety_days(synth: Synthesized) -> None:
    log_group_id, log_group = synth.only("AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] == 90
    assert log_group["DeletionPolicy"] == "Retain"
    assert function(synth)["LoggingConfig"] == {"LogGroup": ref(log_group_id)}


def test_a_failed_poll_is_left_to_the_next_tick_and_a_throttled_one_waits_one_period(
    synth: Synthesized,
) -> None:
    config = synth.only("AWS::Lambda::EventInvokeConfig")[1]["Properties"]
    assert config["MaximumRetryAttempts"] == 0
    assert config["MaximumEventAgeInSeconds"] == 60
    assert "DestinationConfig" not in config
    assert "DeadLetterConfig" not in function(synth), "a tick has nothing to replay"


# --- least privilege ------------------------------------------------------------------------------------


def test_the_poller_role_has_exactly_the_statements_the_poller_needs(synth: Synthesized) -> None:
    notifier = synth.stack.notifier
    role_id = synth.logical_id(notifier.poller.role)
    policies = synth.resources("AWS::IAM::Policy")
    assert len(policies) == 1, "the poller role is the only principal with an identity policy"
    policy = next(iter(policies.values()))["Properties"]
    assert policy["Roles"] == [ref(role_id)]
    # In any order: IAM evaluates statements as a set.
    assert sorted(policy["PolicyDocument"]["Statement"], key=canonical) == sorted(
        expected_statements(synth), key=canonical
    )


def canonical(statement: dict[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True)


def expected_statements(synth: Synthesized) -> list[dict[str, Any]]:
    notifier = synth.stack.notifier
    return [
        {
            "Sid": "ListStoreImageTasks",
            "Effect": "Allow",
            "Action": "ec2:DescribeStoreImageTasks",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": [{"Ref": "AWS::Region"}]}},
        },
        {
            "Sid": "SizeStoresForTheQuota",
            "Effect": "Allow",
            "Action": "ec2:DescribeImages",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": [{"Ref": "AWS::Region"}]}},
        },
        {
            "Sid": "TaskStateItems",
            "Effect": "Allow",
            "Action": [
                "dynamodb:BatchGetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ],
            "Resource": arn_of(synth.logical_id(notifier.state.table)),
        },
        {
            "Sid": "PublishNotifications",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": ref(synth.logical_id(notifier.announcements.topic)),
        },
        {
            "Sid": "EncryptNotifications",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": arn_of(synth.logical_id(notifier.announcements.key)),
        },
        {
            "Sid": "PutAnnouncementEvents",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": arn_of(synth.logical_id(notifier.announcements.bus)),
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arn_of(synth.logical_id(notifier.poller.log_group)),
        },
    ]


def test_the_poller_role_has_no_managed_policies_and_only_lambda_may_assume_it(synth: Synthesized) -> None:
    role = synth.only("AWS::IAM::Role")[1]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert function(synth)["Role"] == arn_of(synth.logical_id(synth.stack.notifier.poller.role))


# --- the schedule ---------------------------------------------------------------------------------------


def test_the_schedule_runs_the_poller_every_minute_with_retries_and_a_dead_letter_queue(
    synth: Synthesized,
) -> None:
    notifier = synth.stack.notifier
    rule = synth.only("AWS::Events::Rule")[1]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule["State"] == "ENABLED"
    assert "EventBusName" not in rule, "schedules run on the default bus"
    assert rule["Targets"] == [
        {
            "Id": "Target0",
            "Arn": arn_of(synth.logical_id(notifier.poller.function)),
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": arn_of(synth.logical_id(notifier.poller.dead_letter_queue))},
        }
    ]
    synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": arn_of(synth.logical_id(notifier.poller.function)),
            "SourceArn": arn_of(synth.logical_id(notifier.poller.schedule)),
        },
    )


def test_the_dead_letter_queue_is_encrypted_and_refuses_plain_http(synth: Synthesized) -> None:
    queue_id, queue = synth.only("AWS::SQS::Queue")
    assert queue["Properties"] == {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}
    policy = synth.only("AWS::SQS::QueuePolicy")[1]["Properties"]
    assert policy["Queues"] == [ref(queue_id)]
    assert {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": arn_of(queue_id),
    } in policy["PolicyDocument"]["Statement"]


def test_only_the_schedule_rule_may_send_to_the_dead_letter_queue(synth: Synthesized) -> None:
    queue_id, _ = synth.only("AWS::SQS::Queue")
    statements = synth.only("AWS::SQS::QueuePolicy")[1]["Properties"]["PolicyDocument"]["Statement"]
    allows = [
        {key: value for key, value in statement.items() if key != "Sid"}
        for statement in statements
        if statement["Effect"] == "Allow"
    ]
    assert allows == [
        {
            "Action": "sqs:SendMessage",
            "Condition": {
                "ArnEquals": {"aws:SourceArn": arn_of(synth.logical_id(synth.stack.notifier.poller.schedule))}
            },
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": arn_of(queue_id),
        }
    ]


# --- announcement targets -------------------------------------------------------------------------------


def test_the_notification_topic_is_encrypted_with_the_deployments_one_rotating_key(
    synth: Synthesized,
) -> None:
    notifier = synth.stack.notifier
    topic = synth.resources("AWS::SNS::Topic")[synth.logical_id(notifier.announcements.topic)]["Properties"]
    assert topic["KmsMasterKeyId"] == arn_of(synth.logical_id(notifier.announcements.key))
    key_id, key = synth.only("AWS::KMS::Key")
    assert key_id == synth.logical_id(notifier.announcements.key)
    # Rotated at the longest period KMS allows: each rotation adds $1 a month (infra/encrypted_topic.py).
    assert (key["Properties"]["EnableKeyRotation"], key["Properties"]["RotationPeriodInDays"]) == (True, 2560)
    assert key["DeletionPolicy"] == "Delete", "a retained key bills on after the stack is gone"


def test_the_notification_topic_refuses_publishing_without_tls(synth: Synthesized) -> None:
    topic_id = synth.logical_id(synth.stack.notifier.announcements.topic)
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref(topic_id)],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "sns:Publish",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        "Effect": "Deny",
                        "Principal": "*",
                        "Resource": ref(topic_id),
                        "Sid": "AllowPublishThroughSSLOnly",
                    }
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_nobody_is_subscribed_by_email_unless_an_address_is_given(synth: Synthesized) -> None:
    assert synth.resources("AWS::SNS::Subscription") == {}


def test_a_new_custom_event_bus_named_after_the_stack_is_created_by_default(synth: Synthesized) -> None:
    bus_id, bus = synth.only("AWS::Events::EventBus")
    assert bus["Properties"] == {"Name": "AmiStoreNotifier-events"}
    assert bus_id == synth.logical_id(synth.stack.notifier.announcements.bus)


# --- operations -----------------------------------------------------------------------------------------


def test_every_alarm_notifies_the_alarm_topic_on_alarm_and_on_recovery(synth: Synthesized) -> None:
    alarm_topic = ref(synth.logical_id(synth.stack.notifier.monitoring.alarm_topic))
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 5
    for resource in alarms.values():
        assert resource["Properties"]["AlarmActions"] == [alarm_topic]
        assert resource["Properties"]["OKActions"] == [alarm_topic]


def test_the_alarm_topic_is_encrypted_with_the_deployments_key_refuses_plain_http_and_cloudwatch_may_use_it(
    synth: Synthesized,
) -> None:
    monitoring = synth.stack.notifier.monitoring
    topic_id = synth.logical_id(monitoring.alarm_topic)
    assert monitoring.alarm_key is not None
    key_id = synth.logical_id(monitoring.alarm_key)
    assert topic_id != synth.logical_id(synth.stack.notifier.announcements.topic)
    assert key_id == synth.logical_id(synth.stack.notifier.announcements.key)
    topic = synth.resources("AWS::SNS::Topic")[topic_id]["Properties"]
    assert topic["KmsMasterKeyId"] == arn_of(key_id)
    key = synth.resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert "AllowThisStacksAlarmsToUseTheKey" in [
        statement.get("Sid") for statement in key["KeyPolicy"]["Statement"]
    ]
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref(topic_id)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_the_errors_alarm_fires_on_any_failed_poll(synth: Synthesized) -> None:
    props = alarm(synth, "PollerErrors")
    assert props["Namespace"] == "AWS/Lambda"
    assert props["MetricName"] == "Errors"
    assert props["Dimensions"] == [
        {"Name": "FunctionName", "Value": ref(synth.logical_id(synth.stack.notifier.poller.function))}
    ]
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"


def test_what_stops_the_polls_for_good_is_left_to_the_heartbeat_not_alarmed_on_its_own(
    synth: Synthesized,
) -> None:
    """Lambda throttling, a run near its timeout, a dead-lettered tick: a passing one loses nothing (the next
    tick does the same work), a lasting one stops the heartbeat, which fires (infra/monitoring.py)."""
    names = {
        resource["Properties"]["AlarmName"] for resource in synth.resources("AWS::CloudWatch::Alarm").values()
    }
    assert names == {
        "AmiStoreNotifier-NoSuccessfulPolls",
        "AmiStoreNotifier-PollerErrors",
        "AmiStoreNotifier-PublishFailures",
        "AmiStoreNotifier-RegionFailures",
        "AmiStoreNotifier-StoreQuota",
    }


def test_one_alarm_watches_every_regions_failures_on_the_handlers_region_metric(custom: Synthesized) -> None:
    """One alarm, however many Regions are polled (custom polls two): the metric has the deployment's
    `service` dimension only, and the 'Region failed' log line names the Region."""
    (props,) = [
        resource["Properties"]
        for resource in custom.resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["MetricName"] == "RegionFailures"
    ]
    assert props["AlarmName"] == "StoreNotes-RegionFailures"
    assert props["Namespace"] == "AmiStoreNotifier"
    assert props["Dimensions"] == [{"Name": "service", "Value": "StoreNotes"}]
    assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert props["TreatMissingData"] == "notBreaching"


def test_every_alarm_says_what_happened_and_what_to_do(synth: Synthesized) -> None:
    for resource in synth.resources("AWS::CloudWatch::Alarm").values():
        description = resource["Properties"]["AlarmDescription"]
        text = description if isinstance(description, str) else str(description)
        assert "What to do:" in text, text
        assert "Runbook" in text, text


def test_the_publish_failures_alarm_watches_the_pollers_own_metric(synth: Synthesized) -> None:
    props = alarm(synth, "PublishFailures")
    assert (props["Namespace"], props["MetricName"]) == ("AmiStoreNotifier", "PublishFailures")
    assert props["Dimensions"] == [{"Name": "service", "Value": "AmiStoreNotifier"}]
    assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
        "Sum",
        "GreaterThanThreshold",
        0,
    )
    assert props["TreatMissingData"] == "notBreaching"


def test_the_heartbeat_alarm_fires_after_three_periods_without_a_successful_poll(synth: Synthesized) -> None:
    props = alarm(synth, "NoSuccessfulPolls")
    assert (props["Namespace"], props["MetricName"]) == ("AmiStoreNotifier", "SuccessfulPolls")
    assert props["Dimensions"] == [{"Name": "service", "Value": "AmiStoreNotifier"}]
    assert (props["Statistic"], props["Period"]) == ("Sum", 60)
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (3, 3)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("LessThanThreshold", 1)
    # Silence is the failure this alarm is for: a poller that never runs emits nothing.
    assert props["TreatMissingData"] == "breaching"


def graphed(synthesized: Synthesized) -> set[tuple[str, str]]:
    """(namespace, metric name) of every metric the dashboard's graphs read."""
    return {
        (line[0], line[1])
        for widget in dashboard_widgets(synthesized)
        for line in widget["properties"].get("metrics", [])
    }


def test_the_dashboard_graphs_every_metric_the_poller_publishes_and_lambdas_own_metrics(
    synth: Synthesized,
) -> None:
    lambdas = {("AWS/Lambda", name) for name in ("Invocations", "Errors", "Throttles", "Duration")}
    # StartsWithoutHint is counted only with quietWhenIdle, and graphed only there (test_infra_hints.py).
    published = {
        ("AmiStoreNotifier", metric.name) for metric in ALL_METRICS if metric.name != "StartsWithoutHint"
    }
    assert graphed(synth) == published | lambdas
    assert ("AmiStoreNotifier", METRICS["successful_polls"].name) in graphed(synth)


def test_the_dashboard_graphs_no_figure_that_is_only_in_the_log_line(synth: Synthesized) -> None:
    """What the poller no longer publishes would be an empty graph: those figures are read from the log
    group by the Logs Insights widget, at no standing cost."""
    names = {name for _, name in graphed(synth)}
    for log_only in ("TasksSeen", "TasksInProgress", "PollDuration", "ListingRestarts", "AnnouncedCompleted"):
        assert log_only not in names
    queries = [
        widget["properties"]["query"] for widget in dashboard_widgets(synth) if widget["type"] == "log"
    ]
    assert all('"Poll finished"' in query for query in queries)
    assert any("report.tasksInProgress" in query for query in queries)
    assert all(
        any(f"sum(report.announced.{state.value})" in query for query in queries)
        for state in TaskState.known()
    )


def test_the_dashboard_marks_the_timeout_on_the_duration_graph_and_is_named_for_its_region(
    synth: Synthesized,
) -> None:
    (duration,) = [
        widget for widget in dashboard_widgets(synth) if "duration" in widget["properties"].get("title", "")
    ]
    assert duration["properties"]["annotations"]["horizontal"][0]["value"] == 120_000
    # Dashboards are global to the account: the Region is part of the name.
    assert synth.only("AWS::CloudWatch::Dashboard")[1]["Properties"]["DashboardName"] == {
        "Fn::Join": ["", ["AmiStoreNotifier-", {"Ref": "AWS::Region"}]]
    }


# --- outputs --------------------------------------------------------------------------------------------


def test_the_stack_outputs_the_topic_bus_table_and_function(synth: Synthesized) -> None:
    notifier = synth.stack.notifier
    outputs = {name: output["Value"] for name, output in synth.template_json["Outputs"].items()}
    assert outputs["TopicArn"] == ref(synth.logical_id(notifier.announcements.topic))
    assert outputs["EventBusName"] == {"Fn::GetAtt": [synth.logical_id(notifier.announcements.bus), "Name"]}
    assert outputs["EventBusArn"] == arn_of(synth.logical_id(notifier.announcements.bus))
    assert outputs["TableName"] == ref(synth.logical_id(notifier.state.table))
    assert outputs["FunctionName"] == ref(synth.logical_id(notifier.poller.function))


def test_the_stack_name_defaults_to_ami_store_notifier(synth: Synthesized) -> None:
    assert synth.stack.stack_name == "AmiStoreNotifier"


# --- cdk-nag --------------------------------------------------------------------------------------------

ACKNOWLEDGED = {
    "AwsSolutions-IAM5[Resource::*]": "AmiStoreNotifier/Default/Default/PollerRole/DefaultPolicy/Resource",
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]": (
        "AmiStoreNotifier/Default/Default/PollerRole/DefaultPolicy/Resource"
    ),
    "AwsSolutions-L1": "AmiStoreNotifier/Default/Default/Poller/Resource",
    "AwsSolutions-SQS3": "AmiStoreNotifier/Default/Default/ScheduleDeadLetterQueue/Resource",
}


def test_cdk_nag_aws_solutions_reports_no_findings(synth: Synthesized) -> None:
    report = synth.nag_report
    assert report["pluginName"] == "AwsSolutions"
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_only_the_four_justified_findings_are_acknowledged_each_with_its_rule_and_reason(
    synth: Synthesized,
) -> None:
    report = synth.nag_report
    acknowledged = {violation["ruleName"]: violation for violation in report.get("suppressedViolations", [])}
    assert set(acknowledged) == set(ACKNOWLEDGED)
    for rule, path in ACKNOWLEDGED.items():
        violation = acknowledged[rule]
        assert violation["acknowledgedId"] == f"AwsSolutions::{rule}"
        assert [c["constructPath"] for c in violation["violatingConstructs"]] == [path]
        assert len(violation["reason"]) > 60, f"{rule} needs a real reason"


def runbook_sections() -> set[str]:
    """The runbook's alarm sections: the level-2 headings whose text is their explicit id (the anchor)."""
    return set(re.findall(r"^## (\w+) \{#\1\}$", (REPO_ROOT / RUNBOOK_PAGE).read_text(), re.MULTILINE))


def runbook_anchors() -> set[str]:
    """Every anchor the runbook page declares: explicit heading ids and raw HTML ids."""
    page = (REPO_ROOT / RUNBOOK_PAGE).read_text()
    return set(re.findall(r"\{#([\w-]+)\}", page)) | set(re.findall(r'\bid="([\w-]+)"', page))


def test_the_runbook_has_a_section_for_every_alarm(
    synth: Synthesized, spoke: Synthesized, hub: Synthesized, quiet: Synthesized
) -> None:
    alarms = {
        alarm_name(synthesized, resource)
        # The spoke adds the hub forwarding's alarm; quietWhenIdle (with hints) the hints' two.
        for synthesized in (synth, spoke, hub, quiet)
        for resource in synthesized.resources("AWS::CloudWatch::Alarm").values()
    }
    assert alarms == runbook_sections()


def test_every_alarm_description_links_to_its_runbook_section_within_cloudwatchs_limit(
    synth: Synthesized,
    lean: Synthesized,
    chat: Synthesized,
    spoke: Synthesized,
    hub: Synthesized,
    hub_lean: Synthesized,
    quiet: Synthesized,
) -> None:
    anchors = runbook_anchors()
    seen = 0
    for synthesized in (synth, lean, chat, spoke, hub, hub_lean, quiet):
        for resource in synthesized.resources("AWS::CloudWatch::Alarm").values():
            name = alarm_name(synthesized, resource)
            description = synthesized.stack.resolve(resource["Properties"]["AlarmDescription"])
            assert isinstance(description, str), name
            link = re.fullmatch(r".*What to do: .*\(Runbook: (\S+)#([\w-]+)\)", description, re.DOTALL)
            assert link, description
            assert (link[1], link[2]) == (RUNBOOK_PAGE, name)
            assert link[2] in anchors, f"{RUNBOOK_PAGE} has no section #{link[2]}"
            assert len(description) <= MAX_DESCRIPTION_LENGTH, name
            seen += 1
    assert seen >= 11


def test_with_docs_url_every_alarm_description_links_to_its_runbook_section_on_the_teams_site(
    custom: Synthesized,
) -> None:
    site_runbook = f"{LONGEST_DOCS_URL}/runbook/"
    links = {
        alarm_name(custom, resource): custom.stack.resolve(resource["Properties"]["AlarmDescription"])
        for resource in custom.resources("AWS::CloudWatch::Alarm").values()
    }
    assert links
    for name, description in links.items():
        link = re.search(r"\(Runbook: (\S+)#([\w-]+)\)$", description)
        assert link, description
        assert link[1] == site_runbook
        assert name == f"StoreNotes-{link[2]}"
        assert link[2] in runbook_anchors()
        assert len(description) <= MAX_DESCRIPTION_LENGTH, name


def alarm_name(synthesized: Synthesized, alarm: dict[str, Any]) -> str:
    """The alarm's name without the stack name, a Region token shown as <region>."""
    name = synthesized.stack.resolve(alarm["Properties"]["AlarmName"])
    text = (
        name
        if isinstance(name, str)
        else "".join(part if isinstance(part, str) else "<region>" for part in name["Fn::Join"][1])
    )
    return str(text).removeprefix("AmiStoreNotifierHub-").removeprefix("AmiStoreNotifier-")


def test_every_alarm_on_the_pollers_namespace_watches_a_metric_the_handler_emits(synth: Synthesized) -> None:
    emitted = {metric.name: metric.dimensions for metric in ALL_METRICS}
    watched = [
        resource["Properties"]
        for resource in synth.resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"]["Namespace"] == "AmiStoreNotifier"
    ]
    assert len(watched) == 4  # publish failures, the heartbeat, the region's failures, the store quota
    for alarm in watched:
        assert alarm["MetricName"] in emitted, alarm["MetricName"]
        dimensions = sorted(dimension["Name"] for dimension in alarm["Dimensions"])
        assert dimensions == sorted(emitted[alarm["MetricName"]]), alarm["MetricName"]

"""Deploys the synthesized stack into moto's CloudFormation, then runs the deployed code against it.

The first test is the deployment itself: the cloud assembly's asset goes to the bootstrap bucket, the
bootstrap version goes to SSM, and the template is created as CloudFormation would create it. moto skips
the alarms, topic and queue policies and the async-invoke config (their properties are covered by
test_infra_stack.py) and creates the rest.

The second test takes the function's code from the bootstrap bucket (the zip the stack points at) and its
environment from moto's Lambda, runs that handler against moto and the EC2 store-task emulator, and reads
the Completed announcement from a queue subscribed to the deployed topic and from a queue fed by a rule on
the deployed bus.

The last tests run that code under the deployed role, with moto enforcing IAM: signed with an
`sts.assume_role` session of the function's role, every call is authorized against the role's policy as
moto stores it from the template. They show the role is enough (the end-to-end runs and a redelivery pass,
each call authorized on the resource it touches) and needed (other actions on the table, and the role's
actions on another table, topic or bus, are refused with AccessDenied). moto checks DynamoDB, SNS and
EventBridge requests against resource `*`, and as `dynamodb:TransactWriteItems` and `sns:PublishBatch`,
which AWS does not: tests/infra/iam_enforcement.py teaches it what AWS checks, for the test's duration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import settings as moto_settings
from moto.core import enable_iam_authentication

from ami_store_notifier.adapters.table_items import cursor_pk
from local.deployment import EVENT_SOURCE, RULE_QUEUE, TOPIC_QUEUE, LocalDeployment, subscribe
from local.ec2_store_tasks import CLOCK, store_tasks_backend
from local.lambda_context import LambdaContextStub
from tests.infra.iam_enforcement import (
    Decision,
    record_decisions,
    refused_action,
    teach_moto,
    use_credentials,
)
from tests.infra.support import POWERTOOLS_LAYER_ARN, REGION, Deployed, Resources, Role, Synthesized

# --- the CloudFormation half ----------------------------------------------------------------------------


def test_the_stack_deploys_in_moto_and_outputs_its_topic_bus_table_and_function(deployed: Deployed) -> None:
    outputs = deployed.outputs
    account = deployed.account
    assert set(outputs) >= {"TopicArn", "EventBusName", "EventBusArn", "TableName", "FunctionName"}

    topic = boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=outputs["TopicArn"])
    assert outputs["TopicArn"].startswith(f"arn:aws:sns:{REGION}:{account}:")
    assert topic["Attributes"]["KmsMasterKeyId"]

    bus = boto3.client("events", region_name=REGION).describe_event_bus(Name=outputs["EventBusName"])
    assert (
        bus["Arn"] == outputs["EventBusArn"] == f"arn:aws:events:{REGION}:{account}:event-bus/{bus['Name']}"
    )

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=outputs["TableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]

    configuration = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=outputs["FunctionName"]
    )
    assert configuration["Handler"] == "ami_store_notifier.handler.lambda_handler"
    assert configuration["Runtime"] == "python3.13"
    environment = configuration["Environment"]["Variables"]
    assert environment["TABLE_NAME"] == outputs["TableName"]
    assert environment["TOPIC_ARN"] == outputs["TopicArn"]
    assert environment["EVENT_BUS_NAME"] == outputs["EventBusName"]
    assert environment["REGIONS"] == REGION
    assert environment["CLAIM_LEASE_SECONDS"] == str(configuration["Timeout"] + 60)
    assert bus["Name"] == "AmiStoreNotifier-events"


def test_the_deployment_resolves_the_layer_aws_publishes_for_the_pinned_powertools_in_its_region(
    deployed: Deployed, synth: Synthesized
) -> None:
    # moto's Lambda keeps no layer it did not create itself, and its CloudFormation reports no
    # ResolvedValue, so the resolved parameter is read from the deployed stack's own record.
    from moto.cloudformation.models import cloudformation_backends

    (layer,) = synth.only("AWS::Lambda::Function")[1]["Properties"]["Layers"]
    (stack,) = cloudformation_backends[deployed.account][REGION].stacks.values()
    assert stack.resource_map.resolved_parameters[layer["Ref"]] == POWERTOOLS_LAYER_ARN


def test_the_deployed_schedule_targets_the_function_with_retries_and_a_dead_letter_queue(
    deployed: Deployed,
) -> None:
    events = boto3.client("events", region_name=REGION)
    (rule,) = [rule for rule in events.list_rules()["Rules"] if rule.get("ScheduleExpression")]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    function_arn = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployed.outputs["FunctionName"]
    )["FunctionArn"]
    assert target["Arn"] == function_arn
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60}
    sqs = boto3.client("sqs", region_name=REGION)
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=deployed.outputs["DeadLetterQueueUrl"], AttributeNames=["QueueArn", "SqsManagedSseEnabled"]
    )["Attributes"]
    assert target["DeadLetterConfig"] == {"Arn": queue_arn["QueueArn"]}


# --- the end-to-end half --------------------------------------------------------------------------------


def subscribers_and_a_store_in_progress(deployed: Deployed, boto_session: Any) -> tuple[LocalDeployment, str]:
    """Queues subscribed to the deployed topic and bus, and an AMI whose store task takes 600 s."""
    outputs = deployed.outputs
    subscribers = LocalDeployment(
        REGION,
        outputs["TableName"],
        outputs["TopicArn"],
        outputs["EventBusName"],
        subscribe(boto_session, REGION, outputs["TopicArn"], outputs["EventBusName"], name="subscriber"),
        boto_session.client("sqs", region_name=REGION),
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="ami-archive")
    ami = str(ec2.register_image(Name="golden-image")["ImageId"])
    store_tasks_backend(deployed.account, REGION).plan(ami, duration_seconds=600)
    ec2.create_store_image_task(ImageId=ami, Bucket="ami-archive")
    return subscribers, ami


def test_a_completed_store_reaches_subscribers_of_the_deployed_topic_and_bus(
    deployed: Deployed, deployed_handler: tuple[ModuleType, LambdaContextStub], boto_session: Any
) -> None:
    handler, context = deployed_handler
    environment = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployed.outputs["FunctionName"]
    )["Environment"]["Variables"]
    assert environment["EVENT_SOURCE"] == EVENT_SOURCE
    subscribers, ami = subscribers_and_a_store_in_progress(deployed, boto_session)

    baseline = handler.lambda_handler({}, context)
    # Read twice by the first run: on the head page and in the sweep of the tasks in progress.
    assert baseline["regions"][0]["tasksSeen"] == 2
    assert subscribers.receive(TOPIC_QUEUE) == []
    assert subscribers.receive(RULE_QUEUE) == []

    CLOCK.advance(601)
    result = handler.lambda_handler({}, context)
    assert result["regions"][0]["announced"]["Completed"] == 1

    (notification,) = subscribers.receive(TOPIC_QUEUE)
    detail = notification.detail
    assert (detail["amiId"], detail["state"], detail["previousState"]) == (ami, "Completed", "InProgress")
    assert detail["s3Uri"] == f"s3://ami-archive/{ami}.bin"
    assert notification.subject == f"AMI store Completed: {ami} to ami-archive"

    (event,) = subscribers.receive(RULE_QUEUE)
    assert event.detail == detail


# --- the deployed role, enforced --------------------------------------------------------------------------


@contextmanager
def as_the_role(role: Role, handler: ModuleType | None = None) -> Iterator[list[Decision]]:
    """moto enforcing IAM, the default credential chain on the role's session, the handler on a cold start.

    Yields moto's authorization decisions, in order. Everything is undone on the way out: the credentials,
    the patches that teach moto the resources, and the enforcement itself (enable_iam_authentication
    restores moto's settings), so the setup before and the checks after run with the tests' admin
    credentials, which moto would refuse while enforcing (it knows no such access key).
    """
    not_enforcing = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    with pytest.MonkeyPatch.context() as patch, enable_iam_authentication():
        teach_moto(patch)
        decisions = record_decisions(patch)
        use_credentials(patch, role.credentials)
        if handler is not None:
            handler.wiring.cache_clear()
        try:
            yield decisions
        finally:
            if handler is not None:
                handler.wiring.cache_clear()
    assert not_enforcing == moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, "moto still enforces IAM"


def refusals(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(decision.action, decision.resource) for decision in decisions if not decision.allowed]


def test_the_deployed_role_is_enough_for_the_deployed_code(
    deployed: Deployed,
    deployed_handler: tuple[ModuleType, LambdaContextStub],
    role: Role,
    resources: Resources,
    boto_session: Any,
) -> None:
    """The two runs of the end-to-end test, signed with the role's session and checked by moto's IAM.

    Enforced: every request the handler makes is authorized against the role's policies (as moto stores
    them from the deployed template), as the action and on the resource AWS checks: the table for each
    item of a TransactWriteItems, the topic for PublishBatch (as sns:Publish), the bus for PutEvents
    (see tests/infra/iam_enforcement.py). Not enforced: the KMS permissions SNS uses on the publisher's
    behalf for the encrypted topic (moto's SNS calls no KMS), the logs and X-Ray statements (the handler runs
    in-process: nothing ships its logs or traces), sqs:SendMessage on the dead-letter queue (used by
    Lambda's asynchronous invocation, not by the code), resource-based policies (moto's CloudFormation
    creates no topic or queue policy) and the role's trust policy (assumed before enforcement starts).
    """
    handler, context = deployed_handler
    subscribers, ami = subscribers_and_a_store_in_progress(deployed, boto_session)

    with as_the_role(role, handler) as decisions:
        baseline = handler.lambda_handler({}, context)
        CLOCK.advance(601)
        result = handler.lambda_handler({}, context)

    # Read twice by the first run: on the head page and in the sweep of the tasks in progress.
    assert baseline["regions"][0]["tasksSeen"] == 2
    (report,) = result["regions"]
    assert (report["announced"], report["publishFailures"], report["stoppedBecause"]) == (
        {"Completed": 1},
        0,
        None,
    )
    (notification,) = subscribers.receive(TOPIC_QUEUE)
    (event,) = subscribers.receive(RULE_QUEUE)
    assert notification.detail["amiId"] == ami
    assert event.detail == notification.detail

    # moto decided every call, for the role's session, on the resource the call touches.
    assert {decision.principal for decision in decisions} == {role.session_arn}
    assert refusals(decisions) == []
    assert {(decision.action, decision.resource) for decision in decisions} == {
        ("ec2:DescribeStoreImageTasks", "*"),
        ("ec2:DescribeImages", "*"),  # the store in progress, sized for the store quota
        ("dynamodb:BatchGetItem", resources.table),  # the cursor and the tasks it knows
        ("dynamodb:PutItem", resources.table),  # inside TransactWriteItems: the first claim and cursor
        ("dynamodb:UpdateItem", resources.table),  # inside TransactWriteItems, and settling the leases
        ("sns:Publish", resources.topic),  # PublishBatch
        ("events:PutEvents", resources.bus),
    }


def test_calls_outside_the_deployed_role_are_refused(
    deployed: Deployed, role: Role, resources: Resources
) -> None:
    """The role is needed as written: other actions on its table, and its actions on other resources, are
    refused with AccessDenied, while a call it grants goes through with the same credentials."""
    cursor_key = {"pk": {"S": cursor_pk(REGION)}}
    item = {"pk": {"S": "TASK#probe"}}
    with as_the_role(role) as decisions:
        session = boto3.session.Session(region_name=REGION)  # the role's session, from the environment
        dynamodb, sns, events = (session.client(name) for name in ("dynamodb", "sns", "events"))
        ec2 = session.client("ec2")
        outputs = deployed.outputs
        dynamodb.batch_get_item(RequestItems={outputs["TableName"]: {"Keys": [cursor_key]}})  # granted

        outside: dict[str, Callable[[], Any]] = {
            "Scan on the table": lambda: dynamodb.scan(TableName=outputs["TableName"]),
            "DeleteItem on the table": lambda: dynamodb.delete_item(TableName=outputs["TableName"], Key=item),
            "BatchWriteItem on the table": lambda: dynamodb.batch_write_item(
                RequestItems={outputs["TableName"]: [{"PutRequest": {"Item": item}}]}
            ),
            "a Delete in a transaction on the table": lambda: dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": outputs["TableName"], "Item": item}},
                    {"Delete": {"TableName": outputs["TableName"], "Key": cursor_key}},
                ]
            ),
            "GetItem on the table": lambda: dynamodb.get_item(TableName=outputs["TableName"], Key=cursor_key),
            "BatchGetItem on another table": lambda: dynamodb.batch_get_item(
                RequestItems={resources.other_table_name: {"Keys": [cursor_key]}}
            ),
            "PublishBatch to another topic": lambda: sns.publish_batch(
                TopicArn=resources.other_topic, PublishBatchRequestEntries=[{"Id": "1", "Message": "probe"}]
            ),
            "PutEvents on the default bus": lambda: events.put_events(
                Entries=[{"Source": EVENT_SOURCE, "DetailType": "probe", "Detail": "{}"}]
            ),
            "PutEvents on another bus": lambda: events.put_events(
                Entries=[
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": "probe",
                        "Detail": "{}",
                        "EventBusName": resources.other_bus_name,
                    }
                ]
            ),
            "DescribeInstances": ec2.describe_instances,
        }
        outcomes = {}
        for name, call in outside.items():
            try:
                call()
            except ClientError as error:
                outcomes[name] = refused_action(error) or f"not refused: {error}"
            else:
                outcomes[name] = "allowed"

    assert outcomes == {
        "Scan on the table": "dynamodb:Scan",
        "DeleteItem on the table": "dynamodb:DeleteItem",
        "BatchWriteItem on the table": "dynamodb:BatchWriteItem",
        "a Delete in a transaction on the table": "dynamodb:DeleteItem",
        "GetItem on the table": "dynamodb:GetItem",
        "BatchGetItem on another table": "dynamodb:BatchGetItem",
        "PublishBatch to another topic": "sns:Publish",
        "PutEvents on the default bus": "events:PutEvents",
        "PutEvents on another bus": "events:PutEvents",
        "DescribeInstances": "ec2:DescribeInstances",
    }
    assert {decision.principal for decision in decisions} == {role.session_arn}
    default_bus = f"arn:aws:events:{REGION}:{deployed.account}:event-bus/default"
    assert refusals(decisions) == [
        ("dynamodb:Scan", resources.table),
        ("dynamodb:DeleteItem", resources.table),
        ("dynamodb:BatchWriteItem", resources.table),
        ("dynamodb:DeleteItem", resources.table),  # the transaction's Put was allowed, its Delete was not
        ("dynamodb:GetItem", resources.table),
        ("dynamodb:BatchGetItem", resources.other_table),
        ("sns:Publish", resources.other_topic),
        ("events:PutEvents", default_bus),
        ("events:PutEvents", resources.other_bus),
        ("ec2:DescribeInstances", "*"),
    ]
    allowed = [(decision.action, decision.resource) for decision in decisions if decision.allowed]
    assert allowed == [("dynamodb:BatchGetItem", resources.table), ("dynamodb:PutItem", resources.table)]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_deployed_code_configured_with_another_table_is_refused_and_reports_its_region(
    deployed_handler: tuple[ModuleType, LambdaContextStub],
    role: Role,
    resources: Resources,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, context = deployed_handler
    monkeypatch.setenv("TABLE_NAME", resources.other_table_name)

    with as_the_role(role, handler) as decisions:
        result = handler.lambda_handler({}, context)

    assert result["regions"] == []
    (failure,) = result["failedRegions"]
    assert failure["region"] == REGION
    assert "BatchGetItem operation" in failure["message"]
    assert refusals(decisions) == [("dynamodb:BatchGetItem", resources.other_table)]


@pytest.mark.parametrize("setting", ["TOPIC_ARN", "EVENT_BUS_NAME"])
def test_an_announcement_refused_on_another_channel_is_redelivered_on_the_deployed_one(
    setting: str,
    deployed: Deployed,
    deployed_handler: tuple[ModuleType, LambdaContextStub],
    role: Role,
    resources: Resources,
    boto_session: Any,
) -> None:
    """Configured with a topic or bus the role was not given, a run's announcement is refused there
    (and only there) and kept pending; the next run, configured as deployed, redelivers it, reading the
    stored announcement with BatchGetItem, which the role grants too."""
    handler, context = deployed_handler
    subscribers, _ = subscribers_and_a_store_in_progress(deployed, boto_session)
    elsewhere, refused_on, refused_queue, other_queue = {
        "TOPIC_ARN": (
            resources.other_topic,
            ("sns:Publish", resources.other_topic),
            TOPIC_QUEUE,
            RULE_QUEUE,
        ),
        "EVENT_BUS_NAME": (
            resources.other_bus_name,
            ("events:PutEvents", resources.other_bus),
            RULE_QUEUE,
            TOPIC_QUEUE,
        ),
    }[setting]

    with as_the_role(role, handler) as refusing:
        handler.lambda_handler({}, context)
        CLOCK.advance(601)
        with pytest.MonkeyPatch.context() as configured:
            configured.setenv(setting, elsewhere)
            handler.wiring.cache_clear()
            refused = handler.lambda_handler({}, context)

    (report,) = refused["regions"]
    assert (report["announced"], report["publishFailures"]) == ({"Completed": 1}, 1)
    assert refusals(refusing) == [refused_on]
    assert subscribers.receive(refused_queue) == []
    (announced,) = subscribers.receive(other_queue)

    with as_the_role(role, handler) as redelivering:
        redelivered = handler.lambda_handler({}, context)

    (report,) = redelivered["regions"]
    assert (report["redelivered"], report["publishFailures"]) == (1, 0)
    assert refusals(redelivering) == []
    assert ("dynamodb:BatchGetItem", resources.table) in {
        (decision.action, decision.resource) for decision in redelivering
    }
    (late,) = subscribers.receive(refused_queue)
    assert late.detail == announced.detail
    assert subscribers.receive(other_queue) == []

"""Deploys the synthesized stack into moto's CloudFormation, then runs the deployed code against it.

The first test is the deployment itself: the cloud assembly's asset goes to the bootstrap bucket, the
bootstrap version goes to SSM, and the template is created as CloudFormation would create it. moto skips
the alarms, topic and queue policies and the async-invoke config (their properties are covered by
test_infra_stack.py) and creates the rest.

The second test takes the function's code from the bootstrap bucket (the zip the stack points at) and its
environment from moto's Lambda, runs that handler against moto and the EC2 store-task emulator, and reads
the Completed announcement from a queue subscribed to the deployed topic and from a queue fed by a rule on
the deployed bus.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import sys
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from local.deployment import EVENT_SOURCE, RULE_QUEUE, TOPIC_QUEUE, LocalDeployment, subscribe
from local.ec2_store_tasks import CLOCK, store_tasks_backend
from local.lambda_context import LambdaContextStub
from tests.infra.support import Synthesized, synthesize

REGION = "us-east-1"
STACK_NAME = "AmiStoreNotifier"
BOOTSTRAP_QUALIFIER = "hnb659fds"
# What moto's CloudFormation cannot create; it warns and goes on. Anything else skipped fails the test.
SKIPPED_BY_MOTO = {
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # The app exactly as `cdk synth` builds it, cdk-nag included.
    return synthesize(tmp_path_factory.mktemp("deploy"))


@dataclass
class Deployed:
    account: str
    outputs: dict[str, str]
    code_key: str
    bucket: str


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def publish_assets(assembly: Synthesized, account: str) -> str:
    """What `cdk deploy` does first: every file asset to the bootstrap bucket. Returns the bucket."""
    bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{REGION}"
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    manifest = json.loads((assembly.outdir / f"{STACK_NAME}.assets.json").read_text())
    for asset in manifest["files"].values():
        source = assembly.outdir / asset["source"]["path"]
        body = zipped(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            named = destination["bucketName"].replace("${AWS::AccountId}", account)
            assert named.replace("${AWS::Region}", REGION) == bucket
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)
    return bucket


@pytest.fixture
def deployed(assembly: Synthesized, mocked_aws: None) -> Deployed:
    account = str(boto3.client("sts", region_name=REGION).get_caller_identity()["Account"])
    bucket = publish_assets(assembly, account)
    # The template's CheckBootstrapVersion rule reads this parameter, as on a bootstrapped account.
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value="30", Type="String"
    )
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(assembly.template_json),
            Capabilities=["CAPABILITY_IAM"],
        )
    skipped = {
        match.group(1)
        for warning in caught
        if (match := re.search(r"Tried to parse (\S+) but it's not supported", str(warning.message)))
    }
    assert skipped <= SKIPPED_BY_MOTO, f"moto skipped {sorted(skipped - SKIPPED_BY_MOTO)}"
    waiter = cloudformation.get_waiter("stack_create_complete")
    waiter.wait(StackName=STACK_NAME, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    (stack,) = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    code_key = assembly.only("AWS::Lambda::Function")[1]["Properties"]["Code"]["S3Key"]
    return Deployed(account=account, outputs=outputs, code_key=code_key, bucket=bucket)


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
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120}
    sqs = boto3.client("sqs", region_name=REGION)
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=deployed.outputs["DeadLetterQueueUrl"], AttributeNames=["QueueArn", "SqsManagedSseEnabled"]
    )["Attributes"]
    assert target["DeadLetterConfig"] == {"Arn": queue_arn["QueueArn"]}


# --- the end-to-end half --------------------------------------------------------------------------------


@pytest.fixture
def deployed_handler(
    deployed: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, LambdaContextStub]]:
    """The handler module from the deployed zip, imported fresh, with the deployed function's environment."""
    configuration = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployed.outputs["FunctionName"]
    )
    for name, value in configuration["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)

    code = tmp_path / "deployed-code"
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=deployed.bucket, Key=deployed.code_key)
    with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as archive:
        archive.extractall(code)

    package = "ami_store_notifier"
    ours = {name: module for name, module in sys.modules.items() if name.split(".")[0] == package}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(code))
    try:
        handler = importlib.import_module(f"{package}.handler")
        assert Path(str(handler.__file__)).is_relative_to(code), "imported the deployed copy"
        # The handler reads the time through utc_now; the emulator's tasks run on the emulator's clock.
        monkeypatch.setattr(handler, "utc_now", CLOCK.now)
        context = LambdaContextStub(
            invoked_function_arn=configuration["FunctionArn"],
            function_name=configuration["FunctionName"],
            memory_limit_in_mb=configuration["MemorySize"],
        )
        yield handler, context
    finally:
        sys.path.remove(str(code))
        for name in [name for name in sys.modules if name.split(".")[0] == package]:
            del sys.modules[name]
        sys.modules.update(ours)


def test_a_completed_store_reaches_subscribers_of_the_deployed_topic_and_bus(
    deployed: Deployed, deployed_handler: tuple[ModuleType, LambdaContextStub], boto_session: Any
) -> None:
    handler, context = deployed_handler
    outputs = deployed.outputs
    environment = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=outputs["FunctionName"]
    )["Environment"]["Variables"]
    assert environment["EVENT_SOURCE"] == EVENT_SOURCE
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

    baseline = handler.lambda_handler({}, context)
    assert baseline["regions"][0]["tasksSeen"] == 1
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

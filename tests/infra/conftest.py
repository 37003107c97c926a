"""The infra suite's fixtures: the app synthesized once per session and setting, and the stack deployed into
moto's CloudFormation. tests/infra/support.py imports aws_cdk, which starts jsii (seconds), so the
fixtures import it in their bodies and only the runs that use them pay for it."""

from __future__ import annotations

import importlib
import io
import json
import re
import sys
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local.ec2_store_tasks import CLOCK
from local.lambda_context import LambdaContextStub

if TYPE_CHECKING:
    from tests.infra.support import Deployed, Resources, Role, Synthesized


# -- infra: the synthesized stack (tests/infra/support.py, imported in the fixtures: it starts jsii) -------


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import synthesize

    return synthesize(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import CUSTOM, synthesize

    return synthesize(tmp_path_factory.mktemp("custom"), CUSTOM)


@pytest.fixture(scope="session")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Chat notifications on, with a Slack and a Microsoft Teams channel configuration."""
    from tests.infra.support import CHAT, synthesize

    return synthesize(tmp_path_factory.mktemp("chat"), CHAT)


@pytest.fixture(scope="session")
def lean(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The lean setting: the heartbeat alarm only, no dashboard, no customer managed key."""
    from tests.infra.support import LEAN, synthesize

    return synthesize(tmp_path_factory.mktemp("lean"), LEAN)


@pytest.fixture(scope="session")
def hints(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Hints on: the rules on the default bus, the hint queue and its mapping to the poller."""
    from tests.infra.support import HINTS, synthesize

    return synthesize(tmp_path_factory.mktemp("hints"), HINTS)


@pytest.fixture(scope="session")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Hints and quiet when idle, with the longest safety-net interval and function timeout."""
    from tests.infra.support import QUIET, synthesize

    return synthesize(tmp_path_factory.mktemp("quiet"), QUIET)


@pytest.fixture(scope="session")
def second_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The same app deployed a second time in the same account, under another stack name."""
    from tests.infra.support import synthesize

    return synthesize(tmp_path_factory.mktemp("second"), {"stackName": "AmiStoreNotifierStaging"})


@pytest.fixture(scope="session")
def archive_assurance(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Archive checks in two readable buckets, the unapproved-bucket alert and a stall time set."""
    from tests.infra.support import ARCHIVE_ASSURANCE, synthesize

    return synthesize(tmp_path_factory.mktemp("archive-assurance"), ARCHIVE_ASSURANCE)


@pytest.fixture(scope="session")
def spoke(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """A notifier of the Organization-wide mode: its announcements forwarded to a hub bus."""
    from tests.infra.support import HUB_BUS_ARN, synthesize

    return synthesize(tmp_path_factory.mktemp("spoke"), {"hubEventBusArn": HUB_BUS_ARN})


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The hub stack, synthesized beside the notifier's when an Organization id is set."""
    from tests.infra.support import ORGANIZATION_ID, synthesize_hub

    return synthesize_hub(tmp_path_factory.mktemp("hub"), ORGANIZATION_ID)


@pytest.fixture(scope="session")
def hub_chat(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The hub with chat notifications and a Slack channel (the app's notifier stack beside it)."""
    from tests.infra.support import CHAT, ORGANIZATION_ID, synthesize_hub

    return synthesize_hub(tmp_path_factory.mktemp("hub-chat"), ORGANIZATION_ID, CHAT)


@pytest.fixture(scope="session")
def hub_lean(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The hub with chat, in the lean setting: its topics without a customer managed key."""
    from tests.infra.support import CHAT, LEAN, ORGANIZATION_ID, synthesize_hub

    return synthesize_hub(tmp_path_factory.mktemp("hub-lean"), ORGANIZATION_ID, {**CHAT, **LEAN})


@pytest.fixture(scope="session")
def rollout_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app synthesized with the Organization-wide rollout: notifier, hub, asset buckets, StackSet."""
    from tests.infra.support import synthesize_rollout

    return synthesize_rollout(tmp_path_factory.mktemp("rollout"))


@pytest.fixture(scope="session")
def archive_rollout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The rollout's templates, by file name, with archive assurance set for the whole Organization."""
    from tests.infra.support import ARCHIVE_ASSURANCE, synthesize_rollout

    outdir = synthesize_rollout(tmp_path_factory.mktemp("archive-rollout"), ARCHIVE_ASSURANCE)
    return {path.name: json.loads(path.read_text()) for path in outdir.glob("*.template.json")}


@pytest.fixture(scope="session")
def rollout(rollout_dir: Path) -> dict[str, dict[str, Any]]:
    """Its templates, by file name."""
    return {path.name: json.loads(path.read_text()) for path in rollout_dir.glob("*.template.json")}


@pytest.fixture(scope="session")
def imported_bus(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from tests.infra.support import synthesize

    return synthesize(
        tmp_path_factory.mktemp("imported-bus"),
        {"eventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/central"},
    )


# -- infra: the synthesized stack deployed into moto's CloudFormation (tests/infra/test_infra_deploy.py) ----


def deploy(synthesized: Synthesized) -> Deployed:
    """``synthesized``'s notifier stack created in moto's CloudFormation (inside ``mocked_aws``), as `cdk
    deploy` would: its assets published, the bootstrap version and AWS's layer parameter in SSM."""
    from tests.infra.support import (
        BOOTSTRAP_QUALIFIER,
        REGION,
        SKIPPED_BY_MOTO,
        STACK_NAME,
        Deployed,
        publish_assets,
        publish_powertools_layer_parameter,
    )

    account = str(boto3.client("sts", region_name=REGION).get_caller_identity()["Account"])
    bucket = publish_assets(synthesized, account)
    # The template's CheckBootstrapVersion rule reads this parameter, as on a bootstrapped account.
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value="30", Type="String"
    )
    publish_powertools_layer_parameter(account)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(synthesized.template_json),
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
    code_key = synthesized.only("AWS::Lambda::Function")[1]["Properties"]["Code"]["S3Key"]
    return Deployed(account=account, outputs=outputs, code_key=code_key, bucket=bucket)


@pytest.fixture
def deployed(synth: Synthesized, mocked_aws: None) -> Deployed:
    return deploy(synth)


@pytest.fixture
def deployed_handler(
    deployed: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, LambdaContextStub]]:
    """The handler module from the deployed zip, imported fresh, with the deployed function's environment."""
    from tests.infra.support import REGION

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
        # Not the `handler` imported at the top of this file: the deployed copy, under its own name.
        deployed_module = importlib.import_module(f"{package}.handler")
        assert Path(str(deployed_module.__file__)).is_relative_to(code), "imported the deployed copy"
        # The handler reads the time through utc_now; the emulator's tasks run on the emulator's clock.
        monkeypatch.setattr(deployed_module, "utc_now", CLOCK.now)
        context = LambdaContextStub(
            invoked_function_arn=configuration["FunctionArn"],
            function_name=configuration["FunctionName"],
            memory_limit_in_mb=configuration["MemorySize"],
        )
        yield deployed_module, context
    finally:
        sys.path.remove(str(code))
        for name in [name for name in sys.modules if name.split(".")[0] == package]:
            del sys.modules[name]
        sys.modules.update(ours)


@pytest.fixture
def role(deployed: Deployed, boto_session: Any) -> Role:
    """A session of the deployed function's role (tests/infra/test_infra_deploy.py enforces it with moto)."""
    from tests.infra.support import REGION, Role

    arn = boto3.client("lambda", region_name=REGION).get_function_configuration(
        FunctionName=deployed.outputs["FunctionName"]
    )["Role"]
    # Assumed with the admin credentials, before moto enforces anything (moto checks no trust policy then).
    assumed = boto_session.client("sts").assume_role(RoleArn=arn, RoleSessionName="ami-store-notifier")
    return Role(assumed["AssumedRoleUser"]["Arn"], assumed["Credentials"])


@pytest.fixture
def resources(deployed: Deployed) -> Resources:
    """The deployed table, topic and bus, and another table, topic and bus created beside them."""
    from tests.infra.support import REGION, Resources

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=deployed.outputs["TableName"])["Table"]
    other_table = dynamodb.create_table(
        TableName="another-table",
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    other_topic = boto3.client("sns", region_name=REGION).create_topic(Name="another-topic")["TopicArn"]
    other_bus = boto3.client("events", region_name=REGION).create_event_bus(Name="another-bus")["EventBusArn"]
    return Resources(
        table=table["TableArn"],
        topic=deployed.outputs["TopicArn"],
        bus=deployed.outputs["EventBusArn"],
        other_table_name=other_table["TableName"],
        other_table=other_table["TableArn"],
        other_topic=other_topic,
        other_bus_name="another-bus",
        other_bus=other_bus,
    )

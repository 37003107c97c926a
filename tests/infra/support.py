"""Helpers for the infrastructure tests: synthesize the app into a temporary cloud assembly.

Imported as `tests.infra.support` (the repository root is on pytest's pythonpath), which works whatever
import mode pytest uses, unlike importing from a conftest module.

Synthesis is the slow part (the jsii runtime starts once per process, then each synth takes about a
second), so each test module synthesizes once, in a module-scoped fixture (in tests/conftest.py, which
imports this module inside the fixtures' bodies), and its tests read the result.

Also here: the settings test's custom context, and what the deploy test's fixtures need to publish the
assets and deploy the stack into moto.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before aws_cdk is imported: jsii prints a large end-of-life banner on Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import boto3
from aws_cdk import IStackSynthesizer
from aws_cdk.assertions import Template

from ami_store_notifier.settings_monitoring import MAX_DOCS_URL_LENGTH
from infra.app import HUB_STACK_ID, STACK_ID, build_app

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Synthesized:
    stack: Any  # the notifier's stack (AmiStoreNotifierStack) or the hub's (AmiStoreNotifierHub)
    outdir: Path
    template_json: dict[str, Any]

    @property
    def template(self) -> Template:
        return Template.from_json(self.template_json)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of one type."""
        return {
            logical_id: resource
            for logical_id, resource in self.template_json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))

    @property
    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report

    @property
    def nag_report(self) -> dict[str, Any]:
        """cdk-nag's AwsSolutions report (the report also lists the construct annotations)."""
        (report,) = [
            plugin
            for plugin in self.validation_report["pluginReports"]
            if plugin["pluginName"] == "AwsSolutions"
        ]
        return dict(report)


def cdk_json_context() -> dict[str, Any]:
    """What the CLI passes the app from cdk.json, before any -c value."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def synthesize(
    outdir: Path,
    context: Mapping[str, Any] | None = None,
    *,
    nag: bool = True,
    synthesizer: IStackSynthesizer | None = None,
) -> Synthesized:
    """Synthesize the app as `npx cdk synth` would: cdk.json's context (the feature flags), then
    `context` as if given with `-c`."""
    app, stack = build_app(
        {**cdk_json_context(), **(context or {})}, outdir=str(outdir), nag=nag, synthesizer=synthesizer
    )
    app.synth()
    template = json.loads((outdir / f"{STACK_ID}.template.json").read_text())
    return Synthesized(stack=stack, outdir=outdir, template_json=template)


ROLLOUT = {
    "organizationId": "o-a1b2c3d4e5",
    "hubEventBusArn": "arn:aws:events:us-east-1:999999999999:event-bus/AmiStoreNotifierHub-events",
    "spokeOrganizationalUnits": "ou-ab12-cdefgh34,ou-ab12-ijklmn56",
    "spokeRegions": "us-east-1,eu-west-1",
    "spokeAssetBucketPrefix": "acme-ami-store-notifier",
    "managementAccountId": "999999999999",
    # The app's own stack polls these; a spoke polls only the Region it is deployed in.
    "regions": "us-east-1,us-west-2",
    # Chat with a Slack channel: the hub gets the channel, the notifiers (spokes included) do not.
    "chatNotifications": "true",
    "slackWorkspaceId": "T0123ABCD",
    "slackChannelId": "C0456EFGH",
    "chatChannelRegion": "us-east-1",
}


def synthesize_rollout(outdir: Path, context: Mapping[str, Any] | None = None) -> Path:
    """The app with the Organization-wide rollout set (and ``context``), synthesized into `outdir`."""
    app, _ = build_app({**cdk_json_context(), **ROLLOUT, **(context or {})}, outdir=str(outdir))
    app.synth()
    return outdir


def synthesize_hub(
    outdir: Path, organization_id: str, context: Mapping[str, Any] | None = None
) -> Synthesized:
    """The app with an Organization id: the notifier's stack and the hub's; the hub's is returned."""
    app, _ = build_app(
        {**cdk_json_context(), "organizationId": organization_id, **(context or {})}, outdir=str(outdir)
    )
    app.synth()
    template = json.loads((outdir / f"{HUB_STACK_ID}.template.json").read_text())
    return Synthesized(stack=app.node.find_child(HUB_STACK_ID), outdir=outdir, template_json=template)


# --- test_infra_settings.py: every setting changed from its default ------------------------------------

# The hub's bus in the Organization's central account (the hub stack's HubEventBusArn output).
ORGANIZATION_ID = "o-a1b2c3d4e5"
HUB_ACCOUNT = "999999999999"
HUB_BUS_ARN = f"arn:aws:events:us-east-1:{HUB_ACCOUNT}:event-bus/AmiStoreNotifierHub-events"

# The longest site address docsUrl accepts: every alarm's description still fits CloudWatch's limit with it.
LONGEST_DOCS_URL = "https://docs.example.com/" + "a" * (
    MAX_DOCS_URL_LENGTH - len("https://docs.example.com/")
)

CUSTOM = {
    "stackName": "StoreNotes",
    "scheduleMinutes": "5",
    "regions": "us-east-1,eu-west-1",
    "eventSource": "acme.ami-store",
    "announceStates": "InProgress,Completed,Failed",
    "announceExistingOnFirstRun": "true",
    "pageSize": "100",
    "listingOverlapMinutes": "30",
    "fullScanIntervalMinutes": "240",
    "readableBuckets": "acme-ami-archive",
    "approvedBuckets": "acme-*",
    "stallAfterMinutes": "60",
    "deliveryReserveSeconds": "30",
    "stateTtlDays": "60",
    "functionTimeoutSeconds": "300",
    "functionMemoryMb": "512",
    "logRetentionDays": "365",
    "notificationEmail": "ops@example.com",
    "alarmEmail": "oncall@example.com",
    "docsUrl": LONGEST_DOCS_URL,
    "eventBusName": "ami-store",
    "powertoolsLayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:my-powertools:7",
    "reservedConcurrency": "2",
    "tracing": "true",
    "retainOnDelete": "false",
    "schedulMinutes": "3",  # a typo: warned about, not used
}


# Chat notifications with both channel configurations (ids of the shapes the chat consoles show).
CHAT = {
    "chatNotifications": "true",
    "slackWorkspaceId": "T0123ABCD",
    "slackChannelId": "C0456EFGH",
    "teamsTenantId": "a1b2c3d4-0000-4000-8000-00000000000a",
    "teamsTeamId": "a1b2c3d4-0000-4000-8000-00000000000b",
    "teamsChannelId": "19%3Aab12cd34ef%40thread.tacv2",
    # The one Region whose stack configures the channels (a channel is taken once per account).
    "chatChannelRegion": "eu-west-1",
}


# The lean setting: the heartbeat alarm only, no dashboard, no customer managed key (docs/cost.md).
LEAN = {"alarms": "heartbeat", "dashboard": "false", "customerManagedKey": "false"}


# Hints on (infra/hints.py): the rules on the default bus, the hint queue and its mapping to the poller.
HINTS = {"hints": "true"}
# And quiet when idle, with the longest safety-net interval a setting allows (a week: the StartsWithoutHint
# alarm's period is at CloudWatch's longest), and a reservation just large enough for the hint runs.
QUIET = {
    **HINTS,
    "quietWhenIdle": "true",
    "fullScanIntervalMinutes": "10080",
    "functionTimeoutSeconds": "900",
    "reservedConcurrency": "3",
}


# Archive assurance (infra/archive_access.py): archive checks in two buckets (one with a dot, whose ARN is
# as plain), the unapproved-bucket alert with a name and a beginning, and a stall time of its own.
READABLE_BUCKETS = ("acme-ami-archive", "acme.ami-archive.eu")
ARCHIVE_ASSURANCE = {
    "readableBuckets": ",".join(READABLE_BUCKETS),
    "approvedBuckets": "acme-ami-archive,acme-dr-*",
    "stallAfterMinutes": "90",
}


# --- test_infra_deploy.py: the stack deployed into moto's CloudFormation --------------------------------

REGION = "us-east-1"
STACK_NAME = "AmiStoreNotifier"
BOOTSTRAP_QUALIFIER = "hnb659fds"
# What moto's CloudFormation cannot create; it warns and goes on. Anything else skipped fails the test.
SKIPPED_BY_MOTO = {
    "AWS::CloudWatch::Alarm",
    "AWS::EventSchemas::Registry",
    "AWS::EventSchemas::Schema",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
}


# What AWS publishes under the layer parameter in us-east-1 (the ARN's shape; the number is made up).
POWERTOOLS_LAYER_ARN = (
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:41"
)


def publish_powertools_layer_parameter(account: str) -> None:
    """Play AWS's part: its public /aws/service/... parameters exist in every account, and nobody else
    may write them (moto, like SSM, answers AccessDeniedException), so the parameter goes straight into
    moto's SSM backend, as moto itself loads AWS's other public parameters."""
    from moto.core.utils import utcnow
    from moto.ssm.models import Parameter, ssm_backends

    from infra.asset import POWERTOOLS_LAYER_PARAMETER

    ssm_backends[account][REGION]._parameters[POWERTOOLS_LAYER_PARAMETER].append(
        Parameter(
            account_id=account,
            name=POWERTOOLS_LAYER_PARAMETER,
            value=POWERTOOLS_LAYER_ARN,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=utcnow(),
            version=1,
            data_type="text",
        )
    )


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


@dataclass
class Role:
    """A session of the deployed function's role, as Lambda gets one."""

    session_arn: str
    credentials: dict[str, Any]


@dataclass
class Resources:
    """ARNs of the deployed resources and of look-alikes the role was not given (created as admin)."""

    table: str
    topic: str
    bus: str
    other_table_name: str
    other_table: str
    other_topic: str
    other_bus_name: str
    other_bus: str


# Every app variant the session fixtures of tests/infra/conftest.py synthesize: the notifier (default,
# every setting changed, an existing bus, chat, spoke forwarding, lean, hints, quiet when idle, archive
# assurance) and the hub beside it (with and without chat, lean); the Organization-wide rollouts
# (`rollout_dir`, and `archive_rollout` with archive assurance) are synthesized apart.
SYNTHESIZED_VARIANTS = (
    "synth",
    "custom",
    "imported_bus",
    "chat",
    "spoke",
    "lean",
    "hints",
    "quiet",
    "archive_assurance",
    "hub",
    "hub_chat",
    "hub_lean",
)

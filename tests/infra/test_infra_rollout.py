"""The Organization-wide rollout: the StackSet of spokes, the management account's spokes, and the buckets
the StackSet's code is served from."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from infra.app import ROLLOUT_STACK_ID, STACK_ID, build_app
from infra.rollout import MANAGEMENT_SPOKE_STACK_PREFIX, spoke_settings
from infra.settings import SettingsError, load_settings
from tests.infra.policy import ALLOW, DENY, IMPLICIT_DENY, Deployment, Request, ResolvedTemplate, evaluate
from tests.infra.support import REPO_ROOT, ROLLOUT, Synthesized, cdk_json_context

ADMIN_ACCOUNT = "444455556666"
MEMBER_ROLE = "arn:aws:sts::111111111111:assumed-role/stacksets-exec-abc/session"
SPOKE_REGIONS = ROLLOUT["spokeRegions"].split(",")
REGION_TOKEN = {"Ref": "AWS::Region"}


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (found,) = [resource for resource in template["Resources"].values() if resource["Type"] == resource_type]
    return found


def spoke_template(rollout: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (name,) = [name for name in rollout if name.endswith(".stackset.template.json")]
    return rollout[name]


def management_spoke(region: str) -> str:
    return f"{MANAGEMENT_SPOKE_STACK_PREFIX}-{region}"


def poller(template: dict[str, Any]) -> dict[str, Any]:
    (found,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and "Polls" in resource["Properties"]["Description"]
    ]
    return found


def hub_forwarding_rules(template: dict[str, Any]) -> int:
    return sum(
        resource["Type"] == "AWS::Events::Rule"
        and resource["Properties"].get("Targets", [{}])[0].get("Arn") == ROLLOUT["hubEventBusArn"]
        for resource in template["Resources"].values()
    )


def store_task_regions(template: dict[str, Any]) -> list[Any]:
    """The Regions the poller's role may list store tasks in (its aws:RequestedRegion condition)."""
    (regions,) = [
        statement["Condition"]["StringEquals"]["aws:RequestedRegion"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "ec2:DescribeStoreImageTasks"
    ]
    return list(regions)


def organization_walkthrough() -> tuple[list[str], dict[str, str]]:
    """The Organization-wide walkthrough's `cdk deploy` stack selectors and its `-c` context values."""
    page = (REPO_ROOT / "docs" / "deploying" / "organization.md").read_text()
    section = page.split("\n## Deploy {#deploy}\n", 1)[1].split("\n## ", 1)[0]
    (script,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    commands = re.sub(r"^\s*#.*$", "", script, flags=re.MULTILINE)
    selectors = re.findall(r"cdk deploy '?([^\s']+)", commands)
    return selectors, dict(re.findall(r"-c (\w+)=([^\s\"]+)", commands))


def deployed_by(selectors: list[str], rollout_dir: Path) -> dict[str, dict[str, Any]]:
    """The stacks of the app those selectors deploy (the CLI matches stack ids with shell wildcards)."""
    manifest = json.loads((rollout_dir / "manifest.json").read_text())
    return {
        stack_id: artifact
        for stack_id, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
        and any(fnmatch(stack_id, selector) for selector in selectors)
    }


def test_the_stackset_deploys_to_the_chosen_units_and_regions_and_to_accounts_that_join_them_later(
    rollout: dict[str, dict[str, Any]],
) -> None:
    stack_set = only(rollout["AmiStoreNotifierSpokes.template.json"], "AWS::CloudFormation::StackSet")[
        "Properties"
    ]
    (group,) = stack_set["StackInstancesGroup"]

    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert stack_set["CallAs"] == "SELF"
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == ["ou-ab12-cdefgh34", "ou-ab12-ijklmn56"]
    assert group["Regions"] == ["us-east-1", "eu-west-1"]
    assert stack_set["OperationPreferences"] == {
        # 25 % at a time however many fail: the default mode would cap it at the tolerance plus one.
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        "FailureTolerancePercentage": 10,
        "MaxConcurrentPercentage": 25,
        "RegionConcurrencyType": "PARALLEL",
    }
    assert stack_set["Capabilities"] == ["CAPABILITY_IAM"]


def test_each_spoke_reads_its_code_from_its_regions_bucket_and_forwards_to_the_hub(
    rollout: dict[str, dict[str, Any]],
) -> None:
    spoke = spoke_template(rollout)

    assert poller(spoke)["Code"]["S3Bucket"] == {"Fn::Join": ["-", ["acme-ami-store-notifier", REGION_TOKEN]]}
    assert hub_forwarding_rules(spoke) == 1


def test_spokes_get_the_chat_topic_but_no_channel_configuration_which_is_the_hubs(
    rollout: dict[str, dict[str, Any]],
) -> None:
    def types(template: dict[str, Any]) -> list[str]:
        return [resource["Type"] for resource in template["Resources"].values()]

    spoke = spoke_template(rollout)
    notifier = rollout["AmiStoreNotifier.template.json"]
    hub = rollout["AmiStoreNotifierHub.template.json"]

    chat_topics = [
        logical_id
        for logical_id, resource in spoke["Resources"].items()
        if resource["Type"] == "AWS::SNS::Topic"
        and resource["Properties"].get("DisplayName") == "AMI store task chat notifications"
    ]
    assert [poller(spoke)["Environment"]["Variables"]["CHAT_TOPIC_ARN"]] == [
        {"Ref": topic} for topic in chat_topics
    ]
    assert not [kind for kind in types(spoke) if kind.startswith("AWS::Chatbot::")]
    assert not [kind for kind in types(notifier) if kind.startswith("AWS::Chatbot::")]
    assert types(hub).count("AWS::Chatbot::SlackChannelConfiguration") == 1


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_a_code_bucket_lets_the_organization_read_the_code_and_nobody_else(
    rollout: dict[str, dict[str, Any]], region: str
) -> None:
    template = rollout[f"AmiStoreNotifierSpokeAssets-{region}.template.json"]
    resolved = ResolvedTemplate(
        template, Deployment(ADMIN_ACCOUNT, region, f"AmiStoreNotifierSpokeAssets-{region}")
    )
    bucket = only(template, "AWS::S3::Bucket")["Properties"]
    policy = resolved.resolve(only(template, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"])
    code = f"arn:aws:s3:::acme-ami-store-notifier-{region}/188f.zip"

    def reading(organization: str, *, tls: bool = True) -> Request:
        return Request(
            "s3:GetObject",
            code,
            principal_arn=MEMBER_ROLE,
            context={"aws:PrincipalOrgID": organization, "aws:SecureTransport": tls},
        )

    assert bucket["BucketName"] == f"acme-ami-store-notifier-{region}"
    assert evaluate(policy, reading(ROLLOUT["organizationId"])) == ALLOW
    assert evaluate(policy, reading("o-someoneelse")) == IMPLICIT_DENY
    assert evaluate(policy, reading(ROLLOUT["organizationId"], tls=False)) == DENY
    assert (
        evaluate(
            policy,
            Request(
                "s3:PutObject",
                code,
                principal_arn=MEMBER_ROLE,
                context={"aws:PrincipalOrgID": ROLLOUT["organizationId"], "aws:SecureTransport": True},
            ),
        )
        == IMPLICIT_DENY
    )


def test_units_without_the_hub_or_the_code_buckets_are_refused_naming_what_is_missing() -> None:
    context = {
        **cdk_json_context(),
        "spokeOrganizationalUnits": "ou-ab12-cdefgh34",
        "organizationId": "o-a1b2c3d4e5",
    }

    with pytest.raises(SettingsError, match="hubEventBusArn, spokeRegions, spokeAssetBucketPrefix"):
        load_settings(context.get)


def test_without_units_the_app_has_no_rollout(synth: Synthesized) -> None:
    assert not list(synth.outdir.glob("AmiStoreNotifierSpoke*"))


def test_the_documented_walkthrough_deploys_to_every_account_of_the_units_and_to_the_management_account(
    rollout: dict[str, dict[str, Any]], rollout_dir: Path
) -> None:
    selectors, context = organization_walkthrough()
    deployed = deployed_by(selectors, rollout_dir)
    stack_set = only(rollout[f"{ROLLOUT_STACK_ID}.template.json"], "AWS::CloudFormation::StackSet")[
        "Properties"
    ]
    (group,) = stack_set["StackInstancesGroup"]

    # The fixture is the walkthrough's rollout.
    assert (context["spokeOrganizationalUnits"], context["spokeRegions"]) == (
        ROLLOUT["spokeOrganizationalUnits"],
        ROLLOUT["spokeRegions"],
    )
    # Every account of the units, in every spoke Region, but the management account: the StackSet.
    assert ROLLOUT_STACK_ID in deployed
    assert group["DeploymentTargets"] == {
        "AccountFilterType": "NONE",  # all the accounts of the units, none left out
        "OrganizationalUnitIds": ROLLOUT["spokeOrganizationalUnits"].split(","),
    }
    assert group["Regions"] == SPOKE_REGIONS
    # The management account, in every spoke Region: a stack each, pinned to that account.
    assert "managementAccountId" in context
    for region in SPOKE_REGIONS:
        environment = f"aws://{ROLLOUT['managementAccountId']}/{region}"
        assert deployed[management_spoke(region)]["environment"] == environment
        assert hub_forwarding_rules(rollout[f"{management_spoke(region)}.template.json"]) == 1
    # Not the app's own stack too, which would announce the management account's stores a second time.
    assert STACK_ID not in deployed


def test_every_spoke_polls_only_the_region_it_is_deployed_in_and_the_apps_stack_keeps_its_regions(
    rollout: dict[str, dict[str, Any]],
) -> None:
    spokes = [spoke_template(rollout)] + [
        rollout[f"{management_spoke(region)}.template.json"] for region in SPOKE_REGIONS
    ]
    app_stack = rollout[f"{STACK_ID}.template.json"]

    for spoke in spokes:
        assert poller(spoke)["Environment"]["Variables"]["REGIONS"] == REGION_TOKEN
        assert store_task_regions(spoke) == [REGION_TOKEN]
    assert poller(app_stack)["Environment"]["Variables"]["REGIONS"] == ROLLOUT["regions"]
    assert store_task_regions(app_stack) == ROLLOUT["regions"].split(",")


def test_a_spoke_keeps_neither_the_apps_regions_nor_its_existing_bus_nor_its_chat_channels() -> None:
    app = load_settings(
        {
            **cdk_json_context(),
            **ROLLOUT,
            "eventBusArn": "arn:aws:events:us-east-1:444455556666:event-bus/central",
        }.get
    )

    spoke = spoke_settings(app)

    assert (spoke.regions, spoke.event_bus_arn, spoke.slack_channel_id) == ((), None, None)
    assert spoke.hub_event_bus_arn == app.hub_event_bus_arn
    assert spoke.chat_notifications is True


def test_the_management_spokes_fixed_names_are_their_own_beside_the_apps_stack_and_a_stack_instance(
    rollout: dict[str, dict[str, Any]],
) -> None:
    def fixed_names(template: dict[str, Any]) -> set[str]:
        return {
            json.dumps(properties[key])
            for resource in template["Resources"].values()
            for properties in [resource.get("Properties", {})]
            for key in ("Name", "AlarmName", "DashboardName")
            if resource["Type"].startswith(("AWS::Events::EventBus", "AWS::CloudWatch::"))
            and key in properties
        }

    templates = [rollout[f"{STACK_ID}.template.json"], spoke_template(rollout)] + [
        rollout[f"{management_spoke(region)}.template.json"] for region in SPOKE_REGIONS
    ]
    names = [fixed_names(template) for template in templates]

    assert all(names)
    assert sum(len(each) for each in names) == len(set().union(*names))


def test_the_management_spokes_can_be_left_out_when_that_account_runs_no_workloads() -> None:
    app, _ = build_app({**cdk_json_context(), **ROLLOUT, "spokeManagementAccount": "false"}, nag=False)

    assert not [
        child.node.id
        for child in app.node.children
        if child.node.id.startswith(MANAGEMENT_SPOKE_STACK_PREFIX)
    ]
    assert app.node.try_find_child(ROLLOUT_STACK_ID) is not None


def test_the_management_spokes_need_the_management_account_id_they_are_pinned_to() -> None:
    context = {**cdk_json_context(), **ROLLOUT}
    del context["managementAccountId"]
    with pytest.raises(SettingsError, match=r"^spokeManagementAccount needs managementAccountId as well"):
        load_settings(context.get)

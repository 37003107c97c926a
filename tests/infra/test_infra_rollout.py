"""The Organization-wide rollout: the StackSet of spokes, and the buckets its code is served from."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings import SettingsError, load_settings
from tests.infra.policy import ALLOW, DENY, IMPLICIT_DENY, Deployment, Request, ResolvedTemplate, evaluate
from tests.infra.support import ROLLOUT, Synthesized, cdk_json_context

ADMIN_ACCOUNT = "444455556666"
MEMBER_ROLE = "arn:aws:sts::111111111111:assumed-role/stacksets-exec-abc/session"


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (found,) = [resource for resource in template["Resources"].values() if resource["Type"] == resource_type]
    return found


def spoke_template(rollout: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (name,) = [name for name in rollout if name.endswith(".stackset.template.json")]
    return rollout[name]


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
        "FailureTolerancePercentage": 10,
        "MaxConcurrentPercentage": 25,
        "RegionConcurrencyType": "PARALLEL",
    }
    assert stack_set["Capabilities"] == ["CAPABILITY_IAM"]


def test_each_spoke_reads_its_code_from_its_regions_bucket_and_forwards_to_the_hub(
    rollout: dict[str, dict[str, Any]],
) -> None:
    spoke = spoke_template(rollout)
    (poller,) = [
        resource["Properties"]
        for resource in spoke["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and "Polls" in resource["Properties"]["Description"]
    ]
    forwarding = [
        resource["Properties"]
        for resource in spoke["Resources"].values()
        if resource["Type"] == "AWS::Events::Rule"
        and "Targets" in resource["Properties"]
        and resource["Properties"]["Targets"][0]["Arn"] == ROLLOUT["hubEventBusArn"]
    ]

    assert poller["Code"]["S3Bucket"] == {
        "Fn::Join": ["-", ["acme-ami-store-notifier", {"Ref": "AWS::Region"}]]
    }
    assert len(forwarding) == 1


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
    (poller,) = [
        resource["Properties"]
        for resource in spoke["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and "Polls" in resource["Properties"]["Description"]
    ]
    assert [poller["Environment"]["Variables"]["CHAT_TOPIC_ARN"]] == [{"Ref": topic} for topic in chat_topics]
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

"""Archive assurance on the stack's side: the poller may read the buckets `readableBuckets` names and no
other (infra/archive_access.py), is given the archive settings as the handler reads them, and the spokes of
the Organization-wide mode get the same settings and forward their notices to the hub's bus. The store
quota's side is in test_infra_store_quota.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ami_store_notifier.domain.notices import NOTICE_DETAIL_TYPES, NoticeKind
from ami_store_notifier.settings_spec import HANDLER_SETTINGS
from infra.announcements import ANNOUNCED_DETAIL_TYPES
from infra.archive_access import BUCKET_ACTIONS, OBJECT_ACTIONS
from tests.infra.policy import (
    ACCOUNT,
    ALLOW,
    IMPLICIT_DENY,
    REGION,
    Deployment,
    Request,
    ResolvedTemplate,
    evaluate,
    evaluate_identity_policy,
)
from tests.infra.support import (
    ARCHIVE_ASSURANCE,
    HUB_ACCOUNT,
    ORGANIZATION_ID,
    READABLE_BUCKETS,
    ROLLOUT,
    Synthesized,
)
from tests.infra.template_reading import poller_environment, poller_policy, statement, statements

SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/poller/session"
UNAPPROVED_BUCKET = NOTICE_DETAIL_TYPES[NoticeKind.UNAPPROVED_BUCKET]


def partition_arn(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{suffix}"]]}


# --- S3: exactly the named buckets, or nothing --------------------------------------------------------------


def test_the_role_reads_exactly_the_named_buckets_with_the_archive_checks_actions(
    archive_assurance: Synthesized,
) -> None:
    template = archive_assurance.template_json
    assert statement(template, "ReadArchiveBuckets") == {
        "Sid": "ReadArchiveBuckets",
        "Effect": "Allow",
        "Action": sorted(BUCKET_ACTIONS),
        "Resource": [partition_arn(bucket) for bucket in READABLE_BUCKETS],
    }
    assert statement(template, "ReadArchiveObjects") == {
        "Sid": "ReadArchiveObjects",
        "Effect": "Allow",
        "Action": sorted(OBJECT_ACTIONS),
        "Resource": [partition_arn(f"{bucket}/*") for bucket in READABLE_BUCKETS],
    }
    s3_actions = {
        action
        for each in statements(template)
        for action in ([each["Action"]] if isinstance(each["Action"], str) else each["Action"])
        if action.startswith("s3:")
    }
    assert s3_actions == {
        "s3:GetObject",
        "s3:ListBucket",
        "s3:GetBucketVersioning",
        "s3:GetLifecycleConfiguration",
        "s3:GetObjectRetention",
        "s3:GetObjectLegalHold",
    }


def test_without_readable_buckets_the_role_has_no_s3_permission_at_all(synth: Synthesized) -> None:
    assert not [each for each in statements(synth.template_json) if "s3:" in json.dumps(each["Action"])]
    assert "PollerRoleArn" not in synth.template_json["Outputs"]


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov"])
def test_the_role_may_head_an_object_of_a_named_bucket_and_of_no_other(
    archive_assurance: Synthesized, partition: str
) -> None:
    policy = poller_policy(archive_assurance, Deployment(ACCOUNT, REGION, "AmiStoreNotifier", partition))

    def asking(action: str, resource: str) -> str:
        return evaluate_identity_policy(policy, Request(action, resource, principal_arn=SESSION))

    for bucket in READABLE_BUCKETS:
        # HeadObject is authorized as s3:GetObject; ListBucket makes a missing key a 404.
        assert asking("s3:GetObject", f"arn:{partition}:s3:::{bucket}/ami-0123456789abcdef0.bin") == ALLOW
        assert asking("s3:ListBucket", f"arn:{partition}:s3:::{bucket}") == ALLOW
    assert asking("s3:GetObject", f"arn:{partition}:s3:::another-bucket/ami-0123456789abcdef0.bin") == (
        IMPLICIT_DENY
    )
    assert asking("s3:ListBucket", f"arn:{partition}:s3:::another-bucket") == IMPLICIT_DENY
    assert asking("s3:PutObject", f"arn:{partition}:s3:::{READABLE_BUCKETS[0]}/probe") == IMPLICIT_DENY
    # No key of the buckets' owners: an SSE-KMS bucket's key policy must name the role (output PollerRoleArn).
    bucket_key = f"arn:{partition}:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert asking("kms:Decrypt", bucket_key) == IMPLICIT_DENY


def test_the_poller_role_is_an_output_where_key_and_bucket_policies_must_name_it(
    archive_assurance: Synthesized,
) -> None:
    role_id = archive_assurance.logical_id(archive_assurance.stack.notifier.poller.role)
    assert archive_assurance.template_json["Outputs"]["PollerRoleArn"]["Value"] == {
        "Fn::GetAtt": [role_id, "Arn"]
    }
    assert archive_assurance.nag_report["violations"] == []


# --- the settings in the function's environment -------------------------------------------------------------


def test_the_archive_settings_reach_the_pollers_environment_as_the_handler_reads_them(
    archive_assurance: Synthesized,
) -> None:
    variables = poller_environment(archive_assurance.template_json)
    assert {
        name: variables[name] for name in ("READABLE_BUCKETS", "APPROVED_BUCKETS", "STALL_AFTER_MINUTES")
    } == {
        "READABLE_BUCKETS": "acme-ami-archive,acme.ami-archive.eu",
        "APPROVED_BUCKETS": "acme-ami-archive,acme-dr-*",
        "STALL_AFTER_MINUTES": "90",
    }
    read_back = {
        setting.key: setting.read(variables[setting.variable], setting.variable)
        for setting in HANDLER_SETTINGS
        if setting.key in ARCHIVE_ASSURANCE and setting.variable is not None
    }
    assert read_back == {
        "readableBuckets": READABLE_BUCKETS,
        "approvedBuckets": ("acme-ami-archive", "acme-dr-*"),
        "stallAfterMinutes": 90,
    }


# --- the Organization-wide mode -----------------------------------------------------------------------------


def spokes(archive_rollout: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The StackSet's spoke and the management account's spokes, one per spoke Region."""
    return [
        template
        for name, template in archive_rollout.items()
        if name.endswith(".stackset.template.json") or name.startswith("AmiStoreNotifierManagementSpoke-")
    ]


def test_every_spoke_gets_the_archive_settings_and_reads_the_same_buckets(
    archive_rollout: dict[str, dict[str, Any]],
) -> None:
    templates = spokes(archive_rollout)
    assert len(templates) == 1 + len(ROLLOUT["spokeRegions"].split(","))
    for template in templates:
        variables = poller_environment(template)
        assert variables["READABLE_BUCKETS"] == ARCHIVE_ASSURANCE["readableBuckets"]
        assert variables["APPROVED_BUCKETS"] == ARCHIVE_ASSURANCE["approvedBuckets"]
        assert variables["STALL_AFTER_MINUTES"] == ARCHIVE_ASSURANCE["stallAfterMinutes"]
        # A token, or "aws" in a management account's spoke, which is pinned to its Region.
        objects = ResolvedTemplate(template, Deployment(ACCOUNT, REGION, "spoke")).resolve(
            statement(template, "ReadArchiveObjects")["Resource"]
        )
        assert objects == [f"arn:aws:s3:::{bucket}/*" for bucket in READABLE_BUCKETS]
        assert statement(template, "SizeStoresForTheQuota")["Condition"] == {
            "StringEquals": {"aws:RequestedRegion": [{"Ref": "AWS::Region"}]}
        }


def test_spokes_forward_their_unapproved_bucket_notices_and_the_hub_bus_takes_them_from_the_organization(
    archive_rollout: dict[str, dict[str, Any]],
) -> None:
    for template in spokes(archive_rollout):
        (forwarded,) = [
            resource["Properties"]["EventPattern"]
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Events::Rule"
            and resource["Properties"].get("Targets", [{}])[0].get("Arn") == ROLLOUT["hubEventBusArn"]
        ]
        assert UNAPPROVED_BUCKET in forwarded["detail-type"]
    hub = ResolvedTemplate(
        archive_rollout["AmiStoreNotifierHub.template.json"],
        Deployment(HUB_ACCOUNT, "us-east-1", "AmiStoreNotifierHub"),
    )
    (bus_policy,) = [
        resource["Properties"]
        for resource in hub.template["Resources"].values()
        if resource["Type"] == "AWS::Events::EventBusPolicy"
    ]
    policy = {"Statement": [hub.resolve(bus_policy["Statement"])]}
    bus_arn = f"arn:aws:events:us-east-1:{HUB_ACCOUNT}:event-bus/AmiStoreNotifierHub-events"

    def putting(detail_type: str, organization: str = ORGANIZATION_ID) -> str:
        context = {
            "aws:PrincipalOrgID": organization,
            "events:source": ["ami-store-notifier"],
            "events:detail-type": [detail_type],
        }
        spoke_role = "arn:aws:sts::111111111111:assumed-role/forwarder/session"
        return evaluate(
            policy, Request("events:PutEvents", bus_arn, principal_arn=spoke_role, context=context)
        )

    assert putting(UNAPPROVED_BUCKET) == ALLOW
    assert putting(UNAPPROVED_BUCKET, organization="o-someoneelse") == IMPLICIT_DENY


def test_the_hubs_relay_is_handed_the_notices_too(archive_rollout: dict[str, dict[str, Any]]) -> None:
    """The security team subscribed to the hub's topic hears of every account's unapproved buckets."""
    hub = archive_rollout["AmiStoreNotifierHub.template.json"]
    (to_topic,) = [
        resource for resource in hub["Resources"].values() if resource["Type"] == "AWS::Events::Rule"
    ]
    assert to_topic["Properties"]["EventPattern"]["detail-type"] == list(ANNOUNCED_DETAIL_TYPES)

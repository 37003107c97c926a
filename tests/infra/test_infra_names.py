"""Fixed physical names: unique where AWS makes them unique, and within AWS's limits.

Each kind of name declares its scope and limit once (infra/names.py). CloudFormation fails a deployment
whose fixed name is taken (a second stack, or the same stack in a second Region for a name unique per
account) or does not fit, which moto, with one stack per test, would never show. Every template variant
is deployed here twice (two stack names) in two Regions of one account, and every name is compared
within its scope and measured as deployed in the Region with the longest name.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from infra.app import build_app
from infra.names import NAME_KINDS, NAME_PROPERTY, SCOPE_OF, Scope
from infra.regions import LONGEST_REGION_NAME
from infra.settings import SettingsError
from tests.infra.policy import Deployment, ResolvedTemplate
from tests.infra.support import CHAT, HUB_BUS_ARN, ORGANIZATION_ID, QUIET, ROLLOUT, cdk_json_context

ACCOUNT = "111111111111"
REGIONS = ("eu-west-1", "us-east-1")
LIMIT = {kind.resource_type: kind.max_length for kind in NAME_KINDS}

# Every template variant, as two deployments of it under two stack names (the hub's under two
# hubStackName values): the context of each.
VARIANTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "default": ({}, {"stackName": "AmiStoreNotifierStaging"}),
    "chat": (CHAT, {**CHAT, "stackName": "AmiStoreNotifierStaging"}),
    "spoke forwarding": (
        {"hubEventBusArn": HUB_BUS_ARN},
        {"hubEventBusArn": HUB_BUS_ARN, "stackName": "AmiStoreNotifierStaging"},
    ),
    # The hint rules, queues and mapping take CloudFormation's generated names; the two alarms are fixed.
    "hints, quiet when idle": (QUIET, {**QUIET, "stackName": "AmiStoreNotifierStaging"}),
    "hub with chat": (
        {**CHAT, "organizationId": ORGANIZATION_ID},
        {**CHAT, "organizationId": ORGANIZATION_ID, "hubStackName": "AmiStoreHubStaging", "stackName": "B"},
    ),
}


def synthesized_templates(context: dict[str, str], outdir: Path) -> dict[str, dict[str, Any]]:
    """Every template the app writes with ``context``, by stack name."""
    app, _ = build_app({**cdk_json_context(), **context}, outdir=str(outdir), nag=False)
    assembly = app.synth()
    return {
        stack.stack_name: json.loads(Path(stack.template_full_path).read_text()) for stack in assembly.stacks
    }


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, dict[str, Any]]]]:
    """Per variant, the templates of its two deployments."""
    return {
        variant: [
            synthesized_templates(context, tmp_path_factory.mktemp("names")) for context in (first, second)
        ]
        for variant, (first, second) in VARIANTS.items()
    }


def fixed_names(template: dict[str, Any], stack_name: str, region: str) -> Iterator[tuple[str, str, str]]:
    """(resource type, name, where it must be unique) of every name the template fixes, as deployed in
    ``region``."""
    resolved = ResolvedTemplate(template, Deployment(ACCOUNT, region, stack_name))
    for resource in template["Resources"].values():
        kind, properties = resource["Type"], resource.get("Properties", {})
        name_property = NAME_PROPERTY.get(kind)
        if name_property is None or name_property not in properties:
            continue
        where = {
            Scope.GLOBAL: "aws",
            Scope.ACCOUNT: ACCOUNT,
            Scope.REGION: f"{ACCOUNT}/{region}",
            Scope.REGISTRY: f"{ACCOUNT}/{region}/{resolved.resolve(properties.get('RegistryName'))}",
        }[SCOPE_OF[kind]]
        yield kind, str(resolved.resolve(properties[name_property])), where


# Properties that give a resource a physical name of the template's choosing, and those of the same name
# that only refer to another resource.
NAMING_PROPERTIES = {
    *("Name", "AlarmName", "DashboardName", "ConfigurationName", "ArchiveName", "RegistryName", "SchemaName"),
    *("StackSetName", "BucketName", "TopicName", "QueueName", "TableName", "FunctionName", "RoleName"),
    "LogGroupName",
}
REFERENCES = {
    ("AWS::EventSchemas::Schema", "RegistryName"),
    ("AWS::Lambda::Permission", "FunctionName"),
    ("AWS::Lambda::EventInvokeConfig", "FunctionName"),
    ("AWS::Lambda::EventSourceMapping", "FunctionName"),
}


def test_every_name_a_template_fixes_is_of_a_kind_with_a_declared_scope(
    deployments: dict[str, list[dict[str, dict[str, Any]]]],
) -> None:
    undeclared = {
        (resource["Type"], name_property)
        for pair in deployments.values()
        for templates in pair
        for template in templates.values()
        for resource in template["Resources"].values()
        for name_property in resource.get("Properties", {})
        if name_property in NAMING_PROPERTIES
        and NAME_PROPERTY.get(resource["Type"]) != name_property
        and (resource["Type"], name_property) not in REFERENCES
    }
    assert undeclared == set()


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_stack_names_in_two_regions_of_one_account_share_no_name(
    variant: str, deployments: dict[str, list[dict[str, dict[str, Any]]]]
) -> None:
    taken = Counter(
        (where, kind, name)
        for templates, region in product(deployments[variant], REGIONS)
        for stack_name, template in templates.items()
        for kind, name, where in fixed_names(template, stack_name, region)
    )
    assert [name for name, count in taken.items() if count > 1] == []
    assert taken


def test_names_unique_per_account_carry_the_region(
    deployments: dict[str, list[dict[str, dict[str, Any]]]],
) -> None:
    per_account = [
        (kind, name, region)
        for pair in deployments.values()
        for templates in pair
        for region in REGIONS
        for stack_name, template in templates.items()
        for kind, name, _ in fixed_names(template, stack_name, region)
        if SCOPE_OF[kind] is Scope.ACCOUNT
    ]
    kinds = {kind for kind, _, _ in per_account}
    assert kinds == {
        "AWS::CloudWatch::Dashboard",
        "AWS::Chatbot::SlackChannelConfiguration",
        "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
    }
    assert all(f"-{region}" in name for _, name, region in per_account)


def test_every_fixed_name_fits_its_limit_in_the_region_with_the_longest_name(
    deployments: dict[str, list[dict[str, dict[str, Any]]]],
) -> None:
    too_long = [
        (kind, name)
        for pair in deployments.values()
        for templates in pair
        for stack_name, template in templates.items()
        for kind, name, _ in fixed_names(template, stack_name, LONGEST_REGION_NAME)
        if len(name) > LIMIT[kind]
    ]
    assert too_long == []


# The longest value each name-bearing setting accepts, with every part that takes a name from it on.
WITH_EVERYTHING = {**CHAT, "organizationId": ORGANIZATION_ID, "hubEventBusArn": HUB_BUS_ARN}
LONGEST_THAT_FIT = {
    "eventBusName": "b" * 256,
    "eventSource": "s" * 256,
    "spokeAssetBucketPrefix": "a" * 41,
}
LONGEST_REFUSED = {"stackName": "S" * 128, "hubStackName": "H" * 128}
SPOKES = {
    "spokeOrganizationalUnits": "ou-ab12-cdefgh34",
    "spokeRegions": "us-east-1,eu-west-1",
    "spokeAssetBucketPrefix": "acme-ami-store-notifier",
    "managementAccountId": "999999999999",
}


@pytest.mark.parametrize(("setting", "value"), LONGEST_THAT_FIT.items())
def test_the_longest_value_of_a_naming_setting_gives_names_that_fit(
    setting: str, value: str, tmp_path: Path
) -> None:
    templates = synthesized_templates({**WITH_EVERYTHING, **SPOKES, setting: value}, tmp_path)
    for stack_name, template in templates.items():
        for kind, name, _ in fixed_names(template, stack_name, LONGEST_REGION_NAME):
            assert len(name) <= LIMIT[kind], (setting, kind, name)


@pytest.mark.parametrize(("setting", "value"), LONGEST_REFUSED.items())
def test_the_longest_value_of_a_naming_setting_that_cannot_fit_stops_synthesis_naming_it(
    setting: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=rf"^{setting} makes the .* but AWS allows .*: shorten {setting}"):
        build_app({**cdk_json_context(), **WITH_EVERYTHING, setting: value}, nag=False)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"organizationId": ORGANIZATION_ID, "hubStackName": "H" * 35},
            "hubStackName makes the EventBridge archive name 'H{35}-announcements' 49 characters long, "
            "but AWS allows 48 .*: shorten hubStackName by 1 characters",
        ),
        (
            {**CHAT, "stackName": "S" * 58},
            "stackName makes the EventBridge schema registry name 'S{58}-events' 65 characters long, but "
            "AWS allows 64 .*: shorten stackName by 1 characters",
        ),
    ],
)
def test_a_derived_name_that_does_not_fit_stops_synthesis_naming_the_setting_and_the_excess(
    context: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{message}"):
        build_app({**cdk_json_context(), **context}, nag=False)


def test_names_that_just_fit_are_accepted() -> None:
    build_app(
        {**cdk_json_context(), **CHAT, "organizationId": ORGANIZATION_ID, "hubStackName": "H" * 34}
        | {"stackName": "S" * 57},
        nag=False,
    )


def test_the_whole_rollout_as_the_walkthrough_deploys_it_shares_no_name_within_any_scope(
    rollout_dir: Path,
) -> None:
    """The management account gets the hub, the StackSet, the code buckets and its own spokes; a member
    account gets the StackSet's spoke in every spoke Region."""
    member = "222222222222"
    templates = {path.name: json.loads(path.read_text()) for path in rollout_dir.glob("*.template.json")}
    spoke_regions = ROLLOUT["spokeRegions"].split(",")
    deployed = [
        (ACCOUNT, "us-east-1", "AmiStoreNotifierHub"),
        (ACCOUNT, "us-east-1", "AmiStoreNotifierSpokes"),
    ]
    deployed += [
        (ACCOUNT, region, f"{prefix}-{region}")
        for region in spoke_regions
        for prefix in ("AmiStoreNotifierSpokeAssets", "AmiStoreNotifierManagementSpoke")
    ]
    (spoke_template,) = [name for name in templates if name.endswith(".stackset.template.json")]
    taken: Counter[tuple[str, str, str]] = Counter()
    for account, region, stack_name in deployed:
        taken.update(
            (where.replace(ACCOUNT, account), kind, name)
            for kind, name, where in fixed_names(templates[f"{stack_name}.template.json"], stack_name, region)
        )
    for region in spoke_regions:
        taken.update(
            (where.replace(ACCOUNT, member), kind, name)
            for kind, name, where in fixed_names(templates[spoke_template], "StackSet-spokes-1", region)
        )
    assert len(spoke_regions) == 2
    assert [name for name, count in taken.items() if count > 1] == []

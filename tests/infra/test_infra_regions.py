"""Every supported Region gets exactly the optional parts it has (infra/regions.py): the template's own
conditions on `AWS::Region`, evaluated as CloudFormation would for each Region, leave out a part exactly
where the declaration says the Region lacks it, and nothing else is conditional."""

from __future__ import annotations

from typing import Any

import pytest

from infra.regions import (
    ALL_SUPPORTED_REGIONS,
    ARCHIVE_PART,
    CHAT_CHANNELS_PART,
    OPTIONAL_PARTS,
    SCHEMA_REGISTRY_PART,
    SUPPORTED_REGIONS,
    OptionalPart,
)
from tests.infra.support import Synthesized


def holds(condition: Any, template: dict[str, Any], region: str) -> bool:
    """A condition of the template for a deployment in ``region`` (Fn::Equals, Not, Or, And; Ref to the
    Region or to another condition): only what the stacks write, anything else raises."""
    if isinstance(condition, dict) and "Condition" in condition:
        return holds(template["Conditions"][condition["Condition"]], template, region)
    ((function, arguments),) = condition.items()
    if function == "Fn::Equals":
        left, right = (region if value == {"Ref": "AWS::Region"} else value for value in arguments)
        return bool(left == right)
    if function == "Fn::Not":
        return not holds(arguments[0], template, region)
    if function == "Fn::Or":
        return any(holds(argument, template, region) for argument in arguments)
    if function == "Fn::And":
        return all(holds(argument, template, region) for argument in arguments)
    raise NotImplementedError(function)


def created_types(template: dict[str, Any], region: str) -> set[str]:
    return {
        resource["Type"]
        for resource in template["Resources"].values()
        if "Condition" not in resource
        or holds(template["Conditions"][resource["Condition"]], template, region)
    }


def conditional_types(template: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in template["Resources"].values() if "Condition" in resource}


@pytest.mark.parametrize(
    ("variant", "parts"),
    [
        ("synth", (SCHEMA_REGISTRY_PART,)),
        ("chat", (SCHEMA_REGISTRY_PART, CHAT_CHANNELS_PART)),
        ("spoke", (SCHEMA_REGISTRY_PART,)),
        ("hub_chat", (ARCHIVE_PART, CHAT_CHANNELS_PART)),
    ],
)
def test_each_supported_region_gets_the_optional_parts_it_has_and_every_other_resource(
    variant: str, parts: tuple[OptionalPart, ...], request: pytest.FixtureRequest
) -> None:
    template = request.getfixturevalue(variant).template_json
    optional = {kind for part in parts for kind in part.resource_types}
    assert conditional_types(template) - {"AWS::IAM::Role"} == optional
    always = {resource["Type"] for resource in template["Resources"].values()} - optional
    for region in ALL_SUPPORTED_REGIONS:
        expected = always | {
            kind for part in parts if part.available_in(region) for kind in part.resource_types
        }
        assert created_types(template, region) - {"AWS::IAM::Role"} == expected - {"AWS::IAM::Role"}, region


def test_the_chat_channels_role_exists_only_where_its_channels_do(chat: Synthesized) -> None:
    template = chat.template_json
    (role_id,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role" and "Condition" in resource
    ]
    assert template["Resources"][role_id]["Condition"] == CHAT_CHANNELS_PART.condition_id
    assert not holds({"Condition": CHAT_CHANNELS_PART.condition_id}, template, "us-gov-west-1")
    assert holds({"Condition": CHAT_CHANNELS_PART.condition_id}, template, "eu-west-1")


def test_the_hub_names_its_archive_only_where_it_has_one(hub: Synthesized) -> None:
    template = hub.template_json
    assert template["Outputs"]["ArchiveName"]["Condition"] == ARCHIVE_PART.condition_id
    assert not holds({"Condition": ARCHIVE_PART.condition_id}, template, "ap-southeast-4")
    assert holds({"Condition": ARCHIVE_PART.condition_id}, template, "us-east-1")


def test_the_regions_an_optional_part_lacks_are_all_supported_ones() -> None:
    for part in OPTIONAL_PARTS:
        assert part.lacking < set(ALL_SUPPORTED_REGIONS), part.name


def test_chat_channels_are_missing_in_exactly_the_china_and_govcloud_partitions() -> None:
    assert CHAT_CHANNELS_PART.lacking == {*SUPPORTED_REGIONS["aws-cn"], *SUPPORTED_REGIONS["aws-us-gov"]}

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
from tests.infra.support import CHAT, Synthesized


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


def created_conditional_types(template: dict[str, Any], region: str) -> set[str]:
    return {
        resource["Type"]
        for resource in template["Resources"].values()
        if "Condition" in resource and holds(template["Conditions"][resource["Condition"]], template, region)
    }


def conditional_types(template: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in template["Resources"].values() if "Condition" in resource}


CHAT_CHANNEL_TYPES = {*CHAT_CHANNELS_PART.resource_types, "AWS::IAM::Role"}


@pytest.mark.parametrize(
    ("variant", "parts", "chat_channels_in"),
    [
        ("synth", (SCHEMA_REGISTRY_PART,), None),
        ("chat", (SCHEMA_REGISTRY_PART,), CHAT["chatChannelRegion"]),
        ("spoke", (SCHEMA_REGISTRY_PART,), None),
        ("hub_chat", (ARCHIVE_PART,), CHAT["chatChannelRegion"]),
    ],
)
def test_each_supported_region_gets_the_optional_parts_it_has_and_every_other_resource(
    variant: str,
    parts: tuple[OptionalPart, ...],
    chat_channels_in: str | None,
    request: pytest.FixtureRequest,
) -> None:
    template = request.getfixturevalue(variant).template_json
    optional = {kind for part in parts for kind in part.resource_types}
    channels = CHAT_CHANNEL_TYPES if chat_channels_in else set()
    assert conditional_types(template) == optional | channels
    for region in ALL_SUPPORTED_REGIONS:
        expected = {kind for part in parts if part.available_in(region) for kind in part.resource_types}
        if region == chat_channels_in:
            expected |= channels
        assert created_conditional_types(template, region) == expected, region


def test_the_chat_channels_and_their_role_exist_only_in_the_chat_channel_region(chat: Synthesized) -> None:
    template = chat.template_json
    conditional = {
        resource["Type"]: resource["Condition"]
        for resource in template["Resources"].values()
        if resource["Type"] in CHAT_CHANNEL_TYPES and "Condition" in resource
    }
    assert conditional.keys() == CHAT_CHANNEL_TYPES
    (condition,) = set(conditional.values())
    where = [region for region in ALL_SUPPORTED_REGIONS if holds({"Condition": condition}, template, region)]
    assert where == [CHAT["chatChannelRegion"]]


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

"""Fixed physical names: two stacks and two Regions in one account never ask for the same name.

A name is unique per account and Region for most resources, and per account for CloudWatch dashboards
(CloudWatch user guide, "Creating a CloudWatch dashboard": dashboards are global). CloudFormation fails
a deployment whose fixed name is taken, which moto, with one stack per test, would never show.
"""

from __future__ import annotations

from collections import Counter
from itertools import product

from tests.infra.policy import NAME_PROPERTIES, Deployment, ResolvedTemplate
from tests.infra.support import Synthesized

ACCOUNT = "111111111111"
REGIONS = ("eu-west-1", "us-east-1")
# Names unique per account, whatever the Region.
GLOBAL_KINDS = frozenset({"AWS::CloudWatch::Dashboard", "AWS::IAM::Role"})


def fixed_names(synthesized: Synthesized, region: str) -> list[tuple[str, str, str]]:
    """(scope, resource type, name) of every name the template fixes, as deployed in `region`."""
    resolved = ResolvedTemplate(
        synthesized.template_json, Deployment(ACCOUNT, region, synthesized.stack.stack_name)
    )
    names = []
    for resource in synthesized.template_json["Resources"].values():
        kind = resource["Type"]
        for name_property in NAME_PROPERTIES.get(kind, ()):
            if name_property in resource.get("Properties", {}):
                scope = "account" if kind in GLOBAL_KINDS else region
                names.append((scope, kind, str(resolved.resolve(resource["Properties"][name_property]))))
    return names


def test_the_fixed_names_are_the_bus_the_dashboard_and_the_alarms(synth: Synthesized) -> None:
    kinds = Counter(kind for _, kind, _ in fixed_names(synth, REGIONS[0]))
    assert kinds == {
        "AWS::Events::EventBus": 1,
        "AWS::EventSchemas::Registry": 1,
        "AWS::CloudWatch::Dashboard": 1,
        "AWS::CloudWatch::Alarm": 7,
    }


def test_every_fixed_name_starts_with_the_stack_name(synth: Synthesized, second_stack: Synthesized) -> None:
    for synthesized in (synth, second_stack):
        for _, kind, name in fixed_names(synthesized, REGIONS[0]):
            assert name.startswith(f"{synthesized.stack.stack_name}-"), (kind, name)


def test_two_stacks_in_two_regions_of_one_account_share_no_name(
    synth: Synthesized, second_stack: Synthesized
) -> None:
    taken = Counter(
        name
        for synthesized, region in product((synth, second_stack), REGIONS)
        for name in fixed_names(synthesized, region)
    )
    assert [name for name, count in taken.items() if count > 1] == []
    assert len(taken) == 2 * 2 * 10

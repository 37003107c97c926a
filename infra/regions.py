"""The Regions and partitions the product supports, and which optional parts exist in which of them.

One declaration, read by the stacks (CloudFormation conditions), the docs' Regions table and the tests that
lint every template over every supported Region. A Region is supported when CloudFormation has every
resource type of the notifier there; an optional part that a Region lacks is left out there by a
condition on `AWS::Region` in the template itself, so that one template serves every Region (a StackSet's
spoke template, an environment-agnostic stack) and is never a synth-time guess of where it will go.

Availability comes from CloudFormation's per-Region resource specification (the data cfn-lint ships,
which `make test` lints every template against) and the services' own Region tables (cited per part).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnCondition, Fn, ICfnConditionExpression, Stack
from constructs import IConstruct

from infra.cfn_resources import cfn_resource_of

# Every commercial Region CloudFormation's per-Region specification covers, China's and GovCloud's.
SUPPORTED_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        *("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "mx-central-1"),
        *("sa-east-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1"),
        *("eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "af-south-1", "ap-east-1", "ap-east-2"),
        *("ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
        *("ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5"),
        *("ap-southeast-6", "ap-southeast-7"),
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
ALL_SUPPORTED_REGIONS = tuple(region for regions in SUPPORTED_REGIONS.values() for region in regions)
LONGEST_REGION_NAME = max(ALL_SUPPORTED_REGIONS, key=len)


@dataclass(frozen=True)
class OptionalPart:
    """A part of a template that some supported Regions lack, and the condition that leaves it out."""

    name: str  # the condition's logical id: Has<name>
    what: str
    resource_types: tuple[str, ...]
    lacking: frozenset[str]
    documented_at: str

    @property
    def condition_id(self) -> str:
        return f"Has{self.name}"

    def available_in(self, region: str) -> bool:
        return region not in self.lacking

    def condition(self, scope: IConstruct) -> CfnCondition:
        """The stack's condition that this part exists where the stack is deployed."""
        return stack_condition(scope, self.condition_id, _region_not_in(sorted(self.lacking)))

    def leave_out_where_missing(self, *parts: IConstruct) -> None:
        only_where(self.condition(parts[0]), *parts)


def stack_condition(
    scope: IConstruct, condition_id: str, expression: ICfnConditionExpression
) -> CfnCondition:
    """The condition ``condition_id`` of ``scope``'s stack, made the first time a construct asks for it."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(condition_id)
    if isinstance(existing, CfnCondition):
        return existing
    return CfnCondition(stack, condition_id, expression=expression)


def only_where(condition: CfnCondition, *parts: IConstruct) -> None:
    """The resources of ``parts`` exist only where ``condition`` holds."""
    for part in parts:
        cfn_resource_of(part).cfn_options.condition = condition


SCHEMA_REGISTRY_PART = OptionalPart(
    name="SchemaRegistry",
    what="the schema registry",
    resource_types=("AWS::EventSchemas::Registry", "AWS::EventSchemas::Schema"),
    lacking=frozenset(
        {
            *("ap-east-2", "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6"),
            *("ap-southeast-7", "ca-west-1", "il-central-1", "mx-central-1"),
        }
    ),
    documented_at="https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema.html",
)
CHAT_CHANNELS_PART = OptionalPart(
    name="ChatChannels",
    what="the Slack and Teams channel configurations",
    resource_types=(
        "AWS::Chatbot::SlackChannelConfiguration",
        "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
    ),
    # Not left out by a condition of its own: the channels exist only in chatChannelRegion, which
    # synthesis checks is a Region with the chat service (infra/chat.py).
    lacking=frozenset((*SUPPORTED_REGIONS["aws-cn"], *SUPPORTED_REGIONS["aws-us-gov"])),
    documented_at="https://docs.aws.amazon.com/chatbot/latest/adminguide/chatbot-regions.html",
)
# EventBridge's feature table names Regions without archive and replay, which CloudFormation's per-Region
# specification (and so cfn-lint) does not show: the type exists there, the service refuses it.
ARCHIVE_PART = OptionalPart(
    name="Archive",
    what="the hub's archive",
    resource_types=("AWS::Events::Archive",),
    lacking=frozenset({"ap-east-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-west-1"}),
    documented_at="https://docs.aws.amazon.com/eventbridge/latest/userguide/feature-availability.html",
)
OPTIONAL_PARTS = (SCHEMA_REGISTRY_PART, CHAT_CHANNELS_PART, ARCHIVE_PART)

# Where AWS publishes no public parameter for the Powertools layer (infra/asset.py), so that a stack
# deployed there must be given `powertoolsLayerArn`. The Powertools documentation ("Lambda Layer", SSM
# Parameter Store, https://docs.aws.amazon.com/powertools/python/latest/getting-started/install/) lists no
# Regions for the parameters; these are the supported Regions outside the list its release workflow
# writes them to (China and GovCloud get layers without parameters). A Region wrongly listed here costs
# only a setting; one wrongly missing fails the deployment with "Parameters [...] cannot be found", which
# docs/deploying/regions.md explains.
WITHOUT_POWERTOOLS_PARAMETER = frozenset(
    {
        "ap-east-2",
        "ap-southeast-6",
        "me-central-1",
        *SUPPORTED_REGIONS["aws-cn"],
        *SUPPORTED_REGIONS["aws-us-gov"],
    }
)

# Fn::Or takes 2 to 10 conditions (CloudFormation template reference, condition functions).
_MOST_IN_ONE_OR = 10


def _region_not_in(regions: Iterable[str]) -> ICfnConditionExpression:
    equals = [Fn.condition_equals(Aws.REGION, region) for region in regions]
    return Fn.condition_not(_any_of(equals))


def _any_of(conditions: Sequence[ICfnConditionExpression]) -> ICfnConditionExpression:
    if len(conditions) == 1:
        return conditions[0]
    if len(conditions) <= _MOST_IN_ONE_OR:
        return Fn.condition_or(*conditions)
    half = len(conditions) // 2
    return Fn.condition_or(_any_of(conditions[:half]), _any_of(conditions[half:]))

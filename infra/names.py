"""Every fixed physical name the stacks give a resource, built from what makes it unique where AWS makes it
unique, and checked against AWS's documented limit when it is built.

CloudFormation fails a deployment whose fixed name is taken or does not fit, which no offline deployment
shows. So each kind of name declares its scope and limit once, here:
- a name unique per account and Region (most) is `<prefix>-<suffix>`: the prefix (the stack's name, and
  the construct's id in someone else's stack) is unique per account and Region, since CloudFormation
  stack names are;
- a name unique per account whatever the Region (a global service's) also carries the Region:
  `<prefix>-<region>-<suffix>`, so that the same stack in a second Region does not collide.
A name that would not fit stops synthesis with a `SettingsError` naming what made it too long (the
setting, or the stack name and construct id) and by how much.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Stack, Token

from infra.regions import LONGEST_REGION_NAME
from infra.settings import SettingsError


class Scope(Enum):
    """Where AWS keeps a name unique."""

    GLOBAL = "all of AWS"
    ACCOUNT = "the account, whatever the Region"
    REGION = "the account and Region"
    REGISTRY = "its schema registry"


@dataclass(frozen=True)
class NameKind:
    what: str
    resource_type: str
    name_property: str  # the property that carries the name in a template
    scope: Scope
    max_length: int
    allowed: str  # the characters AWS accepts, as a regular expression of the whole name
    documented_at: str

    def check(self, name: str, *, made_from: str) -> str:
        """``name`` (its Region a token or not) if it fits; else a SettingsError naming ``made_from``."""
        deployed = _with_longest_region(name)
        length = len(deployed)
        if length > self.max_length:
            raise SettingsError(
                f"{made_from} makes the {self.what} {_shown(name)!r} {length} characters long, but AWS "
                f"allows {self.max_length} ({self.documented_at}): shorten {made_from} by "
                f"{length - self.max_length} characters"
            )
        if not re.fullmatch(self.allowed, deployed):
            raise SettingsError(
                f"{made_from} puts a character into the {self.what} {_shown(name)!r} that AWS does not "
                f"accept there (allowed: {self.allowed})"
            )
        return name


_CFN = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference"
BUS = NameKind(
    "EventBridge bus name",
    "AWS::Events::EventBus",
    "Name",
    Scope.REGION,
    256,
    r"[/\.\-_A-Za-z0-9]+",
    f"{_CFN}/aws-resource-events-eventbus.html",
)
# The schema registry API reference gives no limit for either name; these are the ones the Terraform
# provider checks, kept to so that an undocumented limit costs nothing.
SCHEMA_REGISTRY = NameKind(
    "EventBridge schema registry name",
    "AWS::EventSchemas::Registry",
    "RegistryName",
    Scope.REGION,
    64,
    r"[\.\-_A-Za-z0-9]+",
    "https://docs.aws.amazon.com/eventbridge/latest/schema-reference/v1-registries-name-registryname.html",
)
SCHEMA = NameKind(
    "EventBridge schema name",
    "AWS::EventSchemas::Schema",
    "SchemaName",
    Scope.REGISTRY,
    385,
    r"[\.\-_A-Za-z0-9@]+",
    "https://docs.aws.amazon.com/eventbridge/latest/schema-reference/v1-registries-name-registryname-schemas-name-schemaname.html",
)
ALARM = NameKind(
    "CloudWatch alarm name",
    "AWS::CloudWatch::Alarm",
    "AlarmName",
    Scope.REGION,
    255,
    r"[^\x00-\x1f]+",
    f"{_CFN}/aws-resource-cloudwatch-alarm.html",
)
# Dashboards are global to the account (CloudWatch user guide, "Creating a CloudWatch dashboard").
DASHBOARD = NameKind(
    "CloudWatch dashboard name",
    "AWS::CloudWatch::Dashboard",
    "DashboardName",
    Scope.ACCOUNT,
    255,
    r"[A-Za-z0-9\-_]+",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
)
# The chat service is global: its channel configuration names are unique per account.
SLACK_CHANNEL = NameKind(
    "Slack channel configuration name",
    "AWS::Chatbot::SlackChannelConfiguration",
    "ConfigurationName",
    Scope.ACCOUNT,
    128,
    r"[A-Za-z0-9\-_]+",
    f"{_CFN}/aws-resource-chatbot-slackchannelconfiguration.html",
)
TEAMS_CHANNEL = NameKind(
    "Microsoft Teams channel configuration name",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
    "ConfigurationName",
    Scope.ACCOUNT,
    128,
    r"[A-Za-z0-9\-_]+",
    f"{_CFN}/aws-resource-chatbot-microsoftteamschannelconfiguration.html",
)
ARCHIVE = NameKind(
    "EventBridge archive name",
    "AWS::Events::Archive",
    "ArchiveName",
    Scope.REGION,
    48,
    r"[\.\-_A-Za-z0-9]+",
    f"{_CFN}/aws-resource-events-archive.html",
)
STACK_SET = NameKind(
    "StackSet name",
    "AWS::CloudFormation::StackSet",
    "StackSetName",
    Scope.REGION,
    128,
    r"[a-zA-Z][a-zA-Z0-9\-]*",
    f"{_CFN}/aws-resource-cloudformation-stackset.html",
)
# Bucket names are shared by every account of a partition (S3 user guide, "Bucket naming rules").
BUCKET = NameKind(
    "S3 bucket name",
    "AWS::S3::Bucket",
    "BucketName",
    Scope.GLOBAL,
    63,
    r"[a-z0-9][a-z0-9.\-]*[a-z0-9]",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
)
NAME_KINDS = (
    BUS,
    SCHEMA_REGISTRY,
    SCHEMA,
    ALARM,
    DASHBOARD,
    SLACK_CHANNEL,
    TEAMS_CHANNEL,
    ARCHIVE,
    STACK_SET,
    BUCKET,
)
# By resource type: the property that carries each kind's name, and its scope.
NAME_PROPERTY = {kind.resource_type: kind.name_property for kind in NAME_KINDS}
SCOPE_OF = {kind.resource_type: kind.scope for kind in NAME_KINDS}


@dataclass(frozen=True)
class NamePrefix:
    """What a deployment's fixed names start with, and what sets it (named when a name does not fit)."""

    value: str
    made_from: str

    def name(self, kind: NameKind, suffix: str, *, stack: Stack) -> str:
        """This deployment's name of ``kind``: with the stack's Region in it when ``kind`` is wider than
        one Region (a token when the stack is environment-agnostic, resolved by CloudFormation)."""
        parts = [self.value, stack.region, suffix] if kind.scope is Scope.ACCOUNT else [self.value, suffix]
        return kind.check("-".join(part for part in parts if part), made_from=self.made_from)


# How an unresolved token (here, always the stack's Region) stands in a string at synth time.
_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")


def _with_longest_region(name: str) -> str:
    """The name as deployed in the supported Region with the longest name, where the Region is a token."""
    if not Token.is_unresolved(name):
        return name
    return _TOKEN.sub(LONGEST_REGION_NAME, name)


def _shown(name: str) -> str:
    return _TOKEN.sub("<region>", name)

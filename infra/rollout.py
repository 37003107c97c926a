"""The Organization-wide rollout: a StackSet that deploys the notifier to every account of chosen
organizational units and Regions, from the management account or a delegated administrator, and the
management account's own spokes, which no service-managed StackSet deploys.

A StackSet deploys a template, not a CDK app: its Lambda code must sit where every target account can
read it, in each target Region. cdklabs' cdk-stacksets copies the code asset into buckets named
`<prefix>-<region>` (one per spoke Region) and points the template at them; the
`AmiStoreNotifierSpokeAssets-<region>` stacks create those buckets, readable by the Organization only.
"""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import (
    Acknowledgment,
    Environment,
    IStackSynthesizer,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_stacksets import (
    Capability,
    DeploymentType,
    OperationPreferences,
    RegionConcurrencyType,
    StackSet,
    StackSetStack,
    StackSetTarget,
    StackSetTemplate,
)
from constructs import Construct

from infra.cfn_resources import cfn_resource_of
from infra.checkov import skip_checkov
from infra.names import BUCKET, STACK_SET
from infra.notifier import TRANSPARENT_ID, AmiStoreNotifier
from infra.settings import Settings
from infra.stack import AmiStoreNotifierStack

ASSETS_STACK_PREFIX = "AmiStoreNotifierSpokeAssets"
MANAGEMENT_SPOKE_STACK_PREFIX = "AmiStoreNotifierManagementSpoke"

# The operation preferences' concurrency mode. Both percentages are of a Region's accounts, rounded down
# (the concurrency to at least 1). The default mode, STRICT_FAILURE_TOLERANCE, starts at the lower of the
# maximum concurrency and the failure tolerance plus one and lowers it as accounts fail; a tolerance of
# 10 % of fewer than 10 accounts is 0, so that mode would deploy one account at a time whatever
# spokeMaxConcurrentPercentage says. SOFT_FAILURE_TOLERANCE runs at MaxConcurrentPercentage regardless of
# the number of failures, which is what the setting promises. None of the preferences apply to automatic
# deployment to accounts that join a unit later
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackSetOperationPreferences.html).
CONCURRENCY_MODE = "SOFT_FAILURE_TOLERANCE"


def spoke_settings(settings: Settings) -> Settings:
    """What a spoke, of the StackSet or of the management account, keeps of the app's settings.

    Not `regions`: a spoke is deployed to every spoke Region and polls only the Region it runs in, so that
    each store reaches the hub once and each account spends its EC2 request budget once per Region. Not
    `eventBusArn`: an existing bus is one account's. Not the chat channels, which are the hub's. And what
    was left unset takes the spokes' default: no dashboard, no customer managed key (SPOKE_DEFAULTS)."""
    return replace(settings.without_chat_channels(), regions=(), event_bus_arn=None).with_spoke_defaults()


def asset_bucket_name(prefix: str, region: str) -> str:
    # The name cdk-stacksets looks for in each target Region.
    return BUCKET.check(f"{prefix}-{region}", made_from="spokeAssetBucketPrefix")


class SpokeAssets(Stack):
    """The bucket the StackSet's code is served from in one Region, readable by the Organization."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_prefix: str,
        organization_id: str,
        region: str,
        synthesizer: IStackSynthesizer | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(region=region),
            description=f"AMI Store Notifier: the spokes' code for {region}, readable by the Organization",
            synthesizer=synthesizer,
            analytics_reporting=False,
        )
        self.bucket = s3.Bucket(
            self,
            "Assets",
            bucket_name=asset_bucket_name(bucket_prefix, region),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudFormation reads the code for each stack instance with the target account's credentials.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationReadsTheCode",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            )
        )
        no_access_log = (
            "It holds only the notifier's published code, copied by the StackSet stack's deployment; reads "
            "are limited to the Organization and need no access log."
        )
        Validations.of(self.bucket).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-S1", reason=no_access_log)
        )
        skip_checkov(self.bucket, "CKV_AWS_18", no_access_log)


class SpokeRollout(Stack):
    """The StackSet of spokes: the notifier construct as every account and Region gets it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        bucket_prefix: str,
        synthesizer: IStackSynthesizer | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="AMI Store Notifier: the StackSet that deploys the notifier across the Organization",
            synthesizer=synthesizer,
            analytics_reporting=False,
        )
        buckets = [
            s3.Bucket.from_bucket_name(self, f"Assets-{region}", asset_bucket_name(bucket_prefix, region))
            for region in settings.spoke_regions
        ]
        self.spoke = StackSetStack(self, "Spoke", asset_buckets=buckets, asset_bucket_prefix=bucket_prefix)
        self.notifier = AmiStoreNotifier(self.spoke, TRANSPARENT_ID, settings=spoke_settings(settings))
        self.stack_set = StackSet(
            self,
            "StackSet",
            stack_set_name=STACK_SET.check(f"{self.stack_name}-spokes", made_from="the rollout stack's name"),
            description="AMI Store Notifier in every account of the chosen organizational units",
            template=StackSetTemplate.from_stack_set_stack(self.spoke),
            target=StackSetTarget.from_organizational_units(
                organizational_units=list(settings.spoke_organizational_units),
                regions=list(settings.spoke_regions),
            ),
            # Service-managed: Organizations grants the permissions, and accounts that join the units
            # later get the notifier too (auto deployment); one that leaves keeps nothing behind.
            deployment_type=DeploymentType.service_managed(
                auto_deploy_enabled=True,
                auto_deploy_retain_stacks=False,
                delegated_admin=settings.stack_set_delegated_admin,
            ),
            operation_preferences=OperationPreferences(
                failure_tolerance_percentage=settings.spoke_failure_tolerance_percentage,
                max_concurrent_percentage=settings.spoke_max_concurrent_percentage,
                region_concurrency_type=RegionConcurrencyType.PARALLEL,
            ),
            capabilities=[Capability.IAM],
            managed_execution=True,
        )
        # cdk-stacksets 0.0.157's OperationPreferences has no ConcurrencyMode: set on its CfnStackSet.
        cfn_resource_of(self.stack_set).add_property_override(
            "OperationPreferences.ConcurrencyMode", CONCURRENCY_MODE
        )
        self._acknowledge_the_code_copy(bucket_prefix, settings.spoke_regions)

    def _acknowledge_the_code_copy(self, bucket_prefix: str, regions: tuple[str, ...]) -> None:
        """cdk-stacksets copies the code with CDK's BucketDeployment, whose function and role are CDK's
        own (a singleton of this stack), not written here."""
        copy = "CDK's BucketDeployment (used by cdk-stacksets to copy the spokes' code to the asset buckets)"
        findings = {
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": f"{copy} attaches the AWS managed logging policy to its role.",
            "AwsSolutions::AwsSolutions-L1": f"{copy} picks its own runtime, upgraded with aws-cdk-lib.",
            "Annotation::warning-annotation": "The asset buckets are imported by name: their policy (read by "
            "the Organization) is written by the AmiStoreNotifierSpokeAssets stacks that create them.",
            **{
                f"AwsSolutions::AwsSolutions-IAM5[Action::s3:{action}]": f"{copy} is granted CDK's "
                "read/write action groups on the asset buckets only."
                for action in ("Abort*", "DeleteObject*", "GetBucket*", "GetObject*", "List*")
            },
            "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-"
            "<AWS::AccountId>-<AWS::Region>/*]": f"{copy} reads the code from this account's CDK assets.",
            **{
                f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                f"{asset_bucket_name(bucket_prefix, region)}/*]": f"{copy} writes the code objects of that "
                "Region's asset bucket."
                for region in regions
            },
        }
        Validations.of(self).acknowledge(
            *(Acknowledgment(id=finding, reason=reason) for finding, reason in findings.items())
        )
        # Checkov reads acknowledgments from the resources only: those of the singleton handler, which
        # CDK names after its purpose.
        (handler,) = [
            child for child in self.node.children if child.node.id.startswith("Custom::CDKBucketDeployment")
        ]
        for check_id, reason in {
            "CKV_AWS_115": f"{copy} runs only while CloudFormation deploys this stack: no load to limit.",
            "CKV_AWS_116": f"{copy} answers CloudFormation's custom resource requests and reports each "
            "failure, which fails the deployment; a request kept in a queue would outlive CloudFormation's "
            "wait for its answer.",
            "CKV_AWS_117": f"{copy} copies between S3 buckets over S3's public endpoint; a VPC would add NAT "
            "gateways or endpoints and protect nothing more.",
            "CKV_AWS_173": f"{copy} sets only CDK's own variables (the CA bundle's path), no secrets.",
        }.items():
            skip_checkov(handler, check_id, reason)
        skip_checkov(
            handler.node.find_child("LogGroup"),
            "CKV_AWS_158",
            f"{copy} logs the copies there, no secrets; CloudWatch Logs encrypts it at rest.",
        )


class ManagementSpoke(AmiStoreNotifierStack):
    """The management account's spoke in one Region: what the StackSet deploys to every other account.

    A service-managed StackSet "doesn't deploy stack instances to the organization management account,
    even if the organization management account is in your organization or in an OU in your organization"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html). This
    stack is pinned to the management account (managementAccountId) and its Region: the CDK CLI refuses
    credentials of another account, so a delegated administrator that forgot the management account's
    profile cannot give itself a second spoke. Its name, the prefix of its fixed names, is its own:
    neither the app's stack nor a stack instance."""

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        region: str,
        synthesizer: IStackSynthesizer | None = None,
    ) -> None:
        name = f"{MANAGEMENT_SPOKE_STACK_PREFIX}-{region}"
        super().__init__(
            scope,
            name,
            settings=replace(spoke_settings(settings), stack_name=name),
            env=Environment(account=settings.management_account_id, region=region),
            description=f"AMI Store Notifier: the management account's spoke in {region}",
            synthesizer=synthesizer,
            analytics_reporting=False,
        )

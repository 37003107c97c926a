"""The Organization-wide rollout: a StackSet that deploys the notifier to every account of chosen
organizational units and Regions, from the management account or a delegated administrator.

A StackSet deploys a template, not a CDK app: its Lambda code must sit where every target account can
read it, in each target Region. cdklabs' cdk-stacksets copies the code asset into buckets named
`<prefix>-<region>` (one per spoke Region) and points the template at them; the
`AmiStoreNotifierSpokeAssets-<region>` stacks create those buckets, readable by the Organization only.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Environment, IStackSynthesizer, RemovalPolicy, Stack, Validations
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

from infra.notifier import TRANSPARENT_ID, AmiStoreNotifier
from infra.settings import Settings

ASSETS_STACK_PREFIX = "AmiStoreNotifierSpokeAssets"


def asset_bucket_name(prefix: str, region: str) -> str:
    # The name cdk-stacksets looks for in each target Region.
    return f"{prefix}-{region}"


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
        Validations.of(self.bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="It holds only the notifier's published code, copied by the StackSet stack's "
                "deployment; reads are limited to the Organization and need no access log.",
            )
        )


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
        self.notifier = AmiStoreNotifier(
            self.spoke, TRANSPARENT_ID, settings=settings.without_chat_channels()
        )
        self.stack_set = StackSet(
            self,
            "StackSet",
            stack_set_name=f"{self.stack_name}-spokes",
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

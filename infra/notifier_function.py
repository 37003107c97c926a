"""A Lambda function of this project: its code asset, runtime, Powertools layer and tracing."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.asset import CODE_EXCLUDES, FUNCTION_CODE_DIR, POWERTOOLS_LAYER_PARAMETER
from infra.checkov import skip_checkov

# logRetentionDays (one of the periods CloudWatch Logs accepts) as CDK names them.
LOG_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def writing_own_logs(log_group: logs.ILogGroup) -> iam.PolicyStatement:
    """What a function needs to log to the group made for it (it exists, so no logs:CreateLogGroup)."""
    return iam.PolicyStatement(
        sid="WriteOwnLogs",
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[log_group.log_group_arn],
    )


def powertools_layer(scope: Construct, override: str | None) -> str:
    """AWS's own record of its layer for the pinned Powertools version, read where the stack deploys.

    An SSM-typed CloudFormation parameter (Powertools docs, "Lambda Layer": the public parameters
    under /aws/service/powertools/) resolves in the deployment's own Region and partition, so the ARN
    is right everywhere, and it follows the version pinned in infra/asset.py, which is the version
    the tests run. powertoolsLayerArn overrides it.
    """
    if override is not None:
        return override
    return ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER)


def notifier_function(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    handler: str,
    role: iam.IRole,
    log_group: logs.ILogGroup,
    environment: Mapping[str, str],
    powertools_layer_override: str | None,
    timeout: Duration,
    memory_mb: int,
    tracing: bool,
    reserved_concurrency: int | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
) -> lambda_.Function:
    layer = lambda_.LayerVersion.from_layer_version_arn(
        scope, "PowertoolsLayer", powertools_layer(scope, powertools_layer_override)
    )
    function = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
        handler=handler,
        # The folder as it is: no bundling (no Docker here) and no third-party packages to install,
        # since boto3 comes with the runtime and Powertools with the layer.
        code=lambda_.Code.from_asset(str(FUNCTION_CODE_DIR), exclude=CODE_EXCLUDES),
        layers=[layer],
        role=role,
        log_group=log_group,
        # Active tracing records a trace for every invocation: 43,800 a month at one poll a minute, $5 per
        # million past X-Ray's free tier (https://aws.amazon.com/xray/pricing/); the `tracing` setting turns
        # it on, with the X-Ray permissions CDK then grants the role. Disabled, CDK writes no TracingConfig
        # and grants nothing.
        tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
        reserved_concurrent_executions=reserved_concurrency,
        timeout=timeout,
        # The work is I/O bound (API calls), so more memory buys little; Lambda allots CPU in
        # proportion to memory, and 256 MB gives the cold start (boto3, Powertools) more CPU than the
        # 128 MB minimum, at a small cost.
        memory_size=memory_mb,
        environment=dict(environment),
        dead_letter_queue=dead_letter_queue,
    )
    Validations.of(function).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-L1",
            reason=(
                "The runtime is pinned to Python 3.13 on purpose: the Powertools managed layer it "
                "loads is the python313-arm64 build, which must match the runtime. Moving to 3.14 "
                "means switching the runtime and the layer together, as a deliberate upgrade."
            ),
        )
    )
    skip_checkov(
        function,
        "CKV_AWS_117",
        "No VPC: the function calls only AWS service APIs, over their public endpoints; a VPC would add NAT "
        "gateways or interface endpoints, and their cost, and protect nothing more.",
    )
    skip_checkov(
        function,
        "CKV_AWS_173",
        "The environment holds no secrets, only resource names, ARNs and settings; Lambda encrypts it at "
        "rest with its AWS managed key.",
    )
    if reserved_concurrency is None:
        skip_checkov(
            function,
            "CKV_AWS_115",
            "No reservation by default: Lambda refuses one that leaves the account less than its minimum "
            "unreserved concurrency, so accounts whose concurrency quota is 10 cannot reserve any. The "
            "poller's reservedConcurrency setting reserves where the account has room.",
        )
    skip_checkov(
        log_group,
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest; a customer managed key would add a key, its cost "
        "and a key policy for the logs service, for logs of AMI ids, task states and errors, no secrets.",
    )
    return function

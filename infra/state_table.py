"""The state table: the cursor's items per region and one item per task (see table_items)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from ami_store_notifier.adapters.table_items import PARTITION_KEY, TTL_ATTRIBUTE
from infra.checkov import skip_checkov


class StateTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        # aws_dynamodb.Table (AWS::DynamoDB::Table), not TableV2: moto's CloudFormation cannot create
        # AWS::DynamoDB::GlobalTable, and the deploy test runs there. "Default": the table is this
        # construct's own resource, and keeps the logical id it had before the constructs were split.
        self.table = dynamodb.Table(
            self,
            "Default",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=removal_policy,
        )
        skip_checkov(
            self.table,
            "CKV_AWS_119",
            "Encrypted with the AWS managed key on purpose: DynamoDB uses it on the caller's behalf, so the "
            "poller needs no KMS permission and no key policy is kept; the table holds task states and "
            "listing cursors, no secrets.",
        )
